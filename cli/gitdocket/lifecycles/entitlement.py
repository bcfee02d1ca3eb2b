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

from typing import Any, Literal

from pydantic import Field

from gitdocket.core.fields import Digest, Timestamp
from gitdocket.core.model import ReasonData, Record
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.machine import Invariant, Machine, NoData, Transition

__all__ = ["LIFECYCLE", "EntitlementState", "PlacementRef", "Receipt"]

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
    terms: str = ""


class ActivateData(Record):
    expires_at: Timestamp | None = None
    terms: str = ""


class ReceiptData(Record):
    reference: str = Field(min_length=1, max_length=200)


_INSTALLED = "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT"
_ACTIVE = "RUN_ELIGIBILITY_REQUIRES_ACTIVE_ENTITLEMENT"
_SUSPENDED = "SUSPENSION_BLOCKS_FUTURE_RUNS"
_RUN_REFUSALS = (("suspended", _SUSPENDED), ("closed", _SUSPENDED))
_RECEIPT_PHASES = ("requested", "active", "suspended", "closed")
TRANSITIONS = (
    Transition(
        "AdmitPackageInstall",
        "package_install_admitted",
        ("none",),
        None,
        AdmitInstallData,
        role="holders:{0}",
        invariant="ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT",
        doc="record that the placement is installed (the entitlement's subject)",
    ),
    Transition(
        "RequestEntitlement",
        "entitlement_requested",
        ("none",),
        "requested",
        RequestData,
        role="holders:{0}",
        invariant="ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT",
        doc="the holder asks the project's authorities for an entitlement",
    ),
    Transition(
        "ActivateEntitlement",
        "entitlement_activated",
        ("requested",),
        "active",
        ActivateData,
        role="authorities:{0}",
        invariant="ENTITLEMENT_REQUIRES_AUTHORITY",
        doc="an entitlement authority activates it, optionally until an expiry",
    ),
    Transition(
        "RecordBillingReceipt",
        "billing_receipt_recorded",
        _RECEIPT_PHASES,
        None,
        ReceiptData,
        role="holders:{0}",
        invariant="ENTITLEMENT_REQUIRES_AUTHORITY",
        doc="record a billing receipt: evidence only, never activates (INV-16)",
    ),
    Transition(
        "RecordSupportReceipt",
        "support_receipt_recorded",
        _RECEIPT_PHASES,
        None,
        ReceiptData,
        role="holders:{0}",
        invariant="ENTITLEMENT_REQUIRES_AUTHORITY",
        doc="record a support receipt: evidence only, never activates (INV-16)",
    ),
    Transition(
        "MarkRunEligible",
        "run_marked_eligible",
        ("active",),
        None,
        NoData,
        role="holders:{0}",
        invariant=_ACTIVE,
        refusals=_RUN_REFUSALS,
        doc="mark the deployment eligible for governed runs (needs an active entitlement)",
    ),
    Transition(
        "StartGovernedRun",
        "governed_run_started",
        ("active",),
        None,
        NoData,
        role="holders:{0}",
        invariant=_ACTIVE,
        refusals=_RUN_REFUSALS,
        doc="record that a governed run started (needs run eligibility)",
    ),
    Transition(
        "SuspendEntitlement",
        "entitlement_suspended",
        ("active",),
        "suspended",
        ReasonData,
        role="authorities:{0}",
        doc="block future governed runs; history stays",
    ),
    Transition(
        "ResumeEntitlement",
        "entitlement_resumed",
        ("suspended",),
        "active",
        NoData,
        role="authorities:{0}",
        doc="lift a suspension (run eligibility must be marked again)",
    ),
    Transition(
        "CloseEntitlement",
        "entitlement_closed",
        ("active", "suspended"),
        "closed",
        ReasonData,
        role="authorities:{0}",
        invariant="HISTORY_PRESERVED_ON_CLOSE",
        doc="end the entitlement (future-only: every record stays)",
    ),
    Transition(
        "DenyOrExpire",
        "entitlement_denied",
        ("requested",),
        "denied",
        ReasonData,
        role="authorities:{0}",
        doc="refuse (or let expire) a request",
    ),
    Transition(
        "WithdrawPackageInstall",
        "package_install_withdrawn",
        ("none", "requested", "active", "suspended", "closed", "denied"),
        "withdrawn",
        ReasonData,
        role="holders:{0}",
        invariant="ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT",
        doc="the install went away: the entitlement can never be used again (terminal)",
    ),
)


def _refuse(message: str, invariant: str, hint: str = "") -> None:
    raise InvariantError(f"entitlement: {message}", invariant, hint)


