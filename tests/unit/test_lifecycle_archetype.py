"""The archetype lifecycle: every transition row, its guards, and fork being owner-only (through
the authorization rule, which is where that invariant lives)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gitdocket.core.scopes import scope
from gitdocket.errors import InputError
from gitdocket.lifecycles import machine_for
from gitdocket.lifecycles.archetype import ArchetypeState
from gitdocket.lifecycles.authz import authorize, policy_resolver
from gitdocket.lifecycles.policy import Role
from tests.factories import ARCHETYPE, event, policy_at, run, sign
from tests.unit.lifecycle_checks import assert_refused, row_sources, step

MACHINE = machine_for("archetype")
FORK = scope("archetype", "support-triage-eu")
CREATED = ("CreateArchetype", {"owners": ["alice"], "threshold": 1})


FORKED = ("ForkArchetype", {"owners": ["bob"], "source": "release-notes", "source_version": "1.0.0"})
TREE_A, TREE_B = "a" * 40, "b" * 40


def _at(name: str) -> ArchetypeState:
    starts = {"active": (CREATED,), "forked": (FORKED,)}
    state: ArchetypeState = run(ARCHETYPE, *starts.get(name, ()))
    return state


ROWS = [
    pytest.param(
        "none",
        "CreateArchetype",
        {"owners": ["bob", "alice", "bob"], "threshold": 2},
        "active",
        lambda s: (s.owners, s.threshold, s.forked_from) == (("alice", "bob"), 2, None),
        id="CreateArchetype-from-none",
    ),
    pytest.param(
        "none",
        "ForkArchetype",
        {"owners": ["bob"], "source": "release-notes", "source_version": "1.0.0"},
        "active",
        lambda s: (
            s.owners == ("bob",)
            and s.forked_from is not None
            and (s.forked_from.archetype, s.forked_from.version) == ("release-notes", "1.0.0")
        ),
        id="ForkArchetype-from-none",
    ),
    pytest.param(
        "active",
        "ChangeOwners",
        {"owners": ["carol"], "threshold": 1},
        "active",
        lambda s: s.owners == ("carol",),
        id="ChangeOwners-from-active",
    ),
    pytest.param(
        "forked",
        "PullFromSource",
        {"source": "release-notes", "source_version": "1.1.0", "source_tree": TREE_A, "merged_tree": TREE_B},
        "active",
        lambda s: s.forked_from is not None and s.forked_from.archetype == "release-notes",
        id="PullFromSource-from-active",
    ),
]


@pytest.mark.parametrize(("start", "command", "data", "target", "check"), ROWS)
def test_transition(
    start: str,
    command: str,
    data: dict[str, Any],
    target: str,
    check: Callable[[ArchetypeState], bool],
) -> None:
    state = step(MACHINE, _at(start), command, data)
    assert state.phase == target and state.name == "support-triage"
    assert check(state)


def test_every_row_and_source_has_a_test() -> None:
    tested = {(p.values[1], "active" if p.values[0] == "forked" else p.values[0]) for p in ROWS}
    assert tested == row_sources(MACHINE)


TEETH = [
    pytest.param("active", "ChangeOwners", {"owners": []}, "ARCHETYPE_HAS_OWNERS", id="ARCHETYPE_HAS_OWNERS"),
    pytest.param("active", "ChangeOwners", {"owners": ["alice"]}, "OWNERS_CHANGE", id="OWNERS_CHANGE-nothing"),
    pytest.param(
        "none",
        "CreateArchetype",
        {"owners": []},
        "ARCHETYPE_HAS_OWNERS",
        id="ARCHETYPE_HAS_OWNERS-create",
    ),
    pytest.param(
        "none",
        "CreateArchetype",
        {"owners": ["alice", "alice"], "threshold": 2},
        "THRESHOLD_REACHABLE",
        id="THRESHOLD_REACHABLE-duplicate-owner",
    ),
    pytest.param(
        "active",
        "ChangeOwners",
        {"owners": ["alice"], "threshold": 3},
        "THRESHOLD_REACHABLE",
        id="THRESHOLD_REACHABLE",
    ),
    pytest.param("none", "CreateArchetype", {"owners": ["../alice"]}, "OWNERS_VALID", id="OWNERS_VALID"),
    pytest.param(
        "active",
        "CreateArchetype",
        {"owners": ["alice"]},
        "ARCHETYPE_UNIQUE",
        id="create-twice",
    ),
    pytest.param(
        "active",
        "ForkArchetype",
        {"owners": ["bob"], "source": "x"},
        "ARCHETYPE_UNIQUE",
        id="fork-onto-existing",
    ),
    pytest.param(
        "none",
        "ChangeOwners",
        {"owners": ["bob"]},
        "TRANSITION_NOT_ALLOWED",
        id="change-owners-of-nothing",
    ),
]


@pytest.mark.parametrize(("start", "command", "data", "invariant"), TEETH)
def test_forbidden_move_is_refused(start: str, command: str, data: dict[str, Any], invariant: str) -> None:
    assert_refused(MACHINE, _at(start), command, data, invariant)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"owners": ["bob"], "source": "../support-triage"}, id="source-not-a-name"),
        pytest.param(
            {"owners": ["bob"], "source": "a", "source_version": "v1"},
            id="source-version-not-semver",
        ),
    ],
)
def test_fork_source_must_be_a_name(data: dict[str, Any]) -> None:
    with pytest.raises(InputError, match=r"cannot fork into archetype [a-z-]+: source"):
        MACHINE.decide(_at("none"), "ForkArchetype", data)


def test_archetype_without_owners_is_flagged() -> None:
    assert MACHINE.broken_invariants(_at("active").model_copy(update={"owners": ()})) == ["ARCHETYPE_HAS_OWNERS"]


def _owners(table: dict[str, tuple[str, ...]]) -> Callable[[str], Role | None]:
    return lambda name: Role(principals=table[name]) if name in table else None


@pytest.mark.parametrize(
    ("signer", "ok"),
    [
        pytest.param("alice", True, id="owner-of-source-may-fork"),
        pytest.param("bob", False, id="FORK_IS_OWNER_ONLY-non-owner-refused"),
    ],
)
def test_fork_is_owner_only(signer: str, ok: bool) -> None:
    policy = policy_at()
    data = {
        "owners": [signer],
        "threshold": 1,
        "source": "support-triage",
        "source_version": "1.0.0",
    }
    fork = sign(FORK, event("forked", data, actor=signer), signer)
    resolve = policy_resolver(policy, _owners({"support-triage": ("alice",), "support-triage-eu": ()}))
    verdict = authorize(MACHINE, FORK, fork, policy, resolve)
    assert verdict.role == "owners:support-triage"
    assert verdict.ok is ok
    if not ok:
        assert "needs 1 signature(s) by owners:support-triage, got 0" in verdict.problems[0]


def test_every_invariant_has_teeth() -> None:
    named = {p.values[-1] for p in TEETH} | {"FORK_IS_OWNER_ONLY"}
    named.add("PULL_REQUIRES_FORK")  # test_clients_fork_lifecycle.py
    assert {i.name for i in MACHINE.invariants} <= named


def test_owners_role_is_the_role_that_signs_for_the_archetype() -> None:
    assert ArchetypeState().owners_role is None  # before it exists, nobody holds owners:<name>
    state = ArchetypeState(phase="active", name="support-triage", owners=("alice", "bob"), threshold=2)
    assert state.owners_role == Role(principals=("alice", "bob"), threshold=2)


@pytest.mark.parametrize(
    ("owners", "threshold"),
    [
        pytest.param(("alice",), 1, id="one-owner"),
        pytest.param(("alice", "bob"), 1, id="two-owners"),
        pytest.param(("alice", "bob"), 2, id="two-of-two"),
        pytest.param(("bob", "alice"), 2, id="other-order"),
    ],
)
def test_owners_role_is_the_states_owners(owners: tuple[str, ...], threshold: int) -> None:
    """The owners' role is kept by its exact values (ADR 0038): each state gets the role of its
    own owners and threshold, whichever state asked first."""
    for first in [("alice",), ("alice", "bob"), ("bob", "alice")]:
        ArchetypeState(phase="active", name="a", owners=first, threshold=1).owners_role  # noqa: B018
    role = ArchetypeState(phase="active", name="a", owners=owners, threshold=threshold).owners_role
    assert role is not None
    assert role == Role(principals=owners, threshold=threshold)
    assert (role.principals, role.threshold) == (owners, threshold)
    assert ArchetypeState(phase="none").owners_role is None
