"""The environment lifecycle (seed 002, done properly): ``promoted`` and ``rolled_back``.

An environment scope is ``deployments/<env>/``. Its state *is* the ``deployment_state_v2``
pointer (contract, environment, bundle_id, bundle_root, promoted_at, previous_bundle_id, plus
``sequence``, who/why and the holds), so ``current.json`` is what a runtime reads; the release
list and the rollback path are folded but not rendered (ADR 0033). Facts from other scopes
(the bundle's tree and verification, the allowed sources and gate rule of ``registry.yaml``, the
gate decision) arrive as command data, so the signed event records them; ``ops`` checks them
before deciding and ``verify`` re-checks them.

Rollback is pointer-only and follows *history*, never names: ``rollback_stack`` is the chain of
promotions still in effect; rolling back pops the current release and lands on the one below it
(the previous distinct release), so two rollbacks in a row walk back two promotions instead of
flip-flopping. A rollback puts a *hold* on the release it rolled back, in that environment (as
Kargo holds a manual rollback, so that automation does not undo it): promoting that release there
again needs an explicit override with a reason, signed by a promoter, which lifts the hold.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gitdocket.core.fields import BundleId, Digest, FreeText, GitOid, Name, OptionalFreeText, Timestamp
from gitdocket.core.model import Record
from gitdocket.errors import Invariant, InvariantError
from gitdocket.lifecycles.machine import Machine, Transition

__all__ = [
    "GATE_CHECKS",
    "LIFECYCLE",
    "DeploymentState",
    "GateDecision",
    "Hold",
    "PromotedData",
    "ReleaseRecord",
    "RolledBackData",
    "as_v1",
    "check_hold",
    "choose_rollback",
    "gate_allows",
    "require_gate",
    "rollback_target",
    "source_allowed",
]

GateDecision = Literal["go", "conditional-go", "no-go"]


def gate_allows(decision: str | None, strict: bool) -> bool:
    """Seed 002 ``release_gate_allows_promotion``: go or conditional-go, only go when strict."""
    return decision == "go" if strict else decision in ("go", "conditional-go")


class ReleaseRecord(Record):
    """What an environment remembers of each bundle it ever ran (for rollback and status)."""

    bundle_tree: GitOid
    sequence: int = Field(ge=1)
    promoted_at: str
    promoted_by: str
    source_environment: str | None = None
    gate_decision: GateDecision | None = None
    report_digest: str | None = None


class Hold(Record):
    """A release rolled back out of an environment: it stays out until a promoter overrides."""

    held_at: str
    held_by: str
    reason: str
    sequence: int = Field(ge=1)
    """The sequence of the rollback that put the hold."""


class DeploymentState(Record):
    """``deployments/<env>/current.json`` (contract ``deployment_state_v2``): the pointer a
    runtime reads, and the holds a promotion must respect. ``releases`` and ``rollback_stack``
    are folded from the log like everything else but not rendered (ADR 0033): they grow with
    every promotion, and the log (and the site) carry them. Only a rollback reads them, so its row
    ``needs_history``."""

    contract: Literal["deployment_state_v2"] = "deployment_state_v2"
    phase: Literal["empty", "active"] = "empty"
    environment: str = ""
    bundle_id: str | None = None
    bundle_root: str | None = None
    promoted_at: str | None = None
    promoted_by: str | None = None
    previous_bundle_id: str | None = None
    sequence: int = Field(default=0, ge=0)
    rollback: bool = False
    reason: str | None = None
    source_environment: str | None = None
    gate_decision: GateDecision | None = None
    report_digest: str | None = None
    holds: dict[str, Hold] = Field(default_factory=dict)
    """Releases rolled back out of this environment and not promoted again with an override
    (``ROLLBACK_HOLDS_RELEASE``)."""
    releases: dict[str, ReleaseRecord] = Field(default_factory=dict, exclude=True)
    """Every bundle the environment received, by id (not rendered; a state read from
    ``current.json`` has none)."""
    rollback_stack: tuple[str, ...] = Field(default=(), exclude=True)
    """The promotions still in effect, oldest first (not rendered; see ``releases``)."""


def as_v1(state: DeploymentState) -> dict[str, Any]:
    """``state`` as ``deployment_state_v1`` rendered it (what gitdocket wrote before ADR 0033):
    the release list and rollback path in the pointer, no holds. ``verify`` still accepts it."""
    body = {k: v for k, v in state.model_dump(mode="json").items() if k != "holds"}
    return {
        **body,
        "contract": "deployment_state_v1",
        "releases": {b: r.model_dump(mode="json") for b, r in state.releases.items()},
        "rollback_stack": list(state.rollback_stack),
    }


class PromotedData(Record):
    bundle_id: BundleId
    bundle_tree: GitOid
    manifest_digest: Digest
    source_environment: Name | None = None
    allowed_sources: tuple[Name | None, ...]
    require_gate: bool
    gated: bool
    gate_decision: GateDecision | None = None
    report_digest: Digest | None = None
    sequence: int = Field(ge=1)
    previous_bundle_id: BundleId | None = None
    promoted_at: Timestamp
    promoted_by: str = Field(min_length=1)
    override: OptionalFreeText = Field(default=None, min_length=1, pattern=r"\S", exclude_if=lambda v: v is None)
    """Why a release held by a rollback is promoted here again (lifts the hold); left out of the
    event when there is none."""
    batch: Name | None = Field(default=None, exclude_if=lambda v: v is None)
    """The promotion batch this event belongs to (``promote --batch``: every event of the batch,
    in one commit, carries its name); left out of the event when there is none."""


class RolledBackData(Record):
    target: BundleId
    requested: bool = False
    """True when the operator named the target (``--to``); otherwise it is the history's choice."""
    reason: FreeText = Field(min_length=1, pattern=r"\S")
    sequence: int = Field(ge=1)
    previous_bundle_id: BundleId
    rolled_back_at: Timestamp
    rolled_back_by: str = Field(min_length=1)


