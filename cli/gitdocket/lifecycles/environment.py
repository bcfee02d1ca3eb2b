"""The environment lifecycle (seed 002, done properly): ``promoted`` and ``rolled_back``.

An environment scope is ``deployments/<env>/``. Its state *is* the ``deployment_state_v1``
pointer (contract, environment, bundle_id, bundle_root, promoted_at, previous_bundle_id, plus
``sequence`` and who/why), so ``current.json`` is what a runtime reads. Facts from other scopes
(the bundle's tree and verification, the allowed sources and gate rule of ``registry.yaml``, the
gate decision) arrive as command data, so the signed event records them; ``ops`` checks them
before deciding and ``verify`` re-checks them.

Rollback is pointer-only and follows *history*, never names: ``rollback_stack`` is the chain of
promotions still in effect; rolling back pops the current release and lands on the one below it
(the previous distinct release), so two rollbacks in a row walk back two promotions instead of
flip-flopping. Pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gitdocket.core.fields import BundleId, Digest, GitOid, Timestamp
from gitdocket.core.model import Record
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.machine import Invariant, Machine, Transition

__all__ = [
    "LIFECYCLE",
    "DeploymentState",
    "GateDecision",
    "PromotedData",
    "ReleaseRecord",
    "RolledBackData",
    "gate_allows",
    "rollback_target",
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


class DeploymentState(Record):
    """``deployments/<env>/current.json`` (contract ``deployment_state_v1``)."""

    contract: Literal["deployment_state_v1"] = "deployment_state_v1"
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
    releases: dict[str, ReleaseRecord] = Field(default_factory=dict)
    rollback_stack: tuple[str, ...] = ()


class PromotedData(Record):
    bundle_id: BundleId
    bundle_tree: GitOid
    manifest_digest: Digest
    source_environment: str | None = None
    allowed_sources: tuple[str | None, ...]
    require_gate: bool
    gated: bool
    gate_decision: GateDecision | None = None
    report_digest: Digest | None = None
    sequence: int = Field(ge=1)
    previous_bundle_id: str | None = None
    promoted_at: Timestamp
    promoted_by: str = Field(min_length=1)


class RolledBackData(Record):
    target: BundleId
    requested: bool = False
    """True when the operator named the target (``--to``); otherwise it is the history's choice."""
    reason: str = Field(min_length=1, pattern=r"\S")
    sequence: int = Field(ge=1)
    previous_bundle_id: str
    rolled_back_at: Timestamp
    rolled_back_by: str = Field(min_length=1)


def rollback_target(state: DeploymentState) -> str | None:
    """The previous distinct release still in effect below the current one, or None."""
    stack = list(state.rollback_stack)
    while stack and stack[-1] == state.bundle_id:
        stack.pop()
    return stack[-1] if stack else None


TRANSITIONS = (
    Transition(
        "Promote",
        "promoted",
        ("empty", "active"),
        "active",
        PromotedData,
        role="promoters:{0}",
        invariant="ENVIRONMENT_TRANSITION_ALLOWED",
        doc="point the environment at a verified bundle (same git tree, no copy)",
    ),
    Transition(
        "Rollback",
        "rolled_back",
        ("active",),
        "active",
        RolledBackData,
        role="promoters:{0}",
        invariant="ROLLBACK_REQUIRES_PREVIOUS_RELEASE",
        refusals=(("empty", "ROLLBACK_REQUIRES_PREVIOUS_RELEASE"),),
        doc="move the pointer back to the previous release in history, with a reason",
    ),
)


def _check_pointer(state: DeploymentState, sequence: int, previous: str | None) -> None:
    if sequence != state.sequence + 1:
        raise InvariantError(
            f"environment {state.environment}: sequence {sequence} does not follow {state.sequence}",
            "SEQUENCE_MONOTONIC",
            "run the command again",
        )
    if previous != state.bundle_id:
        raise InvariantError(
            f"environment {state.environment}: previous_bundle_id {previous!r} is not the "
            f"active bundle {state.bundle_id!r}",
            "POINTER_CHAIN",
            "run the command again",
        )


