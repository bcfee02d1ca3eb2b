"""Snapshot verification: the checks every scope gets, then each kind's own ``CHECKS``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from docket.authz import RoleResolver, authorize
from docket.errors import DocketError
from docket.lifecycles import machine_for
from docket.lifecycles.policy import PolicyState, Role, lookup_role
from docket.log import chain_problems, head_digest, render_current
from docket.verify.context import Context, RefView, ScopeRecord
from docket.verify.findings import Finding

__all__ = ["CHECKS", "check_log", "verify_snapshot"]

Check = Callable[[Context], Iterable[Finding]]
CHECKS: list[Check] = []
"""Kind-specific and cross-scope checks; modules append to it when imported (see ``checks``)."""


def _resolver(ctx: Context, policy: PolicyState, at: str) -> RoleResolver:
    def resolve(name: str) -> Role | None:
        if name.startswith("owners:"):
            return ctx.owners_at(name.split(":", 1)[1], at)
        return lookup_role(policy, name)

    return resolve


def _signatures(ctx: Context, record: ScopeRecord) -> Iterable[Finding]:
    target = record.scope
    machine = machine_for(target.kind)
    for index, event in enumerate(record.events):
        where = f"{target.history_path}:{event.seq}"
        policy = ctx.policy_at(event.policy_version)
        if policy is None or (target.kind != "policy" and policy.phase == "none"):
            yield Finding(where, "SIGNATURE_INVALID", f"names policy v{event.policy_version}, which does not exist",
                          target.label, hint="the event was forged or the policy log was truncated")
            continue
        policies = [policy]
        if target.kind == "policy":
            after = record.states[index] if index < len(record.states) else None
            policies = [p for p in (policy, after) if p is not None and p.phase != "none"]
        for pol in policies:
            verdict = authorize(machine, target, event, pol, _resolver(ctx, pol, event.at))
            for problem in verdict.problems:
                yield Finding(where, "SIGNATURE_INVALID", problem, target.label,
                              hint=f"events of this kind must be signed by {verdict.role}")


def _replay(record: ScopeRecord) -> Iterable[Finding]:
    target = record.scope
    machine = machine_for(target.kind)
    state = machine.initial(target)
    for event in record.events:
        where = f"{target.history_path}:{event.seq}"
        row = machine.by_event.get(event.type)
        if row is None:
            yield Finding(where, "REPLAY_ILLEGAL", f"unknown event type {event.type!r}", target.label,
                          hint="restore the log from git history")
            record.states.clear()
            return
        try:
            decision = machine.decide(state, row.command, event.data)
        except DocketError as exc:
            yield Finding(where, "REPLAY_ILLEGAL", f"{event.type} would be refused: {exc.message}",
                          target.label, getattr(exc, "invariant", ""), hint="the log was edited by hand")
            record.states.clear()
            return
        if (decision.type, decision.data) != (event.type, event.data):
            yield Finding(where, "REPLAY_ILLEGAL", "event data is not what the command produces", target.label,
                          hint="the log was edited by hand")
            record.states.clear()
            return
        state = machine.evolve(state, event.type, event.data)
        record.states.append(state)
        for name in machine.broken_invariants(state):
            yield Finding(where, "INVARIANT_BROKEN", f"state after seq {event.seq} breaks {name}",
                          target.label, name)


def _current(ctx: Context, record: ScopeRecord) -> Iterable[Finding]:
    target = record.scope
    actual = ctx.tree.read(target.current_path)
    if not record.readable:
        return  # LOG_UNREADABLE already says what is wrong
    if not record.events:
        if actual is not None:
            yield Finding(target.current_path, "CURRENT_MISSING", "current.json without a history",
                          target.label, hint="restore history.jsonl from git history")
        return
    if actual is None:
        yield Finding(target.current_path, "CURRENT_MISSING", "history without current.json", target.label,
                      hint="restore current.json from git history")
        return
    if not record.states or not record.readable:
        return
    expected = render_current(target.path, record.state.model_dump(mode="json"), record.events[-1].seq,
                              head_digest(record.lines[-1]))
    if actual != expected:
        yield Finding(target.current_path, "CURRENT_MISMATCH", "differs from the fold of history.jsonl",
                      target.label, hint="current.json is derived; restore it from git history")


def check_log(ctx: Context, record: ScopeRecord) -> list[Finding]:
    """Chain, replay, signatures and current.json of one scope."""
    target = record.scope
    findings: list[Finding] = []
    for seq, message in chain_problems(record.events, record.lines):
        findings.append(Finding(f"{target.history_path}:{seq}", "CHAIN_BROKEN", message, target.label,
                                hint="a line was edited, reordered or removed; restore it from git history"))
    findings.extend(_replay(record))
    return findings


def verify_snapshot(ctx_or_tree: Context | object, refs: RefView | None = None) -> list[Finding]:
    """All findings of one snapshot, sorted by path."""
    from docket.verify import checks  # noqa: F401 - registers the kind-specific checks

    ctx = ctx_or_tree if isinstance(ctx_or_tree, Context) else Context(ctx_or_tree, refs)  # type: ignore[arg-type]
    records = list(ctx.records.values())
    # Policy and archetypes first: other scopes' signatures are judged against their folds.
    records.sort(key=lambda r: (r.scope.kind not in ("policy", "archetype"), r.scope))
    for record in records:
        ctx.findings.extend(check_log(ctx, record))
    for record in records:
        ctx.findings.extend(_signatures(ctx, record))
        ctx.findings.extend(_current(ctx, record))
    for check in CHECKS:
        ctx.findings.extend(check(ctx))
    return sorted(set(ctx.findings))
