"""Environment operations: promote (plain or gated), roll back, and what status, history and
resolve read.

Promotion places the bundle's own git tree at ``deployments/<env>/releases/<bundle-id>`` (a
``TreeRef``: no copy, so a gigabyte costs nothing) and records the facts other scopes hold — the
bundle's tree and manifest digest, the allowed sources and gate rule of ``registry.yaml``, the gate
decision and the digest of the stored report — in the signed ``promoted`` event. Rollback moves
only the pointer: it writes the environment's ``history.jsonl`` and ``current.json`` and nothing
else. Every refusal raises before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gitdocket.core.canonical import render, sha256_hex
from gitdocket.core.documents import EnvironmentConfig, PromotionReport, RegistryConfig, SourceRun
from gitdocket.core.fields import format_time
from gitdocket.core.scopes import CURRENT
from gitdocket.core.tree import TreeRef, TreeView
from gitdocket.errors import InvariantError, NotFoundError, StateError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.environment import (
    GATE_CHECKS,
    SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE,
    DeploymentState,
    check_hold,
    choose_rollback,
    require_gate,
)
from gitdocket.lifecycles.gate import Evidence
from gitdocket.lifecycles.gate_presets import gate_rules
from gitdocket.lifecycles.promotion import (
    GATE_EVIDENCE,
    READINESS_EVIDENCE,
    GateInputs,
    evaluate_promotion,
    first_failure,
)
from gitdocket.lifecycles.risk import check_approvals
from gitdocket.ops import provenance as provenance_ops
from gitdocket.ops.bundles import ReleaseCheck, release_blockers, release_check
from gitdocket.ops.documents import registry_config
from gitdocket.ops.logs import load_log
from gitdocket.ops.transaction import Transaction
from gitdocket.verify.agents import promotion_approvals

__all__ = [
    "PromoteOutcome",
    "PromoteRequest",
    "environment_config",
    "evaluate",
    "promote",
    "rollback",
]


@dataclass(frozen=True)
class PromoteRequest:
    bundle_id: str
    environment: str
    source_environment: str | None = None
    gated: bool = False
    evidence: Mapping[str, Evidence] = field(default_factory=dict)
    """Evidence from ``--artifacts-dir`` by file name; it overrides the bundle's own evidence."""
    source_run: SourceRun | None = None
    override: str | None = None
    """Why a release held by a rollback in this environment is promoted there again."""
    batch: str | None = None
    """The batch this promotion belongs to (``ops.batches``), recorded on its event."""


@dataclass(frozen=True)
class PromoteOutcome:
    state: DeploymentState
    report: PromotionReport | None
    report_bytes: bytes | None
    report_path: str | None

    def as_dict(self) -> dict[str, Any]:
        env = self.state.environment
        return {
            "environment": env,
            "bundle_id": self.state.bundle_id,
            "release_root": self.state.bundle_root,
            "current_pointer": f"deployments/{env}/{CURRENT}",
            "sequence": self.state.sequence,
            "previous_bundle_id": self.state.previous_bundle_id,
            "gate_decision": self.state.gate_decision,
            "report": self.report_path,
        }


def environment_config(tree: TreeView, name: str) -> tuple[RegistryConfig, EnvironmentConfig]:
    config = registry_config(tree)
    env = config.environment(name)
    if env is None:
        known = ", ".join(e.name for e in config.environments)
        raise NotFoundError(f"unknown environment {name!r}", f"environments in registry/registry.yaml: {known}")
    return config, env


Pointer = Callable[[str], DeploymentState]
"""An environment's current state by name (from a snapshot, or from a transaction in flight)."""


def _state(tree: TreeView, env: str) -> DeploymentState:
    return load_log(tree, scope("environment", env)).state


def _evidence(tree: TreeView, req: PromoteRequest, name: str) -> Evidence:
    if name in req.evidence:
        return req.evidence[name]
    return Evidence.parse(name, tree.read(f"bundles/{req.bundle_id}/evidence/{name}"), "bundle")


