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
entitlement's business. Its records (state, pin, command data) are in ``placement_records``.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitdocket.core.fields import semver_key
from gitdocket.core.model import OptionalReasonData, Record
from gitdocket.errors import Invariant, InvariantError
from gitdocket.lifecycles.invariants import HISTORY_PRESERVED_ON_WITHDRAWAL, WITHDRAWAL_BLOCKS_FUTURE
from gitdocket.lifecycles.machine import Machine, Transition
from gitdocket.lifecycles.placement_records import (
    CONFIG_KEY,
    INSTALL_PHASES,
    METHOD_SURFACE,
    AdmitData,
    AdmitReplacementData,
    AutoUpgradeData,
    DenyData,
    EditData,
    PackageData,
    PackageRef,
    Pin,
    PlacementState,
    ReplacementData,
    RequestData,
    UpgradeData,
    method_surface_key,
)

__all__ = [
    "INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN",
    "INSTALL_PHASES",
    "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION",
    "LIFECYCLE",
    "METHOD_SURFACE",
    "PLACEMENT_IS_CONFIG_ONLY",
    "PLACEMENT_UNIQUE",
    "REQUEST_EXPIRES",
    "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION",
    "PackageRef",
    "Pin",
    "PlacementState",
    "method_surface_key",
]

INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION = Invariant(
    "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION",
    "structural",
    "an install needs a published package and the target's admission (INV-13)",
)
INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN = Invariant(
    "INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN",
    "structural",
    "installing grants no payload, context or run authority: no such event exists (INV-10/11/12)",
)
UPGRADE_REQUIRES_REPLACEMENT_ADMISSION = Invariant(
    "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION",
    "structural",
    "an upgrade needs a replacement published by the owners and admitted by the "
    "target (or the holder's standing auto-upgrade opt-in)",
)
PLACEMENT_IS_CONFIG_ONLY = Invariant(
    "PLACEMENT_IS_CONFIG_ONLY",
    "structural",
    "a placement changes config, context and notes only, never the method (INV-24)",
)
PLACEMENT_UNIQUE = Invariant(
    "PLACEMENT_UNIQUE", "structural", "a placement address is requested once; addresses are never reused"
)
REQUEST_EXPIRES = Invariant(
    "REQUEST_EXPIRES",
    "operational",
    "an install request the target has not admitted by its expiry lapses: after it, only its denial is recorded",
)
_INV13 = INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION
_UPGRADE = UPGRADE_REQUIRES_REPLACEMENT_ADMISSION
_TRACK = ("install_requested", "installed", "disabled")
_STATUS = "see where it stands: `gitdocket placement status {project}/{name}`"


def _check_package(ref: PackageRef) -> None:
    if ref.phase == "withdrawn":
        raise InvariantError(
            "the package is withdrawn", WITHDRAWAL_BLOCKS_FUTURE, "choose another published version of the archetype"
        )
    if ref.phase != "published":
        raise InvariantError(
            "the package is not published", _INV13, "an owner publishes it first (`gitdocket package publish`)"
        )


def _check_request(_state: PlacementState, data: RequestData) -> None:
    _check_package(data.package)


def _request_lasts(_state: PlacementState, data: RequestData, at: str) -> None:
    if data.expires_at is not None and data.expires_at <= at:
        raise InvariantError(
            f"the request would expire at {data.expires_at}, not after it is made ({at})",
            REQUEST_EXPIRES,
            "pass a later --expires, or `never`",
        )


def _not_lapsed(state: PlacementState, _data: AdmitData, at: str) -> None:
    if state.request_expires_at is not None and at >= state.request_expires_at:
        raise InvariantError(
            f"the request expired at {state.request_expires_at}",
            REQUEST_EXPIRES,
            f"an admin records it (`gitdocket placement expire {state.project}/{state.name}`); "
            "the holder requests again under another --name",
        )


def _lapsed(state: PlacementState, data: DenyData, at: str) -> None:
    """Recording an expiry needs the request to have expired by then."""
    if data.expired and (state.request_expires_at is None or at < state.request_expires_at):
        when = state.request_expires_at or "never"
        raise InvariantError(
            f"the request has not expired (it expires {when})",
            REQUEST_EXPIRES,
            f"reject it instead: `gitdocket placement reject {state.project}/{state.name} --reason TEXT`",
        )


