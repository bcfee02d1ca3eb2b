"""Questions about a placement, answered from recorded state alone: may it run at time T, which
phase of the seed's package-distribution lifecycle is it in, is an update available.

``verdict`` is the seed's ``attested_run_verdict_at`` extended to the whole chain (package →
placement → entitlement): pure, the clock passed in as data (INV-9), fail-closed (INV-20) —
anything missing or inconsistent is Ineligible. ``run_ready = installed ∧ entitled``.

What this module does not do: read files or the clock (the CLI does), or write anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from gitdocket.core.fields import parse_time, semver_key
from gitdocket.lifecycles.entitlement import EntitlementState
from gitdocket.lifecycles.package import PackageState
from gitdocket.lifecycles.placement import PlacementState

__all__ = ["REASONS", "Verdict", "distribution_phase", "update_available", "verdict"]

Reason = Literal["Expired", "Blocked", "NoActiveEntitlement", "NotInstalled", "Withdrawn"]
REASONS: tuple[Reason, ...] = ("Withdrawn", "NotInstalled", "Blocked", "NoActiveEntitlement", "Expired")
"""Every reason, in the order ``verdict`` tests them (the first that applies wins)."""


@dataclass(frozen=True)
class Verdict:
    """``Active``, or ``Ineligible`` with a reason and a sentence that says why."""

    reason: Reason | None
    detail: str

    @property
    def eligible(self) -> bool:
        return self.reason is None

    @property
    def label(self) -> str:
        return "Active" if self.reason is None else f"Ineligible ({self.reason})"


def _package_reason(placement: PlacementState, package: PackageState) -> Verdict | None:
    pin = placement.pin
    if package.phase == "withdrawn":
        return Verdict("Withdrawn", f"package {package.archetype} {package.version} was withdrawn")
    if pin is None or package.phase != "published" or package.manifest is None:
        return Verdict("NotInstalled", "no published package backs the placement")
    if (pin.archetype, pin.version) != (
        package.archetype,
        package.version,
    ) or pin.content_hash != package.manifest.content_hash:
        return Verdict("NotInstalled", "the pinned content does not match the package")
    return None


def _entitlement_reason(entitlement: EntitlementState, at: datetime) -> Verdict | None:
    phase = entitlement.phase
    if phase == "withdrawn":
        return Verdict("Withdrawn", "the install was withdrawn from the entitlement")
    if phase in ("suspended", "closed"):
        return Verdict("Blocked", f"the entitlement is {phase}")
    if not entitlement.active_entitlement:
        return Verdict("NoActiveEntitlement", f"the entitlement is {phase}, not active")
    if entitlement.expires_at is not None:
        try:
            expiry = parse_time(entitlement.expires_at)
        except ValueError:
            return Verdict("Expired", f"unreadable expiry {entitlement.expires_at!r} (fail-closed)")
        if at >= expiry:
            return Verdict("Expired", f"the entitlement expired at {entitlement.expires_at}")
    return None


def verdict(placement: PlacementState, entitlement: EntitlementState, package: PackageState, at: datetime) -> Verdict:
    """May the placement run at ``at``? Pure; absent scopes are their initial states."""
    found = _package_reason(placement, package)
    if found is None and placement.phase != "installed":
        found = Verdict("NotInstalled", f"the placement is {placement.phase.replace('_', ' ')}")
    if found is None:
        found = _entitlement_reason(entitlement, at)
    if found is not None:
        return found
    until = f" until {entitlement.expires_at}" if entitlement.expires_at else ""
    return Verdict(None, f"installed and entitled{until}")


def distribution_phase(package: PackageState, placement: PlacementState) -> str:
    """The seed's package-distribution phase of this package × this target.

    Draft, Published and Withdrawn come from the package scope; InstallRequested, Installed,
    Disabled, Removed and Denied from the placement. A withdrawal shows over a live install track
    (the install's history stays); Removed and Denied are final whatever the package does.
    """
    names = {
        "install_requested": "InstallRequested",
        "installed": "Installed",
        "disabled": "Disabled",
        "removed": "Removed",
        "denied": "Denied",
    }
    if placement.phase in ("removed", "denied"):
        return names[placement.phase]
    if package.phase == "withdrawn":
        return "Withdrawn"
    if placement.phase == "none":
        return "Published" if package.phase == "published" else "Draft"
    return names[placement.phase]


def update_available(pinned: str, published: Iterable[str]) -> str | None:
    """The newest published version newer than ``pinned``, if any ("update available")."""
    newer = [v for v in published if semver_key(v) > semver_key(pinned)]
    return max(newer, key=semver_key) if newer else None
