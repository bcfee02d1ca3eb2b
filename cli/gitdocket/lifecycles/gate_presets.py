"""The gate's presets, as data: what ``gate.preset`` in ``registry.yaml`` names.

- ``default``: the evidence a registry's own CI produces (the installed workflows write it):
  ``gitdocket verify --format json`` (``verify_report.json``), ``gitdocket contracts check
  --format json`` (``contracts_report.json``), ``gitdocket bundle verify --format json``
  (``bundle_verify.json``) and JUnit results when the repository has tests (``junit.xml``,
  skipped when absent).
- ``agent-skills``: seed 002's checks and profiles (the origin's ``release_gate_policy.json``),
  reading the origin's artifact names; gated promotions also need promotion readiness evidence.
- ``none``: nothing; the registry lists its own checks and profiles.

``gate_rules`` resolves a ``GateConfig`` to the ``GateRules`` the gate evaluates.
"""

from __future__ import annotations

from typing import Any

from gitdocket.core.documents import GateCheckSpec, GateConfig, GateProfileSpec
from gitdocket.lifecycles.gate import GateRules

__all__ = ["AGENT_SKILLS_JOBS", "PRESETS", "gate_rules"]


def _check(check_id: str, file: str, expect: dict[str, Any], **extra: Any) -> GateCheckSpec:
    return GateCheckSpec.model_validate({"id": check_id, "file": file, "expect": expect, **extra})


_OK = {"ok": {"equals": True}}
"""gitdocket's own JSON reports say ``ok: true`` exactly when nothing failed."""

DEFAULT = GateRules(
    checks=(
        _check("verify_report_ok", "verify_report.json", _OK, missing_id="verify_report_present"),
        _check("contracts_check_ok", "contracts_report.json", _OK, missing_id="contracts_report_present"),
        _check("bundle_verify_report_ok", "bundle_verify.json", _OK, missing_id="bundle_verify_report_present"),
        _check(
            "junit_no_failures",
            "junit.xml",
            {"failures": {"equals": 0}, "errors": {"equals": 0}},
            when_missing="skip",
        ),
    ),
    profiles={
        "strict": GateProfileSpec(),
        "transitional": GateProfileSpec(max_medium_failures=2),
        "promotion": GateProfileSpec(),
    },
    preset="default",
    required_evidence=("contracts_report.json", "verify_report.json"),
)

AGENT_SKILLS_JOBS = (
    "pin_drift_guard",
    "smoke",
    "contracts",
    "registry_consistency",
    "openapi_verification",
    "runtime_canary",
    "dx_metrics",
    "ci_stability_trend",
)
"""Seed 002's required CI jobs (``job_results.json`` is the workflow's ``needs`` object)."""

_PASS = {"is_pass": True}
_TREND = {"trend_slo_status": ("unverified",), "trend_report_status": ("unverified",)}

AGENT_SKILLS = GateRules(
    checks=(
        *(
            _check(f"job_result:{job}", "job_results.json", {f"{job}.result": {"equals": "success"}})
            for job in AGENT_SKILLS_JOBS
        ),
        _check(
            "smoke_report_failed_zero",
            "smoke_report.json",
            {"failed": {"equals": 0}},
            missing_id="smoke_report_present",
        ),
        _check(
            "runtime_coverage_ratio",
            "runtime_coverage.json",
            {"coverage_ratio": {"at_least": 1.0}},
            missing_id="runtime_coverage_report_present",
        ),
        _check(
            "skill_executability_ratio",
            "skill_executability.json",
            {"executability_ratio": {"at_least": 1.0}},
            missing_id="skill_executability_report_present",
        ),
        _check(
            "policy_bundle_lifecycle_status_passed",
            "policy_bundle_lifecycle_report.json",
            {"status": _PASS},
            missing_id="policy_bundle_lifecycle_report_present",
        ),
        GateCheckSpec(
            id="promotion_readiness_contract_valid",
            file="policy_promotion_readiness_report.json",
            conforms="policy_promotion_readiness_v1",
            missing_id="promotion_readiness_report_present",
        ),
        _check(
            "promotion_readiness_status_passed",
            "policy_promotion_readiness_report.json",
            {"status": _PASS},
            missing_id="promotion_readiness_report_present",
        ),
        _check(
            "durability_advanced_status_passed",
            "durability_advanced_report.json",
            {"status": _PASS},
            missing_id="durability_advanced_report_present",
        ),
        _check(
            "durability_advanced_coverage",
            "durability_advanced_report.json",
            {"scenarios": {"at_least": 3}, "tests": {"at_least": 14}},
            missing_id="durability_advanced_report_present",
        ),
        _check(
            "promotion_verify_status_passed",
            "policy_promotion_readiness_verify_report.json",
            {"status": _PASS},
            missing_id="promotion_verify_report_present",
        ),
        _check(
            "runtime_exec_summary_not_failed",
            "runtime_governance_executive_summary.json",
            {"status": {"none_of": ("failed",)}},
            missing_id="runtime_exec_summary_present",
        ),
        _check(
            "dx_slo_status_pass",
            "dx_metrics_slo_report.json",
            {"slo_status": {"one_of": ("pass", "passed")}},
            missing_id="dx_slo_report_present",
        ),
        _check(
            "trend_slo_status",
            "critical_ci_trend_slo_report.json",
            {"slo_status": {"one_of": ("pass", "passed")}},
            missing_id="trend_slo_report_present",
        ),
        _check(
            "trend_report_status",
            "critical_ci_trend_report.json",
            {"status": {"one_of": ("passed",)}},
            missing_id="trend_report_present",
        ),
    ),
    profiles={
        "strict": GateProfileSpec(),
        "transitional": GateProfileSpec(max_medium_failures=2, accept=_TREND),
        "promotion": GateProfileSpec(skip=("job_result:*",), accept=_TREND),
    },
    promotion_readiness=True,
    preset="agent-skills",
    required_evidence=(
        "release_lineage.json",
        "release_lineage_contract_report.json",
        "release_readiness_gate_report.json",
    ),
)

PRESETS: dict[str, GateRules] = {
    "default": DEFAULT,
    "agent-skills": AGENT_SKILLS,
    "none": GateRules(checks=(), profiles={}),
}


def gate_rules(config: GateConfig) -> GateRules:
    """The preset ``config`` names, plus its own checks and profiles."""
    return PRESETS[config.preset].extended(config)
