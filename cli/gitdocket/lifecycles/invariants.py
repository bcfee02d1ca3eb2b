"""The invariants that span scopes: the one table of rules no single lifecycle owns.

Every invariant a refusal (``InvariantError``) or a finding (``Finding``) cites is an
``Invariant`` object declared exactly once: a rule of one lifecycle in that lifecycle's module
(listed in its ``Machine.invariants``), a rule that spans scopes here (``CROSS_SCOPE``).
``lifecycles.INVARIANTS`` joins both and refuses, at import, two declarations of one name; a
test checks that every declared invariant is cited somewhere and nothing undeclared is. The
site's guarantees page and the docs are drawn from these objects. Pure.
"""

from __future__ import annotations

from gitdocket.errors import Invariant

__all__ = [
    "ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT",
    "ADMISSION_TOKEN_BOUND",
    "AUDIT_NAMES_SIGNER",
    "CROSSING_REQUIRES_PERMIT_AND_ADMIT",
    "CROSS_SCOPE",
    "EVENT_NOT_IN_FUTURE",
    "EVENT_TIME_MONOTONIC",
    "HISTORY_PRESERVED",
    "HISTORY_PRESERVED_ON_WITHDRAWAL",
    "NO_SECRETS_RECORDED",
    "PACKAGE_REQUIRES_FROZEN_VERSION",
    "PAYLOAD_CROSSES_ONLY_BY_TERMS",
    "POLICY_IN_FORCE",
    "REFERENCE_IS_CURRENT",
    "RETIREMENT_BLOCKS_FUTURE_PACKAGING",
    "RISK_APPROVAL_REQUIRED",
    "THRESHOLD_REACHABLE",
    "TRANSITION_NOT_ALLOWED",
    "VERSIONS_MONOTONIC",
    "WITHDRAWAL_BLOCKS_FUTURE",
]

TRANSITION_NOT_ALLOWED = Invariant(
    "TRANSITION_NOT_ALLOWED",
    "structural",
    "a command is accepted only in the phases its transition row lists",
)
HISTORY_PRESERVED = Invariant(
    "HISTORY_PRESERVED",
    "structural",
    "logs are append-only: no line is ever edited, reordered or removed, in any scope",
)
PACKAGE_REQUIRES_FROZEN_VERSION = Invariant(
    "PACKAGE_REQUIRES_FROZEN_VERSION",
    "structural",
    "a package may reference only a frozen version, with the frozen snapshot's content",
)
VERSIONS_MONOTONIC = Invariant(
    "VERSIONS_MONOTONIC",
    "structural",
    "a new version of an archetype is newer than every version it already has",
)
RETIREMENT_BLOCKS_FUTURE_PACKAGING = Invariant(
    "RETIREMENT_BLOCKS_FUTURE_PACKAGING",
    "structural",
    "a retired version takes no new package references, and no bundle carries it into a new release",
)
WITHDRAWAL_BLOCKS_FUTURE = Invariant(
    "WITHDRAWAL_BLOCKS_FUTURE",
    "structural",
    "after a package is withdrawn nothing new relies on it: no install, upgrade, run-eligible note or bundle",
)
HISTORY_PRESERVED_ON_WITHDRAWAL = Invariant(
    "HISTORY_PRESERVED_ON_WITHDRAWAL",
    "structural",
    "withdrawal and removal are future-only: the manifest and every install's history stay (INV-18)",
)
AUDIT_NAMES_SIGNER = Invariant(
    "AUDIT_NAMES_SIGNER",
    "policy",
    "every 'who' an event records (promoted_by, built_by, verified_by, frozen_by, publisher, …) is its actor, "
    "the identity that signed it",
)
THRESHOLD_REACHABLE = Invariant(
    "THRESHOLD_REACHABLE",
    "structural",
    "no role, and no archetype's owners, needs more signatures than it has members",
)

EVENT_TIME_MONOTONIC = Invariant(
    "EVENT_TIME_MONOTONIC",
    "structural",
    "event times never go backwards: not within a scope, not before the policy version an event "
    "names, and in commit order not more than 7 days before the newest event of the registry",
)
EVENT_NOT_IN_FUTURE = Invariant(
    "EVENT_NOT_IN_FUTURE",
    "policy",
    "no event is dated after the verifier's clock (5 minutes of clock skew allowed)",
)
POLICY_IN_FORCE = Invariant(
    "POLICY_IN_FORCE",
    "policy",
    "a registry is trusted only while its policy is unexpired at the verifier's clock (TUF); "
    "`verify --at` audits the past",
)

REFERENCE_IS_CURRENT = Invariant(
    "REFERENCE_IS_CURRENT",
    "structural",
    "an event that relies on another scope relies on that scope's state in the same commit: "
    "the line it names is that log's last, never a stale one",
)

NO_SECRETS_RECORDED = Invariant(
    "NO_SECRETS_RECORDED",
    "operational",
    "no secret enters a permanent record: no event's free text (reasons, notes, context, receipt "
    "references, labels, config values) and no frozen method file holds one, unless the registry's "
    "allow-list names exactly that place",
)

RISK_APPROVAL_REQUIRED = Invariant(
    "RISK_APPROVAL_REQUIRED",
    "policy",
    "a freeze or promotion with a change a risk rule of the policy names carries the extra signatures "
    "that rule requires, from the role it names",
)
CROSSING_REQUIRES_PERMIT_AND_ADMIT = Invariant(
    "CROSSING_REQUIRES_PERMIT_AND_ADMIT",
    "structural",
    "a vendor's package crosses into a client registry only with the vendor's signed permit naming "
    "that client and its policy root (source-permit) and the client's admission (target-admit)",
)
ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT = Invariant(
    "ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT",
    "structural",
    "a run-admission token is issued only while run-check says Active, and a verifier holding the "
    "registry accepts it only while the entitlement still is Active for the same content",
)
ADMISSION_TOKEN_BOUND = Invariant(
    "ADMISSION_TOKEN_BOUND",
    "structural",
    "a run-admission token is accepted only with a valid signature by an entitlement authority of its "
    "project, for its own audience and placement, between its issue and its expiry",
)
PAYLOAD_CROSSES_ONLY_BY_TERMS = Invariant(
    "PAYLOAD_CROSSES_ONLY_BY_TERMS",
    "structural",
    "a vendor's method payload never crosses into a client registry unless the package's crossing "
    "terms permit it, and then only exactly the frozen tree",
)

CROSS_SCOPE: tuple[Invariant, ...] = (
    TRANSITION_NOT_ALLOWED,
    HISTORY_PRESERVED,
    PACKAGE_REQUIRES_FROZEN_VERSION,
    VERSIONS_MONOTONIC,
    RETIREMENT_BLOCKS_FUTURE_PACKAGING,
    WITHDRAWAL_BLOCKS_FUTURE,
    HISTORY_PRESERVED_ON_WITHDRAWAL,
    THRESHOLD_REACHABLE,
    EVENT_TIME_MONOTONIC,
    EVENT_NOT_IN_FUTURE,
    POLICY_IN_FORCE,
    REFERENCE_IS_CURRENT,
    NO_SECRETS_RECORDED,
    AUDIT_NAMES_SIGNER,
    RISK_APPROVAL_REQUIRED,
    CROSSING_REQUIRES_PERMIT_AND_ADMIT,
    PAYLOAD_CROSSES_ONLY_BY_TERMS,
    ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT,
    ADMISSION_TOKEN_BOUND,
)
"""Rules that more than one lifecycle (or no lifecycle alone) relies on."""
