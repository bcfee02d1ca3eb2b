"""Placement operations: request, admit, reject, expire, install, edit, offer, upgrade, disable,
remove, and the read-only views (status, list, show).

Each write reads the package and version scopes inside the same ``Transaction`` and passes what
it saw to the placement lifecycle as command data (the pinned content hash, a ``PackageRef``), so
the signed event records it and ``verify`` can check it. Content is checked fail-closed: the
package manifest, the version's frozen snapshot and the snapshot tree in the repository must
agree, or nothing is written. No printing here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gitdocket.core.fields import format_time, parse_time
from gitdocket.core.scopes import Scope, check_name, check_version
from gitdocket.core.tree import TreeRef, TreeView
from gitdocket.errors import InputError, InvariantError, NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.eligibility import distribution_phase, update_available
from gitdocket.lifecycles.placement import (
    INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION,
    UPGRADE_REQUIRES_REPLACEMENT_ADMISSION,
    Pin,
    PlacementState,
)
from gitdocket.lifecycles.version import FROZEN_VERSION_IMMUTABLE
from gitdocket.ops import vendors
from gitdocket.ops.logs import load_log
from gitdocket.ops.transaction import Transaction

_INV13 = INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION
__all__ = [
    "REQUEST_DAYS",
    "admit",
    "disable",
    "edit",
    "editable_keys",
    "expire",
    "frozen_pin",
    "install",
    "list_placements",
    "offer",
    "package_ref",
    "parse_address",
    "placement_view",
    "reject",
    "remove",
    "request",
    "request_expiry",
    "upgrade",
]


def parse_address(text: str) -> tuple[str, str]:
    """``PROJECT/NAME`` → (project, name), both checked."""
    project, sep, name = text.partition("/")
    if not sep or "/" in name:
        raise InputError(f"invalid placement address {text!r}", "write it as PROJECT/NAME, e.g. acme/triage")
    return check_name(project, "project name"), check_name(name, "placement name")


def package_ref(tx: Transaction, archetype: str, version: str) -> dict[str, Any]:
    """What the package log of ``archetype`` ``version`` says right now (seq, head, phase)."""
    log = tx.log(scope("package", archetype, version))
    if not log.exists:
        raise InvariantError(
            f"no published package {archetype} {version}",
            _INV13,
            f"an owner publishes it: `gitdocket release {archetype} {version}`",
        )
    return {"seq": log.seq, "head": log.head, "phase": log.state.phase}


def _tree_id(tx: Transaction, path: str) -> str | None:
    """The tree at ``path`` as this transaction will commit it (a release stages it)."""
    pending = tx.writes.get(path)
    return pending.oid if isinstance(pending, TreeRef) else tx.tree.tree_id(path)


def frozen_pin(tx: Transaction, archetype: str, version: str) -> Pin:
    """The pin of a package, checked fail-closed: manifest, frozen snapshot and snapshot tree
    must agree. (Whether the package may still be installed is the lifecycle's call.)"""
    check_name(archetype, "archetype name")
    check_version(version)
    package = tx.state(scope("package", archetype, version))
    manifest = package.manifest
    if manifest is None:
        raise InvariantError(
            f"no published package {archetype} {version}",
            _INV13,
            f"an owner publishes it: `gitdocket release {archetype} {version}`",
        )
    vscope = scope("version", archetype, version)
    snap = tx.state(vscope).snapshot
    recorded = (snap.content_hash, snap.method_tree) if snap is not None else None
    if (
        recorded != (manifest.content_hash, manifest.method_tree)
        or _tree_id(tx, f"{vscope.path}/method") != manifest.method_tree
    ):
        raise InvariantError(
            f"package {archetype} {version}: its content hash does not match "
            "the frozen snapshot; refusing (fail-closed)",
            FROZEN_VERSION_IMMUTABLE,
            "run `gitdocket verify` and restore the version from its tag",
        )
    return Pin(
        archetype=archetype, version=version, content_hash=manifest.content_hash, method_tree=manifest.method_tree
    )


def _existing(tx: Transaction, project: str, name: str) -> tuple[Scope[PlacementState], PlacementState]:
    target = scope("placement", project, name)
    state = tx.state(target)
    if state.phase == "none" or state.pin is None:
        raise NotFoundError(
            f"no placement {project}/{name}",
            f"request one: `gitdocket placement request ARCHETYPE VERSION --project {project}`",
        )
    return target, state


REQUEST_DAYS = 30
"""How long an install request waits for the target's admission unless the holder says otherwise."""


def request_expiry(text: str, at: datetime) -> str | None:
    """``never``, a number of days after ``at`` (``14d``), or an RFC 3339 time with a zone."""
    spec = text.strip().lower()
    if spec == "never":
        return None
    if spec.endswith("d") and spec[:-1].isdigit() and 0 < int(spec[:-1]) <= 3650:
        return format_time(at + timedelta(days=int(spec[:-1])))
    try:
        return format_time(parse_time(text))
    except ValueError as exc:
        raise InputError(
            f"request expiry {text!r} is not a number of days (14d), an RFC 3339 time with a zone, nor 'never'",
            "e.g. --expires 30d, --expires 2026-03-01T00:00:00Z or --expires never",
        ) from exc


def request(
    tx: Transaction, project: str, name: str, archetype: str, version: str, expires: str = f"{REQUEST_DAYS}d"
) -> Pin:
    """A holder asks to place ``archetype`` ``version`` in ``project`` as ``name``; the request
    lapses at ``expires`` (``request_expiry``) unless the target admits it by then."""
    target = scope("placement", project, name)
    tx.check(target, "RequestInstall")  # PLACEMENT_UNIQUE, before the package is read
    until = request_expiry(expires, tx.at)
    pin = frozen_pin(tx, archetype, version)
    ref = package_ref(tx, archetype, version)
    tx.apply(target, "RequestInstall", {**pin.model_dump(), "package": ref, "expires_at": until})
    return pin


def reject(tx: Transaction, project: str, name: str, reason: str) -> None:
    """The target's admins reject the pending request."""
    target, _state = _existing(tx, project, name)
    tx.apply(target, "RejectOrExpire", {"reason": reason, "expired": False})


def expire(tx: Transaction, project: str, name: str) -> str:
    """Record that the pending request expired (admins); returns when it did."""
    target, state = _existing(tx, project, name)
    tx.apply(target, "RejectOrExpire", {"reason": "", "expired": True})
    return state.request_expires_at or ""


def admit(tx: Transaction, project: str, name: str, to: str | None = None) -> str:
    """The target's admins admit the request (or, with ``to``, the offered replacement)."""
    target, state = _existing(tx, project, name)
    assert state.pin is not None
    if to is None:
        tx.apply(target, "TargetAdmitInstall", {"content_hash": state.pin.content_hash})
        return state.pin.version
    pin = frozen_pin(tx, state.pin.archetype, check_version(to))
    tx.apply(target, "TargetAdmitReplacement", {"version": to, "content_hash": pin.content_hash})
    return to


def install(tx: Transaction, project: str, name: str) -> Pin:
    target, state = _existing(tx, project, name)
    assert state.pin is not None
    pin = state.pin
    if pin.vendor is not None:  # checked in the vendor's logs, under its pinned root (fail-closed)
        tx.apply(target, "InstallPackage", {"package": vendors.vendor_package(tx.tree, pin, pin.vendor, "install")[1]})
        return pin
    ref = package_ref(tx, pin.archetype, pin.version)
    if ref["phase"] == "published" and frozen_pin(tx, pin.archetype, pin.version) != pin:
        raise InvariantError(
            f"placement {project}/{name}: the package no longer matches the pin",
            FROZEN_VERSION_IMMUTABLE,
            "run `gitdocket verify`",
        )
    tx.apply(target, "InstallPackage", {"package": ref})
    return pin


def _config(current: dict[str, Any], sets: dict[str, Any], unsets: tuple[str, ...]) -> dict[str, Any] | None:
    if not sets and not unsets:
        return None
    config = {k: v for k, v in current.items() if k not in unsets}
    missing = [k for k in unsets if k not in current]
    if missing:
        raise InputError(f"config has no key {missing[0]!r}", "see `gitdocket placement show P/N`")
    config.update(sets)
    return config


def edit(
    tx: Transaction,
    project: str,
    name: str,
    sets: dict[str, Any],
    unsets: tuple[str, ...] = (),
    context: str | None = None,
    notes: str | None = None,
    auto_upgrade: bool | None = None,
) -> None:
    """Change config, context, notes or the auto-upgrade opt-in (never the method, INV-24); a
    config key must be one the pinned version declares editable."""
    target, state = _existing(tx, project, name)
    assert state.pin is not None
    data = {
        "config": _config(state.config, sets, unsets),
        "context": context,
        "notes": notes,
        "auto_upgrade": auto_upgrade,
        "editable": editable_keys(tx.state, state.pin),
    }
    tx.apply(target, "EditPlacement", data)


def editable_keys(state: Callable[[Scope[Any]], Any], pin: Pin) -> tuple[str, ...]:
    """The config keys the pinned version declares editable (recorded at its freeze)."""
    snapshot = state(scope("version", pin.archetype, pin.version)).snapshot
    return tuple(snapshot.editable) if snapshot is not None else ()


def offer(tx: Transaction, project: str, name: str, version: str) -> Pin:
    """An owner of the pinned archetype offers ``version`` as the replacement."""
    target, state = _existing(tx, project, name)
    assert state.pin is not None
    ref = package_ref(tx, state.pin.archetype, check_version(version))
    pin = frozen_pin(tx, state.pin.archetype, version)
    tx.apply(target, "PublishReplacement", {**pin.model_dump(), "package": ref})
    return pin


def upgrade(tx: Transaction, project: str, name: str, to: str) -> bool:
    """Move the pin to the admitted replacement ``to``; False when already there (idempotent)."""
    target, state = _existing(tx, project, name)
    assert state.pin is not None
    if state.pin.version == check_version(to):
        return False
    archetype = state.pin.archetype
    pin = frozen_pin(tx, archetype, to)  # fail-closed on the replacement's content
    offered = state.replacement
    if offered is not None and offered.version == to and offered != pin:
        raise InvariantError(
            f"placement {project}/{name}: {to} no longer matches what was admitted",
            UPGRADE_REQUIRES_REPLACEMENT_ADMISSION,
            "offer and admit it again",
        )
    tx.apply(target, "AdmitUpgrade", {"version": to, "package": package_ref(tx, archetype, to)})
    return True


def disable(tx: Transaction, project: str, name: str, reason: str = "") -> None:
    target, _state = _existing(tx, project, name)
    tx.apply(target, "DisableInstall", {"reason": reason})


def remove(tx: Transaction, project: str, name: str, reason: str = "") -> None:
    """Remove the install; an entitlement of the placement is withdrawn in the same commit."""
    target, _state = _existing(tx, project, name)
    tx.apply(target, "RemoveInstall", {"reason": reason})
    escope = scope("entitlement", project, name)
    ent = tx.state(escope)
    if ent.package_installed and ent.phase != "withdrawn":
        why = f"placement removed: {reason or 'no reason given'}"
        tx.apply(escope, "WithdrawPackageInstall", {"reason": why})


# -- reading -----------------------------------------------------------------------------------


def _published_versions(tree: TreeView, archetype: str) -> list[str]:
    out = []
    for version in tree.listdir(f"registry/packages/{archetype}"):
        if load_log(tree, scope("package", archetype, version)).state.phase == "published":
            out.append(version)
    return out


def placement_view(tree: TreeView, project: str, name: str) -> dict[str, Any]:
    """Everything ``status`` and ``show`` print about one placement."""
    state = load_log(tree, scope("placement", project, name)).state
    if state.phase == "none" or state.pin is None:
        raise NotFoundError(f"no placement {project}/{name}", "list them with `gitdocket placement list`")
    pin = state.pin
    package = vendors.pinned_package(tree, pin)
    data = state.model_dump(mode="json")
    data.update(
        {
            "address": f"{project}/{name}",
            "distribution_phase": distribution_phase(package, state),
            "package_phase": package.phase,
            "update_available": None
            if pin.vendor is not None  # the vendor's other versions are not imported
            else update_available(pin.version, _published_versions(tree, pin.archetype)),
        }
    )
    return data


def list_placements(tree: TreeView, project: str | None = None) -> list[dict[str, Any]]:
    projects = [check_name(project, "project name")] if project else tree.listdir("registry/placements")
    rows = []
    for proj in projects:
        for name in tree.listdir(f"registry/placements/{proj}"):
            view = placement_view(tree, proj, name)
            keys = ("address", "phase", "distribution_phase", "update_available")
            pin = view["pin"]
            rows.append({k: view[k] for k in keys} | {"archetype": pin["archetype"], "version": pin["version"]})
    return rows