def _check_noted(_state: PlacementState, data: PackageData) -> None:
    _check_package(data.package)


def _scalar(value: Any) -> bool:
    """A config value: a string, number, boolean or null, or a list of them — never an object,
    whose keys could reach into the method's nested configuration."""
    if isinstance(value, list):
        return all(_scalar(item) and not isinstance(item, list) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


def _check_edit(state: PlacementState, data: EditData) -> None:
    if data.model_dump(exclude={"editable"}) == EditData().model_dump(exclude={"editable"}):
        raise InvariantError(
            "the edit changes nothing",
            PLACEMENT_IS_CONFIG_ONLY,
            "pass --set, --unset, --context, --notes or --auto-upgrade",
        )
    config = data.config or {}
    changed = [key for key, value in config.items() if key not in state.config or state.config[key] != value]
    for key in changed:  # keys set before stay as they are; every new value is judged
        _check_key(state, key, config[key], data.editable)


def _check_key(state: PlacementState, key: str, value: Any, editable: tuple[str, ...]) -> None:
    """An allow-list (INV-24): the pinned version declares the keys a placement may set."""
    pin = f"{state.pin.archetype} {state.pin.version}" if state.pin else "the pinned version"
    if method_surface_key(key) or not CONFIG_KEY.fullmatch(key):
        raise InvariantError(
            f"config key {key!r} could write the method, which is read-only in a placement (INV-24)",
            PLACEMENT_IS_CONFIG_ONLY,
            "to change the method, fork the archetype (owners only) or ask its owners for a new version",
        )
    if key not in editable:
        declared = ", ".join(editable) or "none"
        raise InvariantError(
            f"config key {key!r} is not one {pin} declares editable (editable: {declared})",
            PLACEMENT_IS_CONFIG_ONLY,
            "set a declared key, or ask the archetype's owners to declare it in archetype.yaml `editable:` "
            "of a new version",
        )
    if not _scalar(value):
        raise InvariantError(
            f"config key {key!r} takes a string, number, boolean or a list of them, not an object",
            PLACEMENT_IS_CONFIG_ONLY,
            "nested keys never reach the method: set a plain value",
        )


def _check_replacement(state: PlacementState, data: ReplacementData) -> None:
    assert state.pin is not None
    if data.archetype != state.pin.archetype:
        raise InvariantError(
            f"a replacement must come from {state.pin.archetype}, not {data.archetype}",
            _UPGRADE,
            "a fork is another archetype: place it",
        )
    if data.vendor != state.pin.vendor:
        raise InvariantError(
            "a replacement must come from the registry the pin came from", _UPGRADE, "place the other one instead"
        )
    if semver_key(data.version) <= semver_key(state.pin.version):
        raise InvariantError(
            f"{data.version} is not newer than the pinned {state.pin.version}", _UPGRADE, "offer a newer version"
        )
    _check_package(data.package)


def _check_offered(state: PlacementState, data: UpgradeData) -> None:
    repl = state.replacement
    if repl is None or not state.replacement_published or repl.version != data.version:
        raise InvariantError(
            f"{data.version} was not offered as a replacement",
            _UPGRADE,
            "an owner of the archetype offers it first (`gitdocket placement offer`)",
        )


def _check_upgrade(state: PlacementState, data: UpgradeData) -> None:
    """The holder upgrades to a replacement the owners offered and the target admitted."""
    _check_offered(state, data)
    if not state.replacement_target_admitted:
        raise InvariantError(
            f"the target has not admitted {data.version}",
            _UPGRADE,
            "a project admin runs `gitdocket placement admit P/N --to VERSION`",
        )
    _check_package(data.package)


def _check_auto_upgrade(state: PlacementState, data: AutoUpgradeData) -> None:
    """An owner's release upgrades an offered replacement only where the holder opted in."""
    _check_offered(state, data)
    if not state.auto_upgrade:
        raise InvariantError(
            "the holder did not opt in to auto-upgrade",
            _UPGRADE,
            "the target admits the replacement, then the holder upgrades",
        )
    _check_package(data.package)


def _check_admission(state: PlacementState, data: AdmitData) -> None:
    if state.pin is not None and data.content_hash != state.pin.content_hash:
        raise InvariantError("the admission names other content than the pin", _INV13, "admit what was requested")


def _check_install(state: PlacementState, data: PackageData) -> None:
    if not state.target_admitted:
        raise InvariantError(
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
        raise InvariantError(
            f"{data.version} was not offered as a replacement with that content",
            _UPGRADE,
            "an owner of the archetype offers it first (`gitdocket placement offer`)",
        )


def _requested(state: PlacementState, data: RequestData) -> PlacementState:
    return state.model_copy(update={"pin": data.pin(), "published": True, "request_expires_at": data.expires_at})


def _denied(state: PlacementState, data: DenyData) -> PlacementState:
    reason = data.reason or (f"the request expired at {state.request_expires_at}" if data.expired else None)
    return state.model_copy(update={"reason": reason})


def _set(**update: Any) -> Callable[[PlacementState, Record], PlacementState]:
    """An ``apply`` that sets fixed fields."""
    return lambda state, _data: state.model_copy(update=update)


def _reasoned(state: PlacementState, data: OptionalReasonData) -> PlacementState:
    return state.model_copy(update={"reason": data.reason or None})


def _removed(state: PlacementState, data: OptionalReasonData) -> PlacementState:
    return _reasoned(state, data).model_copy(update={"installed": False, "run_noted": False})


def _offered(state: PlacementState, data: ReplacementData) -> PlacementState:
    update = {"replacement": data.pin(), "replacement_published": True, "replacement_target_admitted": False}
    return state.model_copy(update=update)


def _upgraded(state: PlacementState, _data: UpgradeData) -> PlacementState:
    assert state.pin is not None and state.replacement is not None
    return state.model_copy(
        update={
            "superseded": (*state.superseded, state.pin),
            "pin": state.replacement,
            "replacement": None,
            "replacement_published": False,
            "replacement_target_admitted": False,
            "run_noted": False,
            "target_admitted": True,
        }
    )


def _edited(state: PlacementState, data: EditData) -> PlacementState:
    changes = {"config": data.config, "context": data.context, "notes": data.notes, "auto_upgrade": data.auto_upgrade}
    return state.model_copy(update={k: v for k, v in changes.items() if v is not None})


TRANSITIONS: tuple[Transition[PlacementState, Any], ...] = (
    Transition(
        "RequestInstall",
        "install_requested",
        ("none",),
        "install_requested",
        RequestData,
        does="request an install in",
        hint="pick another --name, or upgrade the existing placement",
        role="holders:{0}",
        invariant=PLACEMENT_UNIQUE,
        guard=_check_request,
        timed=_request_lasts,
        apply=_requested,
        doc="a holder asks to place a published package in the project (pins it)",
    ),
    Transition(
        "TargetAdmitInstall",
        "install_target_admitted",
        ("install_requested",),
        None,
        AdmitData,
        does="admit the install request of",
        hint=_STATUS,
        role="admins:{0}",
        invariant=_INV13,
        guard=_check_admission,
        timed=_not_lapsed,
        apply=_set(target_admitted=True),
        doc="the target project's admins admit the pinned content",
    ),
    Transition(
        "InstallPackage",
        "package_installed",
        ("install_requested",),
        "installed",
        PackageData,
        does="install",
        hint=_STATUS,
        role="holders:{0}",
        invariant=_INV13,
        guard=_check_install,
        apply=_set(installed=True, ever_installed=True),
        doc="install: needs the package published and the target's admission (INV-13)",
    ),
    Transition(
        "NoteRunEligible",
        "run_noted",
        ("installed",),
        None,
        PackageData,
        does="note the run eligibility of",
        hint=_STATUS,
        role="holders:{0}",
        invariant=WITHDRAWAL_BLOCKS_FUTURE,
        guard=_check_noted,
        apply=_set(run_noted=True),
        doc="note the install as eligible to run (grants nothing; entitlement decides)",
    ),
    Transition(
        "DisableInstall",
        "install_disabled",
        ("installed",),
        "disabled",
        OptionalReasonData,
        does="disable",
        hint=_STATUS,
        role="holders:{0}",
        apply=_reasoned,
        doc="stop using the install; history stays",
    ),
    Transition(
        "RemoveInstall",
        "install_removed",
        INSTALL_PHASES,
        "removed",
        OptionalReasonData,
        does="remove",
        hint=_STATUS,
        role="holders:{0}",
        invariant=HISTORY_PRESERVED_ON_WITHDRAWAL,
        apply=_removed,
        doc="remove the install (future-only: the log keeps every record)",
    ),
    Transition(
        "PublishReplacement",
        "replacement_published",
        INSTALL_PHASES,
        None,
        ReplacementData,
        does="offer a replacement to",
        hint=_STATUS,
        role="owners:{archetype}",
        invariant=_UPGRADE,
        guard=_check_replacement,
        apply=_offered,
        doc="the archetype's owners offer a newer published version",
    ),
    Transition(
        "TargetAdmitReplacement",
        "replacement_target_admitted",
        INSTALL_PHASES,
        None,
        AdmitReplacementData,
        does="admit a replacement for",
        hint=_STATUS,
        role="admins:{0}",
        invariant=_UPGRADE,
        guard=_check_replacement_admission,
        apply=_set(replacement_target_admitted=True),
        doc="the target's admins admit the offered replacement",
    ),
    Transition(
        "AdmitUpgrade",
        "package_superseded",
        INSTALL_PHASES,
        None,
        UpgradeData,
        does="upgrade",
        hint=_STATUS,
        role="holders:{0}",
        invariant=_UPGRADE,
        guard=_check_upgrade,
        apply=_upgraded,
        doc="the holder moves the pin to the admitted replacement; the old pin is superseded",
    ),
    Transition(
        "AutoUpgrade",
        "package_auto_upgraded",
        INSTALL_PHASES,
        None,
        AutoUpgradeData,
        does="auto-upgrade",
        hint=_STATUS,
        role="owners:{archetype}",
        invariant=_UPGRADE,
        guard=_check_auto_upgrade,
        apply=_upgraded,
        doc="an owner's release upgrades a placement whose holder opted in to auto-upgrade",
    ),
    Transition(
        "RejectOrExpire",
        "install_denied",
        ("install_requested",),
        "denied",
        DenyData,
        does="deny the install request of",
        hint=_STATUS,
        role="admins:{0}",
        timed=_lapsed,
        apply=_denied,
        doc="the target's admins reject the pending request, or record that it expired",
    ),
    Transition(
        "EditPlacement",
        "placement_edited",
        _TRACK,
        None,
        EditData,
        does="edit",
        hint=_STATUS,
        role="holders:{0}",
        invariant=PLACEMENT_IS_CONFIG_ONLY,
        guard=_check_edit,
        apply=_edited,
        doc="change config, context, notes or the auto-upgrade opt-in — never the method",
    ),
)


GRANTS = frozenset({"payload", "payload_access", "context_grant", "run_authority", "run_eligible", "entitled"})
"""State fields that would grant payload, context or run authority: a placement has none (run
eligibility is the entitlement's ``run_eligible``)."""


def _grants_nothing(s: PlacementState) -> bool:
    """INV-10/11/12: no placement state can hold a grant, whatever its events."""
    return not GRANTS & set(type(s).model_fields)


def _history_kept(s: PlacementState) -> bool:
    """INV-18: once installed, the install is still held, was removed, or was superseded."""
    return not s.ever_installed or s.installed or s.phase == "removed"


LIFECYCLE: Machine[PlacementState] = Machine(
    kind="placement",
    state=PlacementState,
    initial=lambda scope: PlacementState(project=scope.keys[0], name=scope.keys[1]),
    subject=lambda s: f"placement {s.project}/{s.name}",
    phases={
        "none": "it was never requested",
        "install_requested": "it is requested, not installed",
        "installed": "it is installed",
        "disabled": "it is disabled",
        "removed": "it was removed",
        "denied": "its request was denied",
    },
    transitions=TRANSITIONS,
    invariants=(
        INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION,
        INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN,
        UPGRADE_REQUIRES_REPLACEMENT_ADMISSION,
        PLACEMENT_IS_CONFIG_ONLY,
        PLACEMENT_UNIQUE,
        REQUEST_EXPIRES,
    ),
    holds=(
        (_INV13, lambda s: not s.installed or s.install_ready),
        (INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN, _grants_nothing),
        (HISTORY_PRESERVED_ON_WITHDRAWAL, _history_kept),
        (_UPGRADE, lambda s: not s.replacement_target_admitted or s.replacement_published),
        (PLACEMENT_IS_CONFIG_ONLY, lambda s: not any(method_surface_key(k) for k in s.config)),
    ),
)
