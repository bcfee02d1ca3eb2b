"""Verification of environments (listed in ``snapshot.CHECKS``; bundles are ``verify.bundles``).

Each promoted release is the very tree of ``bundles/<id>`` recorded at promotion,
that bundle is verified, nothing else sits in ``releases/``, every gate report is stored with the
digest its event recorded and passed, a bundle promoted *from* another environment was the one
running there at that moment (not merely once before), and no promotion carried a package already
withdrawn or a version already retired (``REFERENCE_IS_CURRENT``: a snapshot judges by time; PR and
history mode add ``promotions_at_base``, which judges by commit order). Replay, signatures and
``current.json`` are the generic checks. ``verify.deployments`` runs all of it for one
environment. Pure: reads a ``TreeView``.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import BundleManifest, PackageRef, PromotionReport
from gitdocket.core.log import Event
from gitdocket.core.model import first_error
from gitdocket.core.scopes import Scope
from gitdocket.errors import DocketError, InvariantError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.bundle import BUNDLE_IMMUTABLE, MANIFEST, release_blocker
from gitdocket.lifecycles.environment import (
    GATE_REQUIRED,
    PROMOTE_REQUIRES_VERIFIED_BUNDLE,
    SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE,
    DeploymentState,
)
from gitdocket.verify.bundles import REBUILD
from gitdocket.verify.context import Context, ScopeRecord
from gitdocket.verify.findings import Finding

__all__ = ["environment_releases", "promotions_at_base"]


def _releases(ctx: Context, record: ScopeRecord[DeploymentState], state: DeploymentState) -> Iterator[Finding]:
    target, path = record.scope, record.scope.path
    for bundle_id, release in sorted(state.releases.items()):
        where = f"{path}/releases/{bundle_id}"
        tree = ctx.tree.tree_id(where)
        if tree != release.bundle_tree:
            yield Finding(
                where,
                "RELEASE_MISMATCH",
                "missing" if tree is None else "differs from the bundle tree recorded at promotion",
                target.label,
                BUNDLE_IMMUTABLE,
                "releases are written by `gitdocket promote` only; restore it from git history",
            )
        bundle = ctx.state(scope("bundle", bundle_id))
        if bundle is None:
            yield Finding(
                f"bundles/{bundle_id}",
                "REFERENCE_BROKEN",
                f"promoted to {target.keys[0]} but missing",
                target.label,
                hint="restore the bundle from git history",
            )
            continue
        if ctx.tree.tree_id(f"bundles/{bundle_id}") != release.bundle_tree:
            yield Finding(
                f"bundles/{bundle_id}",
                "RELEASE_MISMATCH",
                f"is not the tree promoted to {target.keys[0]}",
                target.label,
                BUNDLE_IMMUTABLE,
                REBUILD,
            )
        if bundle.phase != "verified":
            yield Finding(
                f"bundles/{bundle_id}",
                "REFERENCE_BROKEN",
                f"promoted to {target.keys[0]} but never verified",
                target.label,
                PROMOTE_REQUIRES_VERIFIED_BUNDLE,
                "only verified bundles are promoted",
            )
    for name in sorted(set(ctx.tree.listdir(f"{path}/releases")) - set(state.releases)):
        yield Finding(
            f"{path}/releases/{name}",
            "UNEXPECTED_FILE",
            "a release that was never promoted here",
            target.label,
            hint="remove it; releases are written by `gitdocket promote`",
        )


def _report_problem(raw: bytes | None, digest: str, data: dict[str, object], env: str, seq: int) -> str | None:
    if raw is None:
        return "missing"
    if "sha256:" + hashlib.sha256(raw).hexdigest() != digest:
        return "does not match the digest its promotion recorded"
    try:
        report = PromotionReport.model_validate(loads_strict(raw, "report"))
    except (DocketError, ValidationError) as exc:
        why = first_error(exc) if isinstance(exc, ValidationError) else str(exc)
        return f"not a release_bundle_promotion_v1 report ({why})"
    if (
        report.status != "passed"
        or report.environment != env
        or report.bundle_id != data.get("bundle_id")
        or report.sequence != seq
        or report.gate_decision != data.get("gate_decision")
    ):
        return "does not describe a passing gate for this promotion"
    return None


def _reports(ctx: Context, record: ScopeRecord[DeploymentState]) -> Iterator[Finding]:
    target, path = record.scope, record.scope.path
    expected: set[str] = set()
    for event in record.events:
        digest, seq = event.data.get("report_digest"), event.data.get("sequence")
        if event.type != "promoted" or not isinstance(digest, str) or not isinstance(seq, int):
            continue
        name = f"{path}/reports/{seq}.json"
        expected.add(f"{seq}.json")
        problem = _report_problem(ctx.tree.read(name), digest, event.data, target.keys[0], seq)
        if problem is not None:
            yield Finding(
                name,
                "GATE_REPORT_INVALID",
                problem,
                target.label,
                GATE_REQUIRED,
                "gate reports are written by `gitdocket promote --gated`; restore it from git history",
            )
    for name in sorted(set(ctx.tree.listdir(f"{path}/reports")) - expected):
        yield Finding(
            f"{path}/reports/{name}",
            "UNEXPECTED_FILE",
            "no promotion recorded this report",
            target.label,
            hint="remove it",
        )


@dataclass(frozen=True)
class _Timeline:
    """When an environment ran what: the time of each of its events and the bundle active after
    it, built once per environment (a registry may hold thousands of promotions)."""

    times: list[str]
    active: list[str | None]

    @classmethod
    def of(cls, record: ScopeRecord[DeploymentState] | None) -> _Timeline:
        if record is None:
            return cls([], [])
        pairs = [(e.at, s.bundle_id) for e, s in zip(record.events, record.states, strict=False)]
        return cls([at for at, _ in pairs], [bundle for _, bundle in pairs])

    def running_at(self, at: str) -> set[str]:
        """The bundles it may have been running at ``at``: the one active after its last event
        strictly earlier, and any activated in that very second (their order across logs is not
        known from time alone). A bundle it ran only before that is not among them."""
        if self.times == sorted(self.times):
            low, high = bisect_left(self.times, at), bisect_right(self.times, at)
        else:  # times that go backwards are a finding of their own; judge them one by one
            low = max((i + 1 for i, when in enumerate(self.times) if when < at), default=0)
            high = len(self.times)
        same = {b for when, b in zip(self.times[low:high], self.active[low:high], strict=True) if when == at}
        before = self.active[low - 1] if low else None
        return {b for b in (before, *same) if b}


def _sources(ctx: Context, record: ScopeRecord[DeploymentState], timelines: dict[str, _Timeline]) -> Iterator[Finding]:
    for event in record.events:
        source = event.data.get("source_environment")
        if event.type != "promoted" or not isinstance(source, str):
            continue
        if source not in timelines:
            timelines[source] = _Timeline.of(ctx.record(scope("environment", source)))
        if event.data.get("bundle_id") not in timelines[source].running_at(event.at):
            yield Finding(
                f"{record.scope.history_path}:{event.seq}",
                "REFERENCE_STALE",
                f"promoted from {source}, which was not running this bundle at {event.at}",
                record.scope.label,
                SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE,
                "promote through the environments in order",
            )


def _packages(ctx: Context, bundle_id: str) -> tuple[PackageRef, ...]:
    raw = ctx.tree.read(f"bundles/{bundle_id}/{MANIFEST}")
    try:
        return BundleManifest.model_validate(loads_strict(raw or b"", MANIFEST)).payload.packages
    except (DocketError, ValidationError):
        return ()  # the bundle's own checks report an unreadable manifest


def _blockers(ctx: Context, packages: tuple[PackageRef, ...], at: str) -> Iterator[InvariantError]:
    """``release_blocker`` of each of ``packages`` as it stood just before ``at``."""
    for ref in packages:
        package = ctx.record(scope("package", ref.archetype, ref.version))
        version = ctx.record(scope("version", ref.archetype, ref.version))
        if package is None or version is None or package.broken or version.broken:
            continue  # missing or broken logs have findings of their own
        # Only what blocks counts from time alone: a package published in the same second as the
        # promotion is still "draft" strictly before it (the build already judged publication).
        withdrawn = package.state_before(at).phase == "withdrawn"
        phase = "withdrawn" if withdrawn else "published"
        blocked = release_blocker(ref.archetype, ref.version, phase, version.state_before(at).phase)
        if blocked is not None:
            yield blocked


def _content(
    ctx: Context, record: ScopeRecord[DeploymentState], manifests: dict[str, tuple[PackageRef, ...]]
) -> Iterator[Finding]:
    """No promotion carried a package already withdrawn, or a version already retired, into a
    release (a rollback only moves back to a release that ran before)."""
    for event in record.events:
        if event.type != "promoted":
            continue
        bundle = str(event.data.get("bundle_id"))
        if bundle not in manifests:
            manifests[bundle] = _packages(ctx, bundle)
        for blocked in _blockers(ctx, manifests[bundle], event.at):
            yield Finding(
                f"{record.scope.history_path}:{event.seq}",
                "INVARIANT_BROKEN",
                f"promoted {bundle} at {event.at}, but {blocked.reason}",
                record.scope.label,
                blocked.rule,
                "promotions are judged by gitdocket against current state; restore the log",
            )


def environment_releases(ctx: Context) -> Iterable[Finding]:
    timelines: dict[str, _Timeline] = {}
    manifests: dict[str, tuple[PackageRef, ...]] = {}
    for record in ctx.scopes("environment"):
        if not record.states:
            continue
        yield from _releases(ctx, record, record.state)
        yield from _reports(ctx, record)
        yield from _sources(ctx, record, timelines)
        yield from _content(ctx, record, manifests)


def _unchanged(base: Context, head: Context, target: Scope[Any]) -> bool:
    """Whether this change adds no line to ``target``'s log (so its base state is current)."""
    before, after = base.records.get(target), head.records.get(target)
    return before is not None and after is not None and len(after.events) == len(before.events)


