"""A snapshot verify in bounded memory (ADR 0036): the versions and packages of a large registry
(nine of every ten scopes) are read, judged and released one archetype at a time.

``verify_snapshot`` builds its context with ``stream=(LEAVES, STREAM_FROM)``; when the snapshot
holds that many versions and packages, their logs are not read up front and this module judges
the context instead of ``snapshot.verify_context``:

1. every other log (policy, configuration, archetypes, environments, bundles, placements,
   entitlements: few, and read by every cross-scope check) is parsed, chained and replayed;
2. then each *batch* — the versions and packages of one archetype, and the tags that name them —
   goes through what ``verify_context`` does to a scope, in the same order: chain and replay,
   tags, the scopes it names, signatures, ``current.json``, and the ``BATCH_CHECKS`` (the checks
   that iterate versions and packages) on a view of the batch alone. Its records are then
   released (``ScopeRecord.release``): a later check that looks one up reads it again.
   ``ctx.runner`` judges the first batches while this process judges the others and the
   signatures of every other log;
3. last, with every batch's verdicts known (which logs are broken, which scopes are absent),
   the deleted scopes are reported and every check runs on a view without the released kinds.

A batch holds everything it reads of its own archetype's versions and packages, so no check sees
another state than ``verify_context`` would; the findings are the same (the tamper catalogue
and random registries are verified both ways in the tests).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gitdocket.core.collector import gc_paused
from gitdocket.core.documents import Parser
from gitdocket.core.progress import steps
from gitdocket.core.scopes import Scope
from gitdocket.core.tree import TreeView
from gitdocket.lifecycles import scope
from gitdocket.verify import contents, risk, timeline
from gitdocket.verify.context import (
    Context,
    Keyless,
    RefView,
    Runner,
    ScopeRecord,
    in_process,
    names_of,
    share_cut,
)
from gitdocket.verify.findings import Finding, collect, report_order
from gitdocket.verify.snapshot import (
    CHECKS,
    Check,
    archetype_documents,
    check_current,
    check_log,
    first_policy,
    frozen_snapshots,
    missing_scope,
    package_references,
    signatures_of,
    verify_context,
)
from gitdocket.verify.tags import check_batch_tags, forged_tags, policy_keys, read_tags, tag_scope

__all__ = ["BATCH_CHECKS", "LEAVES", "STREAM_FROM", "verify_snapshot", "verify_streamed"]

LEAVES = frozenset({"version", "package"})
"""The kinds a streamed verify judges a batch at a time."""
STREAM_FROM = 2_000
"""Versions and packages from which a snapshot verify streams them. Below, holding every log
costs less than 80 MiB and one pass is simpler to follow."""
BATCH_CHECKS = (
    contents.scope_contents,
    frozen_snapshots,
    package_references,
    timeline.event_times,
    risk.risk_approvals,
)
"""The ``CHECKS`` that iterate versions or packages (``ctx.scopes``, ``ctx.ordered``): each
batch runs them on a view of its own records. Every check runs again on the view without the
streamed kinds, where these find only what concerns the other scopes."""
EARLY_CHECKS: tuple[Check, ...] = (contents.registry_document, archetype_documents)
"""``CHECKS`` that read no version or package and nothing a batch decides (which logs are broken,
which scopes are deleted): this process runs them while the runner still judges its batches."""
CHILD_SHARE = 0.55
"""The share of the batches ``ctx.runner`` judges while this process judges the rest, then the
signatures and ``current.json`` of every other log and the ``EARLY_CHECKS`` (balanced for a
second process: measured on 10,000 versions, the other logs and the early checks are about a
tenth of the batches' work, ADR 0038)."""


@dataclass
class Batch:
    """One archetype's versions and packages (present or only named by a tag), and its tags."""

    scopes: list[Scope[Any]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Judged:
    """What a batch's judgement tells the rest of the verify (it travels back from the runner)."""

    findings: list[Finding]
    broken: list[Scope[Any]]
    reported: set[Scope[Any]]
    named: list[tuple[Scope[Any], Scope[Any]]]
    """(namer, absent scope it names): for the ``SCOPE_DELETED`` findings reported at the end."""


def _batches(ctx: Context, tags: list[tuple[str, str]]) -> list[Batch]:
    found: dict[str, Batch] = {}
    for target, _record in sorted(ctx.records.items()):
        if target.kind in ctx.streamed:
            found.setdefault(target.keys[0], Batch()).scopes.append(target)
    for name, commit in tags:
        tagged = tag_scope(name)
        if tagged is not None:
            found.setdefault(tagged.keys[0], Batch()).tags.append((name, commit))
    return [found[name] for name in sorted(found)]


def _mark_named(ctx: Context, records: list[ScopeRecord[Any]]) -> list[tuple[Scope[Any], Scope[Any]]]:
    """The absent scopes ``records`` name, marked so (``ctx.marked``) before the batch is judged:
    ``verify_context`` reports them before it judges anything."""
    named: list[tuple[Scope[Any], Scope[Any]]] = []
    for record in records:
        for target in names_of(record):
            if target not in ctx.records:
                ctx.marked.add(target)
                named.append((record.scope, target))
    return named


def _judge_batch(ctx: Context, keys: list[Ed25519PublicKey], unreached: dict[str, str], batch: Batch) -> Judged:
    """What ``verify_context`` does to each scope of ``batch``, in its order (see the module)."""
    found: list[Finding] = []
    records = [ctx.read_log(target, found) for target in batch.scopes]
    for record in records:
        found.extend(check_log(ctx, record))
    missing_before = set(ctx.missing)
    found.extend(check_batch_tags(ctx, keys, batch.tags, unreached, records))
    named = _mark_named(ctx, records)
    for record in records:
        found.extend(signatures_of(ctx, record))
        found.extend(check_current(ctx, record))
    view, ctx.view = ctx.view, [record.scope for record in records]
    try:
        for check in BATCH_CHECKS:
            found.extend(collect(functools.partial(check, ctx), check.__name__))
    finally:
        ctx.view = view
    broken = [record.scope for record in records if record.broken]
    for record in records:
        ctx.release(record)
    return Judged(found, broken, ctx.missing - missing_before, named)


def _deleted(ctx: Context, named: list[tuple[Scope[Any], Scope[Any]]]) -> Iterable[Finding]:
    """``snapshot._missing_scopes`` with the names the batches found: the first namer in scope
    order, as ``Context.named`` has it."""
    first: dict[Scope[Any], str] = {}
    for namer, target in sorted(named):
        first.setdefault(target, namer.label)
    for target, named_by in sorted(first.items()):
        yield from missing_scope(ctx, target, named_by)


@gc_paused()
def verify_snapshot(
    tree: TreeView,
    refs: RefView | None = None,
    runner: Runner = in_process,
    *,
    parse_yaml: Parser,
    clock: str | None = None,
    keyless: Keyless | None = None,
    stream_from: int | None = STREAM_FROM,
) -> list[Finding]:
    """All findings of one snapshot, sorted by path. ``runner`` may take part of the work to
    another process (see ``Runner``); the findings are the same. ``parse_yaml`` reads the YAML
    documents (``adapters.files.load_yaml``); ``clock`` is the verifier's clock; ``keyless``
    checks Sigstore signatures (``context.Keyless``). From ``stream_from`` versions and packages
    (None: never) they are judged a batch at a time (see the module); the findings are the same."""
    ctx = Context(
        tree,
        refs,
        runner,
        parse_yaml=parse_yaml,
        clock=clock,
        keyless=keyless,
        replay=check_log,
        stream=(LEAVES, stream_from) if stream_from is not None else None,
    )
    return verify_streamed(ctx) if ctx.streamed else verify_context(ctx)


def verify_streamed(ctx: Context) -> list[Finding]:
    """``verify_context`` of a context whose ``streamed`` kinds were not read (see the module)."""
    others = [r for r in first_policy(ctx) if r.scope.kind not in ctx.streamed]
    for record in others:
        ctx.findings.extend(check_log(ctx, record))
    # What the other logs name and is absent is known before any batch is judged (as
    # ``verify_context`` reports the deleted scopes before it judges anything).
    named = [(record.scope, t) for record in others for t in names_of(record) if t not in ctx.records]
    ctx.marked.update(target for _, target in named)
    tags, unreached = read_tags(ctx, ctx.refs) if ctx.refs is not None else ([], {})
    ctx.findings.extend(forged_tags(tags))
    _mark_parents(ctx)
    batches = _batches(ctx, tags)
    keys = list(policy_keys(ctx).values())
    judge = functools.partial(_judge_batch, ctx, keys, unreached)
    cut = share_cut([len(b.scopes) for b in batches], CHILD_SHARE)
    pending = ctx.runner(judge, batches[:cut], size=sum(len(b.scopes) for b in batches[:cut]))
    try:
        mine = [judge(batch) for batch in steps("verifying scopes", batches[cut:])]
        ctx.view = [r.scope for r in others]
        for record in others:  # no batch changes these: their logs are not a batch's
            ctx.findings.extend(signatures_of(ctx, record))
            ctx.findings.extend(check_current(ctx, record))
        for check in EARLY_CHECKS:
            ctx.findings.extend(collect(functools.partial(check, ctx), check.__name__))
        theirs = pending.result()
    except BaseException:
        pending.cancel()
        raise
    for judged in [*theirs, *mine]:
        _take(ctx, judged)
        named.extend(judged.named)
    ctx.findings.extend(_deleted(ctx, named))
    for check in CHECKS:
        if check not in EARLY_CHECKS:
            ctx.findings.extend(collect(functools.partial(check, ctx), check.__name__))
    return report_order(ctx.findings)


def _mark_parents(ctx: Context) -> None:
    """Every version and package names its archetype, and a package its version, whatever its
    log holds: those that are absent are marked before any batch is judged."""
    for target in ctx.records:
        if target.kind in ctx.streamed:
            parents = [scope("archetype", target.keys[0])]
            if target.kind == "package":
                parents.append(scope("version", *target.keys))
            ctx.marked.update(p for p in parents if p not in ctx.records)


def _take(ctx: Context, judged: Judged) -> None:
    """What a batch judged, into this process's context (a batch the runner judged changed
    only its own copy)."""
    ctx.findings.extend(judged.findings)
    for target in judged.broken:
        ctx.records[target].broken = True
    ctx.marked.update(target for _, target in judged.named)
    ctx.missing |= judged.reported
