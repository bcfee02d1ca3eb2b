"""Verification of environments (listed in ``snapshot.CHECKS``; bundles are ``verify.bundles``).

Each promoted release is the very tree of ``bundles/<id>`` recorded at promotion,
that bundle is verified, nothing else sits in ``releases/``, every gate report is stored with the
digest its event recorded and passed, and a bundle promoted *from* another environment was
running there before. Replay, signatures and ``current.json`` are the generic checks.
``verify.deployments`` runs all of it for one environment. Pure: reads a ``TreeView``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from pydantic import ValidationError

from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import PromotionReport
from gitdocket.core.model import first_error
from gitdocket.errors import DocketError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.bundle import BUNDLE_IMMUTABLE
from gitdocket.lifecycles.environment import (
    GATE_REQUIRED,
    PROMOTE_REQUIRES_VERIFIED_BUNDLE,
    SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE,
    DeploymentState,
)
from gitdocket.verify.bundles import REBUILD
from gitdocket.verify.context import Context, ScopeRecord
from gitdocket.verify.findings import Finding

__all__ = ["environment_releases"]


def _activations(record: ScopeRecord[DeploymentState] | None) -> Iterator[tuple[str, str]]:
    """(at, bundle id) of every pointer change in an environment's log."""
    for event, _state in record.judged if record else []:
        bundle = event.data.get("bundle_id", event.data.get("target"))
        if isinstance(bundle, str):
            yield event.at, bundle


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
    for event, _state in record.judged:
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


def _sources(ctx: Context, record: ScopeRecord[DeploymentState]) -> Iterator[Finding]:
    for event, _state in record.judged:
        source = event.data.get("source_environment")
        if event.type != "promoted" or not isinstance(source, str):
            continue
        source_record = ctx.record(scope("environment", source)) if source else None
        ran = {bundle for at, bundle in _activations(source_record) if at <= event.at}
        if event.data.get("bundle_id") not in ran:
            yield Finding(
                f"{record.scope.history_path}:{event.seq}",
                "REFERENCE_BROKEN",
                f"promoted from {source}, which was not running this bundle",
                record.scope.label,
                SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE,
                "promote through the environments in order",
            )


def environment_releases(ctx: Context) -> Iterable[Finding]:
    for record in ctx.scopes("environment"):
        if not record.states:
            continue
        yield from _releases(ctx, record, record.state)
        yield from _reports(ctx, record)
        yield from _sources(ctx, record)
