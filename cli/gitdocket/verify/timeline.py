"""Verification of time (ADR 0014): the verifier's clock judges, not the writers'.

``event_times`` and ``policy_in_force`` are in ``snapshot.CHECKS``; ``commit_order`` is in
``pr.PR_CHECKS`` (PR mode, and every step of history mode). Each asks
``lifecycles.timeline.time_problem``, the rule the writers ask before they sign. The clock is
``Context.clock`` (the CLI passes the system clock, or ``--at``; never ``GITDOCKET_NOW``); without
one, the checks that need it are skipped. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from gitdocket.core.fields import format_time, parse_time
from gitdocket.core.log import Event
from gitdocket.lifecycles.invariants import EVENT_NOT_IN_FUTURE
from gitdocket.lifecycles.policy import POLICY_SCOPE
from gitdocket.lifecycles.timeline import BRANCH_LAG, POLICY_IN_FORCE, Moment, TimeProblem, time_problem
from gitdocket.lifecycles.timeline import expired_now as policy_expired
from gitdocket.verify.context import Context, ScopeRecord
from gitdocket.verify.findings import Finding

__all__ = ["commit_order", "event_times", "newest_event", "policy_in_force"]

_HINT = "event times come from the writer's clock; restore the line from git history, or write it again"


def _policy_made(ctx: Context, version: int) -> str | None:
    record = ctx.record(POLICY_SCOPE)
    if record is None or not 1 <= version <= len(record.events):
        return None
    return record.events[version - 1].at


def _finding(record: ScopeRecord[Any], seq: int, problem: TimeProblem) -> Finding:
    future = problem.rule is EVENT_NOT_IN_FUTURE
    return Finding(
        f"{record.scope.history_path}:{seq}",
        "EVENT_IN_FUTURE" if future else "EVENT_BACKDATED",
        problem.message,
        record.scope.label,
        problem.rule,
        "check the writer's clock; an event from the future is refused until its time has come" if future else _HINT,
    )


def event_times(ctx: Context) -> Iterable[Finding]:
    """Within each scope times never go backwards, no event predates the policy version it
    names, and none is dated after the verifier's clock."""
    for _target, record in ctx.ordered():
        previous: str | None = None
        for event in record.events:
            moment = Moment(previous=previous, policy=_policy_made(ctx, event.policy_version), clock=ctx.clock)
            problem = time_problem(event.at, moment, BRANCH_LAG)
            if problem is not None:
                yield _finding(record, event.seq, problem)
            previous = event.at if previous is None else max(previous, event.at)


def policy_in_force(ctx: Context) -> Iterable[Finding]:
    """TUF: a registry whose policy is expired at the verifier's clock is not trusted."""
    if ctx.clock is None or not ctx.policies:
        return
    policy = ctx.policies[-1]
    if policy_expired(policy, ctx.clock):
        yield Finding(
            POLICY_SCOPE.history_path,
            "REGISTRY_EXPIRED",
            f"policy v{policy.version} expired at {policy.expires}; the verifier's clock says {ctx.clock}",
            POLICY_SCOPE.label,
            POLICY_IN_FORCE,
            "a root holder renews it: `gitdocket policy expires TIME` (audit the past with `verify --at`)",
        )


def newest_event(ctx: Context) -> str | None:
    """The newest event time of every log ``ctx`` holds (``Context.newest``)."""
    return ctx.newest


def _added(base: Context, head: Context) -> list[tuple[ScopeRecord[Any], Event]]:
    """Every event the change adds, with its record."""
    found: list[tuple[ScopeRecord[Any], Event]] = []
    for target, record in head.ordered():
        known = base.record(target)
        found.extend((record, event) for event in record.events[len(known.events) if known is not None else 0 :])
    return found


def _recent(base: Context, added: list[tuple[ScopeRecord[Any], Event]]) -> bool:
    """Events dated within ``BRANCH_LAG`` of a time the base has no newer event than
    (``Context.newest_bound``: a verified base has none newer than the verifier's clock) cannot
    be backdated against it, and its logs need not be scanned for their newest time."""
    if base.newest_bound is None:
        return False
    floor = format_time(parse_time(base.newest_bound) - BRANCH_LAG)
    return all(event.at >= floor for _record, event in added)


def commit_order(base: Context, head: Context) -> Iterator[Finding]:
    """Every event a change adds is dated no more than ``BRANCH_LAG`` before the newest event of
    its base: a backdated event is a finding."""
    added = _added(base, head)
    if not added or _recent(base, added):
        return
    newest = newest_event(base)
    if newest is None:
        return
    for record, event in added:
        problem = time_problem(event.at, Moment(newest=newest), BRANCH_LAG)
        if problem is not None:
            yield _finding(record, event.seq, problem)