def _needs_install(state: EntitlementState, _data: Any) -> None:
    if not (state.package_installed and state.package_eligible):
        _refuse(
            "the placement's install is not admitted",
            _INSTALLED,
            "install the placement first (`gitdocket placement install P/N`)",
        )


def _admit(state: EntitlementState, data: AdmitInstallData) -> None:
    if state.package_installed:
        _refuse("the install is already admitted", "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT")
    if data.placement.phase != "installed":
        _refuse(
            f"the placement is {data.placement.phase}, not installed",
            "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT",
            "install the placement first (`gitdocket placement install P/N`)",
        )


def _mark(state: EntitlementState, _data: Any) -> None:
    if not state.active_entitlement:
        _refuse("no active entitlement", _ACTIVE, "an authority activates the entitlement first")


def _start(state: EntitlementState, _data: Any) -> None:
    if not state.run_eligible:
        _refuse(
            "the deployment is not marked run-eligible", _ACTIVE, "mark it eligible while the entitlement is active"
        )


def _withdraw(state: EntitlementState, _data: Any) -> None:
    if not state.package_installed:
        _refuse("no install was ever admitted", "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT")


_GUARDS: dict[str, Any] = {
    "AdmitPackageInstall": _admit,
    "RequestEntitlement": _needs_install,
    "ActivateEntitlement": _needs_install,
    "ResumeEntitlement": _needs_install,
    "MarkRunEligible": _mark,
    "StartGovernedRun": _start,
    "WithdrawPackageInstall": _withdraw,
}


def _guard(state: EntitlementState, row: Transition, data: Any) -> None:
    check = _GUARDS.get(row.command)
    if check is not None:
        check(state, data)


_FLAGS: dict[str, dict[str, Any]] = {
    "AdmitPackageInstall": {"package_installed": True, "package_eligible": True, "history_present": True},
    "ActivateEntitlement": {"activated_by_authority": True},
    "MarkRunEligible": {"run_eligible": True},
    "StartGovernedRun": {"ever_run": True, "history_present": True},
    "SuspendEntitlement": {"run_eligible": False},
    "ResumeEntitlement": {"run_eligible": False},
    "CloseEntitlement": {"run_eligible": False},
    "WithdrawPackageInstall": {"package_eligible": False, "run_eligible": False},
}


def _apply(state: EntitlementState, row: Transition, data: Any) -> EntitlementState:
    update = dict(_FLAGS.get(row.command, {}))
    if isinstance(data, ReceiptData):
        kind: Literal["billing", "support"] = "billing" if row.command == "RecordBillingReceipt" else "support"
        update = {
            f"{kind}_receipt": True,
            "history_present": True,
            "receipts": (*state.receipts, Receipt(kind=kind, reference=data.reference)),
        }
    elif isinstance(data, RequestData):
        update["terms"] = data.terms
    elif isinstance(data, ActivateData):
        update.update({"expires_at": data.expires_at, "terms": data.terms or state.terms})
    elif isinstance(data, ReasonData):
        update["reason"] = data.reason
    return state.model_copy(update=update)


LIFECYCLE: Machine[EntitlementState] = Machine(
    kind="entitlement",
    state=EntitlementState,
    initial=lambda scope: EntitlementState(project=scope.keys[0], name=scope.keys[1]),
    transitions=TRANSITIONS,
    guard=_guard,
    apply=_apply,
    invariants=(
        Invariant(
            "ENTITLEMENT_REQUIRES_AUTHORITY",
            "structural",
            "only an entitlement authority activates; receipts are evidence, not authority (INV-16)",
            lambda s: s.phase not in ("active", "suspended") or s.activated_by_authority,
        ),
        Invariant(
            "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT",
            "structural",
            "an entitlement exists only for an installed placement",
            lambda s: s.phase == "none" or s.package_installed,
        ),
        Invariant(
            _ACTIVE,
            "structural",
            "a deployment is run-eligible only under an active entitlement",
            lambda s: not s.run_eligible or s.active_entitlement,
        ),
        Invariant(
            _SUSPENDED,
            "structural",
            "a suspended (or closed) entitlement allows no governed run",
            lambda s: s.phase == "active" or not s.run_eligible,
        ),
        Invariant(
            "HISTORY_PRESERVED_ON_CLOSE",
            "structural",
            "closing or withdrawing never erases install, run or receipt history (INV-18)",
            lambda s: not (s.package_installed or s.ever_run or s.receipts) or s.history_present,
        ),
        Invariant(
            "PHASE_IS_AUTHORITATIVE",
            "structural",
            "phase Active always means an active entitlement",
            lambda s: s.phase != "active" or s.active_entitlement,
        ),
    ),
)
