"""The deployment-entitlement lifecycle of seed 000, one per placement.

``registry/entitlements/<project>/<name>`` governs whether the placement ``<project>/<name>``
may run: None → Requested → Active ⇄ Suspended → Closed; Requested → Denied; and Withdrawn when
the install itself goes away. Only the project's entitlement ``authorities`` activate, suspend,
resume, close or deny. Billing and support receipts are correlated evidence: they are recorded
and never activate anything (INV-16). An activation may carry an expiry; the verdict at a given
time is ``eligibility.verdict`` (pure, clock passed in).

The fact that the placement is installed enters as command data (a ``PlacementRef``: the
placement log's seq, the hash of that line, and its phase), so verify can check it. Pure: no
I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from gitdocket.core.fields import Digest, FreeText, Timestamp
from gitdocket.core.model import ReasonData, Record
from gitdocket.errors import Invariant, InvariantError
from gitdocket.lifecycles.machine import Machine, NoData, Refusal, Transition
from gitdocket.lifecycles.placement import LIFECYCLE as PLACEMENT

__all__ = [
    "ENTITLEMENT_REQUIRES_AUTHORITY",
    "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT",
    "HISTORY_PRESERVED_ON_CLOSE",
    "LIFECYCLE",
    "PHASE_IS_AUTHORITATIVE",
    "RUN_ELIGIBILITY_REQUIRES_ACTIVE_ENTITLEMENT",
    "SUSPENSION_BLOCKS_FUTURE_RUNS",
    "EntitlementState",
    "PlacementRef",
    "Receipt",
]

Phase = Literal["none", "requested", "active", "suspended", "closed", "denied", "withdrawn"]


class PlacementRef(Record):
    """What the writer saw of the placement log: line ``seq``, its hash, the phase after it."""

    seq: int = Field(ge=1)
    head: Digest
    phase: str = Field(min_length=1)


class Receipt(Record):
    kind: Literal["billing", "support"]
    reference: str = Field(min_length=1, max_length=200)


class EntitlementState(Record):
    phase: Phase = "none"
    project: str = ""
    name: str = ""
    package_installed: bool = False
    package_eligible: bool = False
    activated_by_authority: bool = False
    billing_receipt: bool = False
    support_receipt: bool = False
    run_eligible: bool = False
    ever_run: bool = False
    history_present: bool = False
    terms: str = ""
    expires_at: str | None = None
    receipts: tuple[Receipt, ...] = ()
    reason: str | None = None

    @property
    def active_entitlement(self) -> bool:
        """The seed's ``active_entitlement()``: the phase alone is never enough."""
        return (
            self.package_installed and self.package_eligible and self.phase == "active" and self.activated_by_authority
        )


class AdmitInstallData(Record):
    placement: PlacementRef


class RequestData(Record):
    terms: FreeText = ""


class ActivateData(Record):
    expires_at: Timestamp | None = None
    terms: FreeText = ""


class ReceiptData(Record):
    reference: FreeText = Field(min_length=1, max_length=200)


ENTITLEMENT_REQUIRES_AUTHORITY = Invariant(
    "ENTITLEMENT_REQUIRES_AUTHORITY",
    "structural",
    "only an entitlement authority activates; receipts are evidence, not authority (INV-16)",
)
ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT = Invariant(
    "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT", "structural", "an entitlement exists only for an installed placement"
)
RUN_ELIGIBILITY_REQUIRES_ACTIVE_ENTITLEMENT = Invariant(
    "RUN_ELIGIBILITY_REQUIRES_ACTIVE_ENTITLEMENT",
    "structural",
    "a deployment is run-eligible only under an active entitlement",
)
SUSPENSION_BLOCKS_FUTURE_RUNS = Invariant(
    "SUSPENSION_BLOCKS_FUTURE_RUNS", "structural", "a suspended (or closed) entitlement allows no governed run"
)
HISTORY_PRESERVED_ON_CLOSE = Invariant(
    "HISTORY_PRESERVED_ON_CLOSE",
    "structural",
    "closing or withdrawing never erases install, run or receipt history (INV-18)",
)
PHASE_IS_AUTHORITATIVE = Invariant(
    "PHASE_IS_AUTHORITATIVE", "structural", "phase Active always means an active entitlement"
)
_INSTALLED = ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT
_ACTIVE = RUN_ELIGIBILITY_REQUIRES_ACTIVE_ENTITLEMENT
_RUN_REFUSALS = (Refusal(("suspended", "closed"), SUSPENSION_BLOCKS_FUTURE_RUNS),)
_RECEIPT_PHASES = ("requested", "active", "suspended", "closed")
_SHOW = "see where it stands: `gitdocket entitlement show {project}/{name}`"
_INSTALL_FIRST = "install the placement first (`gitdocket placement install P/N`)"


