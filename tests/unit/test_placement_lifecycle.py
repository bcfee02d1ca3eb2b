"""The placement lifecycle (seed 000's install track): one test per transition row, and the
teeth of every invariant — the forbidden move is refused and the state stays as it was."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.core.scopes import scope
from gitdocket.errors import InputError, InvariantError
from gitdocket.lifecycles.placement import (
    LIFECYCLE,
    PlacementState,
    method_surface_key,
)
from tests.unit.lifecycle_checks import assert_worded

SCOPE = scope("placement", "acme", "triage")
H1 = "sha256:" + "1" * 64
H2 = "sha256:" + "2" * 64
T1 = "a" * 40
T2 = "b" * 40


def ref(phase: str = "published", seq: int = 1) -> dict[str, Any]:
    return {"seq": seq, "head": "sha256:" + "f" * 64, "phase": phase}


def request(version: str = "1.0.0", content: str = H1, phase: str = "published") -> dict[str, Any]:
    return {
        "archetype": "support-triage",
        "version": version,
        "content_hash": content,
        "method_tree": T1 if content == H1 else T2,
        "package": ref(phase),
    }


def step(state: PlacementState, command: str, data: dict[str, Any] | None = None) -> PlacementState:
    decision = LIFECYCLE.decide(state, command, data or {})
    new = LIFECYCLE.evolve(state, decision.type, decision.data)
    assert LIFECYCLE.broken_invariants(new) == []
    return new


def run(*steps: tuple[str, dict[str, Any] | None]) -> PlacementState:
    state = LIFECYCLE.initial(SCOPE)
    for command, data in steps:
        state = step(state, command, data)
    return state


REQUESTED = (("RequestInstall", request()),)
ADMITTED = (*REQUESTED, ("TargetAdmitInstall", {"content_hash": H1}))
INSTALLED = (*ADMITTED, ("InstallPackage", {"package": ref()}))
OFFERED = (*INSTALLED, ("PublishReplacement", request("1.1.0", H2)))
REPLACEMENT_ADMITTED = (*OFFERED, ("TargetAdmitReplacement", {"version": "1.1.0", "content_hash": H2}))


def refused(steps: tuple[tuple[str, Any], ...], command: str, data: dict[str, Any]) -> str:
    state = run(*steps)
    with pytest.raises(InvariantError) as info:
        LIFECYCLE.decide(state, command, data)
    assert run(*steps) == state  # a refusal changes nothing
    assert_worded(LIFECYCLE, state, command, info.value)
    return info.value.invariant


# -- one test per row -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "phase", "check"),
    [
        pytest.param(
            REQUESTED,
            "install_requested",
            lambda s: s.pin.version == "1.0.0" and s.published,
            id="RequestInstall-pins-the-version",
        ),
        pytest.param(
            ADMITTED,
            "install_requested",
            lambda s: s.target_admitted and not s.installed,
            id="TargetAdmitInstall-admits-without-installing",
        ),
        pytest.param(INSTALLED, "installed", lambda s: s.installed and s.ever_installed, id="InstallPackage-installs"),
        pytest.param(
            (*INSTALLED, ("NoteRunEligible", {"package": ref()})),
            "installed",
            lambda s: s.run_noted,
            id="NoteRunEligible-notes",
        ),
        pytest.param(
            (*INSTALLED, ("DisableInstall", {"reason": "paused"})),
            "disabled",
            lambda s: s.installed and s.reason == "paused",
            id="DisableInstall-keeps-install",
        ),
        pytest.param(
            (*INSTALLED, ("RemoveInstall", {})),
            "removed",
            lambda s: not s.installed and s.ever_installed,
            id="RemoveInstall-future-only",
        ),
        pytest.param(
            OFFERED,
            "installed",
            lambda s: s.replacement.version == "1.1.0" and not s.replacement_ready,
            id="PublishReplacement-offers",
        ),
        pytest.param(
            REPLACEMENT_ADMITTED, "installed", lambda s: s.replacement_ready, id="TargetAdmitReplacement-admits"
        ),
        pytest.param(
            (*REPLACEMENT_ADMITTED, ("AdmitUpgrade", {"version": "1.1.0", "package": ref()})),
            "installed",
            lambda s: s.pin.version == "1.1.0" and [p.version for p in s.superseded] == ["1.0.0"],
            id="AdmitUpgrade-supersedes-the-old-pin",
        ),
        pytest.param(
            (
                *INSTALLED,
                ("EditPlacement", {"auto_upgrade": True}),
                ("PublishReplacement", request("1.1.0", H2)),
                ("AutoUpgrade", {"archetype": "support-triage", "version": "1.1.0", "package": ref()}),
            ),
            "installed",
            lambda s: s.pin.content_hash == H2 and s.replacement is None,
            id="AutoUpgrade-with-opt-in",
        ),
        pytest.param(
            (*REQUESTED, ("RejectOrExpire", {"reason": "not now"})),
            "denied",
            lambda s: not s.installed,
            id="RejectOrExpire-denies",
        ),
        pytest.param(
            (*INSTALLED, ("EditPlacement", {"config": {"tone": "formal"}, "notes": "n", "editable": ["tone"]})),
            "installed",
            lambda s: s.config == {"tone": "formal"} and s.notes == "n" and s.pin.version == "1.0.0",
            id="EditPlacement-config-only",
        ),
    ],
)
def test_transition_row(steps: tuple[tuple[str, Any], ...], phase: str, check: Any) -> None:
    state = run(*steps)
    assert state.phase == phase
    assert check(state)


def test_every_row_is_covered() -> None:
    covered = {
        "RequestInstall",
        "TargetAdmitInstall",
        "InstallPackage",
        "NoteRunEligible",
        "DisableInstall",
        "RemoveInstall",
        "PublishReplacement",
        "TargetAdmitReplacement",
        "AdmitUpgrade",
        "AutoUpgrade",
        "RejectOrExpire",
        "EditPlacement",
    }
    assert {t.command for t in LIFECYCLE.transitions} == covered


# -- teeth: one per invariant ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "command", "data", "invariant"),
    [
        pytest.param(
            REQUESTED,
            "InstallPackage",
            {"package": ref()},
            "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION",
            id="INSTALL_WITHOUT_ADMISSION",
        ),
        pytest.param(
            (),
            "RequestInstall",
            request(phase="draft"),
            "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION",
            id="INSTALL_UNPUBLISHED",
        ),
        pytest.param(
            (),
            "InstallPackage",
            {"package": ref()},
            "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION",
            id="INSTALL_WITHOUT_REQUEST",
        ),
        pytest.param(
            REQUESTED,
            "TargetAdmitInstall",
            {"content_hash": H2},
            "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION",
            id="ADMIT_OTHER_CONTENT",
        ),
        pytest.param(
            (), "RequestInstall", request(phase="withdrawn"), "WITHDRAWAL_BLOCKS_FUTURE", id="REQUEST_AFTER_WITHDRAWAL"
        ),
        pytest.param(
            ADMITTED,
            "InstallPackage",
            {"package": ref("withdrawn", 2)},
            "WITHDRAWAL_BLOCKS_FUTURE",
            id="INSTALL_AFTER_WITHDRAWAL",
        ),
        pytest.param(
            INSTALLED,
            "NoteRunEligible",
            {"package": ref("withdrawn", 2)},
            "WITHDRAWAL_BLOCKS_FUTURE",
            id="RUN_NOTE_AFTER_WITHDRAWAL",
        ),
        pytest.param(
            OFFERED,
            "AdmitUpgrade",
            {"version": "1.1.0", "package": ref()},
            "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION",
            id="UPGRADE_WITHOUT_ADMISSION",
        ),
        pytest.param(
            INSTALLED,
            "AdmitUpgrade",
            {"version": "1.1.0", "package": ref()},
            "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION",
            id="UPGRADE_WITHOUT_REPLACEMENT",
        ),
        pytest.param(
            INSTALLED,
            "TargetAdmitReplacement",
            {"version": "1.1.0", "content_hash": H2},
            "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION",
            id="ADMIT_UNOFFERED_REPLACEMENT",
        ),
        pytest.param(
            OFFERED,
            "AutoUpgrade",
            {"archetype": "support-triage", "version": "1.1.0", "package": ref()},
            "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION",
            id="AUTO_UPGRADE_WITHOUT_OPT_IN",
        ),
        pytest.param(
            REPLACEMENT_ADMITTED,
            "AdmitUpgrade",
            {"version": "1.1.0", "package": ref("withdrawn", 2)},
            "WITHDRAWAL_BLOCKS_FUTURE",
            id="UPGRADE_TO_WITHDRAWN",
        ),
        pytest.param(
            INSTALLED,
            "PublishReplacement",
            request("1.0.0", H2),
            "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION",
            id="REPLACEMENT_NOT_NEWER",
        ),
        pytest.param(
            INSTALLED,
            "PublishReplacement",
            {**request("2.0.0", H2), "archetype": "other"},
            "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION",
            id="REPLACEMENT_OTHER_ARCHETYPE",
        ),
        pytest.param(
            INSTALLED,
            "EditPlacement",
            {"config": {"skills": ["exfiltrate"]}},
            "PLACEMENT_IS_CONFIG_ONLY",
            id="EDIT_WRITES_METHOD_FIELD",
        ),
        pytest.param(
            INSTALLED,
            "EditPlacement",
            {"config": {"method/instructions.md": "x"}},
            "PLACEMENT_IS_CONFIG_ONLY",
            id="EDIT_WRITES_METHOD_PATH",
        ),
        pytest.param(INSTALLED, "EditPlacement", {}, "PLACEMENT_IS_CONFIG_ONLY", id="EDIT_NOTHING"),
        pytest.param(
            INSTALLED,
            "EditPlacement",
            {"config": {"tone": "formal"}, "editable": ["language"]},
            "PLACEMENT_IS_CONFIG_ONLY",
            id="EDIT_UNDECLARED_KEY",
        ),
        pytest.param(
            INSTALLED,
            "EditPlacement",
            {"config": {"model.name": "other-model"}, "editable": ["model.name"]},
            "PLACEMENT_IS_CONFIG_ONLY",
            id="EDIT_NESTED_KEY",
        ),
        pytest.param(
            INSTALLED,
            "EditPlacement",
            {"config": {"tone": {"model": "x"}}, "editable": ["tone"]},
            "PLACEMENT_IS_CONFIG_ONLY",
            id="EDIT_OBJECT_VALUE",
        ),
        pytest.param(
            (*INSTALLED, ("RemoveInstall", {})),
            "InstallPackage",
            {"package": ref()},
            "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION",
            id="REINSTALL_AFTER_REMOVE",
        ),
    ],
)
def test_teeth(steps: tuple[tuple[str, Any], ...], command: str, data: dict[str, Any], invariant: str) -> None:
    assert refused(steps, command, data) == invariant


def test_edit_has_no_field_for_the_method() -> None:
    state = run(*INSTALLED)
    with pytest.raises(InputError):
        LIFECYCLE.decide(state, "EditPlacement", {"method_tree": T2})
    with pytest.raises(InputError):
        LIFECYCLE.decide(state, "EditPlacement", {"pin": request("9.0.0", H2)})


def test_install_does_not_grant_payload_or_run() -> None:
    """INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN holds structurally: no event grants anything."""
    names = " ".join(f"{t.command} {t.event}" for t in LIFECYCLE.transitions).lower()
    for word in ("grant", "payload", "release", "authorize", "execute"):
        assert word not in names
    fields = set(PlacementState.model_fields)
    assert not {f for f in fields if "grant" in f or "payload" in f or "run_allowed" in f}

    class Granting(PlacementState):  # a state that could carry run authority is flagged
        run_authority: bool = True

    assert LIFECYCLE.broken_invariants(Granting()) == ["INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN"]


def test_withdrawal_history_invariant_has_teeth() -> None:
    """HISTORY_PRESERVED_ON_WITHDRAWAL: a state that lost its install without removal is caught."""
    erased = run(*INSTALLED).model_copy(update={"installed": False})
    assert "HISTORY_PRESERVED_ON_WITHDRAWAL" in LIFECYCLE.broken_invariants(erased)
    smuggled = run(*REQUESTED).model_copy(update={"installed": True})
    assert "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION" in LIFECYCLE.broken_invariants(smuggled)
    method = run(*INSTALLED).model_copy(update={"config": {"tools": []}})
    assert "PLACEMENT_IS_CONFIG_ONLY" in LIFECYCLE.broken_invariants(method)
    unpublished = run(*INSTALLED).model_copy(update={"replacement_target_admitted": True})
    assert "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION" in LIFECYCLE.broken_invariants(unpublished)


def test_upgrade_keeps_every_superseded_pin_and_config() -> None:
    state = run(
        *REPLACEMENT_ADMITTED,
        ("EditPlacement", {"notes": "keep me"}),
        ("AdmitUpgrade", {"version": "1.1.0", "package": ref()}),
    )
    assert state.notes == "keep me"
    assert state.installed and state.ever_installed
    assert [p.content_hash for p in state.superseded] == [H1]


@pytest.mark.parametrize(
    ("key", "method"),
    [
        pytest.param("tone", False, id="plain"),
        pytest.param("Model", True, id="model-any-case"),
        pytest.param("skills", True, id="skills"),
        pytest.param(".agent-config.json", True, id="dotfile"),
        pytest.param("skills/classify.md", True, id="path"),
        pytest.param("model.name", True, id="nested"),
        pytest.param("tools.extra", True, id="nested-tools"),
    ],
)
def test_method_surface_key(key: str, method: bool) -> None:
    assert method_surface_key(key) is method


# -- time: a request expires (REQUEST_EXPIRES) ----------------------------------------------

EXPIRES = "2026-02-01T00:00:00Z"
PENDING = (("RequestInstall", {**request(), "expires_at": EXPIRES}),)


def _refused_at(steps: tuple[tuple[str, Any], ...], command: str, data: dict[str, Any], at: str) -> str:
    state = run(*steps)
    before = state.model_dump(mode="json")
    with pytest.raises(InvariantError) as info:
        LIFECYCLE.decide(state, command, data, at)
    assert_worded(LIFECYCLE, state, command, info.value)
    assert state.model_dump(mode="json") == before
    return info.value.invariant


@pytest.mark.parametrize(
    ("steps", "command", "data", "at"),
    [
        pytest.param((), "RequestInstall", {**request(), "expires_at": EXPIRES}, EXPIRES, id="request-already-lapsed"),
        pytest.param(PENDING, "TargetAdmitInstall", {"content_hash": H1}, EXPIRES, id="admit-after-expiry"),
        pytest.param(
            PENDING, "RejectOrExpire", {"expired": True}, "2026-01-31T23:59:59Z", id="expiry-recorded-too-early"
        ),
        pytest.param(REQUESTED, "RejectOrExpire", {"expired": True}, "2099-01-01T00:00:00Z", id="no-expiry-to-record"),
    ],
)
def test_a_request_expires(steps: tuple[tuple[str, Any], ...], command: str, data: dict[str, Any], at: str) -> None:
    assert _refused_at(steps, command, data, at) == "REQUEST_EXPIRES"


def test_an_expired_request_ends_denied_and_a_timely_one_is_admitted() -> None:
    state = run(*PENDING)
    assert state.request_expires_at == EXPIRES
    admitted = LIFECYCLE.decide(state, "TargetAdmitInstall", {"content_hash": H1}, "2026-01-31T23:59:59Z")
    assert admitted.type == "install_target_admitted"
    decision = LIFECYCLE.decide(state, "RejectOrExpire", {"expired": True}, EXPIRES)
    denied = LIFECYCLE.evolve(state, decision.type, decision.data)
    assert (denied.phase, denied.reason) == ("denied", f"the request expired at {EXPIRES}")
    assert LIFECYCLE.decide(state, "TargetAdmitInstall", {"content_hash": H1}).type == "install_target_admitted"
