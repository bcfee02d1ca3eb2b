"""``eligibility``: the run verdict (pure, clock passed in, fail-closed), the seed's joined
distribution phase, and "update available"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gitdocket.core.documents import Posture
from gitdocket.core.fields import parse_time
from gitdocket.lifecycles.eligibility import REASONS, distribution_phase, update_available, verdict
from gitdocket.lifecycles.entitlement import EntitlementState
from gitdocket.lifecycles.package import Manifest, PackageState
from gitdocket.lifecycles.placement import Pin, PlacementState

H1 = "sha256:" + "1" * 64
H9 = "sha256:" + "9" * 64
PIN = Pin(archetype="support-triage", version="1.0.0", content_hash=H1, method_tree="a" * 40)
MANIFEST = Manifest(
    archetype="support-triage",
    version="1.0.0",
    content_hash=H1,
    method_tree="a" * 40,
    protection_posture=Posture(deployment_mode="attested"),
    publisher="alice",
)
PACKAGE = PackageState(phase="published", archetype="support-triage", version="1.0.0", manifest=MANIFEST)
PLACEMENT = PlacementState(
    phase="installed",
    project="acme",
    name="triage",
    pin=PIN,
    published=True,
    target_admitted=True,
    installed=True,
    ever_installed=True,
)
ENTITLED = EntitlementState(
    phase="active",
    package_installed=True,
    package_eligible=True,
    activated_by_authority=True,
    history_present=True,
    expires_at="2026-06-01T00:00:00Z",
)
AT = datetime(2026, 1, 1, tzinfo=UTC)


def check(
    placement: dict[str, Any] | None = None,
    entitlement: dict[str, Any] | None = None,
    package: dict[str, Any] | None = None,
    at: datetime = AT,
) -> str | None:
    return verdict(
        PLACEMENT.model_copy(update=placement or {}),
        ENTITLED.model_copy(update=entitlement or {}),
        PACKAGE.model_copy(update=package or {}),
        at,
    ).reason


def test_active_when_installed_and_entitled() -> None:
    result = verdict(PLACEMENT, ENTITLED, PACKAGE, AT)
    assert result.eligible and result.label == "Active"
    assert "2026-06-01" in result.detail


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        pytest.param({"package": {"phase": "withdrawn"}}, "Withdrawn", id="package-withdrawn"),
        pytest.param(
            {"entitlement": {"phase": "withdrawn", "package_eligible": False}},
            "Withdrawn",
            id="install-withdrawn-from-entitlement",
        ),
        pytest.param({"package": {"phase": "draft", "manifest": None}}, "NotInstalled", id="package-unpublished"),
        pytest.param(
            {"package": {"manifest": MANIFEST.model_copy(update={"content_hash": H9})}},
            "NotInstalled",
            id="pinned-content-differs-fail-closed",
        ),
        pytest.param({"placement": {"phase": "disabled"}}, "NotInstalled", id="disabled"),
        pytest.param(
            {"placement": {"phase": "install_requested", "installed": False}},
            "NotInstalled",
            id="only-requested-install-grants-nothing",
        ),
        pytest.param({"placement": {"phase": "removed", "installed": False}}, "NotInstalled", id="removed"),
        pytest.param({"entitlement": {"phase": "suspended"}}, "Blocked", id="suspended"),
        pytest.param({"entitlement": {"phase": "closed"}}, "Blocked", id="closed"),
        pytest.param(
            {"entitlement": {"phase": "suspended"}, "at": datetime(2030, 1, 1, tzinfo=UTC)},
            "Blocked",
            id="suspension-dominates-expiry",
        ),
        pytest.param({"entitlement": {"phase": "none"}}, "NoActiveEntitlement", id="no-entitlement"),
        pytest.param(
            {"entitlement": {"phase": "requested", "activated_by_authority": False}},
            "NoActiveEntitlement",
            id="requested",
        ),
        pytest.param(
            {"entitlement": {"activated_by_authority": False}}, "NoActiveEntitlement", id="phase-alone-is-not-enough"
        ),
        pytest.param({"at": datetime(2026, 6, 1, tzinfo=UTC)}, "Expired", id="expired-at-the-instant"),
        pytest.param({"entitlement": {"expires_at": "garbage"}}, "Expired", id="unreadable-expiry"),
    ],
)
def test_ineligible(kwargs: dict[str, Any], reason: str) -> None:
    assert check(**kwargs) == reason


@pytest.mark.parametrize(
    ("at", "eligible"),
    [
        pytest.param("2026-05-31T23:59:59Z", True, id="one-second-before"),
        pytest.param("2026-06-01T00:00:00Z", False, id="at-expiry"),
        pytest.param("2026-06-01T02:00:00+02:00", False, id="offset-equal-instant"),
    ],
)
def test_expiry_boundary(at: str, eligible: bool) -> None:
    assert verdict(PLACEMENT, ENTITLED, PACKAGE, parse_time(at)).eligible is eligible


def test_no_expiry_means_open_ended() -> None:
    assert check(entitlement={"expires_at": None}, at=datetime(2099, 1, 1, tzinfo=UTC)) is None


def test_reasons_are_the_documented_five() -> None:
    assert set(REASONS) == {"Expired", "Blocked", "NoActiveEntitlement", "NotInstalled", "Withdrawn"}


@pytest.mark.parametrize(
    ("package", "placement", "phase"),
    [
        pytest.param("draft", "none", "Draft", id="draft"),
        pytest.param("published", "none", "Published", id="published"),
        pytest.param("published", "install_requested", "InstallRequested", id="requested"),
        pytest.param("published", "installed", "Installed", id="installed"),
        pytest.param("published", "disabled", "Disabled", id="disabled"),
        pytest.param("withdrawn", "installed", "Withdrawn", id="withdrawn-over-install"),
        pytest.param("withdrawn", "removed", "Removed", id="removed-is-final"),
        pytest.param("published", "denied", "Denied", id="denied"),
    ],
)
def test_distribution_phase(package: str, placement: str, phase: str) -> None:
    assert (
        distribution_phase(
            PackageState(phase=package),  # type: ignore[arg-type]
            PlacementState(phase=placement),
        )
        == phase
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pinned", "published", "expected"),
    [
        pytest.param("1.0.0", ["1.0.0", "1.1.0", "1.10.0"], "1.10.0", id="newest"),
        pytest.param("1.1.0", ["1.0.0", "1.1.0"], None, id="up-to-date"),
        pytest.param("1.0.0", [], None, id="nothing-published"),
    ],
)
def test_update_available(pinned: str, published: list[str], expected: str | None) -> None:
    assert update_available(pinned, published) == expected
