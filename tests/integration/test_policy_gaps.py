"""Policy gaps through the real CLI on real repositories: no-op grants and threshold-breaking
revokes are refused, a k-of-n root is reached after init, an expired policy accepts only its
renewal (and verify reports events written after it), a forged log tail stops writes to that
log, and a malformed clock only matters to commands that need it."""

from __future__ import annotations

import pytest

from gitdocket.core.log import event_line
from gitdocket.core.scopes import scope
from tests.integration.forgery import VERSION, Forger, published_registry, ssh_signature
from tests.support import EXAMPLES, Registry, run_cli

TRIAGE = str(EXAMPLES / "support-triage")


def _both(registry: Registry) -> list[str]:
    return ["--key", str(registry.key("alice")), "--key", str(registry.key("bob"))]


def _refused(registry: Registry, *args: str, key: str | None = "alice", code: int = 1) -> str:
    """Run a write that must be refused: exit ``code``, one error line, nothing written."""
    before = registry.refs()
    result = registry.run(*args, key=key)
    assert result.code == code, result.out + result.err
    assert "Traceback" not in result.err and result.err.startswith("error: ")
    assert registry.refs() == before
    return result.err


def _add_bob(registry: Registry, *roles: str) -> None:
    registry.ok("policy", "add-identity", "bob", f"{registry.key('bob')}.pub")
    for role in roles:
        registry.ok("policy", "grant", role, "bob")


def _verify(registry: Registry) -> list[dict[str, str]]:
    result = registry.run("verify", "--format", "json")
    data = result.json()
    assert data["ok"] is (result.code == 0)
    findings: list[dict[str, str]] = data["findings"]
    return findings


def _root(registry: Registry) -> dict[str, object]:
    role: dict[str, object] = registry.ok("policy", "show", "--format", "json").json()["roles"]["root"]
    return role


# -- grant and revoke ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra", [pytest.param([], id="plain"), pytest.param(["--threshold", "1"], id="same-threshold")]
)
def test_granting_a_held_role_is_refused(registry: Registry, extra: list[str]) -> None:
    err = _refused(registry, "policy", "grant", "authors", "alice", *extra)
    assert err.splitlines()[0] == (
        "error: cannot grant a role in the trust policy: alice already holds authors (ROLE_ALREADY_HELD)"
    )
    assert "gitdocket policy threshold authors N" in err


def test_revoke_below_the_threshold_is_refused_until_it_is_lowered(registry: Registry) -> None:
    _add_bob(registry, "root")
    registry.ok("policy", "threshold", "root", "2", *_both(registry), key=None)
    err = _refused(registry, "policy", "revoke", "root", "bob", *_both(registry), key=None)
    assert err.splitlines() == [
        "error: cannot revoke a role in the trust policy: revoking bob would leave root with 1 member(s) "
        "for a threshold of 2 (THRESHOLD_REACHABLE)",
        "hint: lower the threshold first: `gitdocket policy threshold root 1`",
    ]
    assert _root(registry) == {"principals": ["alice", "bob"], "threshold": 2}
    registry.ok("policy", "threshold", "root", "1", *_both(registry), key=None)
    registry.ok("policy", "revoke", "root", "bob")
    assert _root(registry) == {"principals": ["alice"], "threshold": 1}


# -- a k-of-n root -------------------------------------------------------------------------------


def test_a_two_of_two_root_is_reached_after_init(registry: Registry) -> None:
    """init makes one root key; add-identity + grant root + threshold root 2 make it 2-of-2.
    Raising the threshold already needs both keys (a policy change satisfies the new root too)."""
    _add_bob(registry, "root")
    err = _refused(registry, "policy", "threshold", "root", "2")
    assert "needs 2 signature(s) by root, got 1" in err
    registry.ok("policy", "threshold", "root", "2", *_both(registry), key=None)
    assert _root(registry) == {"principals": ["alice", "bob"], "threshold": 2}
    for key in ("alice", "bob"):
        err = _refused(registry, "policy", "grant", "authors", "bob", key=key)
        assert "cannot grant a role in the trust policy: needs 2 signature(s) by root, got 1" in err
    registry.ok("policy", "grant", "authors", "bob", *_both(registry), key=None)
    assert _verify(registry) == []


