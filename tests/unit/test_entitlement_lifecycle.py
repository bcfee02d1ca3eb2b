"""The deployment-entitlement lifecycle (seed 000): one test per transition row, and the teeth of
every invariant — the forbidden move is refused and the state stays as it was."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.core.scopes import scope
from gitdocket.errors import InputError, InvariantError
from gitdocket.lifecycles.entitlement import LIFECYCLE, EntitlementState
from tests.unit.lifecycle_checks import assert_worded

SCOPE = scope("entitlement", "acme", "triage")


def placement(phase: str = "installed") -> dict[str, Any]:
    return {"placement": {"seq": 3, "head": "sha256:" + "e" * 64, "phase": phase}}


def step(state: EntitlementState, command: str, data: dict[str, Any] | None = None) -> EntitlementState:
    decision = LIFECYCLE.decide(state, command, data or {})
    new = LIFECYCLE.evolve(state, decision.type, decision.data)
    assert LIFECYCLE.broken_invariants(new) == []
    return new


def run(*steps: tuple[str, dict[str, Any] | None]) -> EntitlementState:
    state = LIFECYCLE.initial(SCOPE)
    for command, data in steps:
        state = step(state, command, data)
    return state


ADMITTED = (("AdmitPackageInstall", placement()),)
REQUESTED = (*ADMITTED, ("RequestEntitlement", {"terms": "per seat"}))
ACTIVE = (*REQUESTED, ("ActivateEntitlement", {"expires_at": "2027-01-01T00:00:00Z"}))
ELIGIBLE = (*ACTIVE, ("MarkRunEligible", None))
SUSPENDED = (*ELIGIBLE, ("SuspendEntitlement", {"reason": "invoice overdue"}))
REASON = {"reason": "r"}


@pytest.mark.parametrize(
    ("steps", "phase", "check"),
    [
        pytest.param(
            ADMITTED,
            "none",
            lambda s: s.package_installed and s.history_present,
            id="AdmitPackageInstall-records-the-install",
        ),
        pytest.param(REQUESTED, "requested", lambda s: s.terms == "per seat", id="RequestEntitlement-requests"),
        pytest.param(
            ACTIVE,
            "active",
            lambda s: s.active_entitlement and s.expires_at == "2027-01-01T00:00:00Z",
            id="ActivateEntitlement-activates",
        ),
        pytest.param(
            (*REQUESTED, ("RecordBillingReceipt", {"reference": "INV-1"})),
            "requested",
            lambda s: s.billing_receipt and not s.activated_by_authority,
            id="RecordBillingReceipt-is-evidence",
        ),
        pytest.param(
            (*ACTIVE, ("RecordSupportReceipt", {"reference": "SUP-9"})),
            "active",
            lambda s: s.support_receipt and s.receipts[0].kind == "support",
            id="RecordSupportReceipt-is-evidence",
        ),
        pytest.param(ELIGIBLE, "active", lambda s: s.run_eligible, id="MarkRunEligible-marks"),
        pytest.param(
            (*ELIGIBLE, ("StartGovernedRun", None)), "active", lambda s: s.ever_run, id="StartGovernedRun-records"
        ),
        pytest.param(
            SUSPENDED, "suspended", lambda s: not s.run_eligible, id="SuspendEntitlement-clears-run-eligibility"
        ),
        pytest.param(
            (*SUSPENDED, ("ResumeEntitlement", None)),
            "active",
            lambda s: s.active_entitlement and not s.run_eligible,
            id="ResumeEntitlement-needs-a-new-mark",
        ),
        pytest.param(
            (*ELIGIBLE, ("CloseEntitlement", REASON)),
            "closed",
            lambda s: not s.run_eligible and s.history_present,
            id="CloseEntitlement-closes",
        ),
        pytest.param(
            (*REQUESTED, ("DenyOrExpire", REASON)),
            "denied",
            lambda s: not s.activated_by_authority,
            id="DenyOrExpire-denies",
        ),
        pytest.param(
            (*ELIGIBLE, ("WithdrawPackageInstall", REASON)),
            "withdrawn",
            lambda s: not s.package_eligible and not s.run_eligible and s.package_installed,
            id="WithdrawPackageInstall-ends-it",
        ),
    ],
)
def test_transition_row(steps: tuple[tuple[str, Any], ...], phase: str, check: Any) -> None:
    state = run(*steps)
    assert state.phase == phase
    assert check(state)


def test_every_row_is_covered() -> None:
    assert {t.command for t in LIFECYCLE.transitions} == {
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
    }


def refused(steps: tuple[tuple[str, Any], ...], command: str, data: dict[str, Any] | None) -> str:
    state = run(*steps)
    with pytest.raises(InvariantError) as info:
        LIFECYCLE.decide(state, command, data or {})
    assert run(*steps) == state
    assert_worded(LIFECYCLE, state, command, info.value)
    return info.value.invariant


@pytest.mark.parametrize(
    ("steps", "command", "data", "invariant"),
    [
        pytest.param(SUSPENDED, "StartGovernedRun", None, "SUSPENSION_BLOCKS_FUTURE_RUNS", id="RUN_WHILE_SUSPENDED"),
        pytest.param(SUSPENDED, "MarkRunEligible", None, "SUSPENSION_BLOCKS_FUTURE_RUNS", id="MARK_WHILE_SUSPENDED"),
        pytest.param(
            ACTIVE,
            "StartGovernedRun",
            None,
            "RUN_ELIGIBILITY_REQUIRES_ACTIVE_ENTITLEMENT",
            id="RUN_WITHOUT_ELIGIBILITY",
        ),
        pytest.param(
            REQUESTED,
            "MarkRunEligible",
            None,
            "RUN_ELIGIBILITY_REQUIRES_ACTIVE_ENTITLEMENT",
            id="RUN_WITHOUT_ENTITLEMENT",
        ),
        pytest.param(
            (), "RequestEntitlement", None, "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT", id="REQUEST_WITHOUT_INSTALL"
        ),
        pytest.param(
            (),
            "AdmitPackageInstall",
            placement("install_requested"),
            "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT",
            id="ADMIT_UNINSTALLED_PLACEMENT",
        ),
        pytest.param(
            ADMITTED, "AdmitPackageInstall", placement(), "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT", id="ADMIT_TWICE"
        ),
        pytest.param(
            (*REQUESTED, ("WithdrawPackageInstall", REASON)),
            "ActivateEntitlement",
            {},
            "ENTITLEMENT_REQUIRES_AUTHORITY",
            id="ACTIVATE_AFTER_WITHDRAWAL",
        ),
        pytest.param(
            (*ACTIVE, ("CloseEntitlement", REASON)),
            "ResumeEntitlement",
            None,
            "TRANSITION_NOT_ALLOWED",
            id="RESUME_AFTER_CLOSE",
        ),
    ],
)
def test_teeth(steps: tuple[tuple[str, Any], ...], command: str, data: dict[str, Any] | None, invariant: str) -> None:
    assert refused(steps, command, data) == invariant


@pytest.mark.parametrize("command", ["RecordBillingReceipt", "RecordSupportReceipt"])
def test_receipts_never_activate(command: str) -> None:
    """BILLING/SUPPORT_GRANTS_ENTITLEMENT teeth: a receipt leaves the phase and authority alone."""
    state = run(*REQUESTED, (command, {"reference": "R-1"}), (command, {"reference": "R-2"}))
    assert state.phase == "requested"
    assert not state.activated_by_authority and not state.active_entitlement
    with pytest.raises(InvariantError):
        LIFECYCLE.decide(state, "MarkRunEligible", {})


def test_close_keeps_history() -> None:
    """CLOSE_ERASES_HISTORY teeth: closing keeps receipts, runs and the install record."""
    state = run(
        *ELIGIBLE,
        ("StartGovernedRun", None),
        ("RecordBillingReceipt", {"reference": "B"}),
        ("CloseEntitlement", REASON),
    )
    assert state.ever_run and state.history_present and state.package_installed
    assert [r.reference for r in state.receipts] == ["B"]
    erased = state.model_copy(update={"history_present": False})
    assert "HISTORY_PRESERVED_ON_CLOSE" in LIFECYCLE.broken_invariants(erased)


@pytest.mark.parametrize(
    ("update", "invariant"),
    [
        pytest.param(
            {"activated_by_authority": False}, "ENTITLEMENT_REQUIRES_AUTHORITY", id="active-without-authority"
        ),
        pytest.param({"package_eligible": False}, "PHASE_IS_AUTHORITATIVE", id="phase-desync"),
        pytest.param({"phase": "suspended"}, "SUSPENSION_BLOCKS_FUTURE_RUNS", id="suspended-eligible"),
        pytest.param({"package_installed": False}, "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT", id="no-install"),
    ],
)
def test_state_invariants_have_teeth(update: dict[str, Any], invariant: str) -> None:
    state = run(*ELIGIBLE).model_copy(update=update)
    assert invariant in LIFECYCLE.broken_invariants(state)


def test_expiry_must_be_a_utc_time() -> None:
    with pytest.raises(InputError):
        LIFECYCLE.decide(run(*REQUESTED), "ActivateEntitlement", {"expires_at": "tomorrow"})
