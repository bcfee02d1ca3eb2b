"""Environments, the pure part: seed 002's gated promotion (its eight checks and one of Docket's, in
order, and the
``release_bundle_promotion_v1`` report) and the promotion chain through the configured order.

The checks, as the origin runs them: ``bundle_verify_ok`` (the evaluation stops here when it
fails), then Docket's ``bundle_packages_current`` (no package of the bundle is withdrawn and no
version retired *now*: the origin promoted whatever it was given),
``environment_transition_allowed``, ``release_gate_contract_valid``,
``release_gate_allows_promotion``, ``promotion_readiness_contract_valid``,
``promotion_readiness_status_passed``, ``promotion_readiness_allows_target_env`` (the three
readiness checks only when the registry's gate preset asks for promotion readiness, as
``agent-skills`` does) and — only when a source environment is named —
``source_environment_has_same_bundle``. Docket validates the two
evidence documents against their full contracts (the origin only compared the ``contract``
string), and a strict environment (``require_gate`` in ``registry.yaml``; staging and prod by
default) needs ``go`` *and* ``passed``.

Pure: the evidence and the other environment's pointer arrive as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from gitdocket.core.documents import (
    BundleManifest,
    PromotionCheck,
    PromotionReport,
    RegistryConfig,
    SmokeRun,
    SourceRun,
)
from gitdocket.core.model import first_error
from gitdocket.core.readiness import GateReport, PromotionReadiness
from gitdocket.errors import NotFoundError
from gitdocket.lifecycles.environment import gate_allows
from gitdocket.lifecycles.gate import Evidence, status_is_pass

__all__ = [
    "GATE_EVIDENCE",
    "PREVIEW_WORKFLOW",
    "READINESS_EVIDENCE",
    "READINESS_RULES",
    "GateInputs",
    "evaluate_promotion",
    "first_failure",
    "promotion_chain",
    "provenance_problems",
]

GATE_EVIDENCE = "release_readiness_gate_report.json"
READINESS_EVIDENCE = "policy_promotion_readiness_report.json"
READINESS_RULES: dict[str, tuple[str, str]] = {
    "staging": ("dev_to_staging", "ready"),
    "prod": ("staging_to_prod", "automated_ready"),
}
"""Target environment → the readiness entry and flag that must be true (seed 002)."""


@dataclass(frozen=True)
class GateInputs:
    """Everything one gated promotion is judged on."""

    environment: str
    source_environment: str | None
    allowed_sources: tuple[str | None, ...]
    strict: bool
    bundle_id: str
    bundle_ok: bool
    bundle_detail: str
    bundle_root: str
    gate: Evidence
    readiness: Evidence
    source_bundle_id: str | None = None
    source_run: SourceRun | None = None
    readiness_required: bool = True
    """Whether checks 5–7 (promotion readiness) run: the gate preset says (only ``agent-skills``)."""
    blockers: tuple[str, ...] = ()
    """Why the bundle's packages may not go into a new release now (``bundle.release_blocker``)."""


def _gate(inputs: GateInputs, checks: list[PromotionCheck]) -> str | None:
    doc = inputs.gate
    data = doc.data or {}
    decision, status, contract = data.get("decision"), data.get("status"), data.get("contract")
    error = doc.error
    if doc.data is not None:
        try:
            GateReport.model_validate(doc.data)
        except ValidationError as exc:
            error = f"invalid release_readiness_gate_v1: {first_error(exc)}"
    valid = error is None
    checks.append(
        PromotionCheck(
            check_id="release_gate_contract_valid",
            passed=valid,
            detail=f"contract={contract}; error={error}; source={doc.source}",
        )
    )
    allows = valid and gate_allows(decision, inputs.strict) and (not inputs.strict or status == "passed")
    checks.append(
        PromotionCheck(
            check_id="release_gate_allows_promotion",
            passed=allows,
            detail=f"decision={decision}; status={status}; strict={inputs.strict}; error={error}; source={doc.source}",
        )
    )
    return str(decision) if decision is not None else None


def _readiness(inputs: GateInputs, checks: list[PromotionCheck]) -> str | None:
    doc = inputs.readiness
    data = doc.data or {}
    status, error = data.get("status"), doc.error
    parsed: PromotionReadiness | None = None
    if doc.data is not None:
        try:
            parsed = PromotionReadiness.model_validate(doc.data)
        except ValidationError as exc:
            error = f"invalid policy_promotion_readiness_v1: {first_error(exc)}"
    checks.append(
        PromotionCheck(
            check_id="promotion_readiness_contract_valid",
            passed=parsed is not None,
            detail=f"contract={data.get('contract')}; error={error}; source={doc.source}",
        )
    )
    status_ok = parsed is not None and status_is_pass(status)
    checks.append(
        PromotionCheck(
            check_id="promotion_readiness_status_passed",
            passed=status_ok,
            detail=f"status={status}; error={error}; source={doc.source}",
        )
    )
    rule = READINESS_RULES.get(inputs.environment)
    ready = status_ok
    if rule is not None and parsed is not None:
        entry = getattr(parsed.environments, rule[0])
        ready = status_ok and getattr(entry, rule[1]) is True
    needs = f"{rule[0]}.{rule[1]}" if rule else "contract and status"
    checks.append(
        PromotionCheck(
            check_id="promotion_readiness_allows_target_env",
            passed=ready,
            detail=f"target_environment={inputs.environment}; needs={needs}; status={status}; source={doc.source}",
        )
    )
    return str(status) if status is not None else None


