"""Time, judged by the verifier as TUF does (ADR 0014).

An event's ``at`` is what its writer's clock said, and a key holder chooses it. The rules here
bound that choice, and both the writers (``ops.transaction``) and ``verify`` ask them, through
``time_problem``:

- times never go backwards within a scope (a log is one writer's sequence);
- an event is never dated before the policy version it names was made (it could not have
  known it);
- in commit order, an event is never dated much before the newest event of the registry it is
  added to: ``verify`` allows ``BRANCH_LAG`` (a branch written before another was merged stays
  mergeable), a writer only ``CLOCK_SKEW`` (it is about to write on top of that newest event);
- no event is dated after the verifier's clock (``CLOCK_SKEW`` allowed);
- the policy must be unexpired at the verifier's clock (``expired_now``), not only at the time
  its events claim: an event dated before the expiry and written after it is refused by the
  writer (whose clock is the system's, never ``GITDOCKET_NOW``) and by ``verify``.

Timestamps are ``core.fields.Timestamp`` strings, which order as they compare. Pure: the clock
arrives as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from gitdocket.core.fields import format_time, parse_time
from gitdocket.errors import Invariant
from gitdocket.lifecycles.invariants import EVENT_NOT_IN_FUTURE, EVENT_TIME_MONOTONIC, POLICY_IN_FORCE
from gitdocket.lifecycles.policy import PolicyState, expired

__all__ = [
    "BRANCH_LAG",
    "CLOCK_SKEW",
    "EVENT_NOT_IN_FUTURE",
    "EVENT_TIME_MONOTONIC",
    "POLICY_IN_FORCE",
    "Moment",
    "TimeProblem",
    "expired_now",
    "shifted",
    "time_problem",
]

CLOCK_SKEW = timedelta(minutes=5)
"""How far apart two honest clocks may be: an event may be dated this much after the verifier's
clock, and a writer this much before the newest event it writes on top of."""
BRANCH_LAG = timedelta(days=7)
"""How much older than the newest event of the registry a change may add events, in commit
order: a branch written a week before it is merged (while others were merged) still passes."""


@dataclass(frozen=True)
class Moment:
    """What an event's time is judged against; None where there is nothing to compare."""

    previous: str | None = None
    """The time of the last event it follows: its scope's (and, for a writer, that of the
    archetype whose owners judge it)."""
    policy: str | None = None
    """When the policy version it names was made."""
    newest: str | None = None
    """The newest event of the registry it is added to (commit order)."""
    clock: str | None = None
    """The verifier's clock."""


@dataclass(frozen=True)
class TimeProblem:
    rule: Invariant
    message: str


def shifted(stamp: str, delta: timedelta) -> str:
    """``stamp`` moved by ``delta``, as a ``Timestamp``."""
    return format_time(parse_time(stamp) + delta)


def time_problem(at: str, moment: Moment, lag: timedelta) -> TimeProblem | None:
    """Why an event dated ``at`` may not stand at ``moment``, or None. ``lag`` is how much older
    than ``moment.newest`` it may be: ``BRANCH_LAG`` for ``verify``, ``CLOCK_SKEW`` for a writer
    (stricter: what it writes, verify accepts)."""
    if moment.previous is not None and at < moment.previous:
        return TimeProblem(EVENT_TIME_MONOTONIC, f"dated {at}, before an event it follows ({moment.previous})")
    if moment.policy is not None and at < moment.policy:
        return TimeProblem(
            EVENT_TIME_MONOTONIC, f"dated {at}, before the policy version it names was made ({moment.policy})"
        )
    if moment.newest is not None and at < shifted(moment.newest, -lag):
        return TimeProblem(
            EVENT_TIME_MONOTONIC,
            f"dated {at}, more than {_words(lag)} before the registry's newest event ({moment.newest})",
        )
    if moment.clock is not None and at > shifted(moment.clock, CLOCK_SKEW):
        return TimeProblem(EVENT_NOT_IN_FUTURE, f"dated {at}, after the verifier's clock ({moment.clock})")
    return None


def expired_now(policy: PolicyState, clock: str) -> bool:
    """The policy ``verify`` trusts is expired at the verifier's ``clock``."""
    return policy.phase != "none" and expired(policy, clock)


def _words(delta: timedelta) -> str:
    if delta.days:
        return f"{delta.days} day(s)"
    return f"{int(delta.total_seconds() // 60)} minute(s)"