POINTER_IN_RELEASES = Invariant(
    "POINTER_IN_RELEASES", "structural", "the active bundle is one the environment received by promotion"
)
SEQUENCE_MONOTONIC = Invariant(
    "SEQUENCE_MONOTONIC",
    "structural",
    "every promotion and rollback takes the next sequence number; none is reused",
)
POINTER_CHAIN = Invariant(
    "POINTER_CHAIN", "structural", "every promotion and rollback names the bundle it replaces as the previous one"
)
POINTER_CHANGES = Invariant(
    "POINTER_CHANGES", "operational", "a promotion or rollback changes the active bundle; none is a no-op"
)
RELEASES_PRESERVED = Invariant(
    "RELEASES_PRESERVED",
    "structural",
    "releases are never forgotten: every release on the rollback path stays recorded",
)
ROLLBACK_REQUIRES_REASON = Invariant("ROLLBACK_REQUIRES_REASON", "operational", "a rollback records why it happened")
ENVIRONMENT_TRANSITION_ALLOWED = Invariant(
    "ENVIRONMENT_TRANSITION_ALLOWED",
    "policy",
    "a bundle enters an environment only from an allowed source (preview ← build, "
    "dev ← build|preview, staging ← dev, prod ← staging by default)",
)
GATE_REQUIRED = Invariant(
    "GATE_REQUIRED", "policy", "promotions to gated environments (staging, prod) carry a passing gate report"
)
GATE_RECORDED = Invariant(
    "GATE_RECORDED", "structural", "a gated promotion records both its gate decision and its report's digest"
)
RELEASE_GATE_ALLOWS_PROMOTION = Invariant(
    "RELEASE_GATE_ALLOWS_PROMOTION",
    "policy",
    "the gate decision allows the promotion: go, or conditional-go where the environment is not strict",
)
ROLLBACK_TO_PREVIOUS_RELEASE = Invariant(
    "ROLLBACK_TO_PREVIOUS_RELEASE",
    "operational",
    "rollback lands on the previous distinct release from history, never by name order",
)
ROLLBACK_TARGET_PROMOTED = Invariant(
    "ROLLBACK_TARGET_PROMOTED", "policy", "rollback can only reach a bundle that was promoted to that environment"
)
ROLLBACK_REQUIRES_PREVIOUS_RELEASE = Invariant(
    "ROLLBACK_REQUIRES_PREVIOUS_RELEASE", "operational", "a rollback with nowhere to go is refused"
)
PROMOTE_REQUIRES_VERIFIED_BUNDLE = Invariant(
    "PROMOTE_REQUIRES_VERIFIED_BUNDLE",
    "policy",
    "only a bundle whose verification is recorded, and whose trees are still the verified ones, is promoted",
)
ROLLBACK_HOLDS_RELEASE = Invariant(
    "ROLLBACK_HOLDS_RELEASE",
    "policy",
    "a release rolled back out of an environment is held there: only a promotion with an explicit "
    "override and its reason, by a promoter, brings it back",
)
SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE = Invariant(
    "SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE",
    "policy",
    "a bundle promoted from another environment is the one running there",
)

