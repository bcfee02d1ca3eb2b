"""The placement lifecycle's records: the state a placement folds to, the pin it holds, what the
writer saw of the package log (``PackageRef``), and the data each of its commands carries. The
rules over them (the table, guards and invariants) are in ``placement``. Pure.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from gitdocket.core.documents import CONFIG_KEY_RE, METHOD_FIELDS
from gitdocket.core.fields import FREE_TEXT, Digest, FreeText, GitOid, Name, OptionalFreeText, Semver, Timestamp
from gitdocket.core.model import OptionalReasonData, Record

__all__ = [
    "CONFIG_KEY",
    "INSTALL_PHASES",
    "METHOD_SURFACE",
    "AdmitData",
    "AdmitReplacementData",
    "AutoUpgradeData",
    "DenyData",
    "EditData",
    "OptionalReasonData",
    "PackageData",
    "PackageRef",
    "Pin",
    "PinData",
    "PlacementState",
    "ReplacementData",
    "RequestData",
    "UpgradeData",
    "method_surface_key",
]

Phase = Literal["none", "install_requested", "installed", "disabled", "removed", "denied"]
INSTALL_PHASES = ("installed", "disabled")
"""Phases in which the placement holds an install (the seed's ``installed`` flag)."""

METHOD_SURFACE = METHOD_FIELDS | {"agent-config.json"}
"""Config keys that name the method's defining fields: a placement may never hold them (INV-24),
whatever an archetype declares."""
CONFIG_KEY = CONFIG_KEY_RE


def method_surface_key(key: str) -> bool:
    """True when a config key would write the method (a method field, a nested key or a path)."""
    return key.lower() in METHOD_SURFACE or "/" in key or "." in key


class Pin(Record):
    """One frozen, published version, as the placement pins it; ``vendor`` names the registry
    it came from when it is not this one (its logs under ``registry/vendors/<vendor>``)."""

    archetype: Name
    version: Semver
    content_hash: Digest
    method_tree: GitOid
    vendor: Name | None = Field(default=None, exclude_if=lambda vendor: vendor is None)


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
    request_expires_at: str | None = None
    """When the install request lapses unless the target admitted it by then."""

    @property
    def install_ready(self) -> bool:
        return self.published and self.target_admitted

    @property
    def replacement_ready(self) -> bool:
        return self.replacement_published and self.replacement_target_admitted


class PinData(Record):
    """A pinned version and what the writer saw of its package log."""

    archetype: Name
    version: Semver
    content_hash: Digest
    method_tree: GitOid
    package: PackageRef
    vendor: Name | None = Field(default=None, exclude_if=lambda vendor: vendor is None)

    def pin(self) -> Pin:
        return Pin(
            archetype=self.archetype,
            version=self.version,
            content_hash=self.content_hash,
            method_tree=self.method_tree,
            vendor=self.vendor,
        )


class RequestData(PinData):
    """A holder's install request."""

    expires_at: Timestamp | None = None
    """When the request lapses unless the target admitted it (None: never)."""


class ReplacementData(PinData):
    """A replacement offered by the archetype's owners."""


class AdmitData(Record):
    content_hash: Digest


class DenyData(Record):
    """The target's admins deny a pending request, or record that it expired."""

    reason: FreeText = ""
    expired: bool = False


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
    """A patch: ``None`` leaves a field as it is. There is no field for the method (INV-24).
    ``editable`` is what the writer saw the pinned version declare editable (its frozen
    ``archetype.yaml`` list): the guard admits only those keys, ``verify`` checks the list."""

    config: Annotated[dict[str, Any] | None, FREE_TEXT] = None
    context: OptionalFreeText = None
    notes: OptionalFreeText = None
    auto_upgrade: bool | None = None
    editable: tuple[str, ...] = Field(default=(), exclude_if=lambda keys: not keys)
