"""The gate as configuration: the default preset reads what the installed workflows produce, a
registry adds checks and profiles of its own, and JUnit XML is read as counts."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gitdocket.core.documents import Expect, GateConfig, RegistryConfig
from gitdocket.errors import InputError, NotFoundError
from gitdocket.lifecycles.gate import Evidence, evaluate_gate
from gitdocket.lifecycles.gate_presets import DEFAULT, gate_rules

NOW = "2026-01-01T00:00:00Z"

JUNIT_OK = b'<testsuites><testsuite tests="3" failures="0" errors="0" skipped="1"/></testsuites>'
JUNIT_FAILED = b'<testsuite tests="3" failures="1" errors="0"/>'


def evidence(**files: Any) -> dict[str, Evidence]:
    """The default preset's evidence, all good, with ``files`` changed (None: absent)."""
    docs: dict[str, Any] = {
        "verify_report.json": b'{"ok": true, "mode": "pr", "commit": null, "findings": []}',
        "contracts_report.json": b'{"ok": true, "problems": [], "sealed": []}',
        "bundle_verify.json": b'{"ok": true, "errors": [], "warnings": []}',
        "junit.xml": JUNIT_OK,
    }
    for name, raw in files.items():
        docs[name.replace("__", ".")] = raw
    return {name: Evidence.parse(name, raw, "evidence") for name, raw in docs.items() if raw is not None}


def failing(report: Any) -> dict[str, str]:
    return {c.check_id: c.severity for c in report.checks if not c.passed}


def test_the_default_preset_passes_on_what_the_workflows_produce() -> None:
    report = evaluate_gate(evidence(), DEFAULT, "promotion", NOW)
    assert (report.decision, report.summary.total, report.summary.failed) == ("go", 4, 0)
    assert report.inputs["gate_preset"] == "default"


@pytest.mark.parametrize(
    ("files", "failed"),
    [
        pytest.param({"verify_report__json": b'{"ok": false}'}, {"verify_report_ok": "high"}, id="verify-failed"),
        pytest.param({"verify_report__json": None}, {"verify_report_present": "high"}, id="verify-missing"),
        pytest.param(
            {"contracts_report__json": b"{oops"}, {"contracts_report_present": "high"}, id="contracts-bad-json"
        ),
        pytest.param(
            {"bundle_verify__json": b'{"ok": "true"}'}, {"bundle_verify_report_ok": "high"}, id="bundle-ok-a-string"
        ),
        pytest.param({"junit__xml": JUNIT_FAILED}, {"junit_no_failures": "high"}, id="junit-failures"),
        pytest.param({"junit__xml": b"<html/>"}, {"junit_no_failures": "high"}, id="junit-not-junit"),
    ],
)
def test_a_failing_piece_of_evidence_is_no_go(files: dict[str, Any], failed: dict[str, str]) -> None:
    report = evaluate_gate(evidence(**files), DEFAULT, "promotion", NOW)
    assert (failing(report), report.decision) == (failed, "no-go")


def test_junit_results_are_skipped_when_the_repository_has_no_tests() -> None:
    report = evaluate_gate(evidence(junit__xml=None), DEFAULT, "strict", NOW)
    assert report.decision == "go"
    assert "junit_no_failures" not in {c.check_id for c in report.checks}


@pytest.mark.parametrize(
    ("raw", "result"),
    [
        pytest.param(JUNIT_OK, {"tests": 3, "failures": 0, "errors": 0, "skipped": 1}, id="testsuites"),
        pytest.param(
            b'<testsuites><testsuite tests="2" failures="1"/><testsuite tests="5" errors="2"/></testsuites>',
            {"tests": 7, "failures": 1, "errors": 2, "skipped": 0},
            id="summed",
        ),
        pytest.param(b'<!DOCTYPE x [<!ENTITY a "b">]><testsuite tests="1"/>', "invalid_xml", id="doctype-refused"),
        pytest.param(b'<testsuite tests="many"/>', "invalid_shape", id="count-not-a-number"),
        pytest.param(b"<testsuite", "invalid_xml", id="truncated"),
    ],
)
def test_junit_is_read_as_counts(raw: bytes, result: Any) -> None:
    doc = Evidence.parse("junit.xml", raw, "here")
    if isinstance(result, dict):
        assert doc.data == result
    else:
        assert doc.data is None and (doc.error or "").startswith(result)


def config(**gate: Any) -> RegistryConfig:
    return RegistryConfig.model_validate({"name": "r", "gate": gate})


def test_a_registry_adds_its_own_checks_and_profiles() -> None:
    rules = gate_rules(
        config(
            checks=[
                {
                    "id": "canary_error_rate",
                    "file": "canary.json",
                    "expect": {"error_rate.ok": {"equals": True}},
                    "severity": "medium",
                }
            ],
            profiles={"lenient": {"max_medium_failures": 1}},
        ).gate
    )
    assert rules.files()[-1] == "canary.json"
    canary = Evidence.parse("canary.json", b'{"error_rate": {"ok": false}}', "ci")
    report = evaluate_gate({**evidence(), "canary.json": canary}, rules, "lenient", NOW)
    assert (failing(report), report.decision) == ({"canary_error_rate": "medium"}, "conditional-go")
    assert evaluate_gate({**evidence(), "canary.json": canary}, rules, "strict", NOW).decision == "no-go"


def test_preset_none_starts_from_nothing() -> None:
    rules = gate_rules(config(preset="none", profiles={"only": {}}).gate)
    assert (rules.checks, list(rules.profiles)) == ((), ["only"])
    assert evaluate_gate({}, rules, "only", NOW).decision == "go"


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match="unknown gate profile 'fast'") as caught:
        DEFAULT.profile("fast")
    assert "promotion, strict, transitional" in (caught.value.hint or "")


def test_a_check_defined_twice_is_refused() -> None:
    twice = {"id": "verify_report_ok", "file": "x.json", "expect": {"ok": {"equals": True}}}
    with pytest.raises(InputError, match=r"registry\.yaml: gate check 'verify_report_ok' is defined twice"):
        gate_rules(config(checks=[twice]).gate)


@pytest.mark.parametrize(
    "expect",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"equals": 1, "at_least": 1}, id="two"),
    ],
)
def test_an_expectation_names_exactly_one_condition(expect: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        Expect.model_validate(expect)


def test_only_agent_skills_asks_promotion_readiness() -> None:
    assert not gate_rules(GateConfig()).promotion_readiness
    assert gate_rules(GateConfig(preset="agent-skills")).promotion_readiness
    assert gate_rules(GateConfig(preset="default", promotion_readiness=True)).promotion_readiness
