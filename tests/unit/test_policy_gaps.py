"""Policy gaps closed in the core: a grant must change something, a revoke never lowers a
threshold behind the signers' backs, an expired policy accepts only its renewal, a write refuses
to extend a log whose last line does not verify, and the session's clock is read lazily."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gitdocket.core.fields import parse_time
from gitdocket.core.log import Event, event_line, head_digest, parse_history, render_current
from gitdocket.core.scopes import Scope, scope
from gitdocket.core.tree import MemoryTree
from gitdocket.errors import InputError, InvariantError, StateError, TrustError
from gitdocket.lifecycles import authz, machine_for
from gitdocket.lifecycles.policy import PolicyState, Role, expired, renews_expiry
from gitdocket.ops import transaction as transaction_module
from gitdocket.ops.session import Session
from gitdocket.ops.transaction import Transaction
from tests.factories import (
    ARCHETYPE,
    POLICY,
    committed,
    identity,
    policy_at,
    registry_tree,
    sign,
    signer,
    transaction,
)
from tests.unit.lifecycle_checks import assert_refused, step

MACHINE = machine_for("policy")
OWNERS = {"owners": ["alice"], "threshold": 1}
MORE_OWNERS = {"owners": ["alice", "carol"], "threshold": 1}
"""A change of support-triage's owners (created owned by alice alone): any write, to test when
writes go through (an owner change must change something, OWNERS_CHANGE)."""


def _roots(threshold: int, *names: str) -> PolicyState:
    state: PolicyState = policy_at(tuple(names), threshold)
    return state


# -- grant and revoke --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "data", "invariant"),
    [
        pytest.param(
            _roots(1, "alice"), {"role": "root", "principal": "alice"}, "ROLE_ALREADY_HELD", id="grant-held-role"
        ),
        pytest.param(
            _roots(1, "alice"),
            {"role": "authors", "principal": "alice", "threshold": 1},
            "ROLE_ALREADY_HELD",
            id="grant-held-role-same-threshold",
        ),
        pytest.param(
            _roots(2, "alice", "bob"),
            {"role": "root", "principal": "bob", "threshold": 2},
            "ROLE_ALREADY_HELD",
            id="grant-held-root-same-threshold",
        ),
    ],
)
def test_a_grant_that_changes_nothing_is_refused(state: PolicyState, data: dict[str, Any], invariant: str) -> None:
    assert_refused(MACHINE, state, "GrantRole", data, invariant)


def test_a_grant_of_a_held_role_may_change_its_threshold() -> None:
    state = step(MACHINE, _roots(1, "alice", "bob"), "GrantRole", {"role": "root", "principal": "bob", "threshold": 2})
    assert state.roles["root"] == Role(principals=("alice", "bob"), threshold=2)


@pytest.mark.parametrize(
    ("state", "principal", "hint"),
    [
        pytest.param(_roots(2, "alice", "bob"), "bob", "gitdocket policy threshold root 1", id="2-of-2-revoke-one"),
        pytest.param(
            _roots(3, "alice", "bob", "carol"), "carol", "gitdocket policy threshold root 2", id="3-of-3-revoke-one"
        ),
    ],
)
def test_a_revoke_below_the_threshold_is_refused_not_lowered(state: PolicyState, principal: str, hint: str) -> None:
    assert_refused(MACHINE, state, "RevokeRole", {"role": "root", "principal": principal}, "THRESHOLD_REACHABLE")
    with pytest.raises(InvariantError) as info:
        MACHINE.decide(state, "RevokeRole", {"role": "root", "principal": principal})
    assert hint in info.value.hint


def test_a_revoke_that_keeps_the_threshold_reachable_keeps_it() -> None:
    state = step(MACHINE, _roots(2, "alice", "bob", "carol"), "RevokeRole", {"role": "root", "principal": "carol"})
    assert state.roles["root"] == Role(principals=("alice", "bob"), threshold=2)


# -- expiry: the pure rule ---------------------------------------------------------------------

EXPIRY = "2026-06-01T00:00:00Z"


@pytest.mark.parametrize(
    ("expires", "at", "result"),
    [
        pytest.param(None, "2099-01-01T00:00:00Z", False, id="never-expires"),
        pytest.param(EXPIRY, "2026-05-31T23:59:59Z", False, id="a-second-before"),
        pytest.param(EXPIRY, EXPIRY, True, id="at-the-expiry"),
        pytest.param(EXPIRY, "2026-07-01T00:00:00Z", True, id="after"),
    ],
)
def test_a_policy_is_in_force_strictly_before_its_expiry(expires: str | None, at: str, result: bool) -> None:
    assert expired(PolicyState(phase="active", version=1, expires=expires), at) is result


AT = "2026-07-01T00:00:00Z"


@pytest.mark.parametrize(
    ("target", "event_type", "data", "result"),
    [
        pytest.param(POLICY, "expiry_set", {"expires": "2027-01-01T00:00:00Z"}, True, id="later"),
        pytest.param(POLICY, "expiry_set", {"expires": None}, True, id="never"),
        pytest.param(POLICY, "expiry_set", {"expires": AT}, False, id="expires-at-once"),
        pytest.param(POLICY, "expiry_set", {"expires": "2026-06-15T00:00:00Z"}, False, id="past"),
        pytest.param(POLICY, "role_granted", {"role": "root", "principal": "bob"}, False, id="other-policy-change"),
        pytest.param(ARCHETYPE, "expiry_set", {"expires": None}, False, id="not-the-policy"),
    ],
)
def test_only_a_renewal_of_the_policy_renews(
    target: Scope, event_type: str, data: dict[str, Any], result: bool
) -> None:
    assert renews_expiry(target, event_type, data, AT) is result


# -- expiry: the transaction -------------------------------------------------------------------


def _expiring_tree() -> MemoryTree:
    """``registry_tree`` whose policy expires at EXPIRY (set before it, at the factories' clock)."""
    tree = registry_tree()
    tx = transaction(tree, "alice")
    tx.apply(POLICY, "SetExpiry", {"expires": EXPIRY})
    return committed(tree, tx)


def _tx_at(tree: MemoryTree, when: str, *names: str) -> Transaction:
    return Transaction(tree, [signer(n) for n in names], parse_time(when))


def test_before_the_expiry_writes_go_through_and_at_it_they_stop() -> None:
    tx = _tx_at(_expiring_tree(), "2026-05-31T23:59:59Z", "alice")
    tx.apply(ARCHETYPE, "ChangeOwners", MORE_OWNERS)
    assert ARCHETYPE.history_path in tx.writes
    with pytest.raises(TrustError, match="expired"):
        _tx_at(_expiring_tree(), EXPIRY, "alice").apply(ARCHETYPE, "ChangeOwners", MORE_OWNERS)


@pytest.mark.parametrize(
    ("target", "command", "data"),
    [
        pytest.param(ARCHETYPE, "ChangeOwners", MORE_OWNERS, id="archetype"),
        pytest.param(POLICY, "GrantRole", {"role": "builders", "principal": "bob"}, id="other-policy-change"),
        pytest.param(POLICY, "SetExpiry", {"expires": "2026-06-15T00:00:00Z"}, id="renew-into-past"),
    ],
)
def test_an_expired_policy_refuses_every_write_but_its_renewal(
    target: Scope, command: str, data: dict[str, Any]
) -> None:
    tx = _tx_at(_expiring_tree(), AT, "alice")
    with pytest.raises(TrustError) as info:
        tx.apply(target, command, data)
    assert info.value.message == (
        f"registry/policy/history.jsonl: policy v2 expired at {EXPIRY}; "
        f"{target.label} cannot change until it is renewed"
    )
    assert "gitdocket policy expires" in info.value.hint
    assert tx.writes == {}


@pytest.mark.parametrize("renewal", [pytest.param("2027-01-01T00:00:00Z", id="later"), pytest.param(None, id="never")])
def test_root_renews_an_expired_policy_and_writes_resume(renewal: str | None) -> None:
    tx = _tx_at(_expiring_tree(), AT, "alice")
    tx.apply(POLICY, "SetExpiry", {"expires": renewal})
    tx.apply(ARCHETYPE, "ChangeOwners", MORE_OWNERS)  # same transaction, renewed policy
    assert tx.policy.expires == renewal and ARCHETYPE.history_path in tx.writes


def test_a_renewal_still_needs_root() -> None:
    tree = _expiring_tree()
    tx = _tx_at(tree, AT, "bob")
    with pytest.raises(TrustError, match="cannot change the expiry of the trust policy: needs 1 signature"):
        tx.apply(POLICY, "SetExpiry", {"expires": None})
    assert tx.writes == {}


# -- the tail of a log must verify before it grows -----------------------------------------------


def _with_tail(tree: MemoryTree, target: Scope, change: Any) -> MemoryTree:
    """``tree`` with the last event of ``target`` replaced by ``change(last)`` (a forgery that
    keeps the hash chain: only the last line changes)."""
    history = tree.read(target.history_path) or b""
    events = parse_history(history, target.history_path)
    forged: Event = change(events[-1])
    lines = [event_line(e) for e in [*events[:-1], forged]]
    files = dict(tree.files)
    files[target.history_path] = b"".join(line + b"\n" for line in lines)
    # The forger re-points current.json at the forged line too, so the write reads the log from
    # its end (ADR 0033) and it is the tail's signatures that must refuse it.
    body = {k: v for k, v in json.loads(files[target.current_path]).items() if k != "log"}
    files[target.current_path] = render_current(target.path, body, forged.seq, head_digest(lines[-1]))
    return MemoryTree(files)


def _claimed_by(holder: str, principal: str) -> Any:
    """``holder``'s key signing the event, claimed as ``principal``."""

    def change(event: Event) -> Event:
        signed = sign(ARCHETYPE if event.type != "identity_added" else POLICY, event, holder)
        entry = signed.signatures[0].model_copy(update={"principal": principal})
        return event.model_copy(update={"signatures": (entry,)})

    return change


TAILS = [
    pytest.param(_claimed_by("mallory", "alice"), "signature by alice does not verify", id="forged-signature"),
    pytest.param(
        _claimed_by("mallory", "mallory"), "'mallory', who is not in policy v1", id="signer-outside-the-policy"
    ),
    pytest.param(lambda e: e.model_copy(update={"signatures": ()}), "event is not signed", id="unsigned"),
    pytest.param(
        lambda e: sign(ARCHETYPE, e.model_copy(update={"policy_version": 9}), "alice"),
        "names policy v9, which does not exist",
        id="policy-version-from-the-future",
    ),
    pytest.param(
        lambda e: sign(ARCHETYPE, e.model_copy(update={"actor": "bob"}), "alice"),
        "actor 'bob' did not sign it",
        id="actor-did-not-sign",
    ),
]


@pytest.mark.parametrize(("change", "problem"), TAILS)
def test_a_write_refuses_to_extend_a_log_whose_tail_does_not_verify(change: Any, problem: str) -> None:
    tree = _with_tail(registry_tree(), ARCHETYPE, change)
    tx = transaction(tree, "alice")
    with pytest.raises(StateError) as info:
        tx.apply(ARCHETYPE, "ChangeOwners", MORE_OWNERS)
    assert info.value.message.startswith("registry/archetypes/support-triage/history.jsonl:1: ")
    assert problem in info.value.message
    assert "gitdocket verify" in info.value.hint
    assert tx.writes == {}


def test_other_scopes_stay_writable() -> None:
    """Only the logs a write extends are checked (the cost does not grow with the registry)."""
    tree = _with_tail(registry_tree(), ARCHETYPE, _claimed_by("mallory", "alice"))
    tx = transaction(tree, "alice")
    tx.apply(scope("archetype", "other"), "CreateArchetype", OWNERS)
    assert "registry/archetypes/other/history.jsonl" in tx.writes


def test_a_forged_policy_tail_stops_every_write() -> None:
    """Every write trusts the policy, so its tail is checked (and fully authorized) first: a
    policy event signed by a key the policy lists, but not by root, is refused."""
    tree = registry_tree()
    tx = transaction(tree, "alice")
    tx.apply(POLICY, "AddIdentity", {"identity": identity("dave")})
    tree = _with_tail(committed(tree, tx), POLICY, lambda e: sign(POLICY, e.model_copy(update={"actor": "bob"}), "bob"))
    with pytest.raises(StateError, match=r"registry/policy/history.jsonl:2: .*needs 1 signature\(s\) by root"):
        transaction(tree, "alice")


def test_a_policy_tail_naming_the_version_it_creates_is_refused() -> None:
    """bob is listed but not root; naming the policy his own grant creates would make him
    his own judge."""
    tree = registry_tree()
    tx = transaction(tree, "alice")
    tx.apply(POLICY, "AddIdentity", {"identity": identity("dave")})
    tree = _with_tail(
        committed(tree, tx),
        POLICY,
        lambda e: sign(
            POLICY,
            e.model_copy(
                update={
                    "type": "role_granted",
                    "actor": "bob",
                    "policy_version": 2,
                    "data": {"role": "root", "principal": "bob", "threshold": None},
                }
            ),
            "bob",
        ),
    )
    with pytest.raises(StateError, match=r"history.jsonl:2: .*\(names policy v2, but the policy before it is v1\)"):
        transaction(tree, "alice")


def test_only_the_tail_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = authz.valid_signers

    def counting(
        target: Scope, event: Event, policy: PolicyState, sigstore: authz.SigstoreCheck
    ) -> tuple[set[str], list[str]]:
        calls.append(f"{target.path}:{event.seq}")
        return real(target, event, policy, sigstore)

    tree = registry_tree()
    tx = transaction(tree, "alice")
    for n in range(5):
        tx.apply(scope("archetype", f"a{n}"), "CreateArchetype", OWNERS)
    tx.apply(ARCHETYPE, "ChangeOwners", MORE_OWNERS)
    tree = committed(tree, tx)
    monkeypatch.setattr(transaction_module, "valid_signers", counting)
    tx = transaction(tree, "alice")
    tx.apply(ARCHETYPE, "ChangeOwners", OWNERS)
    tx.apply(ARCHETYPE, "ChangeOwners", MORE_OWNERS)
    assert calls == [f"{ARCHETYPE.path}:2"]


def test_a_valid_tail_under_an_older_policy_version_is_accepted() -> None:
    tree = registry_tree()  # the archetype's event names policy v1
    tx = transaction(tree, "alice")
    tx.apply(POLICY, "GrantRole", {"role": "builders", "principal": "bob"})
    tree = committed(tree, tx)
    tx = transaction(tree, "alice")
    tx.apply(ARCHETYPE, "ChangeOwners", MORE_OWNERS)
    history = tx.writes[ARCHETYPE.history_path]
    assert isinstance(history, bytes)
    events = parse_history(history, ARCHETYPE.history_path)
    assert [e.policy_version for e in events] == [1, 2]
    assert events[1].prev == head_digest(event_line(events[0]))


# -- the clock -----------------------------------------------------------------------------------


def test_the_session_reads_the_clock_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITDOCKET_NOW", "yesterday at noon")
    session = Session(Path("/nonexistent"))  # constructing it reads no clock
    with pytest.raises(InputError, match="GITDOCKET_NOW='yesterday at noon' is not an RFC 3339 time"):
        session.now  # noqa: B018 - reading it is the point
    monkeypatch.setenv("GITDOCKET_NOW", "2026-03-01T12:00:00Z")
    assert session.now == datetime(2026, 3, 1, 12, tzinfo=UTC)
    pinned = datetime(2026, 1, 2, tzinfo=UTC)
    assert Session(Path("/nonexistent"), now=pinned).now == pinned


def test_a_pinned_clock_needs_a_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read as local time, the same GITDOCKET_NOW would stamp different times on different machines."""
    monkeypatch.setenv("GITDOCKET_NOW", "2026-03-01T12:00:00")
    with pytest.raises(InputError, match="is not an RFC 3339 time"):
        Session(Path("/nonexistent")).now  # noqa: B018 - reading it is the point