BUNDLE_VERIFY_OK = Invariant(
    "BUNDLE_VERIFY_OK", "policy", "gated promotion: the bundle's signed log and recorded verification hold"
)
RELEASE_GATE_CONTRACT_VALID = Invariant(
    "RELEASE_GATE_CONTRACT_VALID", "policy", "gated promotion: the gate report is a valid release_readiness_gate_v1"
)
PROMOTION_READINESS_CONTRACT_VALID = Invariant(
    "PROMOTION_READINESS_CONTRACT_VALID",
    "policy",
    "gated promotion: the readiness report is a valid policy_promotion_readiness_v1",
)
PROMOTION_READINESS_STATUS_PASSED = Invariant(
    "PROMOTION_READINESS_STATUS_PASSED", "policy", "gated promotion: the readiness report's status passed"
)
PROMOTION_READINESS_ALLOWS_TARGET_ENV = Invariant(
    "PROMOTION_READINESS_ALLOWS_TARGET_ENV",
    "policy",
    "gated promotion: the readiness report marks the target environment ready",
)
BUNDLE_PACKAGES_CURRENT = Invariant(
    "BUNDLE_PACKAGES_CURRENT",
    "policy",
    "a release promotes no withdrawn package and no retired version, judged when it is promoted",
)
GATE_CHECKS: dict[str, Invariant] = {
    "bundle_verify_ok": BUNDLE_VERIFY_OK,
    "bundle_packages_current": BUNDLE_PACKAGES_CURRENT,
    "environment_transition_allowed": ENVIRONMENT_TRANSITION_ALLOWED,
    "release_gate_contract_valid": RELEASE_GATE_CONTRACT_VALID,
    "release_gate_allows_promotion": RELEASE_GATE_ALLOWS_PROMOTION,
    "promotion_readiness_contract_valid": PROMOTION_READINESS_CONTRACT_VALID,
    "promotion_readiness_status_passed": PROMOTION_READINESS_STATUS_PASSED,
    "promotion_readiness_allows_target_env": PROMOTION_READINESS_ALLOWS_TARGET_ENV,
    "source_environment_has_same_bundle": SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE,
}
"""Seed 002's gated-promotion checks (and Docket's ``bundle_packages_current``), by check id, and
the invariant a failed one cites."""


def source_allowed(environment: str, source: str | None, allowed: tuple[str | None, ...]) -> bool:
    """Whether ``environment`` may receive a bundle from ``source`` (None: straight from a build),
    given the sources ``registry.yaml`` allows: gated promotion's
    ``environment_transition_allowed`` and the ``promoted`` guard both ask this."""
    return source != environment and source in allowed


def require_gate(environment: str, bundle_id: str, strict: bool, gated: bool, sources: tuple[str | None, ...]) -> None:
    """A strict environment takes only a gated promotion (``GATE_REQUIRED``)."""
    if strict and not gated:
        source = next((s for s in sources if s), "SOURCE")
        raise InvariantError(
            "it needs a passing gate",
            GATE_REQUIRED,
            f"run `gitdocket promote {bundle_id} --env {environment} --gated --source-env {source}`",
        )


def rollback_target(state: DeploymentState) -> str | None:
    """The previous distinct release still in effect below the current one, or None; a release
    held by an earlier rollback is passed over (it comes back only by an override)."""
    stack = list(state.rollback_stack)
    while stack and (stack[-1] == state.bundle_id or stack[-1] in state.holds):
        stack.pop()
    return stack[-1] if stack else None


def choose_rollback(state: DeploymentState, requested: str | None) -> str:
    """Where a rollback lands: ``requested`` when it was promoted here and is neither active nor
    held, else the previous release in history; refuses when there is none. The rollback command and the
    ``rolled_back`` guard both ask this."""
    env = state.environment
    if requested is not None:
        if requested not in state.releases:
            raise InvariantError(
                f"{requested} was never promoted to {env}",
                ROLLBACK_TARGET_PROMOTED,
                f"see `gitdocket history --env {env}`",
            )
        if requested == state.bundle_id:
            raise InvariantError(f"{requested} is already active", POINTER_CHANGES, "nothing to do")
        if requested in state.holds:
            held = state.holds[requested]
            raise InvariantError(
                f"{requested} was rolled back out of it at {held.held_at} and is held",
                ROLLBACK_HOLDS_RELEASE,
                "a held release comes back only by a promotion with an override: "
                f"`gitdocket promote {requested} --env {env} --override-hold REASON`",
            )
        return requested
    expected = rollback_target(state)
    if expected is None:
        raise InvariantError(
            f"there is no previous release to roll back to (only {state.bundle_id})",
            ROLLBACK_REQUIRES_PREVIOUS_RELEASE,
            "promote a fixed bundle instead",
        )
    return expected


