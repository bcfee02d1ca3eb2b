"""Seed 002's gated promotion checks, pure: order, short-circuit, strictness, readiness, chain."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gitdocket.core.documents import RegistryConfig, SourceRun
from gitdocket.demo.releases import readiness_report
from gitdocket.errors import NotFoundError
from gitdocket.lifecycles.gate import Evidence
from gitdocket.lifecycles.promotion import GateInputs, evaluate_promotion, first_failure, promotion_chain

BID = "pr-preview-20260101-000000-1a2b3c4d"
AT = "2026-01-01T00:00:00Z"
GATE = {
    "contract": "release_readiness_gate_v1",
    "generated_at": "2026-01-01T00:00:00Z",
    "status": "passed",
    "decision": "go",
    "summary": {"total": 1, "passed": 1, "failed": 0, "high_failures": 0, "medium_failures": 0},
    "checks": [{"check_id": "smoke", "passed": True, "severity": "high", "detail": "ok"}],
}
CONDITIONAL = {
    "decision": "conditional-go",
    "status": "failed",
    "summary": {"total": 1, "passed": 0, "failed": 1, "high_failures": 0, "medium_failures": 1},
    "checks": [{"check_id": "smoke", "passed": False, "severity": "medium", "detail": "flaky"}],
}
NO_GO = {
    "decision": "no-go",
    "status": "failed",
    "summary": {"total": 1, "passed": 0, "failed": 1, "high_failures": 1, "medium_failures": 0},
    "checks": [{"check_id": "smoke", "passed": False, "severity": "high", "detail": "broken"}],
}
SOURCES = {"preview": (None,), "dev": (None, "preview"), "staging": ("dev",), "prod": ("staging",)}


def inputs(env: str = "staging", source: str | None = "dev", **changes: Any) -> GateInputs:
    gate_changes = changes.pop("gate", {})
    gate = Evidence.missing("gate", "bundle") if gate_changes is None else Evidence("gate", {**GATE, **gate_changes})
    readiness = changes.pop("readiness", readiness_report())
    values: dict[str, Any] = {
        "environment": env,
        "source_environment": source,
        "allowed_sources": SOURCES.get(env, ()),
        "strict": env in ("staging", "prod"),
        "bundle_id": BID,
        "bundle_ok": True,
        "bundle_detail": "ok",
        "bundle_root": f"bundles/{BID}",
        "gate": gate,
        "readiness": Evidence("readiness", readiness),
        "source_bundle_id": BID if source else None,
    }
    values.update(changes)
    return GateInputs(**values)


def checks(report: Any) -> dict[str, bool]:
    return {c.check_id: c.passed for c in report.checks}


def test_all_nine_checks_in_order() -> None:
    report = evaluate_promotion(inputs(), "2026-01-01T00:00:00Z")
    assert list(checks(report)) == [
        "bundle_verify_ok",
        "bundle_packages_current",
        "environment_transition_allowed",
        "release_gate_contract_valid",
        "release_gate_allows_promotion",
        "promotion_readiness_contract_valid",
        "promotion_readiness_status_passed",
        "promotion_readiness_allows_target_env",
        "source_environment_has_same_bundle",
    ]
    assert report.status == "passed" and first_failure(report) is None
    assert (report.gate_decision, report.promotion_readiness_status) == ("go", "passed")


def test_a_withdrawn_package_or_retired_version_fails_the_gate() -> None:
    blocked = ("package support-triage 1.0.0 is withdrawn", "version support-triage 1.1.0 is retired")
    report = evaluate_promotion(replace(inputs(), blockers=blocked), AT)
    failed = first_failure(report)
    assert failed is not None and failed.check_id == "bundle_packages_current"
    assert "withdrawn" in failed.detail and "retired" in failed.detail
    assert report.status == "failed"


def test_without_a_source_the_source_check_is_left_out() -> None:
    report = evaluate_promotion(inputs("preview", None), "2026-01-01T00:00:00Z")
    assert "source_environment_has_same_bundle" not in checks(report)
    assert report.status == "passed"


def test_a_bundle_that_does_not_verify_stops_the_evaluation() -> None:
    """BUNDLE_VERIFY_OK is the first check, and nothing is judged past it."""
    report = evaluate_promotion(inputs(bundle_ok=False, bundle_detail="Checksum mismatch"), AT)
    assert checks(report) == {"bundle_verify_ok": False}
    assert report.status == "failed" and report.gate_decision is None


def not_ready_for(env_entry: str) -> dict[str, Any]:
    doc = readiness_report()
    key = "ready" if env_entry == "dev_to_staging" else "automated_ready"
    doc["environments"][env_entry][key] = False
    return doc


@pytest.mark.parametrize(
    ("env", "source", "changes", "failed"),
    [
        pytest.param("staging", "preview", {}, "environment_transition_allowed", id="staging-from-preview"),
        pytest.param("prod", "dev", {}, "environment_transition_allowed", id="prod-from-dev"),
        pytest.param(
            "staging",
            "dev",
            {"gate": CONDITIONAL},
            "release_gate_allows_promotion",
            id="conditional-go-is-not-enough-for-staging",
        ),
        pytest.param(
            "staging",
            "dev",
            {"gate": {"contract": "x"}},
            "release_gate_contract_valid",
            id="foreign-gate",
        ),
        pytest.param(
            "staging",
            "dev",
            {"gate": {"status": "failed"}},
            "release_gate_contract_valid",
            id="inconsistent-gate",
        ),
        pytest.param(
            "staging",
            "dev",
            {"readiness": {"contract": "policy_promotion_readiness_v1"}},
            "promotion_readiness_contract_valid",
            id="readiness-incomplete",
        ),
        pytest.param(
            "staging",
            "dev",
            {"readiness": not_ready_for("dev_to_staging")},
            "promotion_readiness_allows_target_env",
            id="dev-to-staging-not-ready",
        ),
        pytest.param(
            "prod",
            "staging",
            {"readiness": not_ready_for("staging_to_prod")},
            "promotion_readiness_allows_target_env",
            id="staging-to-prod-not-automated",
        ),
        pytest.param(
            "staging",
            "dev",
            {"source_bundle_id": "other-20260101-000000-00000000"},
            "source_environment_has_same_bundle",
            id="source-runs-another-bundle",
        ),
        pytest.param(
            "dev",
            "preview",
            {"gate": NO_GO},
            "release_gate_allows_promotion",
            id="no-go-even-for-dev",
        ),
    ],
)
def test_each_check_fails_on_its_own(env: str, source: str, changes: dict[str, Any], failed: str) -> None:
    report = evaluate_promotion(inputs(env, source, **changes), AT)
    assert next(c for c, ok in checks(report).items() if not ok) == failed
    assert report.status == "failed"


def test_conditional_go_is_enough_for_dev() -> None:
    report = evaluate_promotion(inputs("dev", "preview", gate=CONDITIONAL), AT)
    assert report.status == "passed"


def test_readiness_of_other_targets_needs_only_contract_and_status() -> None:
    report = evaluate_promotion(inputs("dev", "preview", readiness=not_ready_for("dev_to_staging")), AT)
    assert checks(report)["promotion_readiness_allows_target_env"] is True


def test_missing_evidence_names_its_source() -> None:
    report = evaluate_promotion(inputs(gate=None), AT)
    detail = next(c.detail for c in report.checks if c.check_id == "release_gate_contract_valid")
    assert "error=missing" in detail and "source=bundle" in detail


def test_source_run_metadata_is_embedded() -> None:
    run = SourceRun(source_run_id=7, source_smoke_run_id=8, source_head_sha="b" * 40)
    report = evaluate_promotion(inputs(source_run=run), AT)
    assert report.source_run == run
    assert report.smoke_run is not None and (
        report.smoke_run.run_id,
        report.smoke_run.head_sha,
    ) == (8, "b" * 40)


def test_the_chain_follows_registry_order() -> None:
    config = RegistryConfig(name="r")
    assert promotion_chain(config, "prod") == [
        ("preview", None),
        ("dev", "preview"),
        ("staging", "dev"),
        ("prod", "staging"),
    ]
    assert promotion_chain(config, "dev") == [("preview", None), ("dev", "preview")]
    with pytest.raises(NotFoundError):
        promotion_chain(config, "qa")
