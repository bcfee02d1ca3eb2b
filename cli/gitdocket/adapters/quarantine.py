"""The objects of a write that has not landed yet, kept out of the repository.

A write creates blobs, trees, a commit and tags before it knows whether it will land: the
operation may still be refused, a signer may decline, another writer may win the
compare-and-swap. Like git's receive-pack, gitdocket writes them into a private loose-object
folder (``objects/docket-incoming-*``), added to the repository's object database with the highest
priority so that every write lands there while every read still finds everything. Only just
before the ref transaction commits are they moved into ``objects/``: a write that does not land
leaves no object behind, and a crash leaves at most unreachable objects (``git gc`` prunes them).

Each folder holds an ``flock`` while its write runs; a folder whose lock is free belongs to a
process that died, and the next write removes it. The folder also lists the ref lock files its
write took (``hold``): a write killed while it held them leaves them behind, and the next write
removes exactly those (see ``locks`` for lock files nobody claims).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2

__all__ = ["Leftover", "Quarantine", "clear_dead", "leftovers", "objects_dir", "rehearsal"]

PREFIX = "docket-incoming-"
STAGING = ".docket-new-"
OWNER = ".owner"
LOCKS = ".locks"
CHECKOUT = ".checkout"


LOOSE_COMPRESSION = 1
"""zlib level of the objects a write makes: git's ``core.looseCompression`` default."""


def objects_dir(repo: pygit2.Repository) -> Path:
    """``objects/`` of the repository; a linked worktree's ``commondir`` names where it is."""
    git_dir = Path(repo.path)
    common = git_dir / "commondir"
    if common.is_file():
        git_dir = (git_dir / common.read_text().strip()).resolve()
    return git_dir / "objects"


def _lock_identity(path: Path) -> str | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return f"{found.st_dev}:{found.st_ino}:{found.st_mtime_ns}"


def _clear_locks(folder: Path) -> list[str]:
    """Remove the ref lock files the dead write of ``folder`` had taken, each only while it is
    still the very file that write created (nobody can have taken that ref since: the lock was in
    the way). Returns the files removed."""
    try:
        lines = (folder / LOCKS).read_text().splitlines()
    except OSError:
        return []
    removed = []
    for line in lines:
        identity, _, name = line.partition(" ")
        path = Path(name)
        if identity and _lock_identity(path) == identity:
            path.unlink(missing_ok=True)
            removed.append(name)
    return removed


def _clear_index_lock(folder: Path, index_lock: Path | None) -> list[str]:
    """The worktree's ``index.lock`` when the dead write of ``folder`` was checking out and the
    lock appeared after it started: the worktree lock kept every other gitdocket writer out
    meanwhile, so the checkout's own lock it is. Returns it when removed."""
    try:
        started = (folder / CHECKOUT).stat().st_mtime_ns
        if index_lock is None or index_lock.stat().st_mtime_ns < started:
            return []
    except OSError:
        return []
    index_lock.unlink(missing_ok=True)
    return [str(index_lock)]


@dataclass(frozen=True)
class Leftover:
    """A lock file or a write's private object folder found in a repository: ``live`` when a
    running process holds it (a write in progress), else left by one that died."""

    path: Path
    what: str
    live: bool


def _free(folder: Path) -> bool:
    """Whether nobody holds the lock of a write's folder (its process died)."""
    try:
        handle = (folder / OWNER).open("a")
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def _claimed(folder: Path) -> list[Path]:
    try:
        lines = (folder / LOCKS).read_text().splitlines()
    except OSError:
        return []
    return [Path(line.partition(" ")[2]) for line in lines if " " in line]


def leftovers(repo: pygit2.Repository, now: float, stale_after: float) -> list[Leftover]:
    """Every write folder and lock file of ``repo``, each judged live or dead without touching
    it: a folder by its ``flock``; a lock file its folder claims by that folder; any other lock
    file by its age (``stale_after`` seconds unchanged at ``now``: git holds one for
    milliseconds)."""
    objects = objects_dir(repo)
    git_dir = objects.parent
    found: list[Leftover] = []
    owner: dict[Path, bool] = {}
    for folder in sorted(objects.glob(PREFIX + "*")):
        dead = _free(folder)
        found.append(Leftover(folder, "the private object folder of a gitdocket write", not dead))
        owner.update(dict.fromkeys(_claimed(folder), not dead))
    locks = sorted({*git_dir.glob("*.lock"), *git_dir.glob("refs/**/*.lock")} - {git_dir / "docket.lock"})
    for lock in locks:
        try:
            age = now - lock.stat().st_mtime
        except OSError:
            continue
        live = owner.get(lock, age < stale_after)
        found.append(Leftover(lock, "a git lock file", live))
    return found


