"""Test evidence: a JUnit XML report (what ``pytest --junitxml`` writes) read into test cases,
each with the rules it names.

The mapping from a test case to the invariants it is evidence for is explicit, and the
guarantees page states it:

1. every declared invariant name that appears as a whole upper-case word in the test case's
   ``name`` (pytest's test id, parameters included: ``test_teeth[FROZEN_VERSION_IMMUTABLE]``);
2. every name in a ``<property name="invariant" value="NAME"/>`` of the test case (gitdocket's
   own suite writes one for each rule a test's parameters or docstring name);
3. none at all when the test case has ``<property name="evidence" value="none"/>``: tests about
   how rules are declared, which prove nothing about whether a rule holds.

A failure or an error is ``failed``, a skip ``skipped``, anything else ``passed``. Reports with a
DTD are refused (no entity tricks); a file that is not a JUnit report is an ``InputError`` naming
the file. Pure: the bytes arrive as an argument.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Literal

from gitdocket.errors import InputError

__all__ = ["Outcome", "TestCase", "TestRun", "parse_junit", "rules_named"]

Outcome = Literal["passed", "failed", "skipped"]
_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![A-Za-z0-9_])")
_HINT = "pass the JUnit XML report a test run wrote (e.g. `pytest --junitxml report.xml`)"


@dataclass(frozen=True)
class TestCase:
    ident: str
    outcome: Outcome
    message: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class TestRun:
    source: str
    cases: tuple[TestCase, ...]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for case in self.cases if case.outcome == outcome)


def rules_named(value: str, known: Collection[str]) -> list[str]:
    """The declared rule names ``value`` mentions as whole words, in order, once each."""
    found: list[str] = []
    for word in _WORD.findall(value):
        if word in known and word not in found:
            found.append(word)
    return found


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _cases(root: ET.Element) -> Iterator[ET.Element]:
    for element in root.iter():
        if _local(element.tag) == "testcase":
            yield element


def _properties(case: ET.Element) -> list[tuple[str, str]]:
    return [
        (prop.get("name", ""), prop.get("value", "") or (prop.text or ""))
        for props in case
        if _local(props.tag) == "properties"
        for prop in props
        if _local(prop.tag) == "property"
    ]


def _case(element: ET.Element, known: Collection[str]) -> TestCase:
    name = element.get("name", "")
    classname = element.get("classname", "")
    ident = f"{classname}::{name}" if classname else name
    outcome: Outcome = "passed"
    message = ""
    for child in element:
        tag = _local(child.tag)
        if tag in ("failure", "error"):
            outcome = "failed"
            lines = (child.get("message") or child.text or tag).strip().splitlines()
            message = lines[0] if lines else tag
            break
        if tag == "skipped":
            outcome = "skipped"
            message = (child.get("message") or "").strip()
    properties = _properties(element)
    if ("evidence", "none") in properties:
        return TestCase(ident, outcome, message, ())
    rules = rules_named(name, known)
    for key, value in properties:
        if key == "invariant":
            rules.extend(r for r in rules_named(value, known) if r not in rules)
    return TestCase(ident, outcome, message, tuple(rules))


def parse_junit(raw: bytes, where: str, known: Collection[str]) -> TestRun:
    """The test cases of the JUnit report ``raw`` (the file ``where``), each with the rules of
    ``known`` it names."""
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise InputError(f"{where}: a JUnit report with a DTD is not accepted", _HINT)
    try:
        root = ET.fromstring(raw)  # noqa: S314 - no DTD (checked above), so no entity expansion
    except ET.ParseError as exc:
        raise InputError(f"{where}: not a JUnit XML report (XML error: {exc})", _HINT) from None
    if _local(root.tag) not in ("testsuites", "testsuite"):
        raise InputError(f"{where}: not a JUnit XML report (root element <{_local(root.tag)}>)", _HINT)
    return TestRun(where, tuple(_case(element, known) for element in _cases(root)))
