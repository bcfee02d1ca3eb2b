"""The bundle lifecycle: one test per transition row, teeth per invariant."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.core.scopes import scope
from gitdocket.errors import InputError, InvariantError
from gitdocket.lifecycles.bundle import LIFECYCLE, BundleState, bundle_id_for
from tests.unit.lifecycle_checks import assert_worded

COMMIT = "1a2b3c4d" + "0" * 32
BID = "pr-preview-20260101-000000-1a2b3c4d"
DIGEST = "sha256:" + "ab" * 32


def built(**extra: Any) -> dict[str, Any]:
    data = {
        "label": "pr-preview",
        "created_at": "2026-01-01T00:00:00Z",
        "built_by": "alice",
        "source_commit": COMMIT,
        "manifest_digest": DIGEST,
        "included_files": 3,
        "evidence_files": 3,
    }
    return {**data, **extra}


def verified(**extra: Any) -> dict[str, Any]:
    data = {
        "manifest_digest": DIGEST,
        "payload_tree": "b" * 40,
        "evidence_tree": "c" * 40,
        "verified_files": 6,
        "verified_at": "2026-01-01T00:00:01Z",
        "verified_by": "alice",
    }
    return {**data, **extra}


def initial(bundle_id: str = BID) -> BundleState:
    return LIFECYCLE.initial(scope("bundle", bundle_id))


def step(state: BundleState, command: str, data: dict[str, Any]) -> BundleState:
    decision = LIFECYCLE.decide(state, command, data)
    return LIFECYCLE.evolve(state, decision.type, decision.data)


def test_bundle_id_format() -> None:
    assert bundle_id_for("pr-preview", "2026-01-01T00:00:00Z", COMMIT) == BID
    assert bundle_id_for("candidate", "2026-12-31T23:59:58Z", None) == "candidate-20261231-235958-nogit"


def test_build_records_the_manifest_digest() -> None:
    state = step(initial(), "BuildBundle", built())
    assert (state.phase, state.manifest_digest, state.built_by, state.label) == (
        "built",
        DIGEST,
        "alice",
        "pr-preview",
    )
    assert LIFECYCLE.broken_invariants(state) == []


def test_verify_records_the_checked_trees() -> None:
    state = step(step(initial(), "BuildBundle", built()), "VerifyBundle", verified())
    assert (state.phase, state.payload_tree, state.verified_by) == ("verified", "b" * 40, "alice")
    assert LIFECYCLE.broken_invariants(state) == []


@pytest.mark.parametrize(
    ("commands", "invariant"),
    [
        pytest.param(["BuildBundle", "BuildBundle"], "BUNDLE_IMMUTABLE", id="rebuild-over-existing-id"),
        pytest.param(["BuildBundle", "VerifyBundle", "VerifyBundle"], "BUNDLE_IMMUTABLE", id="verify-twice"),
        pytest.param(["VerifyBundle"], "BUNDLE_MUST_EXIST", id="verify-before-build"),
    ],
)
def test_refused_transitions_leave_state_unchanged(commands: list[str], invariant: str) -> None:
    state = initial()
    data = {"BuildBundle": built(), "VerifyBundle": verified()}
    for command in commands[:-1]:
        state = step(state, command, data[command])
    with pytest.raises(InvariantError) as caught:
        LIFECYCLE.decide(state, commands[-1], data[commands[-1]])
    assert caught.value.invariant == invariant
    assert_worded(LIFECYCLE, state, commands[-1], caught.value)


def test_teeth_bundle_id_consistent() -> None:
    with pytest.raises(InvariantError) as caught:
        LIFECYCLE.decide(initial("pr-preview-20260101-000000-ffffffff"), "BuildBundle", built())
    assert caught.value.invariant == "BUNDLE_ID_CONSISTENT"
    assert_worded(LIFECYCLE, initial("pr-preview-20260101-000000-ffffffff"), "BuildBundle", caught.value)


def test_teeth_manifest_bound() -> None:
    state = step(initial(), "BuildBundle", built())
    with pytest.raises(InvariantError) as caught:
        LIFECYCLE.decide(state, "VerifyBundle", verified(manifest_digest="sha256:" + "cd" * 32))
    assert caught.value.invariant == "MANIFEST_BOUND"
    assert_worded(LIFECYCLE, state, "VerifyBundle", caught.value)
    assert state.phase == "built"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(built(label="Bad Label"), id="label-not-a-name"),
        pytest.param(built(manifest_digest="abc"), id="digest-malformed"),
        pytest.param(built(created_at="yesterday"), id="time-malformed"),
        pytest.param({**built(), "extra": 1}, id="unknown-field"),
    ],
)
def test_malformed_build_data_is_input_error(data: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        LIFECYCLE.decide(initial(), "BuildBundle", data)


def test_invariant_checks_catch_a_forged_state() -> None:
    forged = step(initial(), "BuildBundle", built()).model_copy(update={"bundle_id": "x-20260101-000000-nogit"})
    assert "BUNDLE_ID_CONSISTENT" in LIFECYCLE.broken_invariants(forged)
