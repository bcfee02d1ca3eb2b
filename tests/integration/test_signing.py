"""Signing against real tools: every commit and tag gitdocket writes passes ``git verify-commit`` /
``git verify-tag`` with the policy's allowed_signers file; a real ssh-agent signs byte-for-byte
like a key file; ``gitdocket key create`` writes keys OpenSSH can use and never overwrites."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gitdocket.adapters.signing import AgentSigner, KeySigner, load_signer
from gitdocket.core import sshsig
from gitdocket.core.log import EVENT_NAMESPACE
from gitdocket.errors import InputError, TrustError
from tests.support import Registry, det_key, run_cli, write_key


def _pub(registry: Registry, name: str) -> Path:
    return registry.key(name).with_name(f"{name}_ed25519.pub")


def _git_verify(registry: Registry, what: str, ref: str, allowed: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "git",
            "-C",
            str(registry.path),
            "-c",
            "gpg.format=ssh",
            "-c",
            f"gpg.ssh.allowedSignersFile={allowed}",
            what,
            ref,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def _two_signer_history(registry: Registry) -> None:
    """alice initializes and grants; bob (an author) creates, freezes and publishes."""
    registry.ok("policy", "add-identity", "bob", _pub(registry, "bob"))
    registry.ok("policy", "grant", "authors", "bob")
    registry.ok(
        "archetype",
        "new",
        "support-triage",
        "--from",
        Path(__file__).resolve().parents[2] / "examples/archetypes/support-triage",
        key="bob",
    )
    registry.ok("version", "freeze", "support-triage", "1.0.0", key="bob")
    registry.ok("package", "publish", "support-triage", "1.0.0", key="bob")


def test_every_commit_and_tag_verifies_with_git(registry: Registry, tmp_path: Path) -> None:
    _two_signer_history(registry)
    allowed = tmp_path / "allowed_signers"
    registry.ok("policy", "allowed-signers", "--output", allowed)
    lines = allowed.read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["alice", 'namespaces="git"'],
        ["bob", 'namespaces="git"'],
    ]
    commits = registry.git("rev-list", "main").split()
    assert len(commits) == 6
    signers = []
    for commit in commits:
        done = _git_verify(registry, "verify-commit", commit, allowed)
        assert done.returncode == 0, done.stderr
        signers.append(done.stderr.split("signature for ")[1].split()[0])
    assert sorted(set(signers)) == ["alice", "bob"]
    tags = registry.git("tag", "--list").split()
    assert sorted(tags) == ["packages/support-triage/v1.0.0", "support-triage/v1.0.0"]
    for tag in tags:
        done = _git_verify(registry, "verify-tag", tag, allowed)
        assert done.returncode == 0, done.stderr
        assert 'Good "git" signature for bob' in done.stderr


def test_git_refuses_signers_missing_from_allowed_signers(registry: Registry, tmp_path: Path) -> None:
    _two_signer_history(registry)
    only_alice = tmp_path / "only_alice"
    only_alice.write_text(registry.ok("policy", "allowed-signers").out.splitlines()[0] + "\n")
    assert _git_verify(registry, "verify-commit", "main", only_alice).returncode != 0
    assert _git_verify(registry, "verify-tag", "support-triage/v1.0.0", only_alice).returncode != 0
    assert _git_verify(registry, "verify-commit", "main~5", only_alice).returncode == 0


# -- ssh-agent -----------------------------------------------------------------------------------


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private ssh-agent on a short socket path (sun_path is limited to ~100 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="dkt-agent-"))
    sock = folder / "agent.sock"
    started = subprocess.run(["ssh-agent", "-s", "-a", str(sock)], capture_output=True, text=True, check=True)
    pid = int(started.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
    try:
        yield sock
    finally:
        os.kill(pid, signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)


def _ssh_add(key: Path) -> None:
    subprocess.run(["ssh-add", "-q", str(key)], check=True, capture_output=True, env=os.environ.copy())


@pytest.mark.parametrize("namespace", [pytest.param("git", id="git"), pytest.param(EVENT_NAMESPACE, id="event")])
def test_agent_signer_matches_key_signer(agent: Path, tmp_path: Path, namespace: str) -> None:
    key = write_key(tmp_path, "alice")
    _ssh_add(key)
    signer = load_signer(str(key.with_name(key.name + ".pub")))
    assert isinstance(signer, AgentSigner)
    payload = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\ndocket\n"
    assert signer.sign(payload, namespace) == KeySigner(det_key("alice")).sign(payload, namespace)


def test_cli_through_the_agent_writes_the_same_commit_as_the_key_file(
    agent: Path, tmp_path: Path, registry: Registry
) -> None:
    _ssh_add(registry.alice)
    twin = tmp_path / "twin"
    assert run_cli("init", twin, "--name", "reg", "--identity", "alice", "--key", registry.alice).code == 0
    assert (
        registry.git("rev-parse", "HEAD")
        == subprocess.run(
            ["git", "-C", str(twin), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    pub = _pub(registry, "alice")
    via_agent = registry.ok("policy", "add-identity", "bob", _pub(registry, "bob"), "--key", pub, key=None)
    via_file = run_cli(
        "policy",
        "add-identity",
        "bob",
        _pub(registry, "bob"),
        "--key",
        registry.alice,
        "--repo",
        twin,
    )
    assert via_file.code == 0
    assert via_agent.out == via_file.out  # same commit id: same bytes, same signatures
    assert registry.ok("verify", "--format", "json").json()["ok"] is True


def test_which_key_is_used(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """--key, else GITDOCKET_SIGNING_KEY, else git's user.signingkey (a path or ``key::ssh-…``)."""
    pub = _pub(registry, "alice")
    assert isinstance(load_signer(str(registry.alice)), KeySigner)
    assert isinstance(load_signer(str(pub)), AgentSigner)
    literal = load_signer("key::" + pub.read_text())
    assert isinstance(literal, AgentSigner) and literal.public_line == pub.read_text().strip()
    monkeypatch.setenv("HOME", str(registry.alice.parent))
    assert isinstance(load_signer(f"~/{registry.alice.name}"), KeySigner)
    none = registry.run("policy", "grant", "promoters:prod", "alice", key=None)
    assert none.code == 1 and "error: no signing key configured" in none.err
    registry.git("config", "user.signingkey", str(registry.alice))
    registry.ok("policy", "grant", "promoters:prod", "alice", key=None)


