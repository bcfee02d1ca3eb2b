"""The newest event time of a commit, cached per repository (ADR 0014): every write must not date
its events much before it, and reading every log of a large registry on each write would make a
write's cost grow with the registry.

``newest_event(tree)`` looks the commit up in ``<git dir>/gitdocket/newest-events``; else it
takes the nearest cached first-parent ancestor and reads only the last line of each log that
changed since (a tree diff; a log's events are dated in order, so its last is its newest); else it
reads every log once. A write records its own commit (``remember_write``) from the logs it wrote,
which it holds in memory: the next write then finds its base cached, instead of reading back the
log the previous one appended to (5 MB at 5,000 promotions: ADR 0033). The cache only saves time:
each entry is what reading the whole commit gives, or later when a log was rewritten since (which
makes a writer stricter, never looser). It is a local file, like git's index: never committed,
safe to delete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pygit2
from pygit2.enums import DeltaStatus

from gitdocket.adapters.store import GitTree
from gitdocket.core.log import last_time, newest_time
from gitdocket.core.scopes import HISTORY, KIND_PATTERNS
from gitdocket.core.tree import MemoryTree, TreeRef

__all__ = ["CACHE_ENTRIES", "newest_event", "remember_write"]

CACHE_ENTRIES = 256
"""Commits remembered; the oldest are forgotten first."""
_ANCESTORS = 64
"""First-parent commits walked back to find a cached one before reading every log."""
_NONE = "-"


def _cache_path(repo: pygit2.Repository) -> Path:
    return Path(repo.path) / "gitdocket" / "newest-events"


def _load(repo: pygit2.Repository) -> dict[str, str]:
    try:
        lines = _cache_path(repo).read_text("ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    pairs = (line.split(" ", 1) for line in lines)
    return {p[0]: p[1] for p in pairs if len(p) == 2}


def _store(repo: pygit2.Repository, cache: dict[str, str]) -> None:
    """Write the cache atomically (a temporary file renamed over it); a failure is ignored:
    the cache only saves time."""
    path = _cache_path(repo)
    kept = list(cache.items())[-CACHE_ENTRIES:]
    with contextlib.suppress(OSError):
        path.parent.mkdir(exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".newest-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write("".join(f"{commit} {time}\n" for commit, time in kept))
            Path(name).replace(path)
        finally:  # gone once renamed; a failed write leaves no temporary file in .git
            Path(name).unlink(missing_ok=True)


def _changed_logs(repo: pygit2.Repository, old: str, new: pygit2.Commit) -> list[str]:
    base = repo[old].peel(pygit2.Commit)
    diff = base.tree.diff_to_tree(new.tree)
    return [
        d.new_file.path
        for d in diff.deltas
        if d.new_file.path.endswith("/" + HISTORY) and d.status != DeltaStatus.DELETED
    ]


def _cached_ancestor(repo: pygit2.Repository, commit: pygit2.Commit, cache: dict[str, str]) -> str | None:
    current = commit
    for _ in range(_ANCESTORS):
        if not current.parent_ids:
            return None
        parent = str(current.parent_ids[0])
        if parent in cache:
            return parent
        current = repo[parent].peel(pygit2.Commit)
    return None


def _may_hold_logs(path: str) -> bool:
    """Whether a tree placed at ``path`` may hold a scope's log: ``path`` is a log's path, or a
    folder on the way to one (``KIND_PATTERNS``, whose ``{n}`` stand for any name)."""
    parts = path.strip("/").split("/")
    for pattern in KIND_PATTERNS.values():
        log = [*pattern.split("/"), HISTORY]
        if len(parts) <= len(log) and all(p.startswith("{") or p == q for p, q in zip(log, parts, strict=False)):
            return True
    return False


def _later(known: str, changed: str | None) -> str | None:
    """The later of a cached entry and the newest of the logs changed since its commit."""
    return max((t for t in (None if known == _NONE else known, changed) if t is not None), default=None)


def newest_event(tree: GitTree) -> str | None:
    """The newest event time of every log at ``tree``'s commit (None when there is none)."""
    if tree.commit is None:
        return None
    repo = tree.repo
    cache = _load(repo)
    if tree.commit in cache:
        found = cache[tree.commit]
        return None if found == _NONE else found
    commit = repo[tree.commit].peel(pygit2.Commit)
    ancestor = _cached_ancestor(repo, commit, cache)
    if ancestor is None:
        newest = newest_time(tree)
    else:
        newest = _later(cache[ancestor], last_time(tree, _changed_logs(repo, ancestor, commit)))
    cache[tree.commit] = newest or _NONE
    _store(repo, cache)
    return newest


def remember_write(
    repo: pygit2.Repository, base: str | None, commit: str, writes: Mapping[str, bytes | TreeRef]
) -> None:
    """Cache the newest event time of ``commit``, which a write made on ``base`` with ``writes``:
    the later of ``base``'s and the last events of the logs it wrote, which is what
    ``newest_event`` finds from ``base`` by reading those logs back out of git. Nothing is
    recorded when ``base`` is not cached or the write placed a whole tree where a log may be
    (an imported registry folder; a release or a method tree never is); the next write then reads
    the logs back, as before."""
    cache = _load(repo)
    if base is None or base == commit or base not in cache or commit in cache:
        return
    if any(isinstance(value, TreeRef) and _may_hold_logs(path) for path, value in writes.items()):
        return
    logs = {path: value for path, value in writes.items() if path.endswith("/" + HISTORY) and isinstance(value, bytes)}
    cache[commit] = _later(cache[base], last_time(MemoryTree(logs), logs)) or _NONE
    _store(repo, cache)
