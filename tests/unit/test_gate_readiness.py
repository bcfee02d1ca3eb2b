"""The release readiness gate: decisions, severities, profiles, exceptions that expire."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.core.canonical import render
from gitdocket.demo.releases import readiness_report
from gitdocket.lifecycles.gate import Evidence, evaluate_gate
from gitdocket.lifecycles.gate_presets import AGENT_SKILLS, AGENT_SKILLS_JOBS

NOW = "2026-01-01T00:00:00Z"


def good() -> dict[str, dict[str, Any]]:
    return {
        "job_results.json": {job: {"result": "success"} for job in AGENT_SKILLS_JOBS},
        "smoke_report.json": {"failed": 0},
        "runtime_coverage.json": {"coverage_ratio": 1.0},
        "skill_executability.json": {"executability_ratio": 1},
        "policy_bundle_lifecycle_report.json": {"status": "passed"},
        "policy_promotion_readiness_report.json": readiness_report(),
        "durability_advanced_report.json": {"status": "passed", "scenarios": 3, "tests": 14},
        "policy_promotion_readiness_verify_report.json": {"status": "ok"},
        "runtime_governance_executive_summary.json": {"status": "passed"},
        "dx_metrics_slo_report.json": {"slo_status": "pass"},
        "critical_ci_trend_slo_report.json": {"slo_status": "passed"},
        "critical_ci_trend_report.json": {"status": "passed"},
    }


def docs(**changes: Any) -> dict[str, Evidence]:
    data = good()
    for name, value in changes.items():
        key = f"{name}.json"
        if value is None:
            data.pop(key)
        else:
            data[key] = {**data[key], **value}
    return {name: Evidence(name, doc) for name, doc in data.items()}


def gate(profile: str = "strict", exceptions: Evidence | None = None, **changes: Any) -> Any:
    return evaluate_gate(docs(**changes), AGENT_SKILLS, profile, NOW, exceptions)


def failing(report: Any) -> dict[str, str]:
    return {c.check_id: c.severity for c in report.checks if not c.passed}


def test_all_good_is_go() -> None:
    report = gate()
    assert (report.decision, report.status, report.contract) == (
        "go",
        "passed",
        "release_readiness_gate_v1",
    )
    assert report.summary.failed == 0 and report.summary.total == len(report.checks)
    assert [c.check_id for c in report.checks][:8] == [f"job_result:{j}" for j in AGENT_SKILLS_JOBS]


@pytest.mark.parametrize(
    ("changes", "check", "decision"),
    [
        pytest.param(
            {"smoke_report": {"failed": 2}},
            "smoke_report_failed_zero",
            "no-go",
            id="smoke-failures",
        ),
        pytest.param({"smoke_report": None}, "smoke_report_present", "no-go", id="smoke-missing"),
        pytest.param(
            {"runtime_coverage": {"coverage_ratio": 0.9}},
            "runtime_coverage_ratio",
            "no-go",
            id="coverage-low",
        ),
        pytest.param(
            {"skill_executability": {"executability_ratio": "1"}},
            "skill_executability_ratio",
            "no-go",
            id="ratio-not-a-number",
        ),
        pytest.param(
            {"job_results": {"smoke": {"result": "failure"}}},
            "job_result:smoke",
            "no-go",
            id="job-failed",
        ),
        pytest.param(
            {"durability_advanced_report": {"tests": 13}},
            "durability_advanced_coverage",
            "no-go",
            id="too-few-durability-tests",
        ),
        pytest.param(
            {"policy_promotion_readiness_report": {"summary": "x"}},
            "promotion_readiness_contract_valid",
            "no-go",
            id="readiness-malformed",
        ),
        pytest.param(
            {"runtime_governance_executive_summary": {"status": "FAILED"}},
            "runtime_exec_summary_not_failed",
            "no-go",
            id="exec-summary-failed",
        ),
        pytest.param(
            {"dx_metrics_slo_report": {"slo_status": "warn"}},
            "dx_slo_status_pass",
            "no-go",
            id="dx-slo",
        ),
    ],
)
def test_high_failures_are_no_go(changes: dict[str, Any], check: str, decision: str) -> None:
    report = gate(**changes)
    assert failing(report) == {check: "high"}
    assert (report.decision, report.status) == (decision, "failed")


def test_unverified_trend_is_waived_where_the_profile_allows_it() -> None:
    strict = gate("strict", critical_ci_trend_slo_report={"slo_status": "unverified"})
    assert (failing(strict), strict.decision) == ({"trend_slo_status": "high"}, "no-go")
    transitional = gate("transitional", critical_ci_trend_slo_report={"slo_status": "unverified"})
    waived = next(c for c in transitional.checks if c.check_id == "trend_slo_status")
    assert (waived.passed, waived.severity, transitional.decision) == (True, "medium", "go")


WAIVERS = {
    "smoke_report_failed_zero": {"smoke_report": {"failed": 1}},
    "runtime_coverage_ratio": {"runtime_coverage": {"coverage_ratio": 0.5}},
    "dx_slo_status_pass": {"dx_metrics_slo_report": {"slo_status": "warn"}},
}


@pytest.mark.parametrize(
    ("profile", "waived", "decision"),
    [
        pytest.param("transitional", 2, "conditional-go", id="transitional-two-medium"),
        pytest.param("transitional", 3, "no-go", id="transitional-three-medium"),
        pytest.param("strict", 1, "no-go", id="strict-one-medium"),
        pytest.param("promotion", 1, "no-go", id="promotion-one-medium"),
    ],
)
def test_medium_failure_budget_per_profile(profile: str, waived: int, decision: str) -> None:
    chosen = list(WAIVERS)[:waived]
    changes: dict[str, Any] = {}
    for check in chosen:
        changes.update(WAIVERS[check])
    report = gate(profile, exceptions(*(exception(check_id=c) for c in chosen)), **changes)
    assert (report.summary.medium_failures, report.summary.high_failures, report.decision) == (
        waived,
        0,
        decision,
    )


def test_promotion_profile_needs_no_jobs() -> None:
    report = gate("promotion", job_results=None)
    assert report.decision == "go"
    assert not any(c.check_id.startswith("job_result:") for c in report.checks)
    assert gate("strict", job_results=None).decision == "no-go"


def exceptions(*items: dict[str, Any]) -> Evidence:
    return Evidence("exceptions", {"exceptions": list(items)}, source="exceptions.json")


def exception(**changes: Any) -> dict[str, Any]:
    return {
        "check_id": "smoke_report_failed_zero",
        "expires_at": "2026-01-08T00:00:00Z",
        "approved_by": "carol",
        "reason": "known flake, ticket 12",
        **changes,
    }


def test_an_active_exception_downgrades_high_to_medium() -> None:
    report = gate("transitional", exceptions(exception()), smoke_report={"failed": 1})
    assert failing(report) == {"smoke_report_failed_zero": "medium"}
    assert report.decision == "conditional-go"
    assert [e.check_id for e in report.exceptions_applied] == ["smoke_report_failed_zero"]
    assert "exception approved_by=carol" in next(c.detail for c in report.checks if not c.passed)


@pytest.mark.parametrize(
    ("entry", "detail"),
    [
        pytest.param(exception(expires_at="2025-12-31T23:59:59Z"), "expired", id="expired"),
        pytest.param(exception(expires_at="2026-01-01T00:00:00Z"), "expired", id="expires-now"),
        pytest.param(exception(approved_by=""), "invalid: approved_by", id="unapproved"),
        pytest.param(exception(expires_at="next week"), "invalid: expires_at", id="bad-date"),
        pytest.param("not an object", "invalid: check_id", id="not-an-object"),
    ],
)
def test_expired_or_malformed_exceptions_do_not_apply(entry: Any, detail: str) -> None:
    report = gate("transitional", exceptions(entry), smoke_report={"failed": 1})
    assert failing(report) == {
        "smoke_report_failed_zero": "high",
        "exceptions_entry_issue": "medium",
    }
    assert report.decision == "no-go"
    assert detail in next(c.detail for c in report.checks if c.check_id == "exceptions_entry_issue")


def test_an_unreadable_exceptions_file_is_a_high_failure() -> None:
    report = gate("strict", Evidence("exceptions", None, "invalid_json: boom"))
    assert failing(report) == {"exceptions_file_load": "high"}


def test_missing_evidence_is_reported_not_raised() -> None:
    report = evaluate_gate({}, AGENT_SKILLS, "strict", NOW)
    assert report.decision == "no-go"
    assert "smoke_report_present" in failing(report)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        pytest.param(None, "missing", id="missing"),
        pytest.param(b"{oops", "invalid_json", id="bad-json"),
        pytest.param(b"[1, 2]", "invalid_shape", id="not-an-object"),
        pytest.param(b'{"a": 1, "a": 2}', "invalid_json", id="duplicate-keys"),
    ],
)
def test_evidence_parsing(raw: bytes | None, error: str) -> None:
    doc = Evidence.parse("x.json", raw, "here")
    assert doc.data is None and (doc.error or "").startswith(error)


def test_the_agent_skills_profiles_are_the_origins() -> None:
    profiles = AGENT_SKILLS.profiles
    assert profiles["promotion"].skip == ("job_result:*",)
    assert (profiles["transitional"].max_medium_failures, profiles["strict"].max_medium_failures) == (2, 0)
    assert "trend_slo_status" not in profiles["strict"].accept


def test_the_report_is_deterministic_and_self_consistent() -> None:
    first, second = gate(), gate()
    assert render(first.model_dump(mode="json")) == render(second.model_dump(mode="json"))
    assert set(AGENT_SKILLS.files()) == set(good())
