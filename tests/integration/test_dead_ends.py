"""No dead ends (issue 9, item 6): a pending install can be rejected and a request expires; an
archetype's owners change under their own threshold; a threshold of keys signs in any order;
and ``verify`` fails, with a hint, where there is no trust policy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.clients_support import ARCHETYPE, vendor_and_client
from tests.support import Registry, run_cli

ADDRESS = "acme/triage"


def _verify(reg: Registry) -> list[tuple[str, str]]:
    result = reg.run("verify", "--format", "json")
    return [(f["code"], f["path"]) for f in result.json()["findings"]]


def _refused(reg: Registry, *args: str, key: str = "alice", code: int = 1) -> str:
    before = reg.refs()
    result = reg.run(*args, key=key)
    assert result.code == code, result.out + result.err
    assert result.err.startswith("error: ") and len(result.err.splitlines()) <= 2
    assert reg.refs() == before
    return result.err


@pytest.fixture
def client(registry: Registry) -> Registry:
    return vendor_and_client(registry)


def _phase(reg: Registry) -> str:
    status: str = reg.ok("placement", "status", ADDRESS, "--format", "json").json()["distribution_phase"]
    return status


# -- a pending install: rejected, or expired -----------------------------------------------------


def test_an_admin_rejects_a_pending_install(client: Registry) -> None:
    client.ok("placement", "request", ARCHETYPE, "1.0.0", "--project", "acme", "--name", "triage", key="bob")
    assert "needs 1 signature(s) by admins:acme" in _refused(
        client, "placement", "reject", ADDRESS, "--reason", "no", key="mallory"
    )
    client.ok("placement", "reject", ADDRESS, "--reason", "not this quarter", key="bob")
    assert _phase(client) == "Denied"
    shown = client.ok("placement", "show", ADDRESS, "--format", "json").json()
    assert (shown["phase"], shown["reason"]) == ("denied", "not this quarter")
    assert "its request was denied" in _refused(client, "placement", "admit", ADDRESS, key="bob")
    assert "its request was denied" in _refused(client, "placement", "install", ADDRESS, key="bob")
    assert _verify(client) == []


def _request_for_two_days(reg: Registry) -> None:
    args = ("--project", "acme", "--name", "triage", "--expires", "2d")
    reg.ok("placement", "request", ARCHETYPE, "1.0.0", *args, key="bob")


def test_a_request_expires(client: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    _request_for_two_days(client)
    shown = client.ok("placement", "show", ADDRESS, "--format", "json").json()
    assert shown["request_expires_at"] == "2026-01-03T00:00:00Z"
    early = _refused(client, "placement", "expire", ADDRESS, key="bob")
    assert "the request has not expired (it expires 2026-01-03T00:00:00Z) (REQUEST_EXPIRES)" in early
    monkeypatch.setenv("GITDOCKET_NOW", "2026-01-05T00:00:00Z")
    late = _refused(client, "placement", "admit", ADDRESS, key="bob")
    assert "the request expired at 2026-01-03T00:00:00Z (REQUEST_EXPIRES)" in late
    assert "gitdocket placement expire acme/triage" in late
    done = client.ok("placement", "expire", ADDRESS, "--format", "json", key="bob").json()
    assert done["expired_at"] == "2026-01-03T00:00:00Z"
    assert _phase(client) == "Denied"
    assert _verify(client) == []


def test_a_request_admitted_in_time_goes_on(client: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    _request_for_two_days(client)
    client.ok("placement", "admit", ADDRESS, key="bob")
    monkeypatch.setenv("GITDOCKET_NOW", "2026-01-05T00:00:00Z")
    client.ok("placement", "install", ADDRESS, key="bob")  # admitted before it lapsed
    assert _phase(client) == "Installed"
    assert _verify(client) == []


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        pytest.param("soon", "is not a number of days", id="garbage"),
        pytest.param("2025-12-31T00:00:00Z", "not after it is made", id="in-the-past"),
    ],
)
def test_a_bad_request_expiry_is_refused(client: Registry, expires: str, message: str) -> None:
    code = 2 if expires == "soon" else 1
    args = ("placement", "request", ARCHETYPE, "1.0.0", "--project", "acme", "--expires", expires)
    assert message in _refused(client, *args, key="bob", code=code)


# -- owners ---------------------------------------------------------------------------------------


def _owners(reg: Registry) -> tuple[list[str], int]:
    shown = reg.ok("archetype", "show", ARCHETYPE, "--format", "json").json()
    return shown["owners"], shown["threshold"]


def test_owners_are_added_and_removed_under_their_threshold(client: Registry) -> None:
    client.ok("archetype", "owners", ARCHETYPE, "--add", "bob", "--threshold", "2")
    assert _owners(client) == (["alice", "bob"], 2)
    err = _refused(client, "archetype", "owners", ARCHETYPE, "--remove", "alice", "--threshold", "1")
    assert "needs 2 signature(s) by owners:support-triage" in err
    alice, bob = client.key("alice"), client.key("bob")
    assert "needs 2 signature(s)" in _refused(client, "version", "draft", ARCHETYPE, "2.0.0")
    for number, keys in (("2.0.0", (alice, bob)), ("2.1.0", (bob, alice))):  # either order
        client.ok("version", "draft", ARCHETYPE, number, "--key", keys[0], "--key", keys[1], key=None)
    both = ("--key", bob, "--key", alice)
    client.ok("archetype", "owners", ARCHETYPE, "--remove", "alice", "--threshold", "1", *both, key=None)
    assert _owners(client) == (["bob"], 1)
    assert "by owners:support-triage" in _refused(client, "version", "draft", ARCHETYPE, "3.0.0")
    client.ok("version", "draft", ARCHETYPE, "3.0.0", key="bob")
    assert _verify(client) == []


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        pytest.param(("--add", "nobody"), "nobody is not an identity of the trust policy", 2, id="unknown-principal"),
        pytest.param(("--remove", "carol"), "carol is not an owner of support-triage", 2, id="not-an-owner"),
        pytest.param(("--remove", "alice"), "(ARCHETYPE_HAS_OWNERS)", 1, id="last-owner"),
        pytest.param(("--threshold", "2"), "(THRESHOLD_REACHABLE)", 1, id="threshold-too-high"),
        pytest.param((), "pass --add, --remove or --threshold", 2, id="nothing-to-do"),
    ],
)
def test_an_impossible_owner_change_is_refused(
    client: Registry, args: tuple[str, ...], message: str, code: int
) -> None:
    assert message in _refused(client, "archetype", "owners", ARCHETYPE, *args, code=code)


# -- multi-signature commands in any key order ----------------------------------------------------


def _rotation(tmp: Path, order: tuple[str, str]) -> bytes:
    """alice hands root to bob: the last step needs alice (the root before) and bob (the root
    after); the keys are given in ``order``."""
    keys = tmp / "keys"
    keys.mkdir(parents=True)
    reg = Registry(tmp / "reg", keys, keys / "alice_ed25519")
    assert run_cli("init", reg.path, "--identity", "alice", "--key", reg.key("alice")).code == 0
    reg.ok("policy", "add-identity", "bob", f"{reg.key('bob')}.pub")
    reg.ok("policy", "grant", "root", "bob")
    first, second = (reg.key(name) for name in order)
    reg.ok("policy", "revoke", "root", "alice", "--key", first, "--key", second, key=None)
    assert reg.ok("policy", "show", "--format", "json").json()["roles"]["root"]["principals"] == ["bob"]
    assert _verify(reg) == []
    return (reg.path / "registry" / "policy" / "history.jsonl").read_bytes()


def test_root_rotation_works_whatever_the_order_of_the_keys(tmp_path: Path) -> None:
    assert _rotation(tmp_path / "ab", ("alice", "bob")) == _rotation(tmp_path / "ba", ("bob", "alice"))


# -- no trust policy ----------------------------------------------------------------------------


def test_verify_fails_with_a_hint_where_there_is_no_trust_policy(tmp_path: Path) -> None:
    """A repository with a registry.yaml and nothing else is no registry: verify says so."""
    repo = tmp_path / "plain"
    (repo / "registry").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "registry" / "registry.yaml", repo / "registry")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "a registry.yaml alone"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True)
    result = run_cli("verify", "--repo", repo, "--format", "json")
    assert result.code == 1
    found = result.json()["findings"]
    assert [(f["code"], f["path"]) for f in found] == [("POLICY_MISSING", "registry/policy")]
    assert "gitdocket init" in found[0]["hint"]


def test_a_deleted_policy_is_a_finding_too(registry: Registry) -> None:
    shutil.rmtree(registry.path / "registry" / "policy")
    registry.git("add", "-A")
    registry.git("commit", "-qm", "drop the policy")
    assert ("SCOPE_DELETED", "registry/policy") in _verify(registry)
