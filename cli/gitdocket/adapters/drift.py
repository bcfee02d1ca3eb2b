"""What ``gitdocket doctor`` reads of a repository beyond its commits, and the repairs it may make
there: worktree paths left stale, ``current.json`` files that differ from the commit, leftover
locks (live or dead), and what the upstream lacks.

Every reading here leaves the repository as it was; the repairs (``restore``, ``discard``) touch
only what the worktree and the lock files hold, never a ref or an object: what is committed and
signed is the truth, and this module only puts the copies back in line with it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pygit2

from gitdocket.adapters.locks import STALE_AFTER, file_clock, worktree_lock
from gitdocket.adapters.quarantine import Leftover, leftovers
from gitdocket.adapters.store import GitStore
from gitdocket.adapters.worktree import check_out, differing_state, stale_paths

__all__ = ["Unpushed", "dead_locks", "differing", "discard", "locks", "restore", "stale", "unpushed"]


def _worktree(store: GitStore) -> pygit2.Repository | None:
    repo = store.repo
    return None if repo.is_bare or repo.workdir is None else repo


def stale(store: GitStore) -> tuple[str, ...]:
    """The worktree paths a killed write left stale (``worktree.settle`` restores them)."""
    repo = _worktree(store)
    return stale_paths(repo, store.head()) if repo is not None else ()


def differing(store: GitStore) -> tuple[str, ...]:
    """The worktree's ``current.json`` files that differ from the checked-out commit's."""
    repo = _worktree(store)
    return differing_state(repo, store.head()) if repo is not None else ()


def restore(store: GitStore, paths: tuple[str, ...]) -> None:
    """Put ``paths`` back to the checked-out commit, under gitdocket's worktree lock."""
    repo, head = _worktree(store), store.head()
    if repo is None or head is None or not paths:
        return
    with worktree_lock(Path(repo.path)):
        check_out(repo, head, paths)


def locks(store: GitStore) -> list[Leftover]:
    """Every write folder and lock file, judged live or dead."""
    return leftovers(store.repo, file_clock(), STALE_AFTER)


def dead_locks(store: GitStore) -> list[Leftover]:
    return [found for found in locks(store) if not found.live]


def discard(found: Leftover) -> None:
    """Remove a dead write's folder or lock file (never a live one: the caller judged it)."""
    if found.path.is_dir():
        shutil.rmtree(found.path, ignore_errors=True)
    else:
        found.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Unpushed:
    """What the upstream lacks: ``commits`` the branch has and it has not (None: unknown, the
    upstream holds a commit this clone has never fetched), and ``tags``."""

    remote: str
    branch: str
    commits: int | None
    tags: tuple[str, ...]


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _ahead(repo: pygit2.Repository, local: pygit2.Oid, there: str | None) -> int | None:
    if there is None:
        return sum(1 for _ in repo.walk(local))
    try:
        theirs = pygit2.Oid(hex=there)
        repo[theirs]
    except (KeyError, ValueError):
        return None
    ahead, _behind = repo.ahead_behind(local, theirs)
    return int(ahead)


def unpushed(store: GitStore, tags: dict[str, str]) -> Unpushed | None:
    """What the branch's upstream (``branch.<name>.remote`` and ``.merge``) lacks, asked of the
    remote itself (``git ls-remote``); None when no upstream is configured or it cannot be
    reached. ``tags`` are the local tags to look for there ({name: commit})."""
    branch, tip = store.branch, store.tip()
    if branch is None or tip is None:
        return None
    remote = (store.git_config(f"branch.{branch}.remote") or "").strip()
    merge = (store.git_config(f"branch.{branch}.merge") or "").strip()
    if not remote or not merge or remote == ".":
        return None
    listed = _git(store.root, "ls-remote", remote, merge, "refs/tags/*")
    if listed is None:
        return None
    rows: dict[str, str] = {}
    for line in listed.splitlines():
        oid, _, ref = line.partition("\t")
        rows[ref] = oid
    commits = _ahead(store.repo, tip.id, rows.get(merge))
    missing = tuple(sorted(name for name in tags if f"refs/tags/{name}" not in rows))
    return Unpushed(remote, merge.removeprefix("refs/heads/"), commits, missing)
