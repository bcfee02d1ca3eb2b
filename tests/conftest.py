"""Fixtures: every test runs with an isolated HOME and git config and a pinned clock: both the
time writes record (``GITDOCKET_NOW``) and the system clock that judges time (which, in a test,
follows ``GITDOCKET_NOW`` unless the test pins it elsewhere with ``support.pin_system_clock``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from pygit2.enums import ConfigLevel

from tests.support import Registry, pin_system_clock, run_cli, write_key

_CONFIG_LEVELS = (ConfigLevel.SYSTEM, ConfigLevel.XDG, ConfigLevel.GLOBAL, ConfigLevel.PROGRAMDATA)


@pytest.fixture(autouse=True)
def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = tmp_path / "home"
    home.mkdir()
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
    for name in ("GITDOCKET_SIGNING_KEY", "GITDOCKET_REPO", "GITDOCKET_DEBUG", "SSH_AUTH_SOCK"):
        monkeypatch.delenv(name, raising=False)
    yield
    for level, value in saved.items():
        search[level] = value


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """A fresh registry with a worktree, initialized by alice."""
    keys = tmp_path / "keys"
    keys.mkdir()
    alice = write_key(keys, "alice")
    path = tmp_path / "reg"
    result = run_cli("init", path, "--identity", "alice", "--key", alice)
    assert result.code == 0, result.err
    reg = Registry(path, keys, alice)
    reg.principals["alice"] = alice
    return reg
