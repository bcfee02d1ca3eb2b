"""PR and history mode: what a change may do to the records it finds at its base.

Every base log is a prefix of its head log; no scope disappears; no immutable file (a frozen
snapshot, a built bundle, a promoted release) changes; every new event is authorized by the
policy *at the base* (an attacker cannot grant themselves a role in the same PR); new versions
are newer than the base's.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from gitdocket.core.collector import gc_paused
from gitdocket.core.documents import Parser
from gitdocket.core.log import read_log, resealed
from gitdocket.core.scopes import KIND_PATTERNS, Scope, parse_scope_path
from gitdocket.core.tree import TreeView
from gitdocket.lifecycles import machine_of
from gitdocket.lifecycles.authz import authorize
from gitdocket.lifecycles.config import CONFIG_SCOPE
from gitdocket.lifecycles.invariants import HISTORY_PRESERVED, VERSIONS_MONOTONIC
from gitdocket.lifecycles.policy import Role, lookup_role
from gitdocket.lifecycles.version import FROZEN_VERSION_IMMUTABLE, blocking_version
from gitdocket.verify import changes, config, environments, placements, secrets, timeline
from gitdocket.verify.context import (
    Context,
    Keyless,
    RefView,
    Runner,
    in_process,
    present,
    same_folder,
)
from gitdocket.verify.findings import Finding, collect, report_order
from gitdocket.verify.snapshot import check_log, judge_context, settle_context, verify_context

__all__ = ["IMMUTABLE", "PR_CHECKS", "not_descendant", "pr_findings", "verify_history", "verify_pr"]

IMMUTABLE: dict[str, tuple[str, ...]] = {
    "version": ("method",),
    "bundle": ("bundle_manifest.json", "payload", "evidence"),
}
"""Entries of a scope folder that never change once they exist."""

PR_CHECKS: tuple[Callable[[Context, Context], Iterable[Finding]], ...] = (
    placements.history_kept,
    placements.references_at_base,
    environments.promotions_at_base,
    secrets.recorded_secrets,
    timeline.commit_order,
)
"""Every concept's own checks of a change ``(base, head)``, listed here explicitly."""


def _owners(base: Context, head: Context) -> Callable[[str], Role | None]:
    def owners(archetype: str) -> Role | None:
        return base.owners_at(archetype, "9999") or head.owners_at(archetype, "9999")

    return owners


def _new_events(base: Context, head: Context, target: Scope[Any], start: int) -> Iterable[Finding]:
    record = head.records[target]
    policy = base.policies[-1]
    machine = machine_of(target)
    owners = _owners(base, head)

    def resolve(name: str) -> Role | None:
        return owners(name.split(":", 1)[1]) if name.startswith("owners:") else lookup_role(policy, name)

    for event in record.events[start:]:
        if policy.phase == "none" and target.kind == "policy":
            continue  # the very first policy is trusted on first use
        # The base policy judges; the head snapshot holds every root any policy pinned.
        verdict = authorize(machine, target, event, policy, resolve, head.sigstore)
        for problem in verdict.problems:
            yield Finding(
                f"{target.history_path}:{event.seq}",
                "UNAUTHORIZED_AT_BASE",
                problem,
                target.label,
                hint=f"new events must be signed by {verdict.role} as the base policy (v{policy.version}) defines it",
            )


def _immutable(base: Context, head: Context, target: Scope[Any]) -> Iterable[Finding]:
    names = list(IMMUTABLE.get(target.kind, ()))
    if target.kind == "environment":
        names += [f"releases/{r}" for r in base.tree.listdir(f"{target.path}/releases")]
    for name in names:
        path = f"{target.path}/{name}"
        before = base.tree.tree_id(path) or base.tree.read(path)
        after = head.tree.tree_id(path) or head.tree.read(path)
        if before is not None and before != after:
            yield Finding(
                path,
                "IMMUTABLE_CHANGED",
                "changed or deleted after it was written",
                target.label,
                FROZEN_VERSION_IMMUTABLE if target.kind == "version" else None,
                "revert the change; immutable records are never edited",
            )


def _versions_of(ctx: Context, archetype: str) -> list[Scope[Any]]:
    """Every version scope of ``archetype`` in ``ctx`` (read from its folder: a focused context
    holds only the versions in focus)."""
    folder = KIND_PATTERNS["archetype"].format(archetype).replace("/archetypes/", "/versions/", 1)
    found = (parse_scope_path(f"{folder}/{name}") for name in ctx.tree.listdir(folder))
    return [s for s in found if s is not None and s.kind == "version" and present(ctx.tree, s)]


