"""Exhaustive bounded checks of every lifecycle (issue 14; ADR 0031): every command sequence over
a small finite domain of representative data (``domains``), breadth-first from the initial state
to a depth that takes every transition row at least twice; every invariant holds in every state
reached. The teeth: for each rule, a copy of the machine with what protects it removed (its
guard, its phase check, or the part of ``apply`` that keeps it) makes the same search fail.

Time budget: 60 s for the whole module on one core (measured: the nine searches take about 5 s
together; a mutant's search stops at the first state that breaks its rule). The state counts
are printed (``pytest -s tests/model``) and written to the JUnit properties (``states``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from gitdocket.lifecycles import LIFECYCLES
from gitdocket.lifecycles.machine import Machine
from gitdocket.lifecycles.placement import PlacementState
from tests.model.domains import MODELS
from tests.model.explore import Model, explore

Mutation = Callable[[Machine[Any]], Machine[Any]]


def row(command: str, *, widen: tuple[str, ...] = (), **changes: Any) -> Mutation:
    """The mutant whose row ``command`` has ``changes`` (``guard=None``, ``apply=None``, …) and is
    also allowed from the phases ``widen``."""

    def mutate(machine: Machine[Any]) -> Machine[Any]:
        def changed(r: Any) -> Any:
            if r.command != command:
                return r
            return replace(r, sources=tuple(dict.fromkeys((*r.sources, *widen))), **changes)

        return replace(machine, transitions=tuple(changed(r) for r in machine.transitions))

    return mutate


class GrantingPlacement(PlacementState):
    """A placement state that could hold run authority: what INV-10/11/12 rule out by type."""

    run_authority: bool = False


def _granting(machine: Machine[Any]) -> Machine[Any]:
    return replace(
        machine,
        state=GrantingPlacement,
        initial=lambda s: GrantingPlacement(project=s.keys[0], name=s.keys[1]),
    )


def _keep(**update: Any) -> Callable[[Any, Any], Any]:
    return lambda state, _data: state.model_copy(update=update)


def then(command: str, change: Callable[[Any, Any, Any], dict[str, Any]], **changes: Any) -> Mutation:
    """The mutant whose row ``command`` applies as before and then also ``change(before, data,
    after)`` (and has ``changes``): an ``apply`` that forgets what keeps a rule."""

    def mutate(machine: Machine[Any]) -> Machine[Any]:
        real = machine.row(command).apply
        assert real is not None

        def apply(state: Any, data: Any) -> Any:
            after = real(state, data)
            return after.model_copy(update=change(state, data, after))

        return row(command, apply=apply, **changes)(machine)

    return mutate


def tooth(kind: str, mutate: Mutation, rule: str) -> Any:
    """One row of ``TEETH``: the mutant of ``kind``'s machine that must break ``rule``."""
    return pytest.param(kind, mutate, rule, id=f"{kind}-{rule}")