def _check_pointer(state: DeploymentState, sequence: int, previous: str | None) -> None:
    if sequence != state.sequence + 1:
        raise InvariantError(
            f"sequence {sequence} does not follow {state.sequence}", SEQUENCE_MONOTONIC, "run the command again"
        )
    if previous != state.bundle_id:
        raise InvariantError(
            f"previous_bundle_id {previous!r} is not the active bundle {state.bundle_id!r}",
            POINTER_CHAIN,
            "run the command again",
        )


def _guard_promote(state: DeploymentState, data: PromotedData) -> None:
    env = state.environment
    if data.bundle_id == state.bundle_id:
        raise InvariantError(
            f"{data.bundle_id} is already active", POINTER_CHANGES, "nothing to do; promote another bundle or roll back"
        )
    check_hold(state, data.bundle_id, data.override)
    if not source_allowed(env, data.source_environment, data.allowed_sources):
        allowed = ", ".join(s or "a build" for s in data.allowed_sources) or "nothing"
        raise InvariantError(
            f"it may not receive a bundle from {data.source_environment or 'a build'} (allowed: {allowed})",
            ENVIRONMENT_TRANSITION_ALLOWED,
            "promote through the environments in order",
        )
    if data.gated != (data.report_digest is not None) or data.gated != (data.gate_decision is not None):
        raise InvariantError(
            "a gated promotion records its decision and report digest",
            GATE_RECORDED,
            "promote with `gitdocket promote --gated`, which records both",
        )
    require_gate(env, data.bundle_id, data.require_gate, data.gated, data.allowed_sources)
    if data.gated and not gate_allows(data.gate_decision, data.require_gate):
        raise InvariantError(
            f"gate decision {data.gate_decision} does not allow promotion",
            RELEASE_GATE_ALLOWS_PROMOTION,
            "fix the failing checks and re-run the gate",
        )
    _check_pointer(state, data.sequence, data.previous_bundle_id)


def check_hold(state: DeploymentState, bundle_id: str, override: str | None) -> None:
    """A release held by a rollback comes back only with an override, and an override lifts a
    hold that exists (``ROLLBACK_HOLDS_RELEASE``): the promote command and the guard ask this."""
    env = state.environment
    hold = state.holds.get(bundle_id)
    if hold is not None and override is None:
        raise InvariantError(
            f"{bundle_id} was rolled back out of it at {hold.held_at} by {hold.held_by} ({hold.reason}) and is held",
            ROLLBACK_HOLDS_RELEASE,
            f"promote a fixed bundle, or lift the hold: `gitdocket promote {bundle_id} --env {env} "
            "--override-hold REASON`",
        )
    if hold is None and override is not None:
        raise InvariantError(
            f"nothing holds {bundle_id} there, so there is no hold to override",
            ROLLBACK_HOLDS_RELEASE,
            "promote it without --override-hold",
        )


def _guard_rollback(state: DeploymentState, data: RolledBackData) -> None:
    _check_pointer(state, data.sequence, data.previous_bundle_id)
    expected = choose_rollback(state, data.target if data.requested else None)
    if data.target != expected:
        raise InvariantError(
            f"the previous release is {expected}, not {data.target}",
            ROLLBACK_TO_PREVIOUS_RELEASE,
            "name the target with --to",
        )


def _rolled_stack(state: DeploymentState, target: str) -> tuple[str, ...]:
    stack = state.rollback_stack
    if target in stack:
        return stack[: len(stack) - stack[::-1].index(target)]
    return (*stack, target)


def _promoted(state: DeploymentState, data: PromotedData) -> DeploymentState:
    record = ReleaseRecord(
        bundle_tree=data.bundle_tree,
        sequence=data.sequence,
        promoted_at=data.promoted_at,
        promoted_by=data.promoted_by,
        source_environment=data.source_environment,
        gate_decision=data.gate_decision,
        report_digest=data.report_digest,
    )
    return state.model_copy(
        update={
            "bundle_id": data.bundle_id,
            "bundle_root": f"deployments/{state.environment}/releases/{data.bundle_id}",
            "promoted_at": data.promoted_at,
            "promoted_by": data.promoted_by,
            "previous_bundle_id": data.previous_bundle_id,
            "sequence": data.sequence,
            "rollback": False,
            "reason": None,
            "source_environment": data.source_environment,
            "gate_decision": data.gate_decision,
            "report_digest": data.report_digest,
            "releases": {**state.releases, data.bundle_id: record},
            "rollback_stack": (*state.rollback_stack, data.bundle_id),
            "holds": {b: h for b, h in state.holds.items() if b != data.bundle_id},
        }
    )


