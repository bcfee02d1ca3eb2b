"""The home page (what is deployed where, counts, whether the registry verified and at which
commit) and the verification page (every finding). Pure."""

from __future__ import annotations

from collections import Counter

from gitdocket.core.fields import format_time
from gitdocket.site.badges import badge
from gitdocket.site.markup import code, link, table, text
from gitdocket.site.pages.common import Page, bundle_link, environment_link, rel, rule_link, short
from gitdocket.site.view import View
from gitdocket.verify.findings import CODES

__all__ = ["environment_rows", "environment_state", "pages"]


def environment_state(view: View, name: str) -> str:
    record = next((r for r in view.environments if r.scope.keys[0] == name), None)
    if record is None or record.state.phase == "empty":
        return "empty"
    return "rolled-back" if record.state.rollback else "active"


def environment_rows(view: View, source: str) -> list[list[str]]:
    rows = []
    for record in view.environments:
        state = record.state
        name = record.scope.keys[0]
        current = bundle_link(view, source, state.bundle_id) if state.bundle_id else "—"
        why = text(state.reason) if state.rollback and state.reason else ""
        rows.append(
            [
                environment_link(source, name),
                badge("environment", environment_state(view, name)),
                current,
                text(state.promoted_at or "—"),
                text(state.promoted_by or "—"),
                badge("decision", state.gate_decision) if state.bundle_id else "—",
                str(state.sequence),
                why,
            ]
        )
    return rows


ENVIRONMENT_HEADERS = ["environment", "state", "current release", "since", "by", "gate", "#", "rollback reason"]


def _count(label: str, value: int, detail: str = "") -> str:
    return f'<div class="docket-count"><b>{value}</b>{text(label)}{" · " + detail if detail else ""}</div>'


def _counts(view: View) -> str:
    versions = [r for records in view.versions.values() for r in records]
    phases = Counter(r.state.phase for r in versions)
    published = sum(1 for r in view.packages.values() if r.state.phase == "published")
    placements = sum(len(p) for p in view.placements.values())
    parts = [
        _count("archetypes", len(view.archetypes)),
        _count("versions", len(versions), text(", ".join(f"{n} {p}" for p, n in sorted(phases.items())))),
        _count("packages", len(view.packages), text(f"{published} published")),
        _count("placements", placements, text(f"in {len(view.placements)} project(s)")),
        _count("bundles", len(view.bundles)),
        _count("environments", len(view.environments)),
    ]
    return '<div class="docket-counts">' + "".join(parts) + "</div>"


def _home(view: View) -> Page:
    site = view.site
    source = "index.md"
    status = badge("verify", "failed" if site.findings else "verified")
    commit = code(site.commit) if site.commit else "an empty repository"
    when = f" (committed {text(format_time(site.committed_at))})" if site.committed_at else ""
    outcome = (
        f"{len(site.findings)} finding(s): see {link('Verification', rel(source, 'verification.md'))}"
        if site.findings
        else "no finding"
    )
    body = "\n\n".join(
        [
            f"{status} This site shows commit {commit}{when} of the registry, as `gitdocket verify` "
            f"judged it: {outcome}.",
            "## What is deployed where",
            table(ENVIRONMENT_HEADERS, environment_rows(view, source)),
            _counts(view),
            "## Read on",
            "\n".join(
                [
                    f"- {link('Environments', 'environments/index.md')}: each environment's promotion timeline.",
                    f"- {link('Archetypes', 'archetypes/index.md')}: owners, versions and their frozen snapshots.",
                    f"- {link('Packages', 'packages.md')} and {link('Projects', 'projects/index.md')}: "
                    "who installed what, and who may run it.",
                    f"- {link('Bundles', 'bundles/index.md')} and the {link('release gate', 'gate.md')}.",
                    f"- {link('Guarantees', 'guarantees.md')}: every invariant, with the evidence behind it.",
                ]
            ),
        ]
    )
    return Page(source, "Home", f"# {text(view.config.name)}\n\n{body}", wide=True)


def _verification(view: View) -> Page:
    source = "verification.md"
    site = view.site
    rows = [
        [
            code(f.code),
            code(f.path),
            text(f.scope),
            rule_link(source, f.rule) if f.rule else "—",
            text(f.message),
            text(f.hint),
        ]
        for f in site.findings
    ]
    status = (
        f"{badge('verify', 'failed')} `gitdocket verify` reports {len(site.findings)} finding(s) at commit "
        f"{short(site.commit)}."
        if site.findings
        else f"{badge('verify', 'verified')} `gitdocket verify` found nothing wrong at commit {short(site.commit)}."
    )
    codes = table(["code", "meaning"], [[code(c), text(m)] for c, m in CODES.items()])
    body = "\n\n".join(
        [
            "# Verification",
            status,
            "Every page is built from this same verification: the site is never built silently from a "
            "registry that fails it.",
            "## Findings",
            table(["code", "path", "scope", "rule", "what", "what to do"], rows),
            "## Finding codes",
            codes,
        ]
    )
    return Page(source, "Verification", body, wide=True)


def pages(view: View) -> list[Page]:
    return [_home(view), _verification(view)]
