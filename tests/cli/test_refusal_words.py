"""Refusals at the command line, in the user's words: what was tried and why, the rule in
parentheses, a hint, exit 1, no internal command or event name — and nothing written."""

from __future__ import annotations

import pytest

from tests.support import EXAMPLES, Registry
from tests.unit.lifecycle_checks import identifiers_in

ARCHETYPE = "support-triage"


@pytest.fixture
def frozen(registry: Registry) -> Registry:
    registry.add_archetype()
    registry.ok("version", "freeze", ARCHETYPE, "1.0.0")
    return registry


def refusal(reg: Registry, *args: str) -> tuple[str, str]:
    """(error, hint) of a refused command, which changed nothing."""
    before = reg.refs()
    result = reg.run(*args)
    assert result.code == 1, result.err
    assert reg.refs() == before
    lines = result.err.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["error", "hint"], result.err
    error, hint = (line.split(": ", 1)[1] for line in lines)
    assert identifiers_in(result.err) == [], result.err
    assert hint.strip()
    return error, hint


def test_freezing_a_frozen_version_says_so_and_to_freeze_a_new_one(frozen: Registry) -> None:
    error, hint = refusal(frozen, "version", "freeze", ARCHETYPE, "1.0.0")
    assert error == "cannot freeze version support-triage 1.0.0: it is already frozen (FROZEN_VERSION_IMMUTABLE)"
    assert hint == (
        "a frozen version never changes; change method/ and freeze a new version: "
        "`gitdocket version freeze support-triage NEW-VERSION`"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(
            ("version", "draft", ARCHETYPE, "1.0.0"),
            "cannot revise the draft of version support-triage 1.0.0: it is already frozen (FROZEN_VERSION_IMMUTABLE)",
            id="draft-a-frozen-version",
        ),
        pytest.param(
            ("version", "abandon", ARCHETYPE, "1.0.0", "--reason", "oops"),
            "cannot abandon the draft of version support-triage 1.0.0: it is already frozen (FROZEN_VERSION_IMMUTABLE)",
            id="abandon-a-frozen-version",
        ),
        pytest.param(
            ("archetype", "new", ARCHETYPE, "--from", str(EXAMPLES / ARCHETYPE)),
            "cannot create archetype support-triage: it already exists (ARCHETYPE_UNIQUE)",
            id="create-an-archetype-twice",
        ),
        pytest.param(
            ("rollback", "--env", "dev", "--reason", "broken"),
            "cannot roll back environment dev: nothing is deployed in it (ROLLBACK_REQUIRES_PREVIOUS_RELEASE)",
            id="roll-back-an-empty-environment",
        ),
        pytest.param(
            ("policy", "grant", "authors", "alice"),
            "cannot grant a role in the trust policy: alice already holds authors (ROLE_ALREADY_HELD)",
            id="grant-a-held-role",
        ),
    ],
)
def test_refusals_say_what_was_tried(frozen: Registry, args: tuple[str, ...], error: str) -> None:
    assert refusal(frozen, *args)[0] == error


def test_retiring_twice_and_withdrawing_twice(frozen: Registry) -> None:
    frozen.ok("package", "publish", ARCHETYPE, "1.0.0")
    frozen.ok("package", "withdraw", ARCHETYPE, "1.0.0", "--reason", "recalled")
    error, hint = refusal(frozen, "package", "withdraw", ARCHETYPE, "1.0.0", "--reason", "again")
    assert error == "cannot withdraw package support-triage 1.0.0: it is withdrawn (WITHDRAWAL_BLOCKS_FUTURE)"
    assert hint == "nothing to do: it is already withdrawn"
    frozen.ok("version", "retire", ARCHETYPE, "1.0.0", "--reason", "old")
    error, hint = refusal(frozen, "version", "retire", ARCHETYPE, "1.0.0", "--reason", "again")
    assert error == "cannot retire version support-triage 1.0.0: it is retired (TRANSITION_NOT_ALLOWED)"
    assert hint == "nothing to do"
