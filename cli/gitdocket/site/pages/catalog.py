"""Archetypes, their versions and the fork tree.

Each archetype has one page: its description and owners, where it was forked from, a versions
table, and then one section per version (the frozen snapshot manifest, agent configuration,
protection posture, provenance, packages and history). Versions are sections of their
archetype's page rather than pages of their own, so that a registry with 10,000 versions is
1,000 pages that mkdocs builds in reasonable time (ADR 0017). The method's contents are not
published: the manifest proves them by hash. Pure.
"""

from __future__ import annotations

from collections import Counter

from gitdocket.lifecycles.archetype import ArchetypeState
from gitdocket.lifecycles.version import Snapshot, VersionState
from gitdocket.site.badges import badge
from gitdocket.site.markup import code, heading, link, table, text
from gitdocket.site.pages.common import (
    Page,
    archetype_link,
    history_table,
    package_anchor,
    rel,
    short,
    version_anchor,
    version_link,
)
from gitdocket.site.view import View
from gitdocket.verify.context import ScopeRecord
from gitdocket.verify.tags import tag_name

__all__ = ["pages"]


def _tag(view: View, record: ScopeRecord[VersionState]) -> str:
    if record.state.phase not in ("frozen", "packaged", "retired"):
        return "—"
    name = tag_name(record.scope)
    return code(name) if name in view.site.tags else f"{code(name)} (missing)"


def _packages(view: View, source: str, archetype: str, version: str) -> str:
    package = view.packages.get((archetype, version))
    if package is None:
        return "—"
    target = rel(source, "packages.md") + f"#{package_anchor(archetype, version)}"
    return link(badge("package", package.state.phase), target)


def _placements(view: View, source: str, archetype: str, version: str) -> str:
    found = view.placed.get((archetype, version), [])
    return ", ".join(link(text(p), rel(source, f"projects/{p.split('/')[0]}.md")) for p in found) or "—"


def _version_row(view: View, source: str, record: ScopeRecord[VersionState]) -> list[str]:
    state = record.state
    archetype, version = record.scope.keys
    snapshot = state.snapshot
    return [
        version_link(view, source, archetype, version, version),
        badge("version", state.phase),
        short(snapshot.content_hash.removeprefix("sha256:"), 16) if snapshot else "—",
        _tag(view, record),
        _packages(view, source, archetype, version),
        _placements(view, source, archetype, version),
        text(snapshot.provenance.frozen_at) if snapshot else "—",
    ]


VERSION_HEADERS = ["version", "phase", "content hash", "tag", "package", "placements", "frozen at"]


def _snapshot(snapshot: Snapshot) -> list[str]:
    manifest = table(
        ["file", "sha256", "bytes", "git blob"],
        [
            [code(path), short(e.sha256, 16), str(e.size), short(e.blob)]
            for path, e in sorted(snapshot.manifest.items())
        ],
    )
    config = snapshot.agent_config
    posture = snapshot.protection_posture
    provenance = snapshot.provenance
    return [
        f"**Content hash:** {code(snapshot.content_hash)}  \n**Method tree:** {code(snapshot.method_tree)}",
        "**Frozen snapshot manifest**",
        manifest,
        f"**Agent configuration:** model {text(config.model.provider)} / {text(config.model.name)}; "
        f"skills: {text(', '.join(config.skills) or 'none')}; tools: {text(', '.join(config.tools) or 'none')}",
        f"**Protection posture:** {text(posture.deployment_mode)}; read scope: "
        f"{text(', '.join(posture.read_scope) or 'none')}; crossing terms: {text(posture.crossing_terms or 'none')}",
        f"**Provenance:** frozen by {text(provenance.frozen_by)} at {text(provenance.frozen_at)} from source commit "
        f"{code(provenance.source_commit)}",
    ]


def _version_section(view: View, source: str, origin: ArchetypeState, record: ScopeRecord[VersionState]) -> str:
    state = record.state
    archetype, version = record.scope.keys
    parts = [heading(2, f"{text(version)} {badge('version', state.phase)}", version_anchor(version))]
    if state.snapshot is not None:
        parts.extend(_snapshot(state.snapshot))
    else:
        parts.append(
            f"Not frozen yet: the draft is at revision {state.draft_revision} (tree {short(state.draft_tree)})."
        )
    built = f"**Built from:** draft revision {state.frozen_revision or state.draft_revision}"
    if origin.forked_from is not None:
        source_version = origin.forked_from.version
        fork = (
            version_link(view, source, origin.forked_from.archetype, source_version)
            if source_version
            else archetype_link(view, source, origin.forked_from.archetype)
        )
        built += f" of a fork of {fork}"
    parts.append(built)
    if state.packages:
        parts.append(f"**Packages:** {_packages(view, source, archetype, version)} {text(', '.join(state.packages))}")
    if state.retired_reason:
        parts.append(f"**Retired because:** {text(state.retired_reason)}")
    parts.append(f"**Tag:** {_tag(view, record)}")
    parts.append("**History**")
    parts.append(history_table("version", record.events))
    return "\n\n".join(parts)


