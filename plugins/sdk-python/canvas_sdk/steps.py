"""Common step shapes of lifecycle strategies, as the Rust SDK's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional

from .audience import clause, decided, exactly
from .run import Run
from .types import Clause, DecisionStatus, Member


@dataclass
class FirstThenFollowUp:
    """A `first` touch when the strategy's own rule says so, then one
    `followup` exactly `after_days` days after a `first` that was sent
    (dispatched, or deferred); never more. A held-out or suppressed `first`
    gets no follow-up."""

    after_days: int
    FIRST = "first"
    FOLLOWUP = "followup"

    def followup_clauses(self) -> List[Clause]:
        """The audience clauses for members due a follow-up."""
        return [
            clause(decided(exactly(self.after_days), step=self.FIRST, status=status))
            for status in (DecisionStatus.DISPATCHED, DecisionStatus.DEFERRED)
        ]

    def step_due(self, run: Run[Any], member: Member, first_is_due: bool) -> Optional[str]:
        """The step due today, if any; `first_is_due` counts only if no `first` was ever decided."""
        if first_is_due and not member.was_decided(self.FIRST):
            return self.FIRST
        sent = member.last_sent(self.FIRST)
        if sent is not None and run.days_since(sent.day) == self.after_days and not member.was_decided(self.FOLLOWUP):
            return self.FOLLOWUP
        return None
