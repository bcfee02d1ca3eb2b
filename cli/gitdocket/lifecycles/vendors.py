"""Crossing between registries (seed 000: "crossing requires source-permit and target-admit").

A *vendor* registry publishes a package; a *client* registry installs it under its own boundary.
Three records make the crossing, each signed where it belongs:

- the client's policy pins the vendor's root (``VendorRoot``: the vendor registry's name, its root
  keys and threshold) with a root-signed policy event, and only such an event changes it
  (``VENDOR_ROOT_PINNED``);
- the vendor's owners permit the package for one client (``Permit``: the client registry's name
  and the digest of its root, ``root_digest``), an event of the vendor's package log
  (source-permit);
- the client's holders request the install with a pin naming the vendor, its admins admit it
  (target-admit) and its holders install it: the placement track, unchanged.

The method payload crosses only when the package's crossing terms say so (``payload_may_cross``).
These are the records and the pure rules over them; ``verify.vendors`` checks a vendor's imported
logs offline against the pin, and ``ops.vendors`` asks the same questions before it writes. Pure.
"""

from __future__ import annotations

from pydantic import Field

from gitdocket.core.canonical import canonical, sha256_hex
from gitdocket.core.documents import Posture
from gitdocket.core.fields import Digest, Name, Principal
from gitdocket.core.model import Record

__all__ = [
    "PAYLOAD_TERMS",
    "VENDORS",
    "Permit",
    "PinVendorData",
    "VendorKey",
    "VendorRoot",
    "payload_may_cross",
    "root_digest",
    "vendor_folder",
]

VENDORS = "registry/vendors"
"""Where a client keeps each vendor's imported logs: ``registry/vendors/<vendor>/`` holds them at
the paths they have in the vendor's registry (``registry/packages/<a>/<v>/history.jsonl`` …)."""

PAYLOAD_TERMS = "method may cross"
"""The words a package's ``crossing_terms`` must contain (in any case) for its frozen method to
be copied into a client registry. Without them only handles and metadata cross."""


class VendorKey(Record):
    """One root key of a registry: the principal's name and its SSH public key line."""

    name: Principal
    public_key: str = Field(min_length=1)


class VendorRoot(Record):
    """What a client pins of a vendor: the vendor registry's name (its ``registry.yaml``), its
    root principals' keys and the root threshold. It is also what ``gitdocket vendor root``
    prints of a registry, and what a vendor permits a client by (``root_digest``)."""

    registry: str = Field(min_length=1)
    keys: tuple[VendorKey, ...] = Field(min_length=1)
    threshold: int = Field(default=1, ge=1)


class PinVendorData(Record):
    """A root-signed policy event: trust ``vendor``'s records under ``root``."""

    vendor: Name
    root: VendorRoot


class Permit(Record):
    """A vendor's source-permit: the package may cross into the registry named ``client`` whose
    root digest is ``client_root``."""

    client: str = Field(min_length=1)
    client_root: Digest


def root_digest(root: VendorRoot) -> str:
    """The digest a permit names a client by: sha256 of the root's canonical JSON."""
    return "sha256:" + sha256_hex(canonical(root.model_dump(mode="json")))


def payload_may_cross(posture: Posture) -> bool:
    """True when the package's crossing terms permit its method to cross (``PAYLOAD_TERMS``)."""
    return PAYLOAD_TERMS in posture.crossing_terms.casefold()


def vendor_folder(vendor: str) -> str:
    return f"{VENDORS}/{vendor}"
