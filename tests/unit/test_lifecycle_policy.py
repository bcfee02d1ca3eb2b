"""The trust-policy lifecycle: every transition row (each increments the version by exactly one),
the structural rules (root never empty, thresholds reachable, identities unique and known) and
role lookup with the ``role:suffix`` fallback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gitdocket.core.scopes import scope
from gitdocket.errors import InputError
from gitdocket.lifecycles import machine_for
from gitdocket.lifecycles.policy import PolicyState, Role, holder_of, lookup_role
from tests.factories import identity, policy_at, policy_init, run
from tests.unit.lifecycle_checks import assert_refused, row_sources, step

MACHINE = machine_for("policy")
POLICY = scope("policy")
EXPIRY = "2027-01-01T00:00:00Z"
VENDOR_ROOT = {"registry": "vendor-co", "keys": [{"name": "val", "public_key": identity("val")["public_key"]}]}
ROOT_DIGEST = "sha256:" + "ab" * 32
WORKFLOW = "https://github.com/acme/registry/.github/workflows/deployment-promote.yml@refs/heads/main"


def _keyless(name: str, **claims: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "sigstore",
        "issuer": "https://token.actions.githubusercontent.com",
        "subject": WORKFLOW,
        "claims": claims,
    }


def _at(name: str) -> PolicyState:
    state: PolicyState
    if name == "none":
        state = run(POLICY)
    elif name == "two-roots":
        state = policy_at(("alice", "bob"), 2)
    elif name == "two-roots-1-of-2":
        state = policy_at(("alice", "bob"), 1)
    elif name == "pinned":
        state = policy_at().model_copy(update={"trusted_root": ROOT_DIGEST})
    else:
        state = policy_at()
    return state


ROWS = [
    pytest.param(
        "none",
        "InitPolicy",
        {**policy_init(), "expires": EXPIRY},
        lambda s: (
            set(s.identities) == {"alice", "bob", "carol"}
            and s.expires == EXPIRY
            and s.roles["root"] == Role(principals=("alice",))
        ),
        id="InitPolicy-from-none",
    ),
    pytest.param(
        "active",
        "AddIdentity",
        {"identity": identity("dave")},
        lambda s: "dave" in s.identities,
        id="AddIdentity-from-active",
    ),
    pytest.param(
        "active",
        "RemoveIdentity",
        {"name": "carol"},
        lambda s: "carol" not in s.identities,
        id="RemoveIdentity-from-active",
    ),
    pytest.param(
        "active",
        "GrantRole",
        {"role": "root", "principal": "bob", "threshold": 2},
        lambda s: s.roles["root"] == Role(principals=("alice", "bob"), threshold=2),
        id="GrantRole-from-active",
    ),
    pytest.param(
        "two-roots-1-of-2",
        "RevokeRole",
        {"role": "root", "principal": "bob"},
        lambda s: s.roles["root"] == Role(principals=("alice",), threshold=1),
        id="RevokeRole-from-active",
    ),
    pytest.param(
        "two-roots",
        "SetThreshold",
        {"role": "root", "threshold": 1},
        lambda s: s.roles["root"].threshold == 1,
        id="SetThreshold-from-active",
    ),
    pytest.param(
        "active",
        "SetExpiry",
        {"expires": EXPIRY},
        lambda s: s.expires == EXPIRY,
        id="SetExpiry-from-active",
    ),
    pytest.param(
        "active",
        "PinTrustedRoot",
        {"digest": ROOT_DIGEST},
        lambda s: s.trusted_root == ROOT_DIGEST,
        id="PinTrustedRoot-from-active",
    ),
    pytest.param(
        "active",
        "SetRiskRules",
        {"rules": [{"name": "new-tools", "kinds": ["tool_added"], "role": "root"}]},
        lambda s: [r.name for r in s.risk_rules] == ["new-tools"],
        id="SetRiskRules-from-active",
    ),
    pytest.param(
        "active",
        "PinVendor",
        {"vendor": "vendor-co", "root": VENDOR_ROOT},
        lambda s: s.vendors["vendor-co"].registry == "vendor-co",
        id="PinVendor-from-active",
    ),
]


@pytest.mark.parametrize(("start", "command", "data", "check"), ROWS)
def test_transition_increments_the_version(
    start: str, command: str, data: dict[str, Any], check: Callable[[PolicyState], bool]
) -> None:
    before = _at(start)
    state = step(MACHINE, before, command, data)
    assert state.phase == "active"
    assert state.version == before.version + 1
    assert check(state)


def test_every_row_and_source_has_a_test() -> None:
    assert {(p.values[1], "active" if p.values[0] != "none" else "none") for p in ROWS} == row_sources(MACHINE)


def test_grant_keeps_threshold_and_revoke_of_last_member_drops_the_role() -> None:
    state = step(MACHINE, _at("active"), "GrantRole", {"role": "promoters:prod", "principal": "bob"})
    assert state.roles["promoters:prod"] == Role(principals=("bob",), threshold=1)
    state = step(MACHINE, state, "RevokeRole", {"role": "promoters:prod", "principal": "bob"})
    assert "promoters:prod" not in state.roles


TEETH = [
    pytest.param(
        "active",
        "RevokeRole",
        {"role": "root", "principal": "alice"},
        "ROOT_NOT_EMPTY",
        id="ROOT_NOT_EMPTY-revoke-last-root",
    ),
    pytest.param(
        "none",
        "InitPolicy",
        {"identities": [identity("alice")], "roles": {}},
        "ROOT_NOT_EMPTY",
        id="ROOT_NOT_EMPTY-init-without-root",
    ),
    pytest.param(
        "active",
        "SetThreshold",
        {"role": "root", "threshold": 2},
        "THRESHOLD_REACHABLE",
        id="THRESHOLD_REACHABLE-set-threshold",
    ),
    pytest.param(
        "active",
        "GrantRole",
        {"role": "authors", "principal": "bob", "threshold": 3},
        "THRESHOLD_REACHABLE",
        id="THRESHOLD_REACHABLE-grant",
    ),
    pytest.param(
        "none",
        "InitPolicy",
        policy_init(threshold=2),
        "THRESHOLD_REACHABLE",
        id="THRESHOLD_REACHABLE-init",
    ),
    pytest.param(
        "active",
        "AddIdentity",
        {"identity": identity("bob")},
        "IDENTITY_UNIQUE",
        id="IDENTITY_UNIQUE-name",
    ),
    pytest.param(
        "active",
        "AddIdentity",
        {"identity": {**identity("alice"), "name": "alice2"}},
        "IDENTITY_UNIQUE",
        id="IDENTITY_UNIQUE-key",
    ),
    pytest.param(
        "none",
        "InitPolicy",
        {
            "identities": [identity("alice"), identity("alice")],
            "roles": {"root": {"principals": ["alice"]}},
        },
        "IDENTITY_UNIQUE",
        id="IDENTITY_UNIQUE-init",
    ),
    pytest.param("active", "RemoveIdentity", {"name": "dave"}, "IDENTITY_KNOWN", id="IDENTITY_KNOWN"),
    pytest.param(
        "active",
        "RemoveIdentity",
        {"name": "alice"},
        "ROLE_MEMBERS_KNOWN",
        id="ROLE_MEMBERS_KNOWN-remove-role-holder",
    ),
    pytest.param(
        "active",
        "GrantRole",
        {"role": "builders", "principal": "dave"},
        "ROLE_MEMBERS_KNOWN",
        id="ROLE_MEMBERS_KNOWN-grant-unknown",
    ),
    pytest.param(
        "active",
        "RevokeRole",
        {"role": "builders", "principal": "bob"},
        "ROLE_HELD",
        id="ROLE_HELD-revoke",
    ),
    pytest.param(
        "active",
        "SetThreshold",
        {"role": "builders", "threshold": 1},
        "ROLE_HELD",
        id="ROLE_HELD-threshold",
    ),
    pytest.param(
        "active",
        "GrantRole",
        {"role": "owners", "principal": "bob"},
        "ROLE_NAME_VALID",
        id="ROLE_NAME_VALID",
    ),
    pytest.param(
        "active",
        "GrantRole",
        {"role": "promoters:Prod", "principal": "bob"},
        "ROLE_NAME_VALID",
        id="ROLE_NAME_VALID-suffix",
    ),
    pytest.param(
        "active",
        "AddIdentity",
        {"identity": _keyless("ci")},
        "IDENTITY_PINNED",
        id="IDENTITY_PINNED-no-claims",
    ),
    pytest.param(
        "active",
        "AddIdentity",
        {"identity": _keyless("ci", environment="prod")},
        "IDENTITY_PINNED",
        id="IDENTITY_PINNED-environment-is-no-certificate-claim",
    ),
    pytest.param(
        "pinned",
        "PinTrustedRoot",
        {"digest": ROOT_DIGEST},
        "TRUSTED_ROOT_PINNED",
        id="TRUSTED_ROOT_PINNED-same-root",
    ),
    pytest.param(
        "active",
        "SetRiskRules",
        {"rules": [{"name": "r", "kinds": ["tool_added"], "role": "security"}]},
        "RISK_RULE_SOUND",
        id="RISK_RULE_SOUND-role-nobody-holds",
    ),
    pytest.param(
        "active",
        "SetRiskRules",
        {"rules": [{"name": "r", "kinds": ["tool_grown"], "role": "root"}]},
        "RISK_RULE_SOUND",
        id="RISK_RULE_SOUND-unknown-kind",
    ),
    pytest.param(
        "active",
        "SetRiskRules",
        {"rules": [{"name": "r", "at_least": "high", "role": "root", "signatures": 2}]},
        "RISK_RULE_SOUND",
        id="RISK_RULE_SOUND-more-signatures-than-members",
    ),
    pytest.param(
        "active",
        "SetRiskRules",
        {"rules": [{"name": "r", "at_least": "high", "role": "wizards"}]},
        "ROLE_NAME_VALID",
        id="ROLE_NAME_VALID-risk-rule",
    ),
    pytest.param("active", "InitPolicy", policy_init(), "TRANSITION_NOT_ALLOWED", id="init-twice"),
    pytest.param(
        "active",
        "PinVendor",
        {"vendor": "vendor-co", "root": {**VENDOR_ROOT, "threshold": 2}},
        "THRESHOLD_REACHABLE",
        id="pin-unreachable-threshold",
    ),
    pytest.param(
        "none",
        "GrantRole",
        {"role": "root", "principal": "bob"},
        "TRANSITION_NOT_ALLOWED",
        id="grant-before-init",
    ),
]


@pytest.mark.parametrize(("start", "command", "data", "invariant"), TEETH)
def test_forbidden_move_is_refused(start: str, command: str, data: dict[str, Any], invariant: str) -> None:
    assert_refused(MACHINE, _at(start), command, data, invariant)


@pytest.mark.parametrize(
    ("command", "data"),
    [
        pytest.param("SetExpiry", {"expires": "next year"}, id="expiry-not-a-timestamp"),
        pytest.param(
            "AddIdentity",
            {"identity": {"name": "dave", "kind": "ssh", "public_key": "ssh-rsa AAAA"}},
            id="identity-not-ed25519",
        ),
        pytest.param(
            "AddIdentity",
            {"identity": {"name": "dave", "kind": "sigstore"}},
            id="sigstore-identity-without-issuer",
        ),
        pytest.param("AddIdentity", {"identity": _keyless("ci", colour="blue")}, id="sigstore-identity-unknown-claim"),
        pytest.param("PinTrustedRoot", {"digest": "ab" * 32}, id="trusted-root-digest-without-algorithm"),
        pytest.param(
            "AddIdentity",
            {"identity": {**identity("dave"), "name": "-dave"}},
            id="bad-principal-name",
        ),
        pytest.param("SetThreshold", {"role": "root", "threshold": 0}, id="threshold-zero"),
    ],
)
def test_malformed_policy_data_is_an_input_error(command: str, data: dict[str, Any]) -> None:
    with pytest.raises(InputError, match=f"cannot {MACHINE.row(command).does} the trust policy: ") as info:
        MACHINE.decide(_at("active"), command, data)
    assert command not in str(info.value)


BROKEN = [
    pytest.param(
        _at("active").model_copy(update={"version": 0}),
        "POLICY_VERSION_INCREASES",
        id="POLICY_VERSION_INCREASES",
    ),
    pytest.param(_at("active").model_copy(update={"roles": {}}), "ROOT_NOT_EMPTY", id="ROOT_NOT_EMPTY"),
    pytest.param(
        _at("active").model_copy(update={"roles": {"root": Role(principals=("alice",), threshold=2)}}),
        "THRESHOLD_REACHABLE",
        id="THRESHOLD_REACHABLE",
    ),
    pytest.param(
        _at("active").model_copy(
            update={
                "identities": {
                    **_at("active").identities,
                    "alice2": _at("active").identities["alice"].model_copy(update={"name": "alice2"}),
                }
            }
        ),
        "IDENTITY_UNIQUE",
        id="IDENTITY_UNIQUE",
    ),
]


@pytest.mark.parametrize(("state", "invariant"), BROKEN)
def test_invariant_check_flags_a_broken_state(state: PolicyState, invariant: str) -> None:
    assert MACHINE.broken_invariants(state) == [invariant]


def test_a_vendor_pin_changes_something() -> None:
    """VENDOR_ROOT_PINNED: pinning the same root again is refused; a new root re-pins."""
    data = {"vendor": "vendor-co", "root": VENDOR_ROOT}
    pinned = step(MACHINE, _at("active"), "PinVendor", data)
    assert_refused(MACHINE, pinned, "PinVendor", data, "VENDOR_ROOT_PINNED")
    rotated = {**VENDOR_ROOT, "keys": [{"name": "wes", "public_key": identity("wes")["public_key"]}]}
    assert step(MACHINE, pinned, "PinVendor", {**data, "root": rotated}).vendors["vendor-co"].keys[0].name == "wes"


def test_every_invariant_has_teeth() -> None:
    named = {p.values[-1] for p in TEETH} | {p.values[-1] for p in BROKEN}
    named.add("ROLE_ALREADY_HELD")  # test_policy_gaps.py
    named.add("VENDOR_ROOT_PINNED")  # test_a_vendor_pin_changes_something, tests/integration/test_crossing.py
    assert {i.name for i in MACHINE.invariants} <= named


@pytest.mark.parametrize(
    ("roles", "name", "expected"),
    [
        pytest.param({"promoters": ("bob",)}, "promoters:prod", ("bob",), id="suffix-falls-back-to-bare"),
        pytest.param(
            {"promoters": ("bob",), "promoters:prod": ("carol",)},
            "promoters:prod",
            ("carol",),
            id="suffixed-role-wins",
        ),
        pytest.param({"promoters:prod": ("carol",)}, "promoters:dev", None, id="no-sideways-fallback"),
        pytest.param({"promoters:prod": ("carol",)}, "promoters", None, id="bare-does-not-use-suffixed"),
        pytest.param({"admins": ("bob",)}, "admins:acme", ("bob",), id="admins-project"),
        pytest.param({}, "root", None, id="missing"),
    ],
)
def test_lookup_role(roles: dict[str, tuple[str, ...]], name: str, expected: tuple[str, ...] | None) -> None:
    state = PolicyState(phase="active", roles={r: Role(principals=p) for r, p in roles.items()})
    found = lookup_role(state, name)
    assert (found.principals if found else None) == expected


@pytest.mark.parametrize(
    ("key_of", "comment", "holder"),
    [
        pytest.param("bob", "", "bob", id="an-identity's-key"),
        pytest.param("bob", " bob@laptop", "bob", id="the-comment-does-not-matter"),
        pytest.param("mallory", "", None, id="a-key-the-policy-lacks"),
    ],
)
def test_holder_of_a_signing_key(key_of: str, comment: str, holder: str | None) -> None:
    """Who a key signs as (what a write and an admission token name as signer)."""
    state = policy_at(("alice", "bob"), 1)
    line = " ".join(identity(key_of)["public_key"].split()[:2]) + comment
    assert holder_of(state, line) == holder
