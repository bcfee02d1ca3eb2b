"""The release readiness gate (``release_readiness_gate_v1``, seed 002): evidence in, a decision
out — ``go``, ``conditional-go`` or ``no-go``.

Every check has a severity. Approved exceptions that have not expired downgrade a failing
``high`` check to ``medium``; expired or malformed ones become failing ``medium`` checks of their
own. The decision: more ``high`` failures than the profile allows → no-go; more ``medium``
failures than it allows → no-go; any ``medium`` failure → conditional-go; otherwise go. The
profiles (``strict``, ``transitional``, ``promotion``) carry the origin's keys.

Pure: evidence arrives parsed (``Evidence``), the clock arrives as a string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationError

from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import GateReport, PromotionReadiness, gate_decision, status_is_pass
from gitdocket.core.fields import format_time, parse_time
from gitdocket.core.model import Record, first_error
from gitdocket.errors import DocketError

__all__ = [
    "EVIDENCE_FILES",
    "PROFILES",
    "REQUIRED_JOBS",
    "Evidence",
    "GateProfile",
    "evaluate_gate",
    "status_is_pass",
]

REQUIRED_JOBS = (
    "pin_drift_guard",
    "smoke",
    "contracts",
    "registry_consistency",
    "openapi_verification",
    "runtime_canary",
    "dx_metrics",
    "ci_stability_trend",
)

EVIDENCE_FILES = (
    "job_results.json",
    "smoke_report.json",
    "runtime_coverage.json",
    "skill_executability.json",
    "policy_bundle_lifecycle_report.json",
    "policy_promotion_readiness_report.json",
    "durability_advanced_report.json",
    "policy_promotion_readiness_verify_report.json",
    "runtime_governance_executive_summary.json",
    "dx_metrics_slo_report.json",
    "critical_ci_trend_slo_report.json",
    "critical_ci_trend_report.json",
)
"""The files ``gate evaluate`` reads from its evidence folder (the origin's artifact names;
``job_results.json`` is the workflow's ``needs`` object)."""


class GateProfile(Record):
    allow_trend_unverified: bool
    allow_missing_runtime_executive_summary: bool
    max_high_failures: int = Field(ge=0)
    max_medium_failures: int = Field(ge=0)
    durability_advanced_min_expected_scenarios: int = Field(default=3, ge=0)
    durability_advanced_min_expected_tests: int = Field(default=14, ge=0)
    dx_allowed_slo_statuses: tuple[str, ...] = ("pass", "passed")
    trend_allowed_slo_statuses: tuple[str, ...] = ("pass", "passed")
    required_jobs: tuple[str, ...] = REQUIRED_JOBS


PROFILES: dict[str, GateProfile] = {
    "strict": GateProfile(
        allow_trend_unverified=False,
        allow_missing_runtime_executive_summary=False,
        max_high_failures=0,
        max_medium_failures=0,
    ),
    "transitional": GateProfile(
        allow_trend_unverified=True,
        allow_missing_runtime_executive_summary=False,
        max_high_failures=0,
        max_medium_failures=2,
    ),
    "promotion": GateProfile(
        allow_trend_unverified=True,
        allow_missing_runtime_executive_summary=False,
        max_high_failures=0,
        max_medium_failures=0,
        required_jobs=(),
    ),
}
"""The origin's ``.github/release_gate_policy.json`` profiles."""


@dataclass(frozen=True)
class Evidence:
    """One evidence document as read: its parsed object, or why it could not be read."""

    name: str
    data: dict[str, Any] | None
    error: str | None = None
    source: str = "evidence"

    @classmethod
    def missing(cls, name: str, source: str = "evidence") -> Evidence:
        return cls(name, None, "missing", source)

    @classmethod
    def parse(cls, name: str, raw: bytes | None, source: str) -> Evidence:
        """Parse ``raw`` strictly; a missing, unparsable or non-object document keeps its error."""
        if raw is None:
            return cls.missing(name, source)
        try:
            data = loads_strict(raw, name)
        except DocketError as exc:
            return cls(name, None, f"invalid_json: {exc.message}", source)
        if not isinstance(data, dict):
            return cls(name, None, "invalid_shape", source)
        return cls(name, data, None, source)


def _ratio(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else -1.0


class _Checks:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, check_id: str, passed: bool, detail: str, severity: str = "high") -> None:
        self.items.append({"check_id": check_id, "passed": bool(passed), "severity": severity, "detail": detail})

    def report(self, doc: Evidence, present_id: str, check: Callable[[dict[str, Any]], None]) -> None:
        if doc.data is None:
            self.add(present_id, False, doc.error or "missing")
        else:
            check(doc.data)


def _parse_time(value: str) -> datetime | None:
    """Evidence written by other tools: a time without a zone is UTC; None when unreadable."""
    try:
        return parse_time(value, naive=UTC)
    except ValueError:
        return None


def _exceptions(doc: Evidence | None, now: str, checks: _Checks) -> dict[str, dict[str, str]]:
    if doc is None:
        return {}
    items = doc.data.get("exceptions") if doc.data is not None else None
    if doc.data is None or not isinstance(items, list):
        checks.add(
            "exceptions_file_load",
            False,
            f"exceptions file error: {doc.error or 'exceptions must be a list'}",
        )
        return {}
    checks.add("exceptions_file_load", True, f"loaded from {doc.source}")
    active: dict[str, dict[str, str]] = {}
    clock = _parse_time(now)
    for index, item in enumerate(items):
        fields = (
            {k: item.get(k) for k in ("check_id", "expires_at", "approved_by", "reason")}
            if isinstance(item, dict)
            else {}
        )
        bad = [
            k
            for k in ("check_id", "expires_at", "approved_by", "reason")
            if not isinstance(fields.get(k), str) or not str(fields[k]).strip()
        ]
        expires = _parse_time(str(fields.get("expires_at"))) if not bad else None
        if bad or expires is None:
            checks.add(
                "exceptions_entry_issue",
                False,
                f"exceptions[{index}] invalid: {(bad or ['expires_at'])[0]}",
                "medium",
            )
        elif clock is None or expires <= clock:
            checks.add(
                "exceptions_entry_issue",
                False,
                f"exceptions[{index}] expired: {fields['check_id']} at {fields['expires_at']}",
                "medium",
            )
        else:
            active[str(fields["check_id"]).strip()] = {
                "approved_by": str(fields["approved_by"]).strip(),
                "reason": str(fields["reason"]).strip(),
                "expires_at": format_time(expires),
            }
    return active


def _jobs(docs: Mapping[str, Evidence], profile: GateProfile, checks: _Checks) -> None:
    if not profile.required_jobs:
        return
    doc = docs["job_results.json"]
    for job in profile.required_jobs:
        item = doc.data.get(job) if doc.data is not None else None
        result = item.get("result") if isinstance(item, dict) else None
        checks.add(f"job_result:{job}", result == "success", f"result={result}")


def _status_check(docs: Mapping[str, Evidence], checks: _Checks, name: str, present: str, check: str) -> None:
    checks.report(
        docs[name],
        present,
        lambda d: checks.add(check, status_is_pass(d.get("status")), f"status={d.get('status')}"),
    )


def _quality(docs: Mapping[str, Evidence], checks: _Checks) -> None:
    checks.report(
        docs["smoke_report.json"],
        "smoke_report_present",
        lambda d: checks.add(
            "smoke_report_failed_zero",
            type(d.get("failed")) is int and d.get("failed") == 0,
            f"failed={d.get('failed')}",
        ),
    )
    checks.report(
        docs["runtime_coverage.json"],
        "runtime_coverage_report_present",
        lambda d: checks.add(
            "runtime_coverage_ratio",
            _ratio(d.get("coverage_ratio")) >= 1.0,
            f"coverage_ratio={d.get('coverage_ratio')}",
        ),
    )
    checks.report(
        docs["skill_executability.json"],
        "skill_executability_report_present",
        lambda d: checks.add(
            "skill_executability_ratio",
            _ratio(d.get("executability_ratio")) >= 1.0,
            f"executability_ratio={d.get('executability_ratio')}",
        ),
    )
    _status_check(
        docs,
        checks,
        "policy_bundle_lifecycle_report.json",
        "policy_bundle_lifecycle_report_present",
        "policy_bundle_lifecycle_status_passed",
    )


def _readiness(docs: Mapping[str, Evidence], profile: GateProfile, checks: _Checks) -> None:
    def contract(data: dict[str, Any]) -> None:
        try:
            PromotionReadiness.model_validate(data)
            checks.add("promotion_readiness_contract_valid", True, "contract=policy_promotion_readiness_v1")
        except ValidationError as exc:
            checks.add(
                "promotion_readiness_contract_valid",
                False,
                f"contract={data.get('contract')}; error={first_error(exc)}",
            )
        checks.add(
            "promotion_readiness_status_passed",
            status_is_pass(data.get("status")),
            f"status={data.get('status')}",
        )

    checks.report(
        docs["policy_promotion_readiness_report.json"],
        "promotion_readiness_report_present",
        contract,
    )

    def durability(data: dict[str, Any]) -> None:
        checks.add(
            "durability_advanced_status_passed",
            status_is_pass(data.get("status")),
            f"status={data.get('status')}",
        )
        scenarios, tests = data.get("scenarios"), data.get("tests")
        enough = (
            type(scenarios) is int
            and type(tests) is int
            and scenarios >= profile.durability_advanced_min_expected_scenarios
            and tests >= profile.durability_advanced_min_expected_tests
        )
        checks.add(
            "durability_advanced_coverage",
            enough,
            f"scenarios={scenarios} (min {profile.durability_advanced_min_expected_scenarios}); "
            f"tests={tests} (min {profile.durability_advanced_min_expected_tests})",
        )

    checks.report(docs["durability_advanced_report.json"], "durability_advanced_report_present", durability)
    _status_check(
        docs,
        checks,
        "policy_promotion_readiness_verify_report.json",
        "promotion_verify_report_present",
        "promotion_verify_status_passed",
    )


def _operations(docs: Mapping[str, Evidence], profile: GateProfile, checks: _Checks) -> None:
    summary = docs["runtime_governance_executive_summary.json"]
    if summary.data is None:
        allowed = profile.allow_missing_runtime_executive_summary
        checks.add(
            "runtime_exec_summary_present",
            allowed,
            summary.error or "missing",
            "medium" if allowed else "high",
        )
    else:
        status = summary.data.get("status")
        checks.add(
            "runtime_exec_summary_not_failed",
            str(status).strip().lower() != "failed",
            f"status={status}",
        )
    allowed_dx = {s.lower() for s in profile.dx_allowed_slo_statuses}
    checks.report(
        docs["dx_metrics_slo_report.json"],
        "dx_slo_report_present",
        lambda d: checks.add(
            "dx_slo_status_pass",
            str(d.get("slo_status")).strip().lower() in allowed_dx,
            f"slo_status={d.get('slo_status')}; allowed={sorted(allowed_dx)}",
        ),
    )
    allowed_trend = {s.lower() for s in profile.trend_allowed_slo_statuses}

    def trend(check_id: str, key: str, ok: set[str]) -> Callable[[dict[str, Any]], None]:
        def run(data: dict[str, Any]) -> None:
            value = str(data.get(key, "unknown")).strip().lower()
            waived = profile.allow_trend_unverified and value == "unverified"
            checks.add(check_id, value in ok or waived, f"{key}={value}", "medium" if waived else "high")

        return run

    checks.report(
        docs["critical_ci_trend_slo_report.json"],
        "trend_slo_report_present",
        trend("trend_slo_status", "slo_status", allowed_trend),
    )
    checks.report(
        docs["critical_ci_trend_report.json"],
        "trend_report_present",
        trend("trend_report_status", "status", {"passed"}),
    )


def _decide(items: list[dict[str, Any]], profile: GateProfile) -> str:
    high = sum(1 for c in items if not c["passed"] and c["severity"] == "high")
    medium = sum(1 for c in items if not c["passed"] and c["severity"] == "medium")
    return gate_decision(high, medium, profile.max_high_failures, profile.max_medium_failures)


def evaluate_gate(
    docs: Mapping[str, Evidence],
    profile_name: str,
    now: str,
    exceptions: Evidence | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> GateReport:
    """The gate report for ``docs`` (every name of ``EVIDENCE_FILES``; absent ones as missing)."""
    profile = PROFILES[profile_name]
    docs = {name: docs.get(name) or Evidence.missing(name) for name in EVIDENCE_FILES}
    checks = _Checks()
    active = _exceptions(exceptions, now, checks)
    _jobs(docs, profile, checks)
    _quality(docs, checks)
    _readiness(docs, profile, checks)
    _operations(docs, profile, checks)
    applied = []
    for item in checks.items:
        exception = active.get(item["check_id"])
        if item["passed"] or exception is None:
            continue
        item["severity"] = "medium"
        item["detail"] += (
            f" | exception approved_by={exception['approved_by']} "
            f"expires_at={exception['expires_at']} reason={exception['reason']}"
        )
        applied.append({"check_id": item["check_id"], **exception})
    failed = [c for c in checks.items if not c["passed"]]
    decision = _decide(checks.items, profile)
    return GateReport.model_validate(
        {
            "generated_at": now,
            "status": "passed" if decision == "go" else "failed",
            "contract": "release_readiness_gate_v1",
            "decision": decision,
            "summary": {
                "total": len(checks.items),
                "passed": len(checks.items) - len(failed),
                "failed": len(failed),
                "high_failures": sum(c["severity"] == "high" for c in failed),
                "medium_failures": sum(c["severity"] == "medium" for c in failed),
            },
            "checks": checks.items,
            "inputs": {
                **dict(inputs or {}),
                "policy_profile": profile_name,
                **profile.model_dump(mode="json"),
            },
            "exceptions_applied": applied,
        }
    )
