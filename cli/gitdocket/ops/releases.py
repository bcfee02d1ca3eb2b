"""``gitdocket release``: freeze and publish a version in one atomic commit, and optionally move
the placements whose holders opted in to auto-upgrade.

Auto-upgrade touches only placements of this archetype that are installed (or disabled) on an
older version and whose holder turned ``auto_upgrade`` on: for each, the owner's release offers
the new version (``PublishReplacement``) and applies it (``AutoUpgrade``, which the lifecycle
refuses without the opt-in). Every other placement is left exactly as it was — "update
available" is derived, never written.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitdocket.core.fields import semver_key
from gitdocket.core.scopes import Scope, check_name, check_version
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.placement import INSTALL_PHASES, PlacementState
from gitdocket.ops import packages as package_ops
from gitdocket.ops import versions as version_ops
from gitdocket.ops.placements import frozen_pin, package_ref
from gitdocket.ops.transaction import Transaction

__all__ = ["Released", "opted_in", "release"]


@dataclass(frozen=True)
class Released:
    content_hash: str
    upgraded: tuple[str, ...]


def opted_in(tx: Transaction, archetype: str, version: str) -> list[Scope[PlacementState]]:
    """Placements of ``archetype`` on a version older than ``version`` that opted in."""
    found = []
    for project in tx.tree.listdir("registry/placements"):
        for name in tx.tree.listdir(f"registry/placements/{project}"):
            target = scope("placement", project, name)
            state = tx.state(target)
            pin = state.pin
            if pin is None or pin.archetype != archetype or state.phase not in INSTALL_PHASES:
                continue
            if state.auto_upgrade and semver_key(pin.version) < semver_key(version):
                found.append(target)
    return found


def _complete(tx: Transaction, archetype: str, version: str) -> Released | None:
    """A re-run of a release that landed with a tag missing: the version is frozen and its
    package published with the method as committed now, so create whichever tag is missing."""
    vscope, pscope = scope("version", archetype, version), scope("package", archetype, version)
    snap = version_ops.frozen_as_committed(tx, vscope)
    manifest = package_ops.published_as(tx, pscope, snap.content_hash if snap else None)
    if snap is None or manifest is None:
        return None
    created = [
        tx.complete_tag(vscope, snap.content_hash, "frozen"),
        tx.complete_tag(pscope, manifest.content_hash, "published"),
    ]
    return Released(snap.content_hash, ()) if any(created) else None


def release(tx: Transaction, archetype: str, version: str, auto_upgrade: bool = False) -> Released:
    """Freeze ``archetype`` ``version``, publish it, and (opt-in only) upgrade placements. On a
    release that landed with a tag missing, create the tag."""
    check_name(archetype, "archetype name")
    check_version(version)
    completed = _complete(tx, archetype, version)
    if completed is not None:
        return completed
    snapshot = version_ops.freeze(tx, archetype, version)
    package_ops.publish(tx, archetype, version)
    upgraded: list[str] = []
    if auto_upgrade:
        pin = frozen_pin(tx, archetype, version)
        for target in opted_in(tx, archetype, version):
            ref = package_ref(tx, archetype, version)
            tx.apply(target, "PublishReplacement", {**pin.model_dump(), "package": ref})
            tx.apply(target, "AutoUpgrade", {"archetype": archetype, "version": version, "package": ref})
            upgraded.append("/".join(target.keys))
    return Released(snapshot.content_hash, tuple(upgraded))
