"""The objects of a write that has not landed yet, kept out of the repository.

A write creates blobs, trees, a commit and tags before it knows whether it will land: the
operation may still be refused, a signer may decline, another writer may win the
compare-and-swap. Like git's receive-pack, gitdocket writes them into a private loose-object
folder (``objects/docket-incoming-*``), added to the repository's object database with the highest
priority so that every write lands there while every read still finds everything. Only just
before the ref transaction commits are they moved into ``objects/``: a write that does not land
leaves no object behind, and a crash leaves at most unreachable objects (``git gc`` prunes them).

Each folder holds an ``flock`` while its write runs; a folder whose lock is free belongs to a
process that died, and the next write removes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pygit2

__all__ = ["Quarantine", "objects_dir"]

PREFIX = "docket-incoming-"
OWNER = ".owner"


def objects_dir(repo: pygit2.Repository) -> Path:
    """``objects/`` of the repository; a linked worktree's ``commondir`` names where it is."""
    git_dir = Path(repo.path)
    common = git_dir / "commondir"
    if common.is_file():
        git_dir = (git_dir / common.read_text().strip()).resolve()
    return git_dir / "objects"


def _clear_dead(objects: Path) -> None:
    """Remove the private folders of writes whose process died (their lock is free)."""
    for folder in objects.glob(PREFIX + "*"):
        try:
            handle = (folder / OWNER).open("a")
        except OSError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live write holds it
            shutil.rmtree(folder, ignore_errors=True)


class Quarantine:
    """A private object folder and a repository object that writes into it."""

    def __init__(self, original: pygit2.Repository) -> None:
        self.objects = objects_dir(original)
        _clear_dead(self.objects)
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=self.objects))
        self._owner = (self.folder / OWNER).open("a")
        fcntl.flock(self._owner, fcntl.LOCK_EX)
        self.repo = pygit2.Repository(original.path)
        # Priority above the loose (1) and pack (2) backends: libgit2 writes to the first
        # backend that can write, and reads from all of them.
        self.repo.odb.add_backend(pygit2.OdbBackendLoose(str(self.folder), -1, False), 100)

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