def _needs_install(state: EntitlementState, _data: Record) -> None:
    if not (state.package_installed and state.package_eligible):
        raise InvariantError("the placement's install is not admitted", _INSTALLED, _INSTALL_FIRST)


def _admit(state: EntitlementState, data: AdmitInstallData) -> None:
    if state.package_installed:
        raise InvariantError("the install is already admitted", _INSTALLED, "nothing to do")
    if data.placement.phase != "installed":
        words = PLACEMENT.phases.get(data.placement.phase, "it is not installed")
        raise InvariantError(f"the placement is not installed ({words})", _INSTALLED, _INSTALL_FIRST)


def _mark(state: EntitlementState, _data: NoData) -> None:
    if not state.active_entitlement:
        raise InvariantError("no active entitlement", _ACTIVE, "an authority activates the entitlement first")


def _start(state: EntitlementState, _data: NoData) -> None:
    if not state.run_eligible:
        raise InvariantError(
            "the deployment is not marked run-eligible", _ACTIVE, "mark it eligible while the entitlement is active"
        )


def _withdraw(state: EntitlementState, _data: ReasonData) -> None:
    if not state.package_installed:
        raise InvariantError("no install was ever admitted", _INSTALLED, "nothing to withdraw")


def _set(**update: Any) -> Callable[[EntitlementState, Record], EntitlementState]:
    """An ``apply`` that sets fixed fields."""
    return lambda state, _data: state.model_copy(update=update)


def _requested(state: EntitlementState, data: RequestData) -> EntitlementState:
    return state.model_copy(update={"terms": data.terms})


def _activated(state: EntitlementState, data: ActivateData) -> EntitlementState:
    update = {"activated_by_authority": True, "expires_at": data.expires_at, "terms": data.terms or state.terms}
    return state.model_copy(update=update)


def _receipt(kind: Literal["billing", "support"]) -> Callable[[EntitlementState, ReceiptData], EntitlementState]:
    """The ``apply`` of a ``kind`` receipt: recorded as evidence, nothing else changes (INV-16)."""

    def record(state: EntitlementState, data: ReceiptData) -> EntitlementState:
        receipt = Receipt(kind=kind, reference=data.reference)
        update = {f"{kind}_receipt": True, "history_present": True, "receipts": (*state.receipts, receipt)}
        return state.model_copy(update=update)

    return record


def _ended(**update: Any) -> Callable[[EntitlementState, ReasonData], EntitlementState]:
    """The ``apply`` of an event with a reason that also sets ``update``."""
    return lambda state, data: state.model_copy(update={**update, "reason": data.reason})


