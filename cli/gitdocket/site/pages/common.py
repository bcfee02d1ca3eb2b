"""What every page shares: the ``Page`` value, relative links between pages, the verification
banner, and small formatters (short ids, event words). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gitdocket.core.log import Event
from gitdocket.lifecycles import LIFECYCLES
from gitdocket.site.badges import badge
from gitdocket.site.diagrams import words
from gitdocket.site.markup import anchor, attr, code, identifier, link, table, text
from gitdocket.site.view import View
from gitdocket.verify.findings import Finding

__all__ = [
    "BANNER_FINDINGS",
    "Page",
    "archetype_link",
    "bundle_link",
    "environment_link",
    "event_words",
    "history_table",
    "package_anchor",
    "rel",
    "rule_link",
    "short",
    "version_anchor",
    "version_link",
]

BANNER_FINDINGS = 10
"""How many findings the banner on every page lists (the verification page lists them all)."""


@dataclass(frozen=True)
class Page:
    path: str
    """Relative to the docs folder: ``archetypes/support-triage.md``."""
    title: str
    """Plain text (the navigation escapes it)."""
    body: str
    """Markdown after the banner."""
    wide: bool = False
    """Hide the table of contents: the page is mostly wide tables, not sections."""


def rel(source: str, target: str) -> str:
    """The link from page ``source`` to ``target`` (both relative to the docs folder)."""
    depth = source.count("/")
    return "../" * depth + target


def short(value: str | None, size: int = 12) -> str:
    return code(value[:size]) if value else "—"


def version_anchor(version: str) -> str:
    return "v-" + anchor(version)


def package_anchor(archetype: str, version: str) -> str:
    return "p-" + anchor(f"{archetype}-{version}")


def archetype_link(view: View, source: str, name: str) -> str:
    """A link to the archetype's page, or its name alone when it has none (a missing scope that
    verify reports): a site never links to a page it did not build."""
    if name not in view.archetype_states:
        return f"{text(name)} (missing)"
    return link(text(name), rel(source, f"archetypes/{name}.md"))


def version_link(view: View, source: str, archetype: str, version: str, label: str = "") -> str:
    shown = label or f"{archetype} {version}"
    if archetype not in view.archetype_states:
        return f"{text(shown)} (missing)"
    return link(text(shown), rel(source, f"archetypes/{archetype}.md") + f"#{version_anchor(version)}")


def bundle_link(view: View, source: str, bundle_id: str) -> str:
    if bundle_id not in view.bundle_states:
        return f"{code(bundle_id)} (missing)"
    return link(text(bundle_id), rel(source, f"bundles/{bundle_id}.md"))


def environment_link(source: str, name: str) -> str:
    return link(text(name), rel(source, f"environments/{name}.md"))


def rule_link(source: str, name: str) -> str:
    return link(identifier(name), rel(source, "guarantees.md") + f"#{anchor(name)}")


def event_words(kind: str, event_type: str) -> str:
    """What an event did, in the user's words (the row's ``does``), or its stored type."""
    row = LIFECYCLES[kind].by_event.get(event_type)
    return words(row) if row is not None else event_type


def history_table(kind: str, events: Sequence[Event]) -> str:
    rows = [
        [str(e.seq), text(e.at), text(e.actor), text(event_words(kind, e.type)), f"v{e.policy_version}"] for e in events
    ]
    return table(["#", "when", "signed by", "what", "policy"], rows)


def _finding_item(source: str, finding: Finding) -> str:
    guarantees = rel(source, "guarantees.html")
    rule = f' <a href="{guarantees}#{anchor(finding.rule)}">{attr(finding.rule)}</a>' if finding.rule else ""
    return (
        f"<li><code>{attr(finding.code)}</code> <code>{attr(finding.path)}</code>: {attr(finding.message)}{rule}</li>"
    )


def banner(view: View, source: str) -> str:
    """The first block of every page: a red banner listing the findings when the registry fails
    ``gitdocket verify``, else one line saying it verified, at which commit."""
    site = view.site
    # A raw HTML block: Markdown does not read it, so HTML's escapes are the ones that matter.
    commit = attr((site.commit or "an empty repository")[:12])
    if not site.findings:
        return (
            f'<div class="docket-ok-line" data-verify="ok">{badge("verify", "verified")} '
            f"<code>gitdocket verify</code> found nothing wrong at commit <code>{commit}</code>.</div>"
        )
    shown = list(site.findings)[:BANNER_FINDINGS]
    more = len(site.findings) - len(shown)
    rest = f"<p>… and {more} more.</p>" if more else ""
    items = "".join(_finding_item(source, f) for f in shown)
    where = attr(rel(source, "verification.html"))
    return (
        f'<div class="docket-banner" role="alert" data-verify="failed" data-findings="{len(site.findings)}">'
        f"<strong>This registry fails <code>gitdocket verify</code> at commit <code>{commit}</code>: "
        f"{len(site.findings)} finding(s).</strong> Nothing on this site is trustworthy until they are fixed. "
        f'<a href="{where}">All findings</a>.<ul>{items}</ul>{rest}</div>'
    )