def promotions_at_base(base: Context, head: Context) -> Iterable[Finding]:
    """PR and history mode: a new promotion relies on its source environment and on its bundle's
    packages as they stand at the base, unless this change itself moves them (then their times
    decide, as in a snapshot): a bundle the source ran only before the base, a package withdrawn
    or a version retired before the base, is stale whatever the event's time says."""
    for target, record in sorted(head.records.items()):
        if target.kind != "environment":
            continue
        known = base.records.get(target)
        for event in record.events[len(known.events) if known is not None else 0 :]:
            if event.type != "promoted":
                continue
            yield from _stale_at_base(base, head, record, event)


def _stale_at_base(
    base: Context, head: Context, record: ScopeRecord[DeploymentState], event: Event
) -> Iterator[Finding]:
    where, bundle = f"{record.scope.history_path}:{event.seq}", str(event.data.get("bundle_id"))
    source = event.data.get("source_environment")
    if isinstance(source, str) and _unchanged(base, head, scope("environment", source)):
        running = base.records[scope("environment", source)].state.bundle_id
        if running != bundle:
            yield Finding(
                where,
                "REFERENCE_STALE",
                f"promoted from {source}, which runs {running} at the base, not {bundle}",
                record.scope.label,
                SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE,
                "promote through the environments in order",
            )
    for ref in _packages(head, bundle):
        scopes = (scope("package", ref.archetype, ref.version), scope("version", ref.archetype, ref.version))
        if not all(_unchanged(base, head, s) for s in scopes):
            continue
        package, version = (base.records[s].state for s in scopes)
        blocked = release_blocker(ref.archetype, ref.version, package.phase, version.phase)
        if blocked is not None:
            yield Finding(
                where,
                "INVARIANT_BROKEN",
                f"promoted {bundle}, but at the base {blocked.reason}",
                record.scope.label,
                blocked.rule,
                "promotions are judged by gitdocket against current state; restore the log",
            )