def _inputs(
    tree: TreeView,
    req: PromoteRequest,
    env: EnvironmentConfig,
    check: ReleaseCheck,
    pointer: Pointer,
    readiness_required: bool,
    blockers: tuple[str, ...],
) -> GateInputs:
    source = req.source_environment
    source_bundle = pointer(source).bundle_id if source is not None else None
    return GateInputs(
        environment=req.environment,
        source_environment=source,
        allowed_sources=env.sources,
        strict=env.require_gate,
        bundle_id=req.bundle_id,
        bundle_ok=check.ok,
        bundle_detail=check.detail(),
        bundle_root=f"bundles/{req.bundle_id}",
        gate=_evidence(tree, req, GATE_EVIDENCE),
        readiness=_evidence(tree, req, READINESS_EVIDENCE),
        source_bundle_id=source_bundle,
        source_run=req.source_run,
        readiness_required=readiness_required,
        blockers=blockers,
    )


def _check_source(req: PromoteRequest, pointer: Pointer) -> None:
    source = req.source_environment
    if source is not None:
        scope("environment", source)
        if pointer(source).bundle_id != req.bundle_id:
            raise InvariantError(
                f"{req.bundle_id} is not active in {source}",
                SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE,
                f"promote it to {source} first",
            )


def evaluate(tree: TreeView, req: PromoteRequest, at: str) -> PromotionReport:
    """The gated promotion report of ``req`` on ``tree`` (nothing is written)."""
    scope("environment", req.environment)
    config, env = environment_config(tree, req.environment)
    if req.source_environment is not None:
        scope("environment", req.source_environment)
    return evaluate_promotion(
        _inputs(
            tree,
            req,
            env,
            release_check(tree, req.bundle_id, config.bundle.required_evidence),
            partial(_state, tree),
            gate_rules(config.gate).promotion_readiness,
            tuple(_blockers(tree, req.bundle_id)),
        ),
        at,
    )


def _blockers(tree: TreeView, bundle_id: str) -> list[str]:
    """``release_blockers`` of a read-only snapshot (the report ``gitdocket promote`` shows first)."""
    return [b.reason for b in release_blockers(lambda target: load_log(tree, target).state, tree.read, bundle_id)]


def _refuse_plain(
    tx: Transaction, req: PromoteRequest, env: EnvironmentConfig, check: ReleaseCheck, blockers: list[InvariantError]
) -> None:
    if not check.ok:
        raise StateError(
            f"bundle {req.bundle_id} cannot be promoted: {check.problems[0]}",
            f"see `gitdocket bundle verify {req.bundle_id}`",
        )
    with tx.refusing(scope("environment", req.environment), "Promote"):
        require_gate(req.environment, req.bundle_id, env.require_gate, False, env.sources)
        if blockers:
            raise blockers[0]