TRANSITIONS: tuple[Transition[EntitlementState, Any], ...] = (
    Transition(
        "AdmitPackageInstall",
        "package_install_admitted",
        ("none",),
        None,
        AdmitInstallData,
        does="record the installed placement of",
        hint=_SHOW,
        role="holders:{0}",
        invariant=_INSTALLED,
        guard=_admit,
        apply=_set(package_installed=True, package_eligible=True, history_present=True),
        doc="record that the placement is installed (the entitlement's subject)",
    ),
    Transition(
        "RequestEntitlement",
        "entitlement_requested",
        ("none",),
        "requested",
        RequestData,
        does="request",
        hint=_SHOW,
        role="holders:{0}",
        invariant=_INSTALLED,
        guard=_needs_install,
        apply=_requested,
        doc="the holder asks the project's authorities for an entitlement",
    ),
    Transition(
        "ActivateEntitlement",
        "entitlement_activated",
        ("requested",),
        "active",
        ActivateData,
        does="activate",
        hint=_SHOW,
        role="authorities:{0}",
        invariant=ENTITLEMENT_REQUIRES_AUTHORITY,
        guard=_needs_install,
        apply=_activated,
        doc="an entitlement authority activates it, optionally until an expiry",
    ),
    Transition(
        "RecordBillingReceipt",
        "billing_receipt_recorded",
        _RECEIPT_PHASES,
        None,
        ReceiptData,
        does="record a billing receipt for",
        hint=_SHOW,
        role="holders:{0}",
        invariant=ENTITLEMENT_REQUIRES_AUTHORITY,
        apply=_receipt("billing"),
        doc="record a billing receipt: evidence only, never activates (INV-16)",
    ),
    Transition(
        "RecordSupportReceipt",
        "support_receipt_recorded",
        _RECEIPT_PHASES,
        None,
        ReceiptData,
        does="record a support receipt for",
        hint=_SHOW,
        role="holders:{0}",
        invariant=ENTITLEMENT_REQUIRES_AUTHORITY,
        apply=_receipt("support"),
        doc="record a support receipt: evidence only, never activates (INV-16)",
    ),
    Transition(
        "MarkRunEligible",
        "run_marked_eligible",
        ("active",),
        None,
        NoData,
        does="mark runs eligible under",
        hint=_SHOW,
        role="holders:{0}",
        invariant=_ACTIVE,
        refusals=_RUN_REFUSALS,
        guard=_mark,
        apply=_set(run_eligible=True),
        doc="mark the deployment eligible for governed runs (needs an active entitlement)",
    ),
    Transition(
        "StartGovernedRun",
        "governed_run_started",
        ("active",),
        None,
        NoData,
        does="start a governed run under",
        hint=_SHOW,
        role="holders:{0}",
        invariant=_ACTIVE,
        refusals=_RUN_REFUSALS,
        guard=_start,
        apply=_set(ever_run=True, history_present=True),
        doc="record that a governed run started (needs run eligibility)",
    ),
    Transition(
        "SuspendEntitlement",
        "entitlement_suspended",
        ("active",),
        "suspended",
        ReasonData,
        does="suspend",
        hint=_SHOW,
        role="authorities:{0}",
        apply=_ended(run_eligible=False),
        doc="block future governed runs; history stays",
    ),
    Transition(
        "ResumeEntitlement",
        "entitlement_resumed",
        ("suspended",),
        "active",
        NoData,
        does="resume",
        hint=_SHOW,
        role="authorities:{0}",
        guard=_needs_install,
        apply=_set(run_eligible=False),
        doc="lift a suspension (run eligibility must be marked again)",
    ),
    Transition(
        "CloseEntitlement",
        "entitlement_closed",
        ("active", "suspended"),
        "closed",
        ReasonData,
        does="close",
        hint=_SHOW,
        role="authorities:{0}",
        invariant=HISTORY_PRESERVED_ON_CLOSE,
        apply=_ended(run_eligible=False),
        doc="end the entitlement (future-only: every record stays)",
    ),
    Transition(
        "DenyOrExpire",
        "entitlement_denied",
        ("requested",),
        "denied",
        ReasonData,
        does="deny",
        hint=_SHOW,
        role="authorities:{0}",
        apply=_ended(),
        doc="refuse (or let expire) a request",
    ),
    Transition(
        "WithdrawPackageInstall",
        "package_install_withdrawn",
        ("none", "requested", "active", "suspended", "closed", "denied"),
        "withdrawn",
        ReasonData,
        does="withdraw the install behind",
        hint=_SHOW,
        role="holders:{0}",
        invariant=_INSTALLED,
        guard=_withdraw,
        apply=_ended(package_eligible=False, run_eligible=False),
        doc="the install went away: the entitlement can never be used again (terminal)",
    ),
)


LIFECYCLE: Machine[EntitlementState] = Machine(
    kind="entitlement",
    state=EntitlementState,
    initial=lambda scope: EntitlementState(project=scope.keys[0], name=scope.keys[1]),
    subject=lambda s: f"the entitlement of {s.project}/{s.name}",
    phases={
        "none": "it was never requested",
        "requested": "it is requested, not active",
        "active": "it is active",
        "suspended": "it is suspended",
        "closed": "it is closed",
        "denied": "it was denied",
        "withdrawn": "its install was withdrawn",
    },
    transitions=TRANSITIONS,
    invariants=(
        ENTITLEMENT_REQUIRES_AUTHORITY,
        ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT,
        RUN_ELIGIBILITY_REQUIRES_ACTIVE_ENTITLEMENT,
        SUSPENSION_BLOCKS_FUTURE_RUNS,
        HISTORY_PRESERVED_ON_CLOSE,
        PHASE_IS_AUTHORITATIVE,
    ),
    holds=(
        (
            ENTITLEMENT_REQUIRES_AUTHORITY,
            lambda s: s.phase not in ("active", "suspended") or s.activated_by_authority,
        ),
        (_INSTALLED, lambda s: s.phase == "none" or s.package_installed),
        (_ACTIVE, lambda s: not s.run_eligible or s.active_entitlement),
        (SUSPENSION_BLOCKS_FUTURE_RUNS, lambda s: s.phase == "active" or not s.run_eligible),
        (
            HISTORY_PRESERVED_ON_CLOSE,
            lambda s: not (s.package_installed or s.ever_run or s.receipts) or s.history_present,
        ),
        (PHASE_IS_AUTHORITATIVE, lambda s: s.phase != "active" or s.active_entitlement),
    ),
)
