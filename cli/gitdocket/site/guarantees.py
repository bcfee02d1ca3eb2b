"""Every guarantee with its status computed from evidence, never typed by hand.

A guarantee is a declared invariant (``lifecycles.INVARIANTS``: each lifecycle's and the
cross-scope ones). Its status in *this registry* is ``violated`` when ``gitdocket verify``
reports a finding citing it, else ``held``. Its status in *the tests* comes from the JUnit
reports given (``site.evidence`` says how a test case names a rule): ``failing`` when a test case
naming it failed, ``tested`` when at least one passed and none failed, ``untested`` when none
names it (or every one was skipped), ``no-evidence`` when no report was given. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gitdocket.errors import Invariant
from gitdocket.lifecycles import INVARIANTS, LIFECYCLES
from gitdocket.lifecycles.invariants import CROSS_SCOPE
from gitdocket.site.evidence import TestCase, TestRun
from gitdocket.verify.findings import Finding

__all__ = ["Guarantee", "guarantees", "home_of"]


@dataclass(frozen=True)
class Guarantee:
    rule: Invariant
    home: str
    """The lifecycle that declares it, or ``cross-scope``."""
    findings: tuple[Finding, ...]
    cases: tuple[TestCase, ...]
    evidence: bool
    """Whether any JUnit report was given."""

    @property
    def held(self) -> str:
        return "violated" if self.findings else "held"

    @property
    def tested(self) -> str:
        if not self.evidence:
            return "no-evidence"
        if any(c.outcome == "failed" for c in self.cases):
            return "failing"
        if any(c.outcome == "passed" for c in self.cases):
            return "tested"
        return "untested"

    @property
    def red(self) -> bool:
        return self.held == "violated" or self.tested == "failing"


def home_of() -> dict[str, str]:
    """{rule name: the lifecycle that declares it, or ``cross-scope``}."""
    homes = {rule.name: "cross-scope" for rule in CROSS_SCOPE}
    for kind, machine in LIFECYCLES.items():
        homes.update({rule.name: kind for rule in machine.invariants})
    return homes


def guarantees(findings: Sequence[Finding], runs: Sequence[TestRun]) -> list[Guarantee]:
    """One guarantee per declared invariant, in declaration order."""
    homes = home_of()
    cases = [case for run in runs for case in run.cases]
    return [
        Guarantee(
            rule,
            homes[name],
            tuple(f for f in findings if f.rule == name),
            tuple(c for c in cases if name in c.rules),
            bool(runs),
        )
        for name, rule in INVARIANTS.items()
    ]
