"""Locks around a write: git's ref lock files, gitdocket's own worktree lock, and Ctrl-C held
back while refs and worktree move.

**Ref locks.** Git (and libgit2) update a ref by creating ``<ref>.lock`` next to it, writing the new
value there and renaming it over the ref; a process killed in between leaves the lock file, and
every later update of that ref fails. A live lock lasts milliseconds: one that keeps coming back
is contention (another writer), one that stays, unchanged, for ``STALE_AFTER`` seconds is dead.
``RefLock`` describes one, and ``busy_error`` / ``stale_error`` word the two cases, naming the file
and, for a dead lock, the command that clears it.

**The worktree lock** (``.git/docket.lock``, ``flock``) serializes gitdocket writers of one
worktree between their compare-and-swap and their checkout, and while a write restores paths an
interrupted write left stale. The kernel drops it when its process dies.

**Ctrl-C** (SIGINT) is held back from just before the refs move until the worktree is updated: an
interrupt there would leave a write half done and a non-zero exit for a command that wrote.
"""

from __future__ import annotations

import contextlib
import fcntl
import shlex
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from gitdocket.errors import ConflictError, StateError

__all__ = ["STALE_AFTER", "RefLock", "file_clock", "interrupts_deferred", "ref_lock", "worktree_lock"]

STALE_AFTER = 60.0
"""Seconds after which an unchanged ref lock is dead: git holds one for milliseconds."""


@dataclass(frozen=True)
class RefLock:
    """A ``<ref>.lock`` file found in the way of a ref update."""

    ref: str
    path: Path
    identity: tuple[int, int, int]
    """(inode, size, mtime in ns): the same file, untouched, when it has not changed."""
    age: float

    @property
    def stale(self) -> bool:
        return self.age >= STALE_AFTER

    def _age_words(self) -> str:
        seconds = int(self.age)
        return f"{seconds // 60} min old" if seconds >= 120 else f"{seconds} s old"

    def busy_error(self, attempts: int) -> ConflictError:
        return ConflictError(
            f"{self.ref} is being updated by another process (lock file {self.path}, "
            f"{self._age_words()}); gave up after {attempts} attempts",
            "run the command again; if the lock file stays for a minute, run the command again "
            "to be told how to remove it",
        )

    def error(self) -> StateError:
        """The lock as the reason a write cannot go on now, without waiting for it."""
        return self.stale_error() if self.stale else self.busy_error(1)

    def stale_error(self) -> StateError:
        quoted = shlex.quote(str(self.path))
        return StateError(
            f"{self.ref} is locked by {self.path}, {self._age_words()} and unchanged: a git process "
            "that crashed left it, and no gitdocket write is running",
            f"check that no git process works in this repository (`pgrep -a git`), then remove the "
            f"lock: `rm {quoted}`, and run the command again",
        )


def ref_lock(git_dir: Path, ref: str, now: float) -> RefLock | None:
    """The lock file of ``ref`` when it exists, with its age at ``now`` (seconds since the
    epoch: the file system's clock, not the command's)."""
    path = git_dir / f"{ref}.lock"
    try:
        found = path.stat()
    except OSError:
        return None
    return RefLock(ref, path, (found.st_ino, found.st_size, found.st_mtime_ns), max(0.0, now - found.st_mtime))


@contextlib.contextmanager
def worktree_lock(git_dir: Path) -> Iterator[None]:
    with (git_dir / "docket.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT back inside (main thread only: Python delivers signals there). An interrupt
    that arrived meanwhile is dropped: the write it would have cut in two is done, and the
    command only reports it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def drop(_signum: int, _frame: FrameType | None) -> None:
        pass

    previous = signal.signal(signal.SIGINT, drop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def file_clock() -> float:
    """Now, for lock ages: the wall clock the file system stamps files with (a pinned
    ``GITDOCKET_NOW`` must not make a fresh lock look old)."""
    return time.time()
