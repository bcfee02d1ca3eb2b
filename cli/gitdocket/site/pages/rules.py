"""Guarantees (every invariant, its status in this registry and in the tests), the lifecycles
(a diagram and the table of each) and the badge legend. Nothing here is typed by hand: rules
come from ``lifecycles.INVARIANTS``, rows from ``TRANSITIONS``, badges from ``BADGES``. Pure."""

from __future__ import annotations

from collections import Counter
from typing import Any, get_args

from gitdocket.lifecycles import LIFECYCLES
from gitdocket.lifecycles.machine import Machine
from gitdocket.site.badges import Domain, badge, legend_rows
from gitdocket.site.diagrams import lifecycle_figure, words
from gitdocket.site.guarantees import Guarantee, guarantees
from gitdocket.site.markup import anchor, code, details, heading, identifier, link, table, text
from gitdocket.site.pages.common import Page, rule_link
from gitdocket.site.view import View

__all__ = ["pages"]

MAPPING = """\
A test case is evidence for a rule when (1) its name — the test id, parameters included — contains the
rule's name as a whole upper-case word, or (2) it carries a JUnit property `invariant` naming the rule
(gitdocket's own suite writes one for every rule a test's parameters or docstring name), unless (3) it
carries the property `evidence` = `none` (tests about how rules are declared). A rule is **failing** when
one of its test cases failed, **tested** when one passed and none failed, **untested** otherwise."""


def _tests_cell(g: Guarantee) -> str:
    counts = Counter(c.outcome for c in g.cases)
    detail = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    return badge("tested", g.tested) + (f" {text(detail)}" if detail else "")


def _row(source: str, g: Guarantee) -> list[str]:
    home = text(g.home) if g.home == "cross-scope" else link(text(g.home), f"lifecycles/{g.home}.md")
    findings = ", ".join(link(code(f.code), "verification.md") + " " + code(f.path) for f in g.findings[:3]) + (
        f" and {len(g.findings) - 3} more" if len(g.findings) > 3 else ""
    )
    return [
        f'<span id="{anchor(g.rule.name)}"></span>{identifier(g.rule.name)}',
        badge("kind", g.rule.kind),
        home,
        text(g.rule.text),
        badge("held", g.held) + (f" {findings}" if findings else ""),
        _tests_cell(g),
    ]


def _failures(found: list[Guarantee]) -> str:
    failing = [g for g in found if g.tested == "failing"]
    if not failing:
        return ""
    lines = [
        f"- {code(g.rule.name)}: "
        + "; ".join(f"{code(c.ident)} {text(c.message)}" for c in g.cases if c.outcome == "failed")
        for g in failing
    ]
    return "## Failing tests\n\n" + "\n".join(lines)


def _guarantees(view: View) -> Page:
    source = "guarantees.md"
    found = guarantees(view.site.findings, view.site.runs)
    held = Counter(g.held for g in found)
    tested = Counter(g.tested for g in found)
    runs = view.site.runs
    evidence = (
        "Test evidence: " + "; ".join(f"{code(r.source)} ({len(r.cases)} test cases)" for r in runs)
        if runs
        else "No test evidence was given (`gitdocket site build --evidence report.xml` adds it)."
    )
    unruled = [f for f in view.site.findings if not f.rule]
    parts = [
        "# Guarantees",
        f"{len(found)} rules, each declared once in the code and cited by the refusals and findings that enforce it. "
        "Their status is computed, never typed: **this registry** from `gitdocket verify` of the verified commit, "
        "**tests** from the JUnit evidence the site was built with.",
        f"This registry: {badge('held', 'held')} {held['held']} · {badge('held', 'violated')} {held['violated']}. "
        f"Tests: " + " · ".join(f"{badge('tested', k)} {n}" for k, n in sorted(tested.items())),
        evidence,
        details("How test cases are mapped to rules", MAPPING, "info"),
        table(["rule", "kind", "declared in", "guarantee", "this registry", "tests"], [_row(source, g) for g in found]),
    ]
    failures = _failures(found)
    if failures:
        parts.append(failures)
    if unruled:
        parts.append("## Findings that cite no rule")
        parts.append(
            table(
                ["code", "path", "what"],
                [[link(code(f.code), "verification.md"), code(f.path), text(f.message)] for f in unruled],
            )
        )
    return Page(source, "Guarantees", "\n\n".join(parts), wide=True)


def _lifecycle(view: View, kind: str, machine: Machine[Any]) -> Page:
    source = f"lifecycles/{kind}.md"
    rows = [
        [
            text(words(row)),
            text(", ".join(row.sources)),
            text(row.target or "(same phase)"),
            code(row.role or "bootstrap"),
            rule_link(source, row.invariant.name),
            text(row.hint),
        ]
        for row in machine.transitions
    ]
    found = {g.rule.name: g for g in guarantees(view.site.findings, view.site.runs)}
    rules = [
        [
            rule_link(source, r.name),
            badge("kind", r.kind),
            text(r.text),
            badge("held", found[r.name].held),
            badge("tested", found[r.name].tested),
        ]
        for r in machine.invariants
    ]
    body = "\n\n".join(
        [
            f"# The {text(kind)} lifecycle",
            lifecycle_figure(machine),
            "## Transitions",
            table(["command", "allowed from", "leads to", "signed by", "refusal cites", "what to do instead"], rows),
            "## Rules it declares",
            table(["rule", "kind", "guarantee", "this registry", "tests"], rules),
        ]
    )
    return Page(source, kind, body, wide=True)


def _lifecycles(view: View) -> Page:
    del view
    source = "lifecycles/index.md"
    rows = [
        [
            link(text(kind), f"{kind}.md"),
            str(len(machine.phases)),
            str(len(machine.transitions)),
            str(len(machine.invariants)),
        ]
        for kind, machine in LIFECYCLES.items()
    ]
    body = "\n\n".join(
        [
            "# Lifecycles",
            "Every scope of the registry follows one lifecycle: a table of transition rows that both the writers "
            "and `gitdocket verify` run. The diagrams are drawn from those tables when the site is built.",
            table(["lifecycle", "phases", "commands", "rules"], rows),
        ]
    )
    return Page(source, "All lifecycles", body, wide=True)


def _badges(view: View) -> Page:
    del view
    parts = ["# Badges", "Every badge on this site comes from one table; each state has one label, icon and meaning."]
    for domain in get_args(Domain):
        parts.append(heading(2, text(domain), "badges-" + anchor(domain)))
        parts.append(table(["badge", "meaning"], [list(r) for r in legend_rows(domain)]))
    return Page("badges.md", "Badges", "\n\n".join(parts), wide=True)


def pages(view: View) -> list[Page]:
    return [
        _guarantees(view),
        _lifecycles(view),
        *(_lifecycle(view, kind, machine) for kind, machine in LIFECYCLES.items()),
        _badges(view),
    ]
