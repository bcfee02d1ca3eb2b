"""Shared test helpers: deterministic keys and a CLI runner over a real registry repository."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import pygit2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gitdocket.commands import main
from gitdocket.core import sshsig
from gitdocket.core.fields import parse_time
from gitdocket.lifecycles import LIFECYCLES
from gitdocket.ops import session

ROOT = Path(__file__).resolve().parents[1]
_CONFIG_LEVELS = (
    pygit2.enums.ConfigLevel.SYSTEM,
    pygit2.enums.ConfigLevel.XDG,
    pygit2.enums.ConfigLevel.GLOBAL,
    pygit2.enums.ConfigLevel.PROGRAMDATA,
)
EXAMPLES = ROOT / "examples" / "archetypes"


IDENTIFIERS = sorted(
    {row.command for m in LIFECYCLES.values() for row in m.transitions}
    | {row.event for m in LIFECYCLES.values() for row in m.transitions if "_" in row.event}
)
"""Every command name and every event type of every table that is not a plain English word
(``created``, ``forked``, ``built``, ``verified``, ``promoted`` are: a refusal may well say
"it is already verified")."""
_IDENTIFIER = re.compile(r"\b(" + "|".join(map(re.escape, IDENTIFIERS)) + r")\b")


def identifiers_in(text: str) -> list[str]:
    """The internal command and event names ``text`` mentions."""
    return _IDENTIFIER.findall(text)


_REAL_DATETIME = datetime


def pin_system_clock(monkeypatch: pytest.MonkeyPatch, when: str | None) -> None:
    """Pin the system clock gitdocket judges time by (``ops.session.system_now``) to ``when``,
    or, with None, to whatever ``GITDOCKET_NOW`` says at the moment of reading (the machine's
    clock when it is unset or malformed): tests are deterministic, and a test shows what
    ``GITDOCKET_NOW`` cannot do by pinning the two apart."""

    class Pinned(_REAL_DATETIME):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Pinned:
            text = when or os.environ.get("GITDOCKET_NOW", "")
            try:
                found = parse_time(text)
            except ValueError:
                found = _REAL_DATETIME.now(UTC)
            return cls.fromtimestamp(found.timestamp(), tz or UTC)

    monkeypatch.setattr(session, "datetime", Pinned)


def det_key(name: str) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key per name (Ed25519 signatures are deterministic too)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(name.encode()).digest())


def write_key(directory: Path, name: str) -> Path:
    key = det_key(name)
    path = directory / f"{name}_ed25519"
    if not path.exists():
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)
        path.with_name(path.name + ".pub").write_text(sshsig.public_key_line(key.public_key(), name) + "\n")
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(*args: str | Path) -> Result:
    """Run ``gitdocket ARGS`` in-process through the real entry point (exit codes included)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # Every error the suite provokes is checked for internal names: refusals speak the user's words.
    assert code == 0 or identifiers_in(err.getvalue()) == [], err.getvalue()
    return Result(code, out.getvalue(), err.getvalue())


def assert_error_and_hint(result: Result, code: int, *names: str) -> None:
    """``result`` exited ``code`` with exactly an ``error:`` line naming every one of ``names`` and a
    ``hint:`` line, and no traceback: how every refusal and bad input reads."""
    assert result.code == code, result.err + result.out
    lines = result.err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), result.err
    assert all(name in lines[0] for name in names), result.err
    assert "Traceback" not in result.err


def run_process(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """Run ``python -m gitdocket ARGS`` as a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT / "cli") + os.pathsep + full_env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-m", "gitdocket", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@dataclass
class Registry:
    """A real registry repository with alice (root, author, builder, promoter) ready to sign."""

    path: Path
    keys: Path
    alice: Path
    principals: dict[str, Path] = field(default_factory=dict)

    def key(self, name: str) -> Path:
        if name not in self.principals:
            self.principals[name] = write_key(self.keys, name)
        return self.principals[name]

    def run(self, *args: str | Path, key: str | None = "alice") -> Result:
        extra: list[str | Path] = ["--repo", self.path]
        if key is not None:
            os.environ["GITDOCKET_SIGNING_KEY"] = str(self.key(key))
        else:
            os.environ.pop("GITDOCKET_SIGNING_KEY", None)
        return run_cli(*args, *extra)

    def ok(self, *args: str | Path, key: str | None = "alice") -> Result:
        result = self.run(*args, key=key)
        command = " ".join(map(str, args))
        assert result.code == 0, f"gitdocket {command} failed ({result.code}):\n{result.err}{result.out}"
        return result

    def add_archetype(self, name: str = "support-triage", source: Path | None = None) -> None:
        self.ok("archetype", "new", name, "--from", source or EXAMPLES / name)

    def refs(self) -> dict[str, str]:
        import pygit2

        repo = pygit2.Repository(str(self.path))
        return {r: str(repo.references[r].target) for r in repo.listall_references()}

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.path), *args], capture_output=True, text=True, check=True).stdout


@contextmanager
def isolated(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An isolated HOME and git configuration and a pinned clock (every test runs in one): the
    system clock that judges time follows ``GITDOCKET_NOW`` (``pin_system_clock``)."""
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # libgit2 fixed these from the real HOME when pygit2 was imported: point every level at the
    # empty test home, so no developer's ~/.gitconfig reaches a test through pygit2 directly.
    search = pygit2.settings.search_path
    saved = {level: search[level] for level in _CONFIG_LEVELS}
    for level in _CONFIG_LEVELS:
        search[level] = str(home)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.com")
    monkeypatch.setenv("GITDOCKET_NOW", "2026-01-01T00:00:00Z")
    pin_system_clock(monkeypatch, None)
    for name in (
        "GITDOCKET_SIGNING_KEY",
        "GITDOCKET_REPO",
        "GITDOCKET_DEBUG",
        "GITDOCKET_TEST_CRASH_AT",
        "SSH_AUTH_SOCK",
    ):
        monkeypatch.delenv(name, raising=False)
    try:
        yield
    finally:
        for level, value in saved.items():
            search[level] = value


def new_registry(tmp_path: Path, *extra: str) -> Registry:
    """A fresh registry at ``tmp_path/reg`` with a worktree, initialized by alice (``init EXTRA``)."""
    keys = tmp_path / "keys"
    keys.mkdir()
    alice = write_key(keys, "alice")
    path = tmp_path / "reg"
    result = run_cli("init", path, "--identity", "alice", "--key", alice, *extra)
    assert result.code == 0, result.err
    return Registry(path, keys, alice, {"alice": alice})


def object_ids(repo: Path) -> set[str]:
    """Every object id in the repository at ``repo``, loose and packed."""
    return {str(oid) for oid in pygit2.Repository(str(repo)).odb}


def repo_state(registry: Registry) -> tuple[dict[str, str], set[str], str]:
    """Refs, every object file and the worktree's status: what a refused command must leave
    exactly as it was."""
    root = registry.path / ".git" / "objects"
    objects = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    return registry.refs(), objects, registry.git("status", "--porcelain", "--untracked-files=all")


def git(repo: Path, *args: str) -> str:
    """``git -C REPO ARGS``'s output (stripped); a failure fails the test with git's message."""
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def add_origin(reg: Registry, origin: Path) -> Path:
    """A bare ``origin`` cloned from the registry, which its main then tracks (a real remote)."""
    git(origin.parent, "clone", "-q", "--bare", str(reg.path), str(origin))
    git(reg.path, "remote", "add", "origin", str(origin))
    git(reg.path, "fetch", "-q", "origin")
    git(reg.path, "branch", "-q", "--set-upstream-to", "origin/main")
    return origin