def clear_dead(objects: Path, index_lock: Path | None = None) -> list[str]:
    """Remove the private folders of writes whose process died (their lock is free), and the ref
    lock files those writes left (and ``index_lock`` when one died checking out: only a caller
    that holds the worktree lock passes it); returns what was repaired, in words."""
    repairs: list[str] = []
    for folder in sorted(objects.glob(PREFIX + "*")):
        try:
            handle = (folder / OWNER).open("a")
        except OSError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live write holds it
            left = [*_clear_locks(folder), *_clear_index_lock(folder, index_lock)]
            repairs.extend(f"removed {name}, left by a gitdocket write that was killed" for name in left)
            shutil.rmtree(folder, ignore_errors=True)
    return repairs


class Quarantine:
    """A private object folder and a repository object that writes into it."""

    def __init__(self, original: pygit2.Repository) -> None:
        self.objects = objects_dir(original)
        self.repairs = clear_dead(self.objects)
        """What this write repaired of writes that were killed (their lock files)."""
        # Created under another name and locked before it is renamed into sight: a folder named
        # PREFIX* is always locked while its write lives, so a free lock means a dead write.
        staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=self.objects))
        self._owner = (staging / OWNER).open("a")
        fcntl.flock(self._owner, fcntl.LOCK_EX)
        self.folder = staging.with_name(PREFIX + staging.name.removeprefix(STAGING))
        staging.rename(self.folder)
        self.repo = pygit2.Repository(original.path)
        # Priority above the loose (1) and pack (2) backends: libgit2 writes to the first
        # backend that can write, and reads from all of them. Compression level 1 is git's own
        # default for loose objects (core.looseCompression); libgit2's default (zlib's 6) took
        # twice as long over a long log, which every append writes whole (ADR 0033).
        self.repo.odb.add_backend(pygit2.OdbBackendLoose(str(self.folder), LOOSE_COMPRESSION, False), 100)

    def hold(self, locks: list[Path]) -> None:
        """Remember the ref lock files this write took: should it be killed before its ref
        transaction commits, the next write knows them for its own and removes them."""
        lines = [f"{_lock_identity(path)} {path}" for path in locks if _lock_identity(path) is not None]
        (self.folder / LOCKS).write_text("".join(line + "\n" for line in lines))

    def checking_out(self) -> None:
        """Mark the moment this write starts checking out its paths (under the worktree lock):
        killed during it, it may leave ``index.lock``, which the next write then removes."""
        (self.folder / CHECKOUT).touch()

    def land(self) -> None:
        """Move every object written so far into ``objects/`` (an object already there stays)."""
        for sub in sorted(self.folder.iterdir()):
            if not sub.is_dir():
                continue
            target = self.objects / sub.name
            target.mkdir(exist_ok=True)
            for item in sorted(sub.iterdir()):
                with contextlib.suppress(FileExistsError):
                    os.link(item, target / item.name)
                item.unlink()

    def close(self) -> None:
        self._owner.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def open(cls, original: pygit2.Repository) -> Iterator[Quarantine]:
        quarantine = cls(original)
        try:
            yield quarantine
        finally:
            quarantine.close()


@contextlib.contextmanager
def rehearsal(original: pygit2.Repository) -> Iterator[pygit2.Repository]:
    """A repository object whose writes go to a temporary folder outside the repository, removed
    on exit: a dry run plans (and stages trees) through it and leaves the object database, the
    refs and the worktree exactly as they were. Unlike ``Quarantine`` it repairs nothing either."""
    folder = Path(tempfile.mkdtemp(prefix="gitdocket-dry-run-"))
    try:
        repo = pygit2.Repository(original.path)
        repo.odb.add_backend(pygit2.OdbBackendLoose(str(folder), LOOSE_COMPRESSION, False), 100)
        yield repo
    finally:
        shutil.rmtree(folder, ignore_errors=True)