def test_init_takes_one_key(registry: Registry) -> None:
    path = registry.path.parent / "other"
    result = run_cli("init", path, "--identity", "alice", "--key", registry.key("alice"), "--key", registry.key("bob"))
    assert result.code == 2 and not path.exists()
    assert result.err.startswith("error: gitdocket init takes one --key")
    assert "policy grant root" in result.err


# -- expiry ----------------------------------------------------------------------------------------

EXPIRY = "2026-06-01T00:00:00Z"
LATER = "2026-07-01T00:00:00Z"


def test_policy_expires_sets_and_clears_the_expiry(registry: Registry) -> None:
    assert "policy version 1, never expires" in registry.ok("policy", "show").out
    done = registry.ok("policy", "expires", "2026-06-01T02:00:00+02:00", "--format", "json").json()
    assert done["expires"] == EXPIRY
    assert f"policy version 2, expires {EXPIRY}" in registry.ok("policy", "show").out
    assert registry.ok("policy", "show", "--format", "json").json()["expires"] == EXPIRY
    assert "never expires" in registry.ok("policy", "expires", "never").out
    assert registry.ok("policy", "show", "--format", "json").json()["expires"] is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("next year", "is not an RFC 3339 time with a zone, nor 'never'", id="garbage"),
        pytest.param("2027-01-01T00:00:00", "is not an RFC 3339 time with a zone", id="no-zone"),
        pytest.param("2025-12-31T00:00:00Z", "is not after now (2026-01-01T00:00:00Z)", id="past"),
    ],
)
def test_a_bad_expiry_is_refused(registry: Registry, value: str, message: str) -> None:
    assert message in _refused(registry, "policy", "expires", value, code=2)


