"""Packages, and placements and entitlements by project: the seed's package-distribution phase
of every placement, its entitlement's phase, and whether it may run.

Run eligibility is ``eligibility.verdict`` (fail-closed) judged at the verified commit's time,
so the page says what was true when that commit was made, whatever day it is read. Pure.
"""

from __future__ import annotations

from gitdocket.core.fields import format_time
from gitdocket.lifecycles.eligibility import distribution_phase, update_available, verdict
from gitdocket.lifecycles.entitlement import EntitlementState
from gitdocket.lifecycles.package import PackageState
from gitdocket.lifecycles.placement import PlacementState
from gitdocket.site.badges import badge
from gitdocket.site.markup import heading, link, table, text
from gitdocket.site.pages.common import Page, history_table, package_anchor, short, version_link
from gitdocket.site.view import View
from gitdocket.verify.context import ScopeRecord

__all__ = ["pages"]


def _packages(view: View) -> Page:
    source = "packages.md"
    installs: dict[tuple[str, str], int] = {}
    for key, found in view.placed.items():
        installs[key] = len(found)
    rows = []
    for (archetype, version), record in sorted(view.packages.items()):
        state = record.state
        manifest = state.manifest
        rows.append(
            [
                f'<span id="{package_anchor(archetype, version)}"></span>'
                + version_link(view, source, archetype, version),
                badge("package", state.phase),
                short(manifest.content_hash.removeprefix("sha256:"), 16) if manifest else "—",
                text(manifest.protection_posture.deployment_mode) if manifest else "—",
                text(manifest.publisher) if manifest else "—",
                str(installs.get((archetype, version), 0)),
                text(state.withdrawn_reason or ""),
            ]
        )
    body = "\n\n".join(
        [
            "# Packages",
            "A package manifest carries handles and metadata, never payload: the frozen snapshot's content "
            "hash, its protection posture and its publisher.",
            table(
                ["package", "phase", "content hash", "deployment mode", "publisher", "placements", "withdrawn because"],
                rows,
            ),
        ]
    )
    return Page(source, "Packages", body, wide=True)


def _package_of(view: View, placement: PlacementState) -> PackageState:
    pin = placement.pin
    record = view.packages.get((pin.archetype, pin.version)) if pin else None
    return record.state if record else PackageState()


def _run(view: View, placement: PlacementState, entitlement: EntitlementState, package: PackageState) -> str:
    at = view.site.committed_at
    if at is None:
        return "—"
    found = verdict(placement, entitlement, package, at)
    return badge("run", found.reason or "Active") + " " + text(found.detail)


def _newer(view: View, placement: PlacementState) -> str:
    pin = placement.pin
    if pin is None:
        return "—"
    published = [v for (a, v), r in view.packages.items() if a == pin.archetype and r.state.phase == "published"]
    newer = update_available(pin.version, published)
    return text(newer) if newer else "—"


def _placement_section(view: View, source: str, record: ScopeRecord[PlacementState]) -> str:
    project, name = record.scope.keys
    state = record.state
    package = _package_of(view, state)
    entitled = view.entitlements.get((project, name))
    entitlement = entitled.state if entitled else EntitlementState()
    pin = state.pin
    pinned = version_link(view, source, pin.archetype, pin.version) if pin else "—"
    parts = [
        heading(2, text(f"{project}/{name}"), f"placement-{name}"),
        f"**Pins:** {pinned}  \n**Phase:** {badge('distribution', distribution_phase(package, state))}  \n"
        f"**Entitlement:** {badge('entitlement', entitlement.phase)}  \n"
        f"**Run eligibility:** {_run(view, state, entitlement, package)}  \n"
        f"**Update available:** {_newer(view, state)}",
    ]
    if state.superseded:
        parts.append("**Superseded pins:** " + text(", ".join(f"{p.archetype} {p.version}" for p in state.superseded)))
    config = ", ".join(f"{k} = {v}" for k, v in sorted(state.config.items()))
    parts.append(
        f"**Config:** {text(config or 'none')}  \n**Context:** {text(state.context or 'none')}  \n"
        f"**Notes:** {text(state.notes or 'none')}  \n**Auto-upgrade:** {'yes' if state.auto_upgrade else 'no'}"
        + (f"  \n**Last reason recorded:** {text(state.reason)}" if state.reason else "")
    )
    if entitled is not None:
        receipts = ", ".join(f"{r.kind} {r.reference}" for r in entitlement.receipts) or "none"
        parts.append(
            f"**Terms:** {text(entitlement.terms or 'none')}  \n"
            f"**Expires:** {text(entitlement.expires_at or 'never')}  \n"
            f"**Receipts (evidence, never authority):** {text(receipts)}"
            + (f"  \n**Last reason recorded:** {text(entitlement.reason)}" if entitlement.reason else "")
        )
    parts.append("**Placement history**")
    parts.append(history_table("placement", record.events))
    if entitled is not None:
        parts.append("**Entitlement history**")
        parts.append(history_table("entitlement", entitled.events))
    return "\n\n".join(parts)


def _summary_row(view: View, source: str, record: ScopeRecord[PlacementState]) -> list[str]:
    project, name = record.scope.keys
    state = record.state
    package = _package_of(view, state)
    entitled = view.entitlements.get((project, name))
    entitlement = entitled.state if entitled else EntitlementState()
    pin = state.pin
    return [
        link(text(name), f"#placement-{name}"),
        version_link(view, source, pin.archetype, pin.version) if pin else "—",
        badge("distribution", distribution_phase(package, state)),
        badge("entitlement", entitlement.phase),
        _run(view, state, entitlement, package),
    ]


HEADERS = ["placement", "pins", "phase", "entitlement", "run eligibility"]


def _project(view: View, project: str, records: list[ScopeRecord[PlacementState]]) -> Page:
    source = f"projects/{project}.md"
    at = view.site.committed_at
    when = f" at {text(format_time(at))} (the verified commit's time)" if at else ""
    parts = [
        f"# Project {text(project)}",
        f"Run eligibility is judged{when}: installed ∧ entitled, fail-closed.",
        table(HEADERS, [_summary_row(view, source, r) for r in records]),
        *(_placement_section(view, source, r) for r in records),
    ]
    return Page(source, project, "\n\n".join(parts))


def _projects(view: View) -> Page:
    source = "projects/index.md"
    rows = []
    for project, records in sorted(view.placements.items()):
        installed = sum(1 for r in records if r.state.phase == "installed")
        rows.append([link(text(project), f"{project}.md"), str(len(records)), str(installed)])
    body = "\n\n".join(
        [
            "# Projects",
            "Placements pin one frozen, published version read-only; entitlements say who may run them.",
            table(["project", "placements", "installed"], rows),
        ]
    )
    return Page(source, "All projects", body, wide=True)


def pages(view: View) -> list[Page]:
    projects = [_project(view, p, r) for p, r in sorted(view.placements.items())]
    return [_packages(view), _projects(view), *projects]