def _rolled_back(state: DeploymentState, data: RolledBackData) -> DeploymentState:
    target = state.releases[data.target]
    return state.model_copy(
        update={
            "bundle_id": data.target,
            "bundle_root": f"deployments/{state.environment}/releases/{data.target}",
            "promoted_at": data.rolled_back_at,
            "promoted_by": data.rolled_back_by,
            "previous_bundle_id": data.previous_bundle_id,
            "sequence": data.sequence,
            "rollback": True,
            "reason": data.reason,
            "source_environment": target.source_environment,
            "gate_decision": target.gate_decision,
            "report_digest": target.report_digest,
            "rollback_stack": _rolled_stack(state, data.target),
            "holds": {
                **state.holds,
                data.previous_bundle_id: Hold(
                    held_at=data.rolled_back_at,
                    held_by=data.rolled_back_by,
                    reason=data.reason,
                    sequence=data.sequence,
                ),
            },
        }
    )


TRANSITIONS: tuple[Transition[DeploymentState, Any], ...] = (
    Transition(
        "Promote",
        "promoted",
        ("empty", "active"),
        "active",
        PromotedData,
        does="promote a bundle to",
        hint="promote through the environments in order",
        role="promoters:{0}",
        signed_by=("promoted_by",),
        invariant=ENVIRONMENT_TRANSITION_ALLOWED,
        guard=_guard_promote,
        apply=_promoted,
        doc="point the environment at a verified bundle (same git tree, no copy)",
    ),
    Transition(
        "Rollback",
        "rolled_back",
        ("active",),
        "active",
        RolledBackData,
        does="roll back",
        hint="promote a bundle with `gitdocket promote BUNDLE --env {environment}`",
        role="promoters:{0}",
        signed_by=("rolled_back_by",),
        invariant=ROLLBACK_REQUIRES_PREVIOUS_RELEASE,
        needs_history=True,
        guard=_guard_rollback,
        apply=_rolled_back,
        doc="move the pointer back to the previous release in history, with a reason",
    ),
)


LIFECYCLE: Machine[DeploymentState] = Machine(
    kind="environment",
    state=DeploymentState,
    initial=lambda scope: DeploymentState(environment=scope.keys[0]),
    subject=lambda s: f"environment {s.environment}",
    phases={"empty": "nothing is deployed in it", "active": "a bundle is deployed in it"},
    transitions=TRANSITIONS,
    earlier={"deployment_state_v1": as_v1},
    invariants=(
        POINTER_IN_RELEASES,
        SEQUENCE_MONOTONIC,
        POINTER_CHAIN,
        POINTER_CHANGES,
        RELEASES_PRESERVED,
        ROLLBACK_REQUIRES_REASON,
        ENVIRONMENT_TRANSITION_ALLOWED,
        GATE_REQUIRED,
        GATE_RECORDED,
        RELEASE_GATE_ALLOWS_PROMOTION,
        ROLLBACK_TO_PREVIOUS_RELEASE,
        ROLLBACK_TARGET_PROMOTED,
        ROLLBACK_REQUIRES_PREVIOUS_RELEASE,
        PROMOTE_REQUIRES_VERIFIED_BUNDLE,
        ROLLBACK_HOLDS_RELEASE,
        SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE,
        BUNDLE_VERIFY_OK,
        BUNDLE_PACKAGES_CURRENT,
        RELEASE_GATE_CONTRACT_VALID,
        PROMOTION_READINESS_CONTRACT_VALID,
        PROMOTION_READINESS_STATUS_PASSED,
        PROMOTION_READINESS_ALLOWS_TARGET_ENV,
    ),
    holds=(
        (POINTER_IN_RELEASES, lambda s: s.bundle_id is None or s.bundle_id in s.releases),
        (SEQUENCE_MONOTONIC, lambda s: (s.phase == "empty") == (s.sequence == 0)),
        (RELEASES_PRESERVED, lambda s: all(b in s.releases for b in s.rollback_stack)),
        (ROLLBACK_REQUIRES_REASON, lambda s: not s.rollback or bool(s.reason and s.reason.strip())),
        (ROLLBACK_HOLDS_RELEASE, lambda s: s.bundle_id not in s.holds and set(s.holds) <= set(s.releases)),
    ),
)
