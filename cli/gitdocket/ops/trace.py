"""``gitdocket trace``: where a release went, read from the environments' signed logs.

A release is a bundle, or an archetype's version (every bundle whose payload carries that
version's package). For each bundle, every time an environment received it (a ``promoted``
event): when, who signed it, from which environment, with which gate decision and whether it
lifted a hold; then how it left: rolled back (when, by whom, why, and whether the hold that
rollback put is still in force), replaced by a later promotion, or still active. Reads only: the
environments' logs, the bundles' logs and manifests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitdocket.core.canonical import loads_strict
from gitdocket.core.log import Event, SshSignature
from gitdocket.core.scopes import check_name, check_version
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError, InputError, NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.bundle import MANIFEST
from gitdocket.ops.bundles import require_bundle
from gitdocket.ops.deployments import environment_names
from gitdocket.ops.logs import load_log

__all__ = ["Release", "parse_release", "trace"]


@dataclass(frozen=True)
class Release:
    """What ``trace`` follows: one bundle, or every bundle carrying ``archetype@version``."""

    bundle_id: str | None = None
    archetype: str | None = None
    version: str | None = None

    @property
    def label(self) -> str:
        return self.bundle_id or f"{self.archetype}@{self.version}"


def parse_release(text: str) -> Release:
    """``BUNDLE`` or ``ARCHETYPE@VERSION`` as typed."""
    if "@" in text:
        name, _, number = text.partition("@")
        return Release(archetype=check_name(name, "archetype name"), version=check_version(number))
    scope("bundle", text)
    return Release(bundle_id=text)


def _carried(tree: TreeView, bundle_id: str, archetype: str, version: str) -> bool:
    raw = tree.read(f"bundles/{bundle_id}/{MANIFEST}")
    try:
        manifest = loads_strict(raw, MANIFEST) if raw else {}
        packages = manifest.get("payload", {}).get("packages", [])
        return any(p.get("archetype") == archetype and p.get("version") == version for p in packages)
    except (DocketError, AttributeError):  # an unreadable manifest carries nothing; verify says why
        return False


def _bundles(tree: TreeView, release: Release) -> list[str]:
    if release.bundle_id is not None:
        require_bundle(tree, release.bundle_id)
        return [release.bundle_id]
    archetype, version = release.archetype or "", release.version or ""
    if not load_log(tree, scope("version", archetype, version)).exists:
        raise NotFoundError(
            f"no version {archetype}@{version} in the registry", f"list them with `gitdocket version list {archetype}`"
        )
    return [b for b in tree.listdir("bundles") if _carried(tree, b, archetype, version)]


def _signers(event: Event) -> list[str]:
    return [s.principal for s in event.signatures if isinstance(s, SshSignature)]


def _departure(later: list[Event], bundle_id: str, holds: dict[str, Any]) -> dict[str, Any]:
    """How a release received at some point left the environment: the first later event that
    moved the pointer off it."""
    for event in later:
        data = event.data
        if event.type == "rolled_back" and data.get("previous_bundle_id") == bundle_id:
            hold = holds.get(bundle_id)
            return {
                "left": "rolled back",
                "left_at": event.at,
                "left_by": _signers(event),
                "reason": data.get("reason"),
                "to": data.get("target"),
                "held": hold is not None and hold.sequence == data.get("sequence"),
            }
        moved_to = data.get("bundle_id", data.get("target"))
        if moved_to != bundle_id:
            return {"left": f"replaced by {moved_to}", "left_at": event.at, "left_by": _signers(event)}
    return {"left": "active"}


def _reaches(tree: TreeView, environment: str, bundle_id: str) -> list[dict[str, Any]]:
    log = load_log(tree, scope("environment", environment))
    events = list(log.events)
    rows = []
    for index, event in enumerate(events):
        data = event.data
        arrived = data.get("bundle_id") if event.type == "promoted" else data.get("target")
        if arrived != bundle_id:
            continue
        rows.append(
            {
                "bundle_id": bundle_id,
                "environment": environment,
                "how": "promoted" if event.type == "promoted" else "rolled back to",
                "sequence": data.get("sequence"),
                "at": event.at,
                "by": _signers(event),
                "source_environment": data.get("source_environment"),
                "gate_decision": data.get("gate_decision"),
                "override": data.get("override"),
                **{"left": None, "left_at": None, "left_by": [], "reason": None, "to": None, "held": False},
                **_departure(events[index + 1 :], bundle_id, dict(log.state.holds)),
            }
        )
    return rows


def trace(tree: TreeView, release: Release) -> dict[str, Any]:
    """Every environment ``release`` reached (module docstring), oldest first."""
    bundles = _bundles(tree, release)
    built = {}
    rows: list[dict[str, Any]] = []
    order = {name: index for index, name in enumerate(environment_names(tree))}
    for bundle_id in bundles:
        state = load_log(tree, scope("bundle", bundle_id)).state
        built[bundle_id] = {"built_at": state.created_at, "built_by": state.built_by, "verified_by": state.verified_by}
        for environment in order:
            try:
                rows.extend(_reaches(tree, environment, bundle_id))
            except InputError:  # a folder that is no environment scope: verify reports it
                continue
    # Oldest first; within one second, in promotion order (a walk up the chain is one commit).
    rows.sort(key=lambda r: (r["at"], order[r["environment"]], r["sequence"] or 0))
    return {"release": release.label, "bundles": built, "reached": rows}
