"""The configuration lifecycle (ADR 0013): one test per transition row, and the teeth of every
rule it declares — the forbidden move is refused, worded for people, and the state unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.core.documents import RegistryConfig
from gitdocket.lifecycles.config import (
    LIFECYCLE,
    PINNED,
    ConfigState,
    guard_of,
    protected_paths,
    unapproved,
)
from gitdocket.lifecycles.policy import LIFECYCLE as POLICY
from gitdocket.lifecycles.policy import PolicyState, Role, lookup_role
from tests.unit.lifecycle_checks import assert_refused, step

DOC: dict[str, Any] = {"name": "reg", "protected": [{"path": ".github/workflows/", "role": "root"}]}
D1 = "1" * 64
D2 = "2" * 64


def signed(doc: dict[str, Any] | None = None) -> ConfigState:
    return step(LIFECYCLE, ConfigState(), "ApplyConfig", {"registry": doc or DOC})


def test_apply_signs_the_document() -> None:
    state = signed()
    assert (state.phase, state.version) == ("active", 1)
    assert state.registry == RegistryConfig.model_validate(DOC)
    again = step(LIFECYCLE, state, "ApplyConfig", {"registry": {**DOC, "retention": 5}})
    assert (again.version, again.registry and again.registry.retention) == (2, 5)


def test_approve_binds_and_unbinds_content() -> None:
    state = step(LIFECYCLE, signed(), "ApprovePaths", {"role": "root", "files": {".github/workflows/a.yml": D1}})
    assert state.approved == {".github/workflows/a.yml": D1}
    gone = step(LIFECYCLE, state, "ApprovePaths", {"role": "root", "files": {".github/workflows/a.yml": None}})
    assert gone.approved == {}


def test_every_row_is_covered() -> None:
    assert {t.command for t in LIFECYCLE.transitions} == {"ApplyConfig", "ApprovePaths"}


@pytest.mark.parametrize(
    ("state", "command", "data", "rule"),
    [
        pytest.param(
            ConfigState(), "ApprovePaths", {"role": "root", "files": {"x": D1}}, "CONFIG_SIGNED", id="unsigned"
        ),
        pytest.param(None, "ApplyConfig", {"registry": DOC}, "CONFIG_CHANGES", id="apply-the-same"),
        pytest.param(
            None,
            "ApplyConfig",
            {"registry": {"name": "reg", "protected": [{"path": "tools/", "role": "wizards"}]}},
            "ROLE_NAME_VALID",
            id="unknown-role",
        ),
        pytest.param(
            None,
            "ApprovePaths",
            {"role": "root", "files": {"notes.md": D1}},
            "APPROVAL_ROLE_MATCHES",
            id="not-protected",
        ),
        pytest.param(
            None,
            "ApprovePaths",
            {"role": "builders", "files": {".github/workflows/a.yml": D1}},
            "APPROVAL_ROLE_MATCHES",
            id="wrong-role",
        ),
        pytest.param(
            None,
            "ApprovePaths",
            {"role": "root", "files": {"contracts/event.v1/schema.json": D1}},
            "APPROVAL_ROLE_MATCHES",
            id="contracts-are-the-config-role-s",
        ),
        pytest.param(
            None,
            "ApprovePaths",
            {"role": "root", "files": {".github/workflows/a.yml": None}},
            "CONFIG_CHANGES",
            id="approve-a-deletion-of-nothing",
        ),
    ],
)
def test_teeth(state: ConfigState | None, command: str, data: dict[str, Any], rule: str) -> None:
    assert_refused(LIFECYCLE, state or signed(), command, data, rule)


def test_the_most_specific_protected_path_decides() -> None:
    doc = RegistryConfig.model_validate(
        {"name": "r", "protected": [{"path": "ops/", "role": "root"}, {"path": "ops/deploy/", "role": "builders"}]}
    )
    guards = protected_paths(doc)
    assert guards[: len(PINNED)] == PINNED
    found = guard_of(guards, "ops/deploy/run.sh")
    assert found is not None and found.role == "builders"
    other = guard_of(guards, "ops/readme.md")
    assert other is not None and other.role == "root"
    assert guard_of(guards, "opsx/readme.md") is None


def test_unapproved_names_changes_additions_and_deletions() -> None:
    state = signed().model_copy(update={"approved": {".github/workflows/a.yml": D1, ".github/workflows/b.yml": D1}})
    found = {".github/workflows/a.yml": D2, ".github/workflows/c.yml": D1}
    assert unapproved(state, found) == {
        ".github/workflows/a.yml": D2,
        ".github/workflows/b.yml": None,
        ".github/workflows/c.yml": D1,
    }


def test_the_config_role_falls_back_to_root() -> None:
    policy = PolicyState(phase="active", roles={"root": Role(principals=("alice",))})
    assert lookup_role(policy, "config") == policy.roles["root"]
    granted = policy.model_copy(update={"roles": {**policy.roles, "config": Role(principals=("bob",))}})
    assert lookup_role(granted, "config") == Role(principals=("bob",))
    assert POLICY.kind == "policy"
