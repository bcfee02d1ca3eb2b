"""Snapshot verification: the checks every scope gets, then each concept's own ``CHECKS``.

``CHECKS`` lists every kind-specific and cross-scope check explicitly, in one place: importing a
module registers nothing. Order matters only for the quality of the report, never for what is
checked: logs first (parse, chain, replay), then their anchors (gitdocket's signed tags), then
signatures and ``current.json``, then ``CHECKS``. A scope whose log is broken is marked so, and
later checks that would only repeat that root cause (its fold, the records that depend on it)
stay quiet about it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from gitdocket.core.collector import gc_paused
from gitdocket.core.log import Event, chain_problems, head_digest, render_current
from gitdocket.core.progress import steps
from gitdocket.core.scopes import Scope
from gitdocket.errors import DocketError, InvariantError
from gitdocket.lifecycles import machine_of, scope
from gitdocket.lifecycles.authz import (
    RoleResolver,
    audit_problems,
    judging_policy,
    required_role,
    valid_signers,
    verdicts,
)
from gitdocket.lifecycles.invariants import AUDIT_NAMES_SIGNER
from gitdocket.lifecycles.policy import PolicyState, Role, accepts, lookup_role
from gitdocket.lifecycles.vendors import VENDORS
from gitdocket.verify import bundles, config, contents, environments, risk, roots, timeline
from gitdocket.verify.context import Context, ScopeRecord, share_cut
from gitdocket.verify.findings import Finding, collect, report_order
from gitdocket.verify.tags import check_tags, start_tag_checks

__all__ = [
    "CHECKS",
    "archetype_documents",
    "check_current",
    "check_log",
    "first_policy",
    "frozen_snapshots",
    "judge_context",
    "missing_scope",
    "package_references",
    "settle_context",
    "signatures_of",
    "verify_context",
    "verify_logs",
]

Check = Callable[[Context], Iterable[Finding]]


def _kind_checks() -> dict[str, Check]:
    """The checks of archetypes, versions and packages and of the client side (placements,
    entitlements, forks, vendors' imports), by name. Imported here, when a snapshot holds a scope
    they judge (``_when``): their modules build the version, placement and entitlement
    lifecycles, which a verification of an environment's chain (``deployments resolve``) never
    reads (ADR 0035)."""
    from gitdocket.verify import archetypes, placements, vendors

    return {
        "archetype_documents": archetypes.archetype_documents,
        "frozen_snapshots": archetypes.frozen_snapshots,
        "package_references": archetypes.package_references,
        "placement_packages": placements.placement_packages,
        "placement_edits": placements.placement_edits,
        "entitlement_placements": placements.entitlement_placements,
        "fork_pulls": placements.fork_pulls,
        # the vendor's logs are checked as this registry's own are
        "vendor_imports": functools.partial(vendors.vendor_imports, check_logs=verify_logs),
    }


def _when(name: str, kinds: tuple[str, ...], folder: str | None = None) -> Check:
    """The check ``name`` of ``_kind_checks``, run when the snapshot holds a scope of one of
    ``kinds`` or anything in ``folder``; without either it finds nothing, so its module is not
    imported."""

    def check(ctx: Context) -> Iterable[Finding]:
        held = any(target.kind in kinds for target, _ in ctx.ordered())
        if not held and not (folder is not None and ctx.tree.listdir(folder)):
            return ()
        return _kind_checks()[name](ctx)

    check.__name__ = check.__qualname__ = name
    return check


archetype_documents = _when("archetype_documents", ("archetype",))
frozen_snapshots = _when("frozen_snapshots", ("version",))
package_references = _when("package_references", ("version", "package"))

CHECKS: tuple[Check, ...] = (
    contents.scope_contents,
    frozen_snapshots,
    contents.registry_document,
    archetype_documents,
    config.policy_present,
    config.configuration,
    roots.trusted_roots,
    timeline.event_times,
    timeline.policy_in_force,
    package_references,
    bundles.bundle_contents,
    environments.environment_releases,
    _when("placement_packages", ("placement",)),
    _when("placement_edits", ("placement",)),
    _when("entitlement_placements", ("entitlement",)),
    _when("fork_pulls", ("archetype",)),
    risk.risk_approvals,
    _when("vendor_imports", ("placement",), VENDORS),  # or vendors' imports alone
)
"""Every kind-specific and cross-scope check of a snapshot. Add a check here: a function
``(Context) -> Iterable[Finding]`` that only reads the context (one whose module builds a
lifecycle that a verification of an environment's chain does not read: through ``_when``)."""
_FIRST = ("policy", "archetype")


def _resolver(owners: Role | None, policy: PolicyState) -> RoleResolver:
    """Roles from ``policy``; ``owners:<a>`` is ``owners`` (the event names one archetype)."""

    def resolve(name: str) -> Role | None:
        return owners if name.startswith("owners:") else lookup_role(policy, name)

    return resolve


def _owner_candidates(ctx: Context, record: ScopeRecord[Any], index: int, role: str, at: str) -> list[Role | None]:
    """Who the owners of the archetype ``role`` names may have been when an event was written:
    for an archetype's own event, its owners just before it; for any other, the owners in force
    at its time (every owner set of that second: a second holds no order across scopes)."""
    if not role.startswith("owners:"):
        return [None]
    name = role.split(":", 1)[1]
    if record.scope.kind == "archetype" and record.scope.keys[0] == name:
        before = record.states[index - 1] if 0 < index <= len(record.states) else None
        return [before.owners_role if before is not None else None]
    return ctx.owners_candidates(name, at) or [None]


def _owners_unknown(ctx: Context, role: str) -> bool:
    """The role is ``owners:<a>`` and archetype ``a`` cannot say who its owners are (its log is
    broken, or it is missing and reported): its own finding is the root cause."""
    if not role.startswith("owners:"):
        return False
    try:
        archetype = scope("archetype", role.split(":", 1)[1])
    except DocketError:
        return False
    return ctx.accounted(archetype)


def _event_problems(
    ctx: Context, record: ScopeRecord[Any], index: int, event: Event, policy: PolicyState, role: str
) -> tuple[list[str], list[str]]:
    """Why the event's signatures do not authorize it, and which "who" fields name someone else
    than its signer (``AUDIT_NAMES_SIGNER``). ``role``: the event's ``required_role``."""
    target = record.scope
    machine = machine_of(target)
    if _owners_unknown(ctx, role):
        # forged bytes are still named
        return valid_signers(target, event, policy, ctx.sigstore)[1], audit_problems(machine, event)
    after = record.states[index] if index < len(record.states) else None
    problems: list[str] = []
    audit: list[str] = []
    for owners in _owner_candidates(ctx, record, index, role, event.at):
        problems, audit = [], []
        resolver = functools.partial(_resolver, owners)
        for verdict in verdicts(machine, target, event, policy, after, resolver, ctx.sigstore):
            audit.extend(p for p in verdict.audit if p not in audit)
            problems.extend(p for p in verdict.problems if p not in problems and p not in audit)
        if not problems:
            break
    return problems, audit


def _signatures(ctx: Context, record: ScopeRecord[Any]) -> Iterable[Finding]:
    """One finding per event whose signatures do not authorize it (all its problems in one line)."""
    target = record.scope
    machine = machine_of(target)
    if target.kind != "policy" and scope("policy") in ctx.missing:
        return  # nothing can be judged without the policy; its SCOPE_DELETED says why
    for index, event in enumerate(record.events):
        where = f"{target.history_path}:{event.seq}"
        policy = judging_policy(target, event, ctx.policy_at)
        if isinstance(policy, str):
            yield Finding(
                where,
                "SIGNATURE_INVALID",
                policy,
                target.label,
                hint="the event was forged or the policy log was truncated",
            )
            continue
        if not accepts(policy, target, event.type, event.data, event.at):
            yield Finding(
                where,
                "POLICY_EXPIRED",
                f"written at {event.at}, after policy v{policy.version} expired ({policy.expires})",
                target.label,
                hint="an expired policy accepts only its renewal by root; restore the log from git history",
            )
        role = required_role(machine, target, event.type, event.data)
        problems, audit = _event_problems(ctx, record, index, event, policy, role)
        if audit:
            yield Finding(
                where,
                "AUDIT_MISMATCH",
                "; ".join(audit),
                target.label,
                AUDIT_NAMES_SIGNER,
                "who an event says did it is who signed it; restore the line from git history",
            )
        if problems:
            yield Finding(
                where,
                "SIGNATURE_INVALID",
                "; ".join(problems),
                target.label,
                hint=f"this event needs signatures by {role}; restore the line from git history",
            )


def _replay(record: ScopeRecord[Any]) -> Iterable[Finding]:
    """Re-decide every event (``Machine.judge``); the first illegal one ends the replay."""
    target = record.scope
    machine = machine_of(target)
    state = machine.initial(target)
    for event in record.events:
        where = f"{target.history_path}:{event.seq}"
        try:
            state = machine.judge(state, event.type, event.data, event.at)
        except InvariantError as exc:
            record.broken = True
            message = f"{event.type} would be refused: {exc.message}"
            yield Finding(where, "REPLAY_ILLEGAL", message, target.label, exc.rule, hint="the log was edited by hand")
            return
        except DocketError as exc:
            record.broken = True
            yield Finding(where, "REPLAY_ILLEGAL", exc.message, target.label, hint=exc.hint)
            return
        record.states.append(state)
        for rule in machine.broken(state):
            yield Finding(
                where,
                "INVARIANT_BROKEN",
                f"state after seq {event.seq} breaks {rule.name}",
                target.label,
                rule,
                hint="the log was edited by hand; restore it from git history",
            )


def check_current(ctx: Context, record: ScopeRecord[Any]) -> Iterable[Finding]:
    """``current.json`` of ``record`` is the rendering of its fold (a broken log: nothing to say)."""
    target = record.scope
    if record.broken:
        return  # the log's own finding says what is wrong; its fold proves nothing
    seq, head = record.events[-1].seq, head_digest(record.lines[-1])
    # The current contract's rendering, or an earlier version's that an older gitdocket wrote
    # (ADR 0033): each is a function of the fold alone. ``holds`` compares them with the file
    # byte for byte, without reading it when it can (ADR 0038).
    forms = machine_of(target).renderings(record.state)
    if any(ctx.tree.holds(target.current_path, render_current(target.path, form, seq, head)) for form in forms):
        return
    if ctx.tree.read(target.current_path) is None:
        yield Finding(
            target.current_path,
            "CURRENT_MISSING",
            "history without current.json",
            target.label,
            hint="current.json is derived; restore it from git history",
        )
    else:
        yield Finding(
            target.current_path,
            "CURRENT_MISMATCH",
            "differs from the fold of history.jsonl",
            target.label,
            hint="current.json is derived; restore it from git history",
        )


def _missing_scopes(ctx: Context) -> Iterable[Finding]:
    """A scope that another record names but that is gone was deleted (scopes never are)."""
    for target, named_by in sorted(ctx.named.items()):
        yield from missing_scope(ctx, target, named_by)


def missing_scope(ctx: Context, target: Scope[Any], named_by: str) -> Iterable[Finding]:
    """``SCOPE_DELETED`` for ``target``, which the record ``named_by`` names, when it is absent
    and not reported yet."""
    if target not in ctx.records and target not in ctx.missing:
        yield ctx.deleted(target, f"{named_by} still names it")


def check_log(ctx: Context, record: ScopeRecord[Any]) -> list[Finding]:
    """Chain and replay of one scope's log (one finding per broken line). A log whose chain is
    broken is not replayed: its order and completeness are unknown, so replay would only
    report consequences. A record that took another context's replay of the same bytes
    (``Context(prior=...)``) gives that replay's findings."""
    if record.replayed is not None:
        return list(record.replayed[0])
    found = _check_log(record)
    record.replayed = (found, record.broken)
    return list(found)


def _check_log(record: ScopeRecord[Any]) -> list[Finding]:
    target = record.scope
    if not record.events:
        if record.readable:
            record.broken = True
            return [
                Finding(
                    target.history_path,
                    "CURRENT_MISSING",
                    "history.jsonl is missing or not a file",
                    target.label,
                    hint="restore history.jsonl from git history",
                )
            ]
        return []
    messages: dict[int, list[str]] = {}
    for seq, message in chain_problems(record.events, record.lines):
        messages.setdefault(seq, []).append(message)
    if messages:
        record.broken = True
        return [
            Finding(
                f"{target.history_path}:{seq}",
                "CHAIN_BROKEN",
                "; ".join(text),
                target.label,
                hint="a line was edited, reordered or removed; restore the log from git history",
            )
            for seq, text in sorted(messages.items())
        ]
    return list(_replay(record))


FORKED_SHARE = 0.7
"""The share of the events whose signatures ``ctx.runner`` checks while this process checks
the others, every ``current.json`` and the ``CHECKS`` (balanced for a second process)."""


def signatures_of(ctx: Context, record: ScopeRecord[Any]) -> list[Finding]:
    """One finding per event of ``record`` whose signatures do not authorize it."""
    return list(_signatures(ctx, record))


def _judge(ctx: Context, records: list[ScopeRecord[Any]]) -> list[Finding]:
    """Signatures (most of verify's time is their cryptography), every ``current.json``, then
    the ``CHECKS``. The first records' signatures go to ``ctx.runner``, meanwhile this process
    does the rest. None of these changes the context (they only read it: logs, tags and missing
    scopes are settled before), so where and in which order they run changes nothing."""
    cut = share_cut([len(r.events) for r in records], FORKED_SHARE)
    pending = ctx.runner(functools.partial(signatures_of, ctx), records[:cut])
    found: list[Finding] = []
    try:
        for record in records[cut:]:
            found.extend(_signatures(ctx, record))
        for record in records:
            found.extend(check_current(ctx, record))
        for check in CHECKS:
            found.extend(collect(functools.partial(check, ctx), check.__name__))
        theirs = pending.result()
    except BaseException:
        pending.cancel()
        raise
    for findings in theirs:
        found.extend(findings)
    return found


def verify_logs(ctx: Context) -> list[Finding]:
    """Chain, legal replay and signatures of every log of ``ctx``, nothing else: what a client
    checks of a vendor's imported logs (``verify.vendors``), whose other files it does not hold."""
    ordered = [record for _, record in ctx.ordered()]
    records = [r for r in ordered if r.scope.kind in _FIRST] + [r for r in ordered if r.scope.kind not in _FIRST]
    found: list[Finding] = []
    for record in records:
        found.extend(check_log(ctx, record))
    for record in records:
        found.extend(_signatures(ctx, record))
    return found


def first_policy(ctx: Context) -> list[ScopeRecord[Any]]:
    """Every record, policy and archetypes first: other scopes' signatures are judged against
    their folds."""
    ordered = [record for _, record in ctx.ordered()]
    return [r for r in ordered if r.scope.kind in _FIRST] + [r for r in ordered if r.scope.kind not in _FIRST]


def _settle(ctx: Context, records: list[ScopeRecord[Any]]) -> None:
    """Everything that changes the context: each log's parse, chain and replay (its fold and
    whether it is ``broken``), its anchors (tags) and the scopes found missing. Their findings
    go to ``ctx.findings``."""
    tags = start_tag_checks(ctx)  # their signatures are checked while the logs replay
    try:
        for record in steps("verifying scopes", records):
            ctx.findings.extend(check_log(ctx, record))
        ctx.findings.extend(check_tags(ctx, tags))
    except BaseException:
        if tags is not None:
            tags.cancel()
        raise
    ctx.findings.extend(_missing_scopes(ctx))


@gc_paused()
def settle_context(ctx: Context) -> None:
    """Replay every log of ``ctx`` (folds, broken logs, missing scopes) without judging
    signatures, ``current.json`` or the ``CHECKS``: what PR mode needs of a base it takes as
    verified (ADR 0018). ``verify_context`` of the same context would add findings, never
    change what this settles."""
    _settle(ctx, first_policy(ctx))


@gc_paused()
def judge_context(ctx: Context) -> list[Finding]:
    """The rest of ``verify_context`` after ``settle_context``: signatures, ``current.json`` and
    the ``CHECKS``; every finding of the context, in report order."""
    ctx.findings.extend(_judge(ctx, first_policy(ctx)))
    return report_order(ctx.findings)


@gc_paused()
def verify_context(ctx: Context) -> list[Finding]:
    """``verify_snapshot`` of a ``Context`` already built (PR mode keeps both contexts)."""
    records = first_policy(ctx)
    _settle(ctx, records)
    ctx.findings.extend(_judge(ctx, records))
    return report_order(ctx.findings)