def evaluate_promotion(inputs: GateInputs, generated_at: str) -> PromotionReport:
    """Run the checks in order and return the report (status ``passed`` only if all pass)."""
    checks = [PromotionCheck(check_id="bundle_verify_ok", passed=inputs.bundle_ok, detail=inputs.bundle_detail)]
    decision: str | None = None
    status: str | None = None
    if inputs.bundle_ok:
        source = inputs.source_environment
        checks.append(
            PromotionCheck(
                check_id="bundle_packages_current",
                passed=not inputs.blockers,
                detail=f"blocked={list(inputs.blockers)}",
            )
        )
        checks.append(
            PromotionCheck(
                check_id="environment_transition_allowed",
                passed=source in inputs.allowed_sources and source != inputs.environment,
                detail=f"source_environment={source}; target_environment={inputs.environment}; "
                f"allowed={[s for s in inputs.allowed_sources]}",
            )
        )
        decision = _gate(inputs, checks)
        status = _readiness(inputs, checks) if inputs.readiness_required else None
        if source is not None:
            checks.append(
                PromotionCheck(
                    check_id="source_environment_has_same_bundle",
                    passed=inputs.source_bundle_id == inputs.bundle_id,
                    detail=f"source_environment={source}; "
                    f"source_bundle_id={inputs.source_bundle_id}; "
                    f"target_bundle_id={inputs.bundle_id}",
                )
            )
    run = inputs.source_run
    return PromotionReport(
        contract="release_bundle_promotion_v1",
        generated_at=generated_at,
        status="passed" if all(c.passed for c in checks) else "failed",
        environment=inputs.environment,
        source_environment=inputs.source_environment,
        bundle_id=inputs.bundle_id,
        bundle_root=inputs.bundle_root,
        checks=tuple(checks),
        gate_decision=decision,
        promotion_readiness_status=status,
        source_run=run,
        smoke_run=SmokeRun(run_id=run.source_smoke_run_id, head_sha=run.source_head_sha) if run else None,
    )


def first_failure(report: PromotionReport) -> PromotionCheck | None:
    return next((c for c in report.checks if not c.passed), None)


def promotion_chain(config: RegistryConfig, target: str) -> list[tuple[str, str | None]]:
    """(environment, source environment) for each step from the first environment to ``target``
    in ``registry.yaml`` order: preview ← build, dev ← preview, staging ← dev, prod ← staging."""
    names = [e.name for e in config.environments]
    if target not in names:
        raise NotFoundError(f"unknown environment {target!r}", f"environments in registry.yaml: {', '.join(names)}")
    chain = names[: names.index(target) + 1]
    return [(env, chain[i - 1] if i else None) for i, env in enumerate(chain)]


PREVIEW_WORKFLOW = ".github/workflows/deployment-preview.yml"
"""The workflow that builds the ``pr-preview`` bundle a promotion takes (never a rebuild)."""


def provenance_problems(
    run: Mapping[str, Any], manifest: BundleManifest | None, workflow: str, label: str
) -> list[str]:
    """Why the GitHub run ``run`` (the API's workflow-run object) is not the successful preview
    run that built the bundle of ``manifest`` (None: check the run only); [] when it is.

    The preview workflow checks out the pull request's head commit (not GitHub's merge commit)
    and builds from it, so the bundle's registry commit must be the run's ``head_sha``."""
    run_id = run.get("id")
    problems = []
    if (run.get("status"), run.get("conclusion")) != ("completed", "success"):
        problems.append(
            f"run {run_id} is not a successful run (status={run.get('status')}, conclusion={run.get('conclusion')})"
        )
    path = str(run.get("path") or "").split("@", 1)[0]
    if path != workflow:
        problems.append(f"run {run_id} is a run of {path or 'an unknown workflow'}, not of {workflow}")
    if manifest is None:
        return problems
    if manifest.bundle_label != label:
        problems.append(f"bundle {manifest.bundle_id} has label {manifest.bundle_label}, not {label}")
    commit = manifest.source.registry_git.commit
    if commit != run.get("head_sha"):
        problems.append(
            f"bundle {manifest.bundle_id} was built from commit {commit}, not from the run's head {run.get('head_sha')}"
        )
    return problems
