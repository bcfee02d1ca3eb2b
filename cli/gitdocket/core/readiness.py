"""The release readiness documents of seed 002, as pydantic models: ``release_readiness_gate_v1``
(the go / conditional-go / no-go gate report, ``gitdocket gate evaluate``) and
``policy_promotion_readiness_v1`` (readiness evidence a gated promotion reads), with the gate's
decision rule and seed 002's reading of an evidence status.

Evidence that other tools may produce, so both keep unknown fields (``core.documents.OpenRecord``):
a newer generator does not break an older gitdocket. Apart from ``core.documents`` because only
the gate, promotion, contracts and the site read them: a runtime's ``deployments resolve`` builds
none of their models (ADR 0035).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool, model_validator

from gitdocket.core.documents import OpenRecord

__all__ = [
    "AppliedException",
    "DevToStaging",
    "GateCheck",
    "GateReport",
    "GateSummary",
    "PromotionReadiness",
    "ReadinessChecks",
    "ReadinessEnvironments",
    "ReadinessSummary",
    "StagingToProd",
    "gate_decision",
    "status_is_pass",
]


def status_is_pass(value: Any) -> bool:
    """Seed 002's reading of an evidence ``status``: pass, passed, ok or success, any case."""
    return isinstance(value, str) and value.strip().lower() in {"pass", "passed", "ok", "success"}


def gate_decision(high: int, medium: int, max_high: int, max_medium: int) -> Literal["go", "conditional-go", "no-go"]:
    """The release gate's decision from its failure counts and its profile's limits: more high
    (or medium) failures than allowed is no-go, any medium failure conditional-go, none go. The
    gate decides with it and a gate report is held to it."""
    if high > max_high or medium > max_medium:
        return "no-go"
    return "conditional-go" if medium else "go"


class GateCheck(OpenRecord):
    check_id: str = Field(min_length=1)
    passed: StrictBool
    severity: Literal["high", "medium"]
    detail: str


class GateSummary(OpenRecord):
    total: int = Field(ge=0)
    passed: int = Field(ge=0)
    failed: int = Field(ge=0)
    high_failures: int = Field(ge=0)
    medium_failures: int = Field(ge=0)


class AppliedException(OpenRecord):
    check_id: str
    approved_by: str
    expires_at: str
    reason: str


class GateReport(OpenRecord):
    """The release readiness gate (contract ``release_readiness_gate_v1``)."""

    contract: Literal["release_readiness_gate_v1"]
    generated_at: str
    status: Literal["passed", "failed"]
    decision: Literal["go", "conditional-go", "no-go"]
    summary: GateSummary
    checks: tuple[GateCheck, ...]
    inputs: dict[str, Any] = Field(default_factory=dict)
    exceptions_applied: tuple[AppliedException, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> GateReport:
        if (self.status == "passed") != (self.decision == "go"):
            raise ValueError("status is passed exactly when the decision is go")
        failed = [c for c in self.checks if not c.passed]
        expected = (
            len(self.checks),
            len(self.checks) - len(failed),
            len(failed),
            sum(c.severity == "high" for c in failed),
            sum(c.severity == "medium" for c in failed),
        )
        summary = self.summary
        actual = (
            summary.total,
            summary.passed,
            summary.failed,
            summary.high_failures,
            summary.medium_failures,
        )
        if actual != expected:
            raise ValueError("summary does not match the checks")
        if self.decision not in self._decisions():
            raise ValueError(
                f"decision {self.decision} does not follow from its checks "
                f"({summary.high_failures} high and {summary.medium_failures} medium failures)"
            )
        return self

    def _decisions(self) -> set[str]:
        """The decisions the checks allow: exactly ``gate_decision``'s under the limits the report
        records (``inputs``, as ``gate evaluate`` writes them); another tool's report, without
        limits, by the origin's rule (a high failure is no-go, a medium one at least
        conditional-go, none go)."""
        high, medium = self.summary.high_failures, self.summary.medium_failures
        max_high, max_medium = self.inputs.get("max_high_failures"), self.inputs.get("max_medium_failures")
        if type(max_high) is int and type(max_medium) is int:
            return {gate_decision(high, medium, max_high, max_medium)}
        if high:
            return {"no-go"}
        return {"conditional-go", "no-go"} if medium else {"go"}


class ReadinessSummary(OpenRecord):
    automated_checks_total: int = Field(ge=0)
    automated_checks_passed: int = Field(ge=0)
    automated_checks_failed: int = Field(ge=0)
    runtime_canary_pass_ratio: float = Field(ge=0)
    coverage_ratio: float = Field(ge=0)
    executability_ratio: float = Field(ge=0)


class ReadinessChecks(OpenRecord):
    durability_passed: StrictBool
    policy_shadow_passed: StrictBool
    tenant_isolation_passed: StrictBool
    bundle_lifecycle_passed: StrictBool
    coverage_ratio_passed: StrictBool
    executability_ratio_passed: StrictBool


class DevToStaging(OpenRecord):
    ready: StrictBool
    requires_shadow_parity: StrictBool
    required_min_runtime_canary_pass_ratio: float = Field(ge=0, le=1)


class StagingToProd(OpenRecord):
    automated_ready: StrictBool
    requires_shadow_parity: StrictBool
    required_min_runtime_canary_pass_ratio: float = Field(ge=0, le=1)
    required_approvals: int = Field(ge=0)
    manual_approvals_pending: StrictBool


class ReadinessEnvironments(OpenRecord):
    dev_to_staging: DevToStaging
    staging_to_prod: StagingToProd


class PromotionReadiness(OpenRecord):
    """Policy promotion readiness evidence (contract ``policy_promotion_readiness_v1``)."""

    contract: Literal["policy_promotion_readiness_v1"]
    generated_at: str | None = None
    status: str = Field(min_length=1)
    summary: ReadinessSummary
    checks: ReadinessChecks
    environments: ReadinessEnvironments

    @model_validator(mode="after")
    def _consistent(self) -> PromotionReadiness:
        summary = self.summary
        if summary.automated_checks_total != summary.automated_checks_passed + summary.automated_checks_failed:
            raise ValueError("summary: automated_checks_total is not passed + failed")
        passed = status_is_pass(self.status)
        if passed and summary.automated_checks_failed:
            raise ValueError("status passed with failed automated checks")
        ready = self.environments.dev_to_staging.ready or self.environments.staging_to_prod.automated_ready
        if ready and not passed:
            raise ValueError("an environment is marked ready although the status did not pass")
        return self