def test_agent_without_the_key_refuses(agent: Path, tmp_path: Path) -> None:
    key = write_key(tmp_path, "alice")
    signer = AgentSigner(key.with_name(key.name + ".pub").read_text(), "alice.pub")
    with pytest.raises(TrustError, match=r"ssh-agent did not sign with alice\.pub") as info:
        signer.sign(b"payload", "git")
    assert "ssh-add" in info.value.hint


def test_agent_signer_needs_an_ed25519_public_key() -> None:
    with pytest.raises(InputError, match=r"alice\.pub: expected an 'ssh-ed25519"):
        AgentSigner("ssh-rsa AAAAB3NzaC1yc2E alice", "alice.pub")


# -- key files -----------------------------------------------------------------------------------


def test_key_create_writes_a_private_0600_key_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "me_ed25519"
    created = run_cli("key", "create", path, "--comment", "me@example", "--format", "json")
    assert created.code == 0, created.err
    assert path.stat().st_mode & 0o777 == 0o600
    line = path.with_name("me_ed25519.pub").read_text().strip()
    assert created.json()["public_key"] == line and line.endswith(" me@example")
    signer = KeySigner.from_file(path)
    assert sshsig.public_key_line(signer.public_key, "me@example") == line
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True, check=True)
    assert derived.stdout.split()[:2] == line.split()[:2]
    private, public = path.read_bytes(), path.with_name("me_ed25519.pub").read_bytes()
    again = run_cli("key", "create", path)
    assert again.code == 2 and "already exists" in again.err
    assert (path.read_bytes(), path.with_name("me_ed25519.pub").read_bytes()) == (private, public)


def test_key_create_refuses_when_only_the_public_half_exists(tmp_path: Path) -> None:
    path = tmp_path / "me_ed25519"
    path.with_name("me_ed25519.pub").write_text("ssh-ed25519 AAAA keep-me\n")
    assert run_cli("key", "create", path).code == 2
    assert not path.exists()
    assert path.with_name("me_ed25519.pub").read_text() == "ssh-ed25519 AAAA keep-me\n"


def _rsa_key(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda d: d / "missing", "cannot read signing key", id="missing-file"),
        pytest.param(
            lambda d: (d / "junk").write_text("not a key") and d / "junk",
            "not a usable OpenSSH private key",
            id="not-a-key",
        ),
        pytest.param(lambda d: _rsa_key(d / "rsa"), "only ed25519 keys are supported", id="rsa-key"),
    ],
)
def test_unusable_key_file_is_an_input_error(tmp_path: Path, make: object, message: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(InputError, match=message):
        KeySigner.from_file(path)


def test_passphrase_protected_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret", "-C", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(InputError, match="password-protected"):
        KeySigner.from_file(path)
    monkeypatch.setenv("GITDOCKET_KEY_PASSPHRASE", "s3cret")
    if importlib.util.find_spec("bcrypt") is None:  # cryptography decrypts OpenSSH keys with bcrypt
        with pytest.raises(InputError, match="cannot decrypt this key here") as info:
            KeySigner.from_file(path)
        assert "ssh-agent" in info.value.hint
    else:
        public = path.with_name("locked.pub").read_text().split()[:2]
        assert sshsig.public_key_line(KeySigner.from_file(path).public_key).split() == public