def promote(
    tx: Transaction, req: PromoteRequest, refused: Callable[[PromotionReport], str] | None = None
) -> PromoteOutcome:
    """Point ``req.environment`` at the bundle: verify first, gate when asked, then one event.
    The bundle is read as this transaction will leave it (an import in the same write counts).
    A failed gate refuses the whole write; ``refused`` keeps its report (and says where)."""
    target = scope("environment", req.environment)
    view = tx.staged()
    config, env = environment_config(view, req.environment)
    check = release_check(view, req.bundle_id, config.bundle.required_evidence)

    def pointer(name: str) -> DeploymentState:  # pending promotions of this transaction count
        return tx.state(scope("environment", name))

    state = pointer(req.environment)
    with tx.refusing(target, "Promote"):  # before the gate's work: a held release needs an override
        check_hold(state, req.bundle_id, req.override)
        # RISK_APPROVAL_REQUIRED: asked before any key signs, as `verify` asks it afterwards.
        signers = {tx.principal_of(signer) for signer in tx.signers}
        check_approvals(promotion_approvals(view, tx.state, tx.policy, req.bundle_id, state.bundle_id, signers))
    blockers = release_blockers(tx.state, tx.read, req.bundle_id)
    report: PromotionReport | None = None
    if req.gated:
        readiness = gate_rules(config.gate).promotion_readiness
        reasons = tuple(b.reason for b in blockers)
        report = evaluate_promotion(_inputs(view, req, env, check, pointer, readiness, reasons), format_time(tx.at))
        tx.checked(f"{req.bundle_id} to {req.environment}", ((c.check_id, c.passed, c.detail) for c in report.checks))
        failed = first_failure(report)
        if failed is not None:
            kept = f"; report: {refused(report)}" if refused is not None else ""
            raise InvariantError(
                f"gated promotion of {req.bundle_id} to {req.environment} failed: "
                f"{failed.check_id} ({failed.detail}){kept}",
                GATE_CHECKS[failed.check_id],
                "read the promotion report, fix the evidence, and promote again; nothing was promoted",
            )
        report = report.model_copy(
            update={
                "release_root": f"{target.path}/releases/{req.bundle_id}",
                "current_pointer": target.current_path,
                "previous_bundle_id": state.bundle_id,
                "sequence": state.sequence + 1,
            }
        )
    else:
        _refuse_plain(tx, req, env, check, blockers)
        _check_source(req, pointer)
    raw = render(report.model_dump(mode="json")) if report is not None else None
    new = tx.apply(
        target,
        "Promote",
        {
            "bundle_id": req.bundle_id,
            "bundle_tree": check.bundle_tree,
            "manifest_digest": check.manifest_digest,
            "source_environment": req.source_environment,
            "allowed_sources": list(env.sources),
            "require_gate": env.require_gate,
            "gated": report is not None,
            "gate_decision": report.gate_decision if report is not None else None,
            "report_digest": "sha256:" + sha256_hex(raw) if raw is not None else None,
            "sequence": state.sequence + 1,
            "previous_bundle_id": state.bundle_id,
            "promoted_at": format_time(tx.at),
            "promoted_by": tx.actor_in(target, "Promote"),
            "override": req.override,
            "batch": req.batch,
        },
    )
    tx.put(f"{target.path}/releases/{req.bundle_id}", TreeRef(check.bundle_tree or ""))
    path = f"{target.path}/reports/{new.sequence}.json" if raw is not None else None
    if path is not None and raw is not None:
        tx.put(path, raw)
    provenance_ops.write(tx, view, req.environment)
    return PromoteOutcome(new, report, raw, path)


def rollback(tx: Transaction, environment: str, reason: str, to: str | None = None) -> DeploymentState:
    """Move ``environment``'s pointer back to the previous release in its history (or to ``to``,
    which must have been promoted there); the target is re-verified first."""
    target = scope("environment", environment)
    environment_config(tx.tree, environment)
    state = tx.replayed(target).state  # the release list and rollback path: the log's, not current.json's
    tx.check(target, "Rollback")  # nothing deployed: ROLLBACK_REQUIRES_PREVIOUS_RELEASE
    if to is not None:
        scope("bundle", to)
    with tx.refusing(target, "Rollback"):
        chosen = choose_rollback(state, to)
    recorded = state.releases[chosen].bundle_tree
    check = release_check(tx.tree, chosen, ())
    release = tx.tree.tree_id(f"{target.path}/releases/{chosen}")
    problems = list(check.problems) + (
        ["its release tree differs from the one promoted"]
        if recorded not in (release, check.bundle_tree) or release != check.bundle_tree
        else []
    )
    if problems:
        raise StateError(f"cannot roll back {environment} to {chosen}: {problems[0]}", "run `gitdocket verify`")
    return tx.apply(
        target,
        "Rollback",
        {
            "target": chosen,
            "requested": to is not None,
            "reason": reason,
            "sequence": state.sequence + 1,
            "previous_bundle_id": state.bundle_id,
            "rolled_back_at": format_time(tx.at),
            "rolled_back_by": tx.actor_in(target, "Rollback"),
        },
    )
