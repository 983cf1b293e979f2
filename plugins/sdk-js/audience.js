// Builders for the declarative audience a strategy hands to the host, and for
// the triggers it reacts to, as the Rust SDK's:
//
//   Audience.when(lastOrder(exactly(90))).except(hasOrdered())
//   Audience.nobody().on(onEvent('coupon_issued').requires('coupon_id').afterHours(1)
//     .unlessEvent('coupon_redeemed', 'coupon_id'))
//
// Values have the shapes componentize-js gives the WIT types: records with
// camelCase fields, variants `{ tag: 'kebab-name', val }`, enums kebab-case
// strings, s64 (money) BigInts.

export const exactly = (days) => ({ min: days, max: days });
export const within = (days) => ({ min: 0, max: Math.max(days - 1, 0) });
export const between = (min, max) => ({ min, max });

export const joined = (ago) => ({ tag: 'joined', val: ago });
export const wecomAdded = (ago) => ({ tag: 'wecom-added', val: ago });
export const firstOrder = (ago) => ({ tag: 'first-order', val: ago });
export const lastOrder = (ago) => ({ tag: 'last-order', val: ago });
export const hasOrdered = () => ({ tag: 'has-ordered' });
export const ordersWithin = (withinDays, atLeast) => ({ tag: 'orders-within', val: { withinDays, atLeast } });
export const spendWithin = (withinDays, atLeastFen) => ({
  tag: 'spend-within',
  val: { withinDays, atLeast: BigInt(atLeastFen) },
});
export const levelIn = (...levels) => ({ tag: 'level-in', val: levels });
export const birthdayInRunMonth = () => ({ tag: 'birthday-in-run-month' });
export const event = (kind, withinHours) => ({ tag: 'event', val: { kind, withinHours } });
export const decided = (ago, step = undefined, status = undefined) => ({ tag: 'decided', val: { step, status, ago } });
export const boughtLaunchedCategory = (withinDays) => ({ tag: 'bought-launched-category', val: withinDays });
export const untoldLaunchInBoughtCategory = (withinDays, step, skuVariable) => ({
  tag: 'untold-launch-in-bought-category',
  val: { withinDays, step, skuVariable },
});
export const wecomFriendNow = () => ({ tag: 'wecom-friend-now' });

/** Members for whom all `allOf` hold and none of `noneOf`. */
export const clause = (allOf, noneOf = []) => ({ allOf: [...allOf], noneOf: [...noneOf] });

/** A WIT `trigger` being built by `onEvent`. */
export class TriggerSpec {
  constructor(kind) {
    this.eventKind = kind;
    this.requiresAttrs = [];
    this.delayMinutes = 0;
    this.cancelIf = [];
  }
  /** Called this many minutes after the event. */
  afterMinutes(minutes) {
    this.delayMinutes = minutes;
    return this;
  }
  /** Called this many hours after the event. */
  afterHours(hours) {
    return this.afterMinutes(Math.min(hours * 60, 2 ** 32 - 1));
  }
  /** Only events with every one of these attributes. */
  requires(...attrs) {
    this.requiresAttrs.push(...attrs);
    return this;
  }
  /** Called off by a later event of `kind` (with `sameAttr`: only one whose
   *  attribute of that name equals the triggering event's). */
  unlessEvent(kind, sameAttr = undefined) {
    this.cancelIf.push({ tag: 'event', val: { kind, sameAttr } });
    return this;
  }
  /** Called off by any later order of the member's. */
  unlessOrdered() {
    this.cancelIf.push({ tag: 'ordered' });
    return this;
  }
}

/** A trigger on events of `kind`, at once unless `.afterMinutes`/`.afterHours`. */
export const onEvent = (kind) => new TriggerSpec(kind);

/** The WIT `audience`, with the Rust SDK's builders (each returns the audience). */
export class Audience {
  constructor(anyOf = []) {
    this.anyOf = anyOf;
    this.orderWindows = [];
    this.eventKinds = [];
    this.eventLookbackHours = 0;
    this.launchLookbackDays = 0;
    this.triggers = [];
  }
  /** Nobody on a schedule (the strategy sits the run out, or only reacts to triggers). */
  static nobody() {
    return new Audience();
  }
  static any(...clauses) {
    return new Audience(clauses);
  }
  /** Members for whom all the conditions hold. */
  static when(...conditions) {
    return new Audience([clause(conditions)]);
  }
  /** Adds other ways in. */
  or(...clauses) {
    this.anyOf.push(...clauses);
    return this;
  }
  /** Leaves out, from every clause, members for whom any of these holds. */
  except(...conditions) {
    for (const c of this.anyOf) c.noneOf.push(...conditions);
    return this;
  }
  /** Asks for order counts and spend over windows of these many days. */
  withOrderWindows(...days) {
    this.orderWindows.push(...days);
    return this;
  }
  /** Asks for the member's events of these kinds in the last `lookbackHours`. */
  withEvents(kinds, lookbackHours) {
    this.eventKinds.push(...kinds);
    this.eventLookbackHours = Math.max(this.eventLookbackHours, lookbackHours);
    return this;
  }
  /** Asks for the products launched in the last `days` days (`run.launches`). */
  withLaunches(days) {
    this.launchLookbackDays = days;
    return this;
  }
  /** Reacts to an event: the host calls decide for the member alone, with the event as `run.trigger`. */
  on(trigger) {
    const { eventKind, requiresAttrs, delayMinutes, cancelIf } = trigger;
    this.triggers.push({ eventKind, requiresAttrs, delayMinutes, cancelIf });
    return this;
  }
}
