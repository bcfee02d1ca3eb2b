"""The package lifecycle, publish side: every transition row, every invariant's teeth, and the
publish operation that records the reference on the version in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gitdocket.core.tree import MemoryTree
from gitdocket.errors import InvariantError
from gitdocket.lifecycles import machine_for
from gitdocket.lifecycles.package import PackageState
from gitdocket.ops.packages import publish
from tests.factories import (
    PACKAGE,
    VERSION,
    VERSION_PATHS,
    committed,
    package_at,
    package_manifest,
    registry_tree,
    transaction,
)
from tests.unit.lifecycle_checks import assert_refused, row_sources, step

MACHINE = machine_for("package")
PERMIT = {"client": "client-co", "client_root": "sha256:" + "a" * 64}

ROWS = [
    pytest.param(
        "draft",
        "PublishPackage",
        package_manifest(),
        "published",
        lambda s: s.manifest is not None and s.manifest.publisher == "alice",
        id="PublishPackage-from-draft",
    ),
    pytest.param(
        "published",
        "WithdrawPackage",
        {"reason": "security issue"},
        "withdrawn",
        lambda s: s.withdrawn_reason == "security issue" and s.manifest is not None,
        id="WithdrawPackage-from-published",
    ),
    pytest.param(
        "published",
        "PermitClient",
        PERMIT,
        "published",
        lambda s: [p.client for p in s.permits] == ["client-co"],
        id="PermitClient-from-published",
    ),
]


@pytest.mark.parametrize(("start", "command", "data", "target", "check"), ROWS)
def test_transition(
    start: str,
    command: str,
    data: dict[str, Any],
    target: str,
    check: Callable[[PackageState], bool],
) -> None:
    state = step(MACHINE, package_at(start), command, data)
    assert state.phase == target
    assert check(state)


def test_every_row_and_source_has_a_test() -> None:
    assert {(p.values[1], p.values[0]) for p in ROWS} == row_sources(MACHINE)


TEETH = [
    pytest.param(
        "withdrawn",
        "PublishPackage",
        package_manifest(),
        "WITHDRAWAL_BLOCKS_FUTURE",
        id="WITHDRAWAL_BLOCKS_FUTURE-republish",
    ),
    pytest.param(
        "withdrawn",
        "WithdrawPackage",
        {"reason": "again"},
        "WITHDRAWAL_BLOCKS_FUTURE",
        id="WITHDRAWAL_BLOCKS_FUTURE-withdraw-twice",
    ),
    pytest.param(
        "published",
        "PublishPackage",
        package_manifest(),
        "TRANSITION_NOT_ALLOWED",
        id="publish-twice",
    ),
    pytest.param(
        "draft",
        "WithdrawPackage",
        {"reason": "x"},
        "TRANSITION_NOT_ALLOWED",
        id="withdraw-unpublished",
    ),
    pytest.param(
        "draft",
        "PublishPackage",
        package_manifest(version="2.0.0"),
        "PACKAGE_SCOPE_MATCHES",
        id="PACKAGE_SCOPE_MATCHES-other-version",
    ),
    pytest.param(
        "draft",
        "PublishPackage",
        package_manifest(archetype="other"),
        "PACKAGE_SCOPE_MATCHES",
        id="PACKAGE_SCOPE_MATCHES-other-archetype",
    ),
    pytest.param("draft", "PermitClient", PERMIT, "CROSSING_REQUIRES_PERMIT_AND_ADMIT", id="permit-unpublished"),
    pytest.param("withdrawn", "PermitClient", PERMIT, "WITHDRAWAL_BLOCKS_FUTURE", id="permit-withdrawn"),
]


def test_a_client_is_permitted_once() -> None:
    """CROSSING_REQUIRES_PERMIT_AND_ADMIT: a second identical permit changes nothing: refused."""
    permitted = step(MACHINE, package_at("published"), "PermitClient", PERMIT)
    assert_refused(MACHINE, permitted, "PermitClient", PERMIT, "CROSSING_REQUIRES_PERMIT_AND_ADMIT")


@pytest.mark.parametrize(("start", "command", "data", "invariant"), TEETH)
def test_forbidden_move_is_refused(start: str, command: str, data: dict[str, Any], invariant: str) -> None:
    assert_refused(MACHINE, package_at(start), command, data, invariant)


def test_withdrawal_preserves_history() -> None:
    """HISTORY_PRESERVED_ON_WITHDRAWAL (INV-18): the manifest stays; losing it is flagged."""
    published = package_at("published")
    withdrawn = step(MACHINE, published, "WithdrawPackage", {"reason": "security issue"})
    assert withdrawn.manifest == published.manifest
    broken = withdrawn.model_copy(update={"manifest": None})
    assert MACHINE.broken_invariants(broken) == ["HISTORY_PRESERVED_ON_WITHDRAWAL"]


# -- the publish operation (version + package in one transaction) --------------------------------


def _tree_with_version(phase: str) -> MemoryTree:
    tree = registry_tree()
    tx = transaction(tree, "alice")
    for command, data in VERSION_PATHS[phase]:
        tx.apply(VERSION, command, data)
    return committed(tree, tx)


def test_publish_touches_version_and_package_in_one_transaction() -> None:
    tx = transaction(_tree_with_version("frozen"), "alice")
    manifest = publish(tx, "support-triage", "1.0.0")
    assert sorted(tx.writes) == sorted(
        [VERSION.history_path, VERSION.current_path, PACKAGE.history_path, PACKAGE.current_path]
    )
    assert tx.state(VERSION).packages == (PACKAGE.path,)
    assert tx.state(PACKAGE).manifest == manifest
    assert [t.name for t in tx.tags] == ["packages/support-triage/v1.0.0"]


@pytest.mark.parametrize(
    ("phase", "invariant"),
    [
        pytest.param("draft", "PACKAGE_REQUIRES_FROZEN_VERSION", id="PACKAGE_REQUIRES_FROZEN_VERSION-draft"),
        pytest.param(
            "abandoned",
            "PACKAGE_REQUIRES_FROZEN_VERSION",
            id="PACKAGE_REQUIRES_FROZEN_VERSION-abandoned",
        ),
        pytest.param("retired", "RETIREMENT_BLOCKS_FUTURE_PACKAGING", id="RETIREMENT_BLOCKS_FUTURE_PACKAGING"),
        pytest.param("packaged", "PACKAGE_REFERENCE_UNIQUE", id="already-published"),
    ],
)
def test_publish_refusal_stages_nothing(phase: str, invariant: str) -> None:
    tx = transaction(_tree_with_version(phase), "alice")
    with pytest.raises(InvariantError) as info:
        publish(tx, "support-triage", "1.0.0")
    assert info.value.invariant == invariant
    assert tx.writes == {} and tx.tags == []


def test_every_invariant_has_teeth() -> None:
    named = {p.values[-1] for p in TEETH} | {"HISTORY_PRESERVED_ON_WITHDRAWAL"}
    assert {i.name for i in MACHINE.invariants} <= named
