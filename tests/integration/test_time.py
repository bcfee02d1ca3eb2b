"""Time judged by the verifier, as TUF does (issue 9, item 2). ``GITDOCKET_NOW`` dates a write; the
system clock (pinned apart from it here with ``pin_system_clock``) judges: the policy must be
unexpired at it, no event may be dated after it, and event times never go backwards. Writers ask
the same rule ``verify`` asks, so they never write what verify then rejects."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.lifecycles import scope
from tests.integration.forgery import ARCHETYPE, VERSION, Forger, published_registry, ssh_signature
from tests.support import Registry, pin_system_clock, run_process

EXPIRY = "2026-06-01T00:00:00Z"
BEFORE = "2026-05-31T23:59:00Z"
AFTER = "2026-07-01T00:00:00Z"


def _verify(reg: Registry, *args: str) -> list[tuple[str, str]]:
    result = reg.run("verify", *args, "--format", "json")
    assert result.code in (0, 1), result.err
    return [(f["code"], f["path"]) for f in result.json()["findings"]]


def _refused(reg: Registry, *args: str, code: int = 1) -> str:
    before = reg.refs()
    result = reg.run(*args)
    assert result.code == code, result.out + result.err
    assert result.err.startswith("error: ") and len(result.err.splitlines()) <= 2, result.err
    assert reg.refs() == before
    return result.err


def _expiring(reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy that expires at EXPIRY; the system clock has passed it; GITDOCKET_NOW has not."""
    reg.ok("policy", "expires", EXPIRY)
    pin_system_clock(monkeypatch, AFTER)
    monkeypatch.setenv("GITDOCKET_NOW", BEFORE)


