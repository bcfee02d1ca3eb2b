"""JUnit evidence: how test cases are read and mapped to rules, and how guarantees turn red."""

from __future__ import annotations

import pytest

from gitdocket.errors import InputError
from gitdocket.lifecycles import INVARIANTS
from gitdocket.site.evidence import parse_junit
from gitdocket.site.guarantees import guarantees
from gitdocket.verify.findings import Finding

REPORT = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="5">
  <testcase classname="tests.unit.test_version" name="test_teeth[FROZEN_VERSION_IMMUTABLE]"/>
  <testcase classname="tests.unit.test_version" name="test_retire[RETIREMENT_BLOCKS_FUTURE_PACKAGING]">
    <failure message="assert 1 == 2">trace</failure></testcase>
  <testcase classname="tests.unit.test_env" name="test_rollback[rollback-nowhere]">
    <properties><property name="invariant" value="ROLLBACK_REQUIRES_PREVIOUS_RELEASE"/></properties></testcase>
  <testcase classname="tests.unit.test_invariants" name="test_words[FROZEN_VERSION_IMMUTABLE]">
    <properties><property name="evidence" value="none"/></properties></testcase>
  <testcase classname="tests.unit.test_env" name="test_gate[GATE_REQUIRED]"><skipped message="later"/></testcase>
  <testcase classname="x" name="test_mentions[NOT_A_RULE_NAME]"/>
</testsuite></testsuites>"""


def test_cases_carry_outcomes_and_the_rules_they_name() -> None:
    run = parse_junit(REPORT, "report.xml", INVARIANTS)
    got = [(c.ident.split("::")[1], c.outcome, c.rules) for c in run.cases]
    assert got == [
        ("test_teeth[FROZEN_VERSION_IMMUTABLE]", "passed", ("FROZEN_VERSION_IMMUTABLE",)),
        ("test_retire[RETIREMENT_BLOCKS_FUTURE_PACKAGING]", "failed", ("RETIREMENT_BLOCKS_FUTURE_PACKAGING",)),
        ("test_rollback[rollback-nowhere]", "passed", ("ROLLBACK_REQUIRES_PREVIOUS_RELEASE",)),
        ("test_words[FROZEN_VERSION_IMMUTABLE]", "passed", ()),
        ("test_gate[GATE_REQUIRED]", "skipped", ("GATE_REQUIRED",)),
        ("test_mentions[NOT_A_RULE_NAME]", "passed", ()),
    ]
    assert run.cases[1].message == "assert 1 == 2"


def test_a_failing_teeth_test_turns_its_guarantee_red() -> None:
    run = parse_junit(REPORT, "report.xml", INVARIANTS)
    found = {g.rule.name: g for g in guarantees([], [run])}
    assert found["RETIREMENT_BLOCKS_FUTURE_PACKAGING"].tested == "failing"
    assert found["RETIREMENT_BLOCKS_FUTURE_PACKAGING"].red
    assert found["FROZEN_VERSION_IMMUTABLE"].tested == "tested" and not found["FROZEN_VERSION_IMMUTABLE"].red
    assert found["GATE_REQUIRED"].tested == "untested"  # skipped only
    assert found["POINTER_CHAIN"].tested == "untested"
    assert {g.tested for g in guarantees([], [])} == {"no-evidence"}


def test_a_finding_citing_a_rule_makes_it_violated() -> None:
    rule = INVARIANTS["FROZEN_VERSION_IMMUTABLE"]
    finding = Finding("registry/versions/a/1.0.0/history.jsonl:2", "REPLAY_ILLEGAL", "edited", "version a/1.0.0", rule)
    found = {g.rule.name: g for g in guarantees([finding], [])}
    assert found["FROZEN_VERSION_IMMUTABLE"].held == "violated" and found["FROZEN_VERSION_IMMUTABLE"].red
    assert found["POINTER_CHAIN"].held == "held"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        pytest.param(b"", "XML error", id="empty"),
        pytest.param(b"<testsuites><testcase>", "XML error", id="truncated"),
        pytest.param(b"<html><body/></html>", "root element <html>", id="not-junit"),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]><testsuites>&a;</testsuites>',
            "with a DTD is not accepted",
            id="entity-expansion",
        ),
    ],
)
def test_a_malformed_report_is_one_line_naming_the_file(raw: bytes, why: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_junit(raw, "reports/junit.xml", INVARIANTS)
    assert caught.value.message.startswith("reports/junit.xml: ") and why in caught.value.message
    assert "\n" not in caught.value.message and caught.value.hint
