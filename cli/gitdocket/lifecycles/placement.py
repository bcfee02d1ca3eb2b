"""The install track of the package-distribution lifecycle (seed 000), one per placement.

A placement ``<project>/<name>`` pins one frozen, published version of an archetype read-only.
Its log is the seed's per-target track: request → target admission → install; disable, remove;
replacement published by the archetype's owners → admitted by the target → upgrade (the old pin
becomes *superseded* and stays listed). The package side of the seed (Draft, Published,
Withdrawn) lives in the package scope; ``eligibility.distribution_phase`` joins both into the
seed's nine phases.

Cross-scope facts enter as command data, so the event records what the writer saw: the pinned
content hash and a ``PackageRef`` (the package log's seq, the hash of that line and its phase).
``decide`` judges only that data; ``verify`` checks the data against the package log.

What this module does not do: it grants nothing. There is no event that releases payload,
context or run authority (INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN); run eligibility is the
entitlement's business. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from gitdocket.core.fields import Digest, GitOid, Name, Semver, semver_key
from gitdocket.core.model import OptionalReasonData, Record
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.machine import Invariant, Machine, Transition

__all__ = [
    "INSTALL_PHASES",
    "LIFECYCLE",
    "METHOD_SURFACE",
    "PackageRef",
    "Pin",
    "PlacementState",
    "method_surface_key",
]

Phase = Literal["none", "install_requested", "installed", "disabled", "removed", "denied"]
INSTALL_PHASES = ("installed", "disabled")
"""Phases in which the placement holds an install (the seed's ``installed`` flag)."""

METHOD_SURFACE = frozenset(
    {"model", "skills", "tools", "instructions", "method", "agent_config", "agent-config", "agent-config.json"}
)
"""Config keys that name the method's defining fields: a placement may never set them (INV-24)."""
CONFIG_KEY = re.compile(r"^[a-z][a-z0-9_.-]{0,62}$")


def method_surface_key(key: str) -> bool:
    """True when a config key would write the method (a method field or a path)."""
    return key.lower() in METHOD_SURFACE or "/" in key or key.startswith(".")


class Pin(Record):
    """One frozen, published version, as the placement pins it."""

    archetype: Name
    version: Semver
    content_hash: Digest
    method_tree: GitOid


class PackageRef(Record):
    """What the writer saw of the package log: line ``seq``, its hash, the phase after it."""

    seq: int = Field(ge=1)
    head: Digest
    phase: Literal["draft", "published", "withdrawn"]


class PlacementState(Record):
    phase: Phase = "none"
    project: str = ""
    name: str = ""
    pin: Pin | None = None
    published: bool = False
    target_admitted: bool = False
    installed: bool = False
    ever_installed: bool = False
    run_noted: bool = False
    replacement: Pin | None = None
    replacement_published: bool = False
    replacement_target_admitted: bool = False
    superseded: tuple[Pin, ...] = ()
    config: dict[str, Any] = Field(default_factory=dict)
    context: str = ""
    notes: str = ""
    auto_upgrade: bool = False
    reason: str | None = None

    @property
    def install_ready(self) -> bool:
        return self.published and self.target_admitted

    @property
    def replacement_ready(self) -> bool:
        return self.replacement_published and self.replacement_target_admitted


class RequestData(Record):
    archetype: Name
    version: Semver
    content_hash: Digest
    method_tree: GitOid
    package: PackageRef

    def pin(self) -> Pin:
        return Pin(
            archetype=self.archetype, version=self.version, content_hash=self.content_hash, method_tree=self.method_tree
        )


class ReplacementData(RequestData):
    """A replacement offered by the archetype's owners (same fields as a request)."""


class AdmitData(Record):
    content_hash: Digest


class AdmitReplacementData(Record):
    version: Semver
    content_hash: Digest


class PackageData(Record):
    package: PackageRef


class UpgradeData(Record):
    version: Semver
    package: PackageRef


class AutoUpgradeData(UpgradeData):
    archetype: Name


class EditData(Record):
    """A patch: ``None`` leaves a field as it is. There is no field for the method (INV-24)."""

    config: dict[str, Any] | None = None
    context: str | None = None
    notes: str | None = None
    auto_upgrade: bool | None = None


_TRACK = ("install_requested", "installed", "disabled")
_INV13 = "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION"
_UPGRADE = "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION"
TRANSITIONS = (
    Transition(
        "RequestInstall",
        "install_requested",
        ("none",),
        "install_requested",
        RequestData,
        role="holders:{0}",
        invariant=_INV13,
        doc="a holder asks to place a published package in the project (pins it)",
    ),
    Transition(
        "TargetAdmitInstall",
        "install_target_admitted",
        ("install_requested",),
        None,
        AdmitData,
        role="admins:{0}",
        invariant=_INV13,
        doc="the target project's admins admit the pinned content",
    ),
    Transition(
        "InstallPackage",
        "package_installed",
        ("install_requested",),
        "installed",
        PackageData,
        role="holders:{0}",
        invariant=_INV13,
        doc="install: needs the package published and the target's admission (INV-13)",
    ),
    Transition(
        "NoteRunEligible",
        "run_noted",
        ("installed",),
        None,
        PackageData,
        role="holders:{0}",
        invariant="WITHDRAWAL_BLOCKS_FUTURE",
        doc="note the install as eligible to run (grants nothing; entitlement decides)",
    ),
    Transition(
        "DisableInstall",
        "install_disabled",
        ("installed",),
        "disabled",
        OptionalReasonData,
        role="holders:{0}",
        doc="stop using the install; history stays",
    ),
    Transition(
        "RemoveInstall",
        "install_removed",
        INSTALL_PHASES,
        "removed",
        OptionalReasonData,
        role="holders:{0}",
        invariant="HISTORY_PRESERVED_ON_WITHDRAWAL",
        doc="remove the install (future-only: the log keeps every record)",
    ),
    Transition(
        "PublishReplacement",
        "replacement_published",
        INSTALL_PHASES,
        None,
        ReplacementData,
        role="owners:{archetype}",
        invariant=_UPGRADE,
        doc="the archetype's owners offer a newer published version",
    ),
    Transition(
        "TargetAdmitReplacement",
        "replacement_target_admitted",
        INSTALL_PHASES,
        None,
        AdmitReplacementData,
        role="admins:{0}",
        invariant=_UPGRADE,
        doc="the target's admins admit the offered replacement",
    ),
    Transition(
        "AdmitUpgrade",
        "package_superseded",
        INSTALL_PHASES,
        None,
        UpgradeData,
        role="holders:{0}",
        invariant=_UPGRADE,
        doc="the holder moves the pin to the admitted replacement; the old pin is superseded",
    ),
    Transition(
        "AutoUpgrade",
        "package_auto_upgraded",
        INSTALL_PHASES,
        None,
        AutoUpgradeData,
        role="owners:{archetype}",
        invariant=_UPGRADE,
        doc="an owner's release upgrades a placement whose holder opted in to auto-upgrade",
    ),
    Transition(
        "RejectOrExpire",
        "install_denied",
        ("install_requested",),
        "denied",
        OptionalReasonData,
        role="admins:{0}",
        doc="the target's admins deny (or let expire) the request",
    ),
    Transition(
        "EditPlacement",
        "placement_edited",
        _TRACK,
        None,
        EditData,
        role="holders:{0}",
        invariant="PLACEMENT_IS_CONFIG_ONLY",
        doc="change config, context, notes or the auto-upgrade opt-in — never the method",
    ),
)


def _refuse(message: str, invariant: str, hint: str = "") -> None:
    raise InvariantError(f"placement: {message}", invariant, hint)


def _check_package(ref: PackageRef) -> None:
    if ref.phase == "withdrawn":
        _refuse(
            "the package is withdrawn", "WITHDRAWAL_BLOCKS_FUTURE", "choose another published version of the archetype"
        )
    if ref.phase != "published":
        _refuse("the package is not published", _INV13, "an owner publishes it first (`gitdocket package publish`)")


def _check_edit(data: EditData) -> None:
    if data == EditData():
        _refuse(
            "the edit changes nothing",
            "PLACEMENT_IS_CONFIG_ONLY",
            "pass --set, --unset, --context, --notes or --auto-upgrade",
        )
    for key in data.config or {}:
        if method_surface_key(key):
            _refuse(
                f"config key {key!r} would write the method, which is read-only in a placement (INV-24)",
                "PLACEMENT_IS_CONFIG_ONLY",
                "to change the method, fork the archetype (owners only) or ask its owners for a new version",
            )
        if not CONFIG_KEY.fullmatch(key):
            _refuse(
                f"config key {key!r} is not a plain name",
                "PLACEMENT_IS_CONFIG_ONLY",
                "use lowercase letters, digits, '_', '.' and '-'",
            )


def _check_replacement(state: PlacementState, data: ReplacementData) -> None:
    assert state.pin is not None
    if data.archetype != state.pin.archetype:
        _refuse(
            f"a replacement must come from {state.pin.archetype}, not {data.archetype}",
            _UPGRADE,
            "a fork is another archetype: place it",
        )
    if semver_key(data.version) <= semver_key(state.pin.version):
        _refuse(f"{data.version} is not newer than the pinned {state.pin.version}", _UPGRADE, "offer a newer version")
    _check_package(data.package)


def _check_upgrade(state: PlacementState, data: UpgradeData) -> None:
    repl = state.replacement
    if repl is None or not state.replacement_published or repl.version != data.version:
        _refuse(
            f"{data.version} was not offered as a replacement",
            _UPGRADE,
            "an owner of the archetype offers it first (`gitdocket placement offer`)",
        )
    if isinstance(data, AutoUpgradeData):
        if not state.auto_upgrade:
            _refuse(
                "the holder did not opt in to auto-upgrade",
                _UPGRADE,
                "the target admits the replacement, then the holder upgrades",
            )
    elif not state.replacement_target_admitted:
        _refuse(
            f"the target has not admitted {data.version}",
            _UPGRADE,
            "a project admin runs `gitdocket placement admit P/N --to VERSION`",
        )
    _check_package(data.package)


def _check_admission(state: PlacementState, data: AdmitData) -> None:
    if state.pin is not None and data.content_hash != state.pin.content_hash:
        _refuse("the admission names other content than the pin", _INV13, "admit what was requested")


def _check_install(state: PlacementState, data: PackageData) -> None:
    if not state.target_admitted:
        _refuse(
            "install requires published + target admission (INV-13)",
            _INV13,
            "a project admin runs `gitdocket placement admit P/N` first",
        )
    _check_package(data.package)


def _check_replacement_admission(state: PlacementState, data: AdmitReplacementData) -> None:
    repl = state.replacement
    if (
        repl is None
        or not state.replacement_published
        or (repl.version, repl.content_hash) != (data.version, data.content_hash)
    ):
        _refuse(
            f"{data.version} was not offered as a replacement with that content",
            _UPGRADE,
            "an owner of the archetype offers it first (`gitdocket placement offer`)",
        )


_GUARDS: dict[str, Any] = {
    "RequestInstall": lambda s, d: _check_package(d.package),
    "TargetAdmitInstall": _check_admission,
    "InstallPackage": _check_install,
    "NoteRunEligible": lambda s, d: _check_package(d.package),
    "PublishReplacement": _check_replacement,
    "TargetAdmitReplacement": _check_replacement_admission,
    "AdmitUpgrade": _check_upgrade,
    "AutoUpgrade": _check_upgrade,
    "EditPlacement": lambda s, d: _check_edit(d),
}


def _guard(state: PlacementState, row: Transition, data: Any) -> None:
    check = _GUARDS.get(row.command)
    if check is not None:
        check(state, data)


def _upgraded(state: PlacementState) -> dict[str, Any]:
    assert state.pin is not None and state.replacement is not None
    return {
        "superseded": (*state.superseded, state.pin),
        "pin": state.replacement,
        "replacement": None,
        "replacement_published": False,
        "replacement_target_admitted": False,
        "run_noted": False,
        "target_admitted": True,
    }


def _edited(data: EditData) -> dict[str, Any]:
    changes = {"config": data.config, "context": data.context, "notes": data.notes, "auto_upgrade": data.auto_upgrade}
    return {k: v for k, v in changes.items() if v is not None}


_FLAGS: dict[str, dict[str, Any]] = {
    "TargetAdmitInstall": {"target_admitted": True},
    "InstallPackage": {"installed": True, "ever_installed": True},
    "NoteRunEligible": {"run_noted": True},
    "RemoveInstall": {"installed": False, "run_noted": False},
    "TargetAdmitReplacement": {"replacement_target_admitted": True},
}


def _apply(state: PlacementState, row: Transition, data: Any) -> PlacementState:
    update = dict(_FLAGS.get(row.command, {}))
    if row.command == "RequestInstall":
        update = {"pin": data.pin(), "published": True}
    elif row.command == "PublishReplacement":
        update = {"replacement": data.pin(), "replacement_published": True, "replacement_target_admitted": False}
    elif row.command in ("AdmitUpgrade", "AutoUpgrade"):
        update = _upgraded(state)
    elif row.command == "EditPlacement":
        update = _edited(data)
    if isinstance(data, OptionalReasonData):
        update["reason"] = data.reason or None
    return state.model_copy(update=update)


def _history_kept(s: PlacementState) -> bool:
    """INV-18: once installed, the install is still held, was removed, or was superseded."""
    return not s.ever_installed or s.installed or s.phase == "removed"


LIFECYCLE: Machine[PlacementState] = Machine(
    kind="placement",
    state=PlacementState,
    initial=lambda scope: PlacementState(project=scope.keys[0], name=scope.keys[1]),
    transitions=TRANSITIONS,
    guard=_guard,
    apply=_apply,
    invariants=(
        Invariant(
            "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION",
            "structural",
            "an install needs a published package and the target's admission (INV-13)",
            lambda s: not s.installed or s.install_ready,
        ),
        Invariant(
            "INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN",
            "structural",
            "installing grants no payload, context or run authority: no such event exists (INV-10/11/12)",
        ),
        Invariant(
            "WITHDRAWAL_BLOCKS_FUTURE",
            "structural",
            "after the package is withdrawn, no install, upgrade or run-eligible note",
        ),
        Invariant(
            "HISTORY_PRESERVED_ON_WITHDRAWAL",
            "structural",
            "withdrawal and removal are future-only; an install's history stays (INV-18)",
            _history_kept,
        ),
        Invariant(
            "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION",
            "structural",
            "an upgrade needs a replacement published by the owners and admitted by the "
            "target (or the holder's standing auto-upgrade opt-in)",
            lambda s: not s.replacement_target_admitted or s.replacement_published,
        ),
        Invariant(
            "PLACEMENT_IS_CONFIG_ONLY",
            "structural",
            "a placement changes config, context and notes only, never the method (INV-24)",
            lambda s: not any(method_surface_key(k) for k in s.config),
        ),
    ),
)