def _archetype_page(view: View, record: ScopeRecord[ArchetypeState]) -> Page:
    name = record.scope.keys[0]
    source = f"archetypes/{name}.md"
    state = record.state
    doc = view.document(name)
    versions = view.versions.get(name, [])
    # The heading is the checked name: mkdocs titles a page outside the navigation by its heading.
    parts = [f"# {text(name)}", f"{text(doc.title) if doc else ''} {badge('archetype', state.phase)}"]
    if doc is not None and doc.description:
        parts.append(text(doc.description))
    facts = [f"**Owners:** {text(', '.join(state.owners))} (threshold {state.threshold})"]
    if doc is not None:
        posture = doc.protection
        facts.append(
            f"**Declared protection:** {text(posture.deployment_mode)}; read scope "
            f"{text(', '.join(posture.read_scope) or 'none')}"
        )
        if doc.tags:
            facts.append(f"**Tags:** {text(', '.join(doc.tags))}")
    origin = state.forked_from
    if origin is not None:
        where = (
            version_link(view, source, origin.archetype, origin.version)
            if origin.version
            else archetype_link(view, source, origin.archetype)
        )
        facts.append(f"**Forked from:** {where}")
    forks = view.forks.get(name, [])
    if forks:
        facts.append("**Forks:** " + ", ".join(archetype_link(view, source, f) for f in sorted(forks)))
    parts.append("  \n".join(facts))
    parts.append("## Versions")
    parts.append(table(VERSION_HEADERS, [_version_row(view, source, r) for r in versions]))
    parts.extend(_version_section(view, source, state, r) for r in versions)
    parts.append("## Archetype history")
    parts.append(history_table("archetype", record.events))
    return Page(source, name, "\n\n".join(parts))


def _index(view: View) -> Page:
    source = "archetypes/index.md"
    rows = []
    for record in view.archetypes:
        name = record.scope.keys[0]
        doc = view.document(name)
        versions = view.versions.get(name, [])
        latest = versions[-1] if versions else None
        origin = record.state.forked_from
        rows.append(
            [
                archetype_link(view, source, name),
                text(doc.title) if doc else "—",
                text(", ".join(record.state.owners)),
                archetype_link(view, source, origin.archetype) if origin else "—",
                str(len(versions)),
                version_link(view, source, name, latest.scope.keys[1], latest.scope.keys[1])
                + " "
                + badge("version", latest.state.phase)
                if latest
                else "—",
            ]
        )
    body = "\n\n".join(
        [
            "# Archetypes",
            f"{len(rows)} archetype(s). Each page lists its versions; every version's frozen snapshot is a "
            "section of its archetype's page.",
            table(["archetype", "title", "owners", "forked from", "versions", "newest"], rows),
        ]
    )
    return Page(source, "All archetypes", body, wide=True)


def _versions(view: View) -> Page:
    source = "versions.md"
    records = [r for name in sorted(view.versions) for r in view.versions[name]]
    phases = Counter(r.state.phase for r in records)
    summary = " ".join(f"{badge('version', p)} {n}" for p, n in sorted(phases.items()))
    rows = [[archetype_link(view, source, r.scope.keys[0]), *_version_row(view, source, r)] for r in records]
    body = "\n\n".join(
        ["# Versions", f"{len(records)} version(s): {summary}", table(["archetype", *VERSION_HEADERS], rows)]
    )
    return Page(source, "Versions", body, wide=True)


def _tree(view: View, source: str, name: str, depth: int, seen: set[str]) -> list[str]:
    seen.add(name)
    state = view.archetype_states.get(name)
    origin = state.forked_from if state else None
    at = f" (from {text(origin.version)})" if origin and origin.version else ""
    lines = ["    " * depth + f"- {archetype_link(view, source, name)}{at}"]
    for child in sorted(view.forks.get(name, [])):
        if child not in seen:
            lines.extend(_tree(view, source, child, depth + 1, seen))
    return lines


def _forks(view: View) -> Page:
    source = "forks.md"
    names = view.archetype_states
    roots = sorted(n for n, state in names.items() if state.forked_from is None)
    orphans = sorted(src for src in view.forks if src not in names)
    seen: set[str] = set()
    lines: list[str] = []
    for root in [*roots, *orphans]:
        lines.extend(_tree(view, source, root, 0, seen))
    forked = sum(len(v) for v in view.forks.values())
    body = "\n\n".join(
        [
            "# Fork tree",
            f"Every archetype, with the forks made from it nested below ({forked} fork(s)). A fork is an "
            "independent archetype that records where it came from; only an owner of the source may fork it.",
            "\n".join(lines) or "_None._",
        ]
    )
    return Page(source, "Fork tree", body, wide=True)


def pages(view: View) -> list[Page]:
    return [_index(view), *(_archetype_page(view, r) for r in view.archetypes), _versions(view), _forks(view)]
