"""Hypothesis over the deployment-entitlement lifecycle with a moving clock and a placement
that may come and go. After every step: the machine's invariants, ``replay == current``, and
the verdict agrees with the seed (receipts never activate; suspension blocks; Active needs an
installed placement, an authority's activation and an unexpired term)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gitdocket.core.documents import Posture
from gitdocket.core.fields import format_time
from gitdocket.core.scopes import scope
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.eligibility import verdict
from gitdocket.lifecycles.entitlement import LIFECYCLE as ENTITLEMENT
from gitdocket.lifecycles.package import Manifest, PackageState
from gitdocket.lifecycles.placement import Pin, PlacementState

SCOPE = scope("entitlement", "acme", "triage")
H = "sha256:" + "1" * 64
PACKAGE = PackageState(
    phase="published",
    archetype="a",
    version="1.0.0",
    manifest=Manifest(
        archetype="a",
        version="1.0.0",
        content_hash=H,
        method_tree="a" * 40,
        publisher="alice",
        protection_posture=Posture(deployment_mode="attested"),
    ),
)
START = datetime(2026, 1, 1, tzinfo=UTC)
COMMANDS = st.sampled_from(
    [
        "AdmitPackageInstall",
        "RequestEntitlement",
        "ActivateEntitlement",
        "RecordBillingReceipt",
        "RecordSupportReceipt",
        "MarkRunEligible",
        "StartGovernedRun",
        "SuspendEntitlement",
        "ResumeEntitlement",
        "CloseEntitlement",
        "DenyOrExpire",
        "WithdrawPackageInstall",
    ]
)


class EntitlementMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = ENTITLEMENT.initial(SCOPE)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.now = START
        self.installed = True
        self.before = self.state

    def placement(self) -> PlacementState:
        pin = Pin(archetype="a", version="1.0.0", content_hash=H, method_tree="a" * 40)
        return PlacementState(
            phase="installed" if self.installed else "disabled",
            pin=pin,
            published=True,
            target_admitted=True,
            installed=True,
            ever_installed=True,
        )

    @rule(command=COMMANDS, days=st.integers(min_value=-5, max_value=30))
    def act(self, command: str, days: int) -> None:
        data: dict[str, Any] = {
            "AdmitPackageInstall": {
                "placement": {
                    "seq": 3,
                    "head": "sha256:" + "0" * 64,
                    "phase": "installed" if self.installed else "disabled",
                }
            },
            "ActivateEntitlement": {"expires_at": format_time(self.now + timedelta(days=days)) if days > 0 else None},
            "RecordBillingReceipt": {"reference": "B"},
            "RecordSupportReceipt": {"reference": "S"},
            "SuspendEntitlement": {"reason": "r"},
            "CloseEntitlement": {"reason": "r"},
            "DenyOrExpire": {"reason": "r"},
            "WithdrawPackageInstall": {"reason": "r"},
        }.get(command, {})
        self.before = self.state
        try:
            decision = ENTITLEMENT.decide(self.state, command, data)
        except InvariantError:
            return
        self.events.append((decision.type, decision.data))
        self.state = ENTITLEMENT.evolve(self.state, decision.type, decision.data)
        if command.startswith("Record"):
            assert (self.state.phase, self.state.activated_by_authority) == (
                self.before.phase,
                self.before.activated_by_authority,
            ), "a receipt activated"

    @rule(hours=st.integers(min_value=0, max_value=24 * 40))
    def tick(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule()
    def toggle_install(self) -> None:
        self.installed = not self.installed

    @invariant()
    def seed_invariants_hold(self) -> None:
        assert ENTITLEMENT.broken_invariants(self.state) == []
        assert ENTITLEMENT.replay(SCOPE, self.events) == self.state
        result = verdict(self.placement(), self.state, PACKAGE, self.now)
        if result.eligible:
            assert self.installed and self.state.active_entitlement
            assert self.state.phase == "active"
            assert self.state.expires_at is None or format_time(self.now) < self.state.expires_at
        if self.state.phase in ("suspended", "closed") and self.installed:
            assert result.reason == "Blocked"


EntitlementMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestEntitlementStateful = EntitlementMachine.TestCase
