"""The archetype rows the client side adds: ``forked`` records its merge base, and
``pulled_from_source`` is only for a fork of that source and signed by the source's owners."""

from __future__ import annotations

import pytest

from gitdocket.core.scopes import scope
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.archetype import LIFECYCLE, ArchetypeState
from gitdocket.lifecycles.authz import required_role
from tests.unit.lifecycle_checks import assert_worded

FORK = scope("archetype", "triage-eu")
TREE = "a" * 40
PULL = {"source": "support-triage", "source_version": "1.1.0", "source_tree": "b" * 40, "merged_tree": "c" * 40}


def forked() -> ArchetypeState:
    data = {"owners": ["bob"], "source": "support-triage", "source_version": "1.0.0", "method_tree": TREE}
    decision = LIFECYCLE.decide(LIFECYCLE.initial(FORK), "ForkArchetype", data)
    assert decision.data["method_tree"] == TREE
    return LIFECYCLE.evolve(LIFECYCLE.initial(FORK), decision.type, decision.data)


def test_pull_from_source_row() -> None:
    state = forked()
    decision = LIFECYCLE.decide(state, "PullFromSource", PULL)
    assert decision.type == "pulled_from_source"
    assert LIFECYCLE.evolve(state, decision.type, decision.data) == state  # the log is the record
    assert required_role(LIFECYCLE, FORK, decision.type, decision.data) == "owners:support-triage"


@pytest.mark.parametrize(
    ("state", "data"),
    [
        pytest.param(ArchetypeState(phase="active", name="x", owners=("alice",)), PULL, id="not-a-fork"),
        pytest.param(forked(), {**PULL, "source": "release-notes"}, id="another-source"),
    ],
)
def test_pull_requires_a_fork_of_that_source(state: ArchetypeState, data: dict[str, str]) -> None:
    with pytest.raises(InvariantError) as info:
        LIFECYCLE.decide(state, "PullFromSource", data)
    assert info.value.invariant == "PULL_REQUIRES_FORK"
    assert_worded(LIFECYCLE, state, "PullFromSource", info.value)


def test_fork_is_signed_by_the_source_owners() -> None:
    data = {"owners": ["bob"], "threshold": 1, "source": "support-triage", "source_version": None, "method_tree": None}
    assert required_role(LIFECYCLE, FORK, "forked", data) == "owners:support-triage"
