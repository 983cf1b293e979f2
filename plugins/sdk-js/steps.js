// Common step shapes of lifecycle strategies, as the Rust SDK's.

import { clause, decided, exactly } from './audience.js';
import { lastSent, wasDecided } from './run.js';

/** A `first` touch when the strategy's own rule says so, then one `followup`
 *  exactly `afterDays` days after a `first` that was sent (dispatched, or
 *  deferred); never more. A held-out or suppressed `first` gets no follow-up. */
export class FirstThenFollowUp {
  static FIRST = 'first';
  static FOLLOWUP = 'followup';
  constructor(afterDays) {
    this.afterDays = afterDays;
  }
  /** The audience clauses for members due a follow-up. */
  followupClauses() {
    return ['dispatched', 'deferred'].map((status) => clause([decided(exactly(this.afterDays), FirstThenFollowUp.FIRST, status)]));
  }
  /** The step due today, if any; `firstIsDue` counts only if no `first` was ever decided. */
  stepDue(run, member, firstIsDue) {
    if (firstIsDue && !wasDecided(member, FirstThenFollowUp.FIRST)) return FirstThenFollowUp.FIRST;
    const sent = lastSent(member, FirstThenFollowUp.FIRST);
    const due = sent !== undefined && run.daysSince(sent.day) === this.afterDays;
    return due && !wasDecided(member, FirstThenFollowUp.FOLLOWUP) ? FirstThenFollowUp.FOLLOWUP : undefined;
  }
}
