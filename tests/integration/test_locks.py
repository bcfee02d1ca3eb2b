"""Ref locks in the way of a write: a dead one (old, unchanged, no writer) is named with the command
that clears it, at once; a live one (young, or coming and going) is waited for, then named as
contention. Either way a refused write writes nothing, and following the hint lets the next one
land. (The lock files a killed gitdocket write leaves are its own and go by themselves: see
``test_crash.py``.)"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gitdocket.adapters import store
from gitdocket.adapters.locks import STALE_AFTER, interrupts_deferred
from tests.support import Registry, repo_state


def _lock(registry: Registry, ref: str, age: float) -> Path:
    """A lock file as a crashed git process leaves it: empty, ``age`` seconds old."""
    path = registry.path / ".git" / f"{ref}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The store's back-off, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(store.time, "sleep", waits.append)
    return waits


@pytest.mark.parametrize(
    ("ref", "command"),
    [
        pytest.param("refs/heads/main", ("policy", "expires", "2030-01-01T00:00:00Z"), id="branch"),
        pytest.param("refs/tags/support-triage/v1.0.0", ("version", "freeze", "support-triage", "1.0.0"), id="tag"),
    ],
)
def test_a_dead_lock_is_named_with_the_command_that_clears_it(
    registry: Registry, no_waiting: list[float], ref: str, command: tuple[str, ...]
) -> None:
    registry.add_archetype()
    lock = _lock(registry, ref, STALE_AFTER * 3)
    before = repo_state(registry)
    result = registry.run(*command)
    assert result.code == 1
    error, hint = result.err.splitlines()
    assert error.startswith(f"error: {ref} is locked by {lock}, 3 min old and unchanged")
    assert "pgrep -a git" in hint
    assert no_waiting == []  # a dead lock is told at once, not after eight retries
    assert repo_state(registry) == before
    # The hint's command, as written, clears it; the write then lands.
    clear = hint.split("remove the lock: `", 1)[1].split("`", 1)[0]
    assert clear == f"rm {shlex.quote(str(lock))}"
    subprocess.run(clear, shell=True, check=True)
    assert registry.run(*command).code == 0
    assert registry.ok("verify", "--format", "json").json()["ok"] is True


def test_a_lock_that_stays_young_is_contention(registry: Registry, no_waiting: list[float]) -> None:
    lock = _lock(registry, "refs/heads/main", 0)
    before = repo_state(registry)
    result = registry.run("policy", "expires", "2030-01-01T00:00:00Z")
    assert result.code == 1
    assert f"refs/heads/main is being updated by another process (lock file {lock}, 0 s old)" in result.err
    assert "gave up after 8 attempts" in result.err
    assert len(no_waiting) == 8 and sum(no_waiting) < 5  # it waited, briefly, between attempts
    assert repo_state(registry) == before


def test_a_lock_that_goes_away_is_waited_for(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = _lock(registry, "refs/heads/main", 0)
    monkeypatch.setattr(store.time, "sleep", lambda _seconds: lock.unlink())  # the other writer finishes
    result = registry.run("policy", "expires", "2030-01-01T00:00:00Z")
    assert result.code == 0, result.err
    assert registry.ok("verify", "--format", "json").json()["ok"] is True


def test_ctrl_c_is_held_back_while_refs_move_and_restored_after() -> None:
    """A SIGINT inside ``interrupts_deferred`` is dropped (the write it would cut in two goes on);
    the handler in place before is back afterwards, so Ctrl-C works again."""
    before = signal.getsignal(signal.SIGINT)
    finished = False
    with interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0)  # let Python run the handler
        finished = True
    assert finished
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0)