def _guard_promote(state: DeploymentState, data: PromotedData) -> None:
    env = state.environment
    if data.bundle_id == state.bundle_id:
        raise InvariantError(
            f"environment {env}: {data.bundle_id} is already active",
            "POINTER_CHANGES",
            "nothing to do; promote another bundle or roll back",
        )
    if data.source_environment == env or data.source_environment not in data.allowed_sources:
        allowed = ", ".join(s or "a build" for s in data.allowed_sources) or "nothing"
        raise InvariantError(
            f"environment {env}: may not receive a bundle from "
            f"{data.source_environment or 'a build'} (allowed: {allowed})",
            "ENVIRONMENT_TRANSITION_ALLOWED",
            "promote through the environments in order",
        )
    if data.gated != (data.report_digest is not None) or data.gated != (data.gate_decision is not None):
        raise InvariantError(
            f"environment {env}: a gated promotion records its decision and report digest",
            "GATE_RECORDED",
        )
    if data.require_gate and not data.gated:
        raise InvariantError(
            f"environment {env}: promotion requires a passing gate",
            "GATE_REQUIRED",
            "promote with --gated",
        )
    if data.gated and not gate_allows(data.gate_decision, data.require_gate):
        raise InvariantError(
            f"environment {env}: gate decision {data.gate_decision} does not allow promotion",
            "RELEASE_GATE_ALLOWS_PROMOTION",
            "fix the failing checks and re-run the gate",
        )
    _check_pointer(state, data.sequence, data.previous_bundle_id)


def _guard_rollback(state: DeploymentState, data: RolledBackData) -> None:
    env = state.environment
    _check_pointer(state, data.sequence, data.previous_bundle_id)
    if data.requested:
        if data.target not in state.releases:
            raise InvariantError(
                f"environment {env}: {data.target} was never promoted here",
                "ROLLBACK_TARGET_PROMOTED",
                f"see `gitdocket history --env {env}`",
            )
        if data.target == state.bundle_id:
            raise InvariantError(f"environment {env}: {data.target} is already active", "POINTER_CHANGES")
        return
    expected = rollback_target(state)
    if expected is None:
        raise InvariantError(
            f"environment {env}: no previous release to roll back to",
            "ROLLBACK_REQUIRES_PREVIOUS_RELEASE",
            "promote a bundle instead",
        )
    if data.target != expected:
        raise InvariantError(
            f"environment {env}: the previous release is {expected}, not {data.target}",
            "ROLLBACK_TO_PREVIOUS_RELEASE",
            "name the target with --to",
        )


def _guard(state: DeploymentState, row: Transition, data: Any) -> None:
    if isinstance(data, PromotedData):
        _guard_promote(state, data)
    elif isinstance(data, RolledBackData):
        _guard_rollback(state, data)


def _rolled_stack(state: DeploymentState, target: str) -> tuple[str, ...]:
    stack = state.rollback_stack
    if target in stack:
        return stack[: len(stack) - stack[::-1].index(target)]
    return (*stack, target)


def _apply(state: DeploymentState, row: Transition, data: Any) -> DeploymentState:
    env = state.environment
    if isinstance(data, PromotedData):
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
                "bundle_root": f"deployments/{env}/releases/{data.bundle_id}",
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
            }
        )
    if isinstance(data, RolledBackData):
        target = state.releases[data.target]
        return state.model_copy(
            update={
                "bundle_id": data.target,
                "bundle_root": f"deployments/{env}/releases/{data.target}",
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
            }
        )
    return state


LIFECYCLE: Machine[DeploymentState] = Machine(
    kind="environment",
    state=DeploymentState,
    initial=lambda scope: DeploymentState(environment=scope.keys[0]),
    transitions=TRANSITIONS,
    guard=_guard,
    apply=_apply,
    invariants=(
        Invariant(
            "POINTER_IN_RELEASES",
            "structural",
            "the active bundle is one the environment received by promotion",
            lambda s: s.bundle_id is None or s.bundle_id in s.releases,
        ),
        Invariant(
            "SEQUENCE_MONOTONIC",
            "structural",
            "every promotion and rollback takes the next sequence number; none is reused",
            lambda s: (s.phase == "empty") == (s.sequence == 0),
        ),
        Invariant(
            "RELEASES_PRESERVED",
            "structural",
            "releases are never forgotten: every release on the rollback path stays recorded",
            lambda s: all(b in s.releases for b in s.rollback_stack),
        ),
        Invariant(
            "ROLLBACK_REQUIRES_REASON",
            "operational",
            "a rollback records why it happened",
            lambda s: not s.rollback or bool(s.reason and s.reason.strip()),
        ),
        Invariant(
            "ENVIRONMENT_TRANSITION_ALLOWED",
            "policy",
            "a bundle enters an environment only from an allowed source (preview ← build, "
            "dev ← build|preview, staging ← dev, prod ← staging by default)",
        ),
        Invariant(
            "GATE_REQUIRED",
            "policy",
            "promotions to gated environments (staging, prod) carry a passing gate report",
        ),
        Invariant(
            "ROLLBACK_TO_PREVIOUS_RELEASE",
            "operational",
            "rollback lands on the previous distinct release from history, never by name order",
        ),
        Invariant(
            "ROLLBACK_TARGET_PROMOTED",
            "policy",
            "rollback can only reach a bundle that was promoted to that environment",
        ),
        Invariant(
            "ROLLBACK_REQUIRES_PREVIOUS_RELEASE",
            "operational",
            "a rollback with nowhere to go is refused",
        ),
    ),
)