def _versions(base: Context, head: Context) -> Iterable[Finding]:
    for target in sorted(set(head.records) - set(base.records)):
        if target.kind != "version":
            continue
        archetype, number = target.keys
        older = [s.keys[1] for s in _versions_of(base, archetype)]
        newest = blocking_version(number, older)
        if newest is not None:
            yield Finding(
                target.history_path,
                "VERSION_NOT_MONOTONIC",
                f"{number} is not newer than {newest}",
                target.label,
                VERSIONS_MONOTONIC,
                "choose a higher version number",
            )


def pr_findings(base: Context, head: Context) -> list[Finding]:
    """The change-only findings between two snapshots (no snapshot checks)."""
    found: list[Finding] = []
    for target, brec in sorted(base.records.items()):
        hrec = head.records.get(target)
        if hrec is None:
            found.append(
                Finding(
                    target.path,
                    "SCOPE_DELETED",
                    "scope deleted",
                    target.label,
                    hint="scopes are never deleted; withdraw, retire or close instead",
                )
            )
            continue
        if same_folder(base.tree, head.tree, target.path):
            continue  # the same git tree: the same log, no new event, every file as it was
        old, new = read_log(base.tree, target), read_log(head.tree, target)
        sealed = resealed(base.tree, head.tree, target)
        if sealed is not None or not new.startswith(old):
            found.append(
                Finding(
                    sealed or target.history_path,
                    "HISTORY_REWRITTEN",
                    "a sealed segment of the log changed" if sealed else "the base log is not a prefix of the head log",
                    target.label,
                    HISTORY_PRESERVED,
                    "logs are append-only; restore the base lines",
                )
            )
            continue
        found.extend(_new_events(base, head, target, len(brec.events)))
        found.extend(_immutable(base, head, target))
    for target in sorted(set(head.records) - set(base.records)):
        found.extend(_new_events(base, head, target, 0))
    found.extend(_versions(base, head))
    for check in PR_CHECKS:
        found.extend(collect(functools.partial(check, base, head), check.__name__))
    return found


def not_descendant(head: str, base: str) -> Finding:
    """The finding for a head that does not descend from its base (history was rewritten)."""
    return Finding(
        head,
        "NOT_DESCENDANT",
        f"does not descend from {base[:12]}",
        hint="rebase the change onto the base; published history is never rewritten",
    )


def _merge(primary: list[Finding], extra: Iterable[Finding]) -> list[Finding]:
    """``primary`` plus the ``extra`` findings that say something new (not the same code at
    the same path: a rewritten log found by its tag is not reported twice)."""
    known = {(f.path, f.code) for f in primary}
    return report_order([*primary, *(f for f in extra if (f.path, f.code) not in known)])


def _focused_pair(
    base: TreeView,
    head: TreeView,
    refs: RefView | None,
    runner: Runner,
    *,
    parse_yaml: Parser,
    clock: str | None,
    keyless: Keyless | None,
) -> tuple[Context, Context] | None:
    """The settled base and head contexts focused on the change (ADR 0034), or None when the
    change must be judged with the whole registry (``changes.focus_of``, ``changes.settled``)."""
    change = changes.diff(base, head)
    focus = changes.focus_of(base, head, change)
    if focus is None:
        return None
    base_ctx = Context(base, runner=runner, parse_yaml=parse_yaml, keyless=keyless, focus=focus, replay=check_log)
    base_ctx.newest_bound = clock  # verified: no event of it was dated after the verifier's clock
    settle_context(base_ctx)
    head_ctx = Context(
        head,
        refs,
        runner,
        parse_yaml=parse_yaml,
        clock=clock,
        prior=base_ctx,
        keyless=keyless,
        focus=focus,
        replay=check_log,
        since=base.commit,
    )
    settle_context(head_ctx)
    return (base_ctx, head_ctx) if changes.settled(base_ctx, head_ctx, change) else None


def _steps(
    steps: Sequence[TreeView], first: Context, *, parse_yaml: Parser, keyless: Keyless | None
) -> list[Finding] | None:
    """``pr_findings`` of each step, each pair of contexts focused on that step's change; None
    when a step must be judged with the whole registry. Each base's newest event is its
    predecessor's, or newer by what the step appended (no eligible step rewrites a log), so the
    logs are scanned for it at most once, at the first step (``first``, settled)."""
    config = first.record(CONFIG_SCOPE)
    signed = config.state if config is not None and config.events else None
    found: list[Finding] = []
    newest: Callable[[], str | None] = lambda: first.newest  # noqa: E731 - computed on demand
    bound = first.newest_bound
    previous: Context | None = None
    for before, after in itertools.pairwise(steps):
        change = changes.diff(before, after)
        focus = changes.focus_of(before, after, change)
        if focus is None or changes.guarded(signed, change.paths):
            return None
        base = Context(before, parse_yaml=parse_yaml, keyless=keyless, focus=focus, replay=check_log, prior=previous)
        base.newest_from, base.newest_bound = newest, bound
        settle_context(base)
        ctx = Context(after, parse_yaml=parse_yaml, keyless=keyless, focus=focus, replay=check_log, prior=base)
        settle_context(ctx)
        found.extend(pr_findings(base, ctx))
        times = changes.appended(base, ctx, change)
        newest = functools.partial(_newer, newest, times)
        bound = None if bound is None else max([bound, *times])
        previous = ctx
    return found