TEETH = [
    tooth(
        "policy",
        row("SetExpiry", apply=lambda s, d: s.model_copy(update={"expires": d.expires})),
        "POLICY_VERSION_INCREASES",
    ),
    tooth("policy", row("RevokeRole", guard=None), "ROOT_NOT_EMPTY"),
    tooth("policy", row("AddIdentity", guard=None), "IDENTITY_UNIQUE"),
    tooth("policy", row("SetThreshold", guard=None), "THRESHOLD_REACHABLE"),
    tooth("config", row("ApplyConfig", apply=None), "CONFIG_SIGNED"),
    tooth("archetype", row("ChangeOwners", guard=None), "ARCHETYPE_HAS_OWNERS"),
    tooth("version", row("RecordPackageReference", widen=("draft",), guard=None), "PACKAGE_REQUIRES_FROZEN_VERSION"),
    tooth("version", row("ReviseDraft", widen=("frozen",), target=None), "FROZEN_VERSION_IMMUTABLE"),
    tooth("version", row("RetireVersion", apply=_keep(packages=())), "PAST_PACKAGES_PRESERVED"),
    tooth("version", row("FreezeVersion", apply=None), "FREEZE_REQUIRES_COMPLETE_SNAPSHOT"),
    tooth("package", row("WithdrawPackage", widen=("draft",)), "HISTORY_PRESERVED_ON_WITHDRAWAL"),
    tooth("package", row("PublishPackage", widen=("withdrawn",)), "WITHDRAWAL_BLOCKS_FUTURE"),
    tooth("placement", row("InstallPackage", guard=None), "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION"),
    tooth("placement", _granting, "INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN"),
    tooth("placement", row("RemoveInstall", target=None), "HISTORY_PRESERVED_ON_WITHDRAWAL"),
    tooth("placement", row("TargetAdmitReplacement", guard=None), "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION"),
    tooth("placement", row("EditPlacement", guard=None), "PLACEMENT_IS_CONFIG_ONLY"),
    tooth("entitlement", row("RecordBillingReceipt", target="active"), "ENTITLEMENT_REQUIRES_AUTHORITY"),
    tooth(
        "entitlement",
        row("RequestEntitlement", widen=("none",), guard=None),
        "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT",
    ),
    tooth(
        "entitlement",
        row("MarkRunEligible", widen=("requested",), guard=None),
        "RUN_ELIGIBILITY_REQUIRES_ACTIVE_ENTITLEMENT",
    ),
    tooth("entitlement", row("SuspendEntitlement", apply=None), "SUSPENSION_BLOCKS_FUTURE_RUNS"),
    tooth("entitlement", row("CloseEntitlement", apply=_keep(history_present=False)), "HISTORY_PRESERVED_ON_CLOSE"),
    tooth("entitlement", row("ActivateEntitlement", widen=("none",), guard=None), "PHASE_IS_AUTHORITATIVE"),
    tooth("bundle", row("BuildBundle", apply=None), "BUNDLE_IMMUTABLE"),
    tooth("bundle", row("BuildBundle", guard=None), "BUNDLE_ID_CONSISTENT"),
    tooth("bundle", row("VerifyBundle", apply=None), "MANIFEST_BOUND"),
    tooth("environment", then("Promote", lambda b, _d, _a: {"releases": b.releases}), "POINTER_IN_RELEASES"),
    tooth("environment", row("Promote", apply=None), "SEQUENCE_MONOTONIC"),
    tooth(
        "environment",
        then("Promote", lambda _b, d, a: {"releases": {d.bundle_id: a.releases[d.bundle_id]}}),
        "RELEASES_PRESERVED",
    ),
    tooth("environment", then("Rollback", lambda _b, _d, _a: {"reason": None}), "ROLLBACK_REQUIRES_REASON"),
    tooth("environment", then("Promote", lambda b, _d, _a: {"holds": b.holds}, guard=None), "ROLLBACK_HOLDS_RELEASE"),
]


def test_every_lifecycle_has_a_model() -> None:
    assert set(MODELS) == set(LIFECYCLES)


@pytest.mark.parametrize("kind", list(MODELS))
def test_every_reachable_state_keeps_every_invariant(kind: str, record_property: Callable[[str, object], None]) -> None:
    model = MODELS[kind]
    result = explore(model)
    rows = {r.command for r in model.machine.transitions}
    print(f"{kind}: {result.states} states, {result.edges} transitions, depth {result.depth}")
    record_property("states", result.states)
    assert result.violations == {}
    assert result.crashes == 0
    assert {c: result.fired[c] for c in rows if result.fired[c] < 2} == {}, "every row is taken at least twice"


def test_every_rule_checked_has_teeth() -> None:
    """Every ``holds`` rule and every edge rule of every model has a mutant below."""
    checked = {(k, rule.name) for k, m in MODELS.items() for rule, _ in m.machine.holds}
    checked |= {(k, rule.name) for k, m in MODELS.items() for rule, _ in m.edges}
    assert checked <= {(p.values[0], p.values[2]) for p in TEETH}


@pytest.mark.parametrize(("kind", "mutate", "rule"), TEETH)
def test_a_machine_without_the_guard_fails_the_check(kind: str, mutate: Mutation, rule: str) -> None:
    model = MODELS[kind]
    result = explore(Model(mutate(model.machine), model.target, model.actions, model.depth, model.edges), until=rule)
    assert rule in result.violations, f"the mutant broke {sorted(result.violations)} only"