def test_an_expired_policy_refuses_writes_until_root_renews_it(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_bob(registry, "authors")
    registry.ok("policy", "expires", EXPIRY)
    monkeypatch.setenv("GITDOCKET_NOW", LATER)
    err = _refused(registry, "archetype", "new", "support-triage", "--from", TRIAGE, key="bob")
    assert err.splitlines() == [
        f"error: registry/policy/history.jsonl: policy v4 expired at {EXPIRY}; "
        "archetype support-triage cannot change until it is renewed",
        "hint: a root holder renews it: `gitdocket policy expires TIME` (or `never`)",
    ]
    assert "expired" in _refused(registry, "policy", "grant", "builders", "bob")
    assert "is not after now" in _refused(registry, "policy", "expires", "2026-06-15T00:00:00Z", code=2)
    assert "needs 1 signature(s) by root" in _refused(registry, "policy", "expires", "never", key="bob")
    registry.ok("policy", "expires", "2027-01-01T00:00:00Z")
    registry.add_archetype()
    assert _verify(registry) == []  # the renewal after the expiry is legal; nothing else is


def test_verify_reports_an_event_written_after_the_expiry(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """alice's real key, a correct chain and a legal transition: only the time betrays it."""
    published_registry(registry)
    registry.ok("policy", "expires", EXPIRY)
    forger = Forger(registry)
    event = forger.next_event(VERSION, "version_retired", {"reason": "late"}, "alice", policy_version=2).model_copy(
        update={"at": LATER}
    )
    forger.append(VERSION, event, ssh_signature("alice", "alice", VERSION.path, event))
    forger.commit()
    monkeypatch.setenv("GITDOCKET_NOW", LATER)  # the verifier's clock has reached the forged event
    findings = _verify(registry)
    assert [(f["code"], f["path"]) for f in findings] == [
        ("REGISTRY_EXPIRED", "registry/policy/history.jsonl"),  # and it says the policy expired
        ("POLICY_EXPIRED", f"{VERSION.history_path}:{event.seq}"),
    ]
    assert findings[1]["message"] == f"written at {LATER}, after policy v2 expired ({EXPIRY})"
    assert findings[1]["hint"]


# -- a forged tail -------------------------------------------------------------------------------


def test_a_write_refuses_to_extend_a_log_with_a_forged_last_line(registry: Registry) -> None:
    published_registry(registry)
    forger = Forger(registry)
    events = forger.events(VERSION)
    last = events[-1]
    forged = last.model_copy(update={"signatures": (ssh_signature("mallory", "alice", VERSION.path, last),)})
    forger.write_log(VERSION, [*events[:-1], forged])
    forger.commit()
    err = _refused(registry, "version", "retire", "support-triage", "1.0.0", "--reason", "old")
    assert err.splitlines()[0].startswith(
        f"error: {VERSION.history_path}:{last.seq}: the last event does not verify (signature by alice does not verify"
    )
    assert err.splitlines()[1] == ("hint: run `gitdocket verify`, then restore the log from git history")
    assert [f["code"] for f in _verify(registry)] == ["SIGNATURE_INVALID"]
    registry.ok("version", "draft", "support-triage", "2.0.0")  # other logs stay writable
    assert event_line(forged) in forger.read(VERSION.history_path)


def test_a_forged_policy_tail_stops_every_write(registry: Registry) -> None:
    """bob, a listed identity but not root, signs a policy change that makes him root."""
    _add_bob(registry)
    forger = Forger(registry)
    policy = scope("policy")
    event = forger.next_event(
        policy, "role_granted", {"principal": "bob", "role": "root", "threshold": None}, "bob", policy_version=2
    )
    forger.append(policy, event, ssh_signature("bob", "bob", policy.path, event))
    forger.commit()
    err = _refused(registry, "archetype", "new", "support-triage", "--from", TRIAGE, key="bob")
    assert err.startswith(
        f"error: {policy.history_path}:3: the last event does not verify (needs 1 signature(s) by root, got 0"
    )


def test_a_policy_change_that_names_the_version_it_creates_is_caught(registry: Registry) -> None:
    """bob, listed but not root, grants himself root and claims to be judged by the policy his
    own event creates (where he is root): verify and every write refuse it."""
    _add_bob(registry)
    forger = Forger(registry)
    policy = scope("policy")
    event = forger.next_event(
        policy, "role_granted", {"principal": "bob", "role": "root", "threshold": None}, "bob", policy_version=3
    )
    forger.append(policy, event, ssh_signature("bob", "bob", policy.path, event))
    forger.commit()
    message = "names policy v3, but the policy before it is v2"
    assert [(f["code"], f["path"], f["message"]) for f in _verify(registry)] == [
        ("SIGNATURE_INVALID", f"{policy.history_path}:3", message)
    ]
    err = _refused(registry, "policy", "grant", "authors", "bob", key="bob")
    assert err.startswith(f"error: {policy.history_path}:3: the last event does not verify ({message})")


# -- the clock -------------------------------------------------------------------------------------


def test_a_malformed_clock_only_stops_writes(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    published_registry(registry)
    monkeypatch.setenv("GITDOCKET_NOW", "yesterday at noon")
    for args in (
        ("verify",),
        ("status",),
        ("archetype", "list"),
        ("archetype", "show", "support-triage"),
        ("version", "list"),
        ("package", "show", "support-triage", "1.0.0"),
        ("policy", "show"),
    ):
        registry.ok(*args)
    err = _refused(registry, "version", "draft", "support-triage", "2.0.0", code=2)
    assert err.splitlines()[0] == ("error: GITDOCKET_NOW='yesterday at noon' is not an RFC 3339 time")
