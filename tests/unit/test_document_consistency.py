"""Documents carry no internal contradictions (issue 9, item 3): each contract's model refuses a
document whose parts disagree — a gate report whose decision does not follow from its checks, a
readiness report whose summary or verdict contradicts itself, a promotion report that reports a
check twice, a bundle manifest whose package list is not its payload. The validators change no
sealed JSON Schema (they are pydantic checks beyond the structure)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from gitdocket.core.documents import BundleManifest, PromotionReport
from gitdocket.core.readiness import GateReport, PromotionReadiness, gate_decision
from gitdocket.demo.releases import readiness_report
from gitdocket.verify.contracts import schema_bytes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name / "example.json").read_text())
    return data


def _gate(fail: str | None = None, decision: str | None = None, **inputs: object) -> dict[str, Any]:
    passed = fail is None
    checks = [
        {"check_id": "smoke", "passed": passed, "severity": fail or "high", "detail": "x"},
        {"check_id": "contracts", "passed": True, "severity": "high", "detail": "x"},
    ]
    derived = {"high": "no-go", "medium": "conditional-go", None: "go"}[fail]
    chosen = decision or derived
    return {
        "contract": "release_readiness_gate_v1",
        "generated_at": "2026-01-01T00:00:00Z",
        "status": "passed" if chosen == "go" else "failed",
        "decision": chosen,
        "summary": {
            "total": 2,
            "passed": 2 - (not passed),
            "failed": int(not passed),
            "high_failures": int(fail == "high"),
            "medium_failures": int(fail == "medium"),
        },
        "checks": checks,
        "inputs": dict(inputs),
    }


def _refused(model: type[BaseModel], data: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("fail", "decision", "inputs", "ok"),
    [
        pytest.param(None, None, {}, True, id="go-without-failures"),
        pytest.param("medium", None, {}, True, id="conditional-go-with-a-medium-failure"),
        pytest.param("high", None, {}, True, id="no-go-with-a-high-failure"),
        pytest.param("medium", "no-go", {}, True, id="no-go-over-medium-failures-of-another-tool"),
        pytest.param(None, "conditional-go", {}, False, id="conditional-go-without-failures"),
        pytest.param(None, "no-go", {}, False, id="no-go-without-failures"),
        pytest.param("high", "conditional-go", {}, False, id="conditional-go-over-a-high-failure"),
        pytest.param(
            "medium",
            "no-go",
            {"max_high_failures": 0, "max_medium_failures": 2},
            False,
            id="no-go-within-its-own-recorded-limits",
        ),
        pytest.param(
            "medium",
            "conditional-go",
            {"max_high_failures": 0, "max_medium_failures": 2},
            True,
            id="conditional-go-within-its-own-recorded-limits",
        ),
    ],
)
def test_a_gate_decision_follows_from_its_checks(
    fail: str | None, decision: str | None, inputs: dict[str, object], ok: bool
) -> None:
    data = _gate(fail, decision, **inputs)
    if ok:
        GateReport.model_validate(data)
    else:
        _refused(GateReport, data, "does not follow from its checks")


@pytest.mark.parametrize(
    ("high", "medium", "expected"),
    [
        pytest.param(0, 0, "go", id="none"),
        pytest.param(0, 1, "conditional-go", id="medium"),
        pytest.param(0, 3, "no-go", id="too-many-medium"),
        pytest.param(1, 0, "no-go", id="high"),
    ],
)
def test_one_decision_rule(high: int, medium: int, expected: str) -> None:
    assert gate_decision(high, medium, 0, 2) == expected


def _readiness(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = readiness_report()
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("change", "words"),
    [
        pytest.param(
            lambda d: d["summary"].update(automated_checks_total=7),
            "automated_checks_total is not passed + failed",
            id="summary-does-not-add-up",
        ),
        pytest.param(
            lambda d: d["summary"].update(automated_checks_passed=5, automated_checks_failed=1),
            "status passed with failed automated checks",
            id="passed-with-failures",
        ),
        pytest.param(
            lambda d: d.update(status="failed"),
            "marked ready although the status did not pass",
            id="ready-although-failed",
        ),
    ],
)
def test_a_readiness_report_does_not_contradict_itself(change: Callable[[dict[str, Any]], None], words: str) -> None:
    PromotionReadiness.model_validate(readiness_report())
    PromotionReadiness.model_validate(readiness_report(ready=False))
    _refused(PromotionReadiness, _readiness(change), words)


def test_a_promotion_report_reports_each_check_once() -> None:
    report = _example("release_bundle_promotion.v1")
    PromotionReport.model_validate(report)
    twice = copy.deepcopy(report)
    twice["checks"].append(twice["checks"][0])
    _refused(PromotionReport, twice, "a check is reported twice")


def test_a_manifest_lists_exactly_the_packages_it_carries() -> None:
    manifest = _example("release_bundle.v1")
    BundleManifest.model_validate(manifest)
    extra = copy.deepcopy(manifest)
    extra["payload"]["packages"].append({**extra["payload"]["packages"][0], "version": "9.9.9"})
    _refused(BundleManifest, extra, "payload.packages does not list exactly")
    smuggled = copy.deepcopy(manifest)
    smuggled["payload"]["registry_checksums"]["other/1.0.0/method/instructions.md"] = "0" * 64
    smuggled["summary"]["registry_files"] += 1
    smuggled["summary"]["included_files"] += 1
    _refused(BundleManifest, smuggled, "payload.packages does not list exactly")


@pytest.mark.parametrize(
    "contract",
    ["release_readiness_gate_v1", "policy_promotion_readiness_v1", "release_bundle_promotion_v1", "release_bundle_v1"],
)
def test_the_sealed_schemas_did_not_move(contract: str) -> None:
    """The checks live in the models; the committed (sealed) schemas are what they generate."""
    folder = contract.rsplit("_v", 1)[0] + ".v" + contract.rsplit("_v", 1)[1]
    assert schema_bytes(contract) == (EXAMPLES.parent / "contracts" / folder / "schema.json").read_bytes()