def _newer(known: Callable[[], str | None], added: list[str]) -> str | None:
    return max([t for t in (known(), *added) if t is not None], default=None)


@gc_paused()
def verify_pr(
    base: TreeView,
    head: TreeView,
    refs: RefView | None = None,
    descends: bool = True,
    runner: Runner = in_process,
    *,
    parse_yaml: Parser,
    clock: str | None = None,
    keyless: Keyless | None = None,
    diff: bool = True,
) -> list[Finding]:
    """Snapshot findings of ``head`` plus what the change from ``base`` may not do.
    ``descends`` says whether head's history contains base (the caller asks git); ``clock`` is
    the verifier's clock. ``diff``: judge only what the change touched (ADR 0034) when its shape
    allows; the findings are the same (the base is taken as verified)."""
    pair = None
    if diff and descends:  # the diff takes the base as verified; a base head does not descend from is not
        pair = _focused_pair(base, head, refs, runner, parse_yaml=parse_yaml, clock=clock, keyless=keyless)
    if pair is not None:
        return _merge(judge_context(pair[1]), pr_findings(*pair))
    head_ctx = Context(head, refs, runner, parse_yaml=parse_yaml, clock=clock, keyless=keyless)
    findings = verify_context(head_ctx)
    # The base is taken as verified (ADR 0018): only its folds are needed, which authorization
    # and the change checks read, and logs the change left alone are not replayed again.
    base_ctx = Context(base, runner=runner, parse_yaml=parse_yaml, prior=head_ctx, keyless=keyless)
    settle_context(base_ctx)
    extra = pr_findings(base_ctx, head_ctx)
    if not descends:
        extra.append(not_descendant(head.commit or "", base.commit or ""))
    return _merge(findings, extra)


@gc_paused()
def verify_history(
    steps: Sequence[TreeView],
    head: TreeView,
    refs: RefView | None = None,
    runner: Runner = in_process,
    *,
    parse_yaml: Parser,
    clock: str | None = None,
    keyless: Keyless | None = None,
    diff: bool = True,
) -> list[Finding]:
    """Snapshot of ``head`` plus PR mode for each step: ``steps`` are the first-parent commits
    from the last verified one to ``head``, oldest first (the caller walks git); ``clock`` is the
    verifier's clock. ``diff``: judge only what the steps touched (ADR 0034) when their shapes
    allow; the findings are the same (the first step is taken as verified)."""
    if diff and steps:
        pair = _focused_pair(steps[0], head, refs, runner, parse_yaml=parse_yaml, clock=clock, keyless=keyless)
        found = _steps(steps, pair[0], parse_yaml=parse_yaml, keyless=keyless) if pair is not None else None
        if pair is not None and found is not None:
            # No eligible step touched registry.yaml, the configuration or a protected path, so
            # each holds what the verified first step held: ``unsigned_in_history`` finds nothing.
            return _merge(judge_context(pair[1]), found)
    head_ctx = Context(head, refs, runner, parse_yaml=parse_yaml, clock=clock, keyless=keyless)
    findings = verify_context(head_ctx)
    extra: list[Finding] = []
    previous: Context | None = None
    contexts: list[Context] = []
    for step in steps:
        # Each step is replayed, not judged: its signatures, current.json and CHECKS are the
        # head's (judged above) or were judged when it merged; what a step may change is
        # ``pr_findings``'. Logs the previous step holds unchanged are not replayed again.
        ctx = Context(step, runner=runner, parse_yaml=parse_yaml, prior=previous or head_ctx, keyless=keyless)
        settle_context(ctx)
        if previous is not None:
            extra.extend(pr_findings(previous, ctx))
        previous = ctx
        contexts.append(ctx)
    if previous is not None:  # the last step is the head: what its configuration log ever signed
        extra.extend(config.unsigned_in_history(contexts[:-1], previous))
    return _merge(findings, extra)