def test_gitdocket_now_just_before_the_expiry_lets_no_write_through(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _expiring(registry, monkeypatch)
    err = _refused(registry, "archetype", "new", "support-triage", "--from", _triage())
    assert "policy v2 expired at 2026-06-01T00:00:00Z" in err


def test_verify_refuses_a_registry_whose_policy_expired_at_its_clock(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    published_registry(registry)
    _expiring(registry, monkeypatch)
    assert _verify(registry) == [("REGISTRY_EXPIRED", "registry/policy/history.jsonl")]
    finding = registry.run("verify", "--format", "json").json()["findings"][0]
    assert finding["invariant"] == "POLICY_IN_FORCE" and "gitdocket policy expires" in finding["hint"]
    assert _verify(registry, "--at", "2026-05-01T00:00:00Z") == []  # audit the past
    label = registry.run("verify", "--at", "2026-05-01T00:00:00Z").out.splitlines()[-1]
    assert "as of 2026-05-01T00:00:00Z" in label


def test_gitdocket_now_never_reaches_verify(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a real process too: the pinned time of writes is not the verifier's clock."""
    registry.ok("policy", "expires", "2026-01-02T00:00:00Z")
    done = run_process("verify", "--repo", registry.path, env={"GITDOCKET_NOW": "2026-01-01T12:00:00Z"})
    assert done.code == 1 and "REGISTRY_EXPIRED" in done.out  # the machine's clock is later
    monkeypatch.setenv("GITDOCKET_NOW", "2026-01-01T12:00:00Z")
    pin_system_clock(monkeypatch, "2026-02-01T00:00:00Z")
    assert _verify(registry) == [("REGISTRY_EXPIRED", "registry/policy/history.jsonl")]


def test_renewing_works_only_into_the_present(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    _expiring(registry, monkeypatch)
    err = _refused(registry, "policy", "expires", "2026-06-15T00:00:00Z")
    assert "policy v2 expired at 2026-06-01T00:00:00Z" in err
    registry.ok("policy", "expires", "2027-01-01T00:00:00Z")
    assert _verify(registry) == []


def test_an_expiry_already_past_by_the_system_clock_is_refused(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_system_clock(monkeypatch, "2026-03-01T00:00:00Z")  # GITDOCKET_NOW stays 2026-01-01
    err = _refused(registry, "policy", "expires", "2026-02-01T00:00:00Z")
    assert "it would be expired at 2026-02-01T00:00:00Z" in err and "(POLICY_IN_FORCE)" in err


def test_verify_at_cannot_look_into_the_future(registry: Registry) -> None:
    result = registry.run("verify", "--at", "2099-01-01T00:00:00Z")
    assert result.code == 2 and "--at audits the past" in result.err
    assert registry.run("verify", "--at", "yesterday").code == 2


def test_a_write_dated_before_the_registry_s_newest_event_is_refused(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    published_registry(registry)
    monkeypatch.setenv("GITDOCKET_NOW", "2020-01-01T00:00:00Z")
    pin_system_clock(monkeypatch, "2026-01-02T00:00:00Z")
    err = _refused(registry, "version", "draft", "support-triage", "2.0.0")
    assert "dated 2020-01-01T00:00:00Z, before" in err and "(EVENT_TIME_MONOTONIC)" in err
    assert "GITDOCKET_NOW" in err  # the hint names the clock to fix
    monkeypatch.setenv("GITDOCKET_NOW", "2025-12-31T23:58:00Z")  # within the clock skew of the newest event
    other = _refused(registry, "version", "retire", "support-triage", "1.0.0", "--reason", "x")
    assert "before an event it follows" in other  # but never before the last event it follows
    monkeypatch.setenv("GITDOCKET_NOW", "2026-01-01T00:00:00Z")
    registry.ok("version", "draft", "support-triage", "2.0.0")
    assert _verify(registry) == []


def test_a_write_dated_in_the_future_is_refused(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITDOCKET_NOW", "2027-01-01T00:00:00Z")
    pin_system_clock(monkeypatch, "2026-01-01T00:00:00Z")
    err = _refused(registry, "archetype", "new", "support-triage", "--from", _triage())
    assert "after the verifier's clock" in err and "(EVENT_NOT_IN_FUTURE)" in err


def _forge(reg: Registry, target: Any, event_type: str, data: dict[str, Any], at: str, version: int = 1) -> str:
    forger = Forger(reg)
    if target.kind == "archetype":  # an archetype folder holds its document too
        doc = (reg.path / ARCHETYPE.path / "archetype.yaml").read_text()
        forger.write(f"{target.path}/archetype.yaml", doc.replace("support-triage", target.keys[0]).encode())
    event = forger.next_event(target, event_type, data, "alice", policy_version=version).model_copy(update={"at": at})
    forger.append(target, event, ssh_signature("alice", "alice", target.path, event))
    forger.commit()
    return f"{target.history_path}:{event.seq}"


def test_an_event_dated_2020_after_one_dated_2026_is_a_finding(registry: Registry) -> None:
    published_registry(registry)
    where = _forge(registry, VERSION, "version_retired", {"reason": "backdated"}, "2020-01-01T00:00:00Z")
    assert _verify(registry) == [("EVENT_BACKDATED", where)]
    finding = registry.run("verify", "--format", "json").json()["findings"][0]
    assert finding["invariant"] == "EVENT_TIME_MONOTONIC"
    assert finding["message"] == "dated 2020-01-01T00:00:00Z, before an event it follows (2026-01-01T00:00:00Z)"


def test_an_event_dated_before_the_policy_it_names_is_a_finding(registry: Registry) -> None:
    """A new scope has no event to follow, but it names a policy version made in 2026."""
    published_registry(registry)
    target = scope("archetype", "backdated")
    where = _forge(registry, target, "created", {"owners": ["alice"], "threshold": 1}, "2020-01-01T00:00:00Z")
    assert ("EVENT_BACKDATED", where) in _verify(registry)


def test_in_commit_order_a_backdated_event_is_a_finding_and_a_late_branch_is_not(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event added by a change may be older than its base's newest event by the time a branch
    waits to merge (7 days), not more: a backdated event stands out in PR and history mode."""
    published_registry(registry)
    monkeypatch.setenv("GITDOCKET_NOW", "2026-03-01T00:00:00Z")
    registry.ok("version", "draft", "support-triage", "2.0.0")  # the base's newest event
    base = registry.git("rev-parse", "HEAD").strip()
    owned = {"owners": ["alice"], "threshold": 1}
    late = _forge(registry, scope("archetype", "late"), "created", owned, "2026-02-25T00:00:00Z")
    assert _verify(registry, "--base", base) == []
    old = _forge(registry, scope("archetype", "old"), "created", owned, "2026-02-01T00:00:00Z")
    assert late.endswith(":1")
    assert _verify(registry) == []  # a snapshot has no commit order
    for mode in ("--base", "--since"):
        assert _verify(registry, mode, base) == [("EVENT_BACKDATED", old)]


def test_an_event_from_the_future_is_a_finding_until_its_time_comes(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    published_registry(registry)
    where = _forge(registry, VERSION, "version_retired", {"reason": "early"}, "2026-03-01T00:00:00Z")
    assert _verify(registry) == [("EVENT_IN_FUTURE", where)]
    pin_system_clock(monkeypatch, "2026-03-01T00:00:00Z")
    assert _verify(registry) == []


def _triage() -> str:
    from tests.support import EXAMPLES

    return str(EXAMPLES / "support-triage")


@pytest.mark.parametrize("clock", [pytest.param("2026-01-01T00:00:00Z", id="same"), pytest.param(AFTER, id="later")])
def test_a_write_is_judged_by_the_system_clock_not_gitdocket_now(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, clock: str
) -> None:
    """The writer's events carry GITDOCKET_NOW; what verify accepts then is what was written."""
    pin_system_clock(monkeypatch, clock)
    registry.add_archetype()
    assert registry.ok("archetype", "show", "support-triage", "--format", "json")
    assert _verify(registry) == []
    events = (registry.path / ARCHETYPE.history_path).read_text()
    assert '"at":"2026-01-01T00:00:00Z"' in events
