"""A read-only view of one snapshot of the repository, as the pure core sees it.

``store.GitTree`` implements it over a pygit2 commit; ``MemoryTree`` over a dict, for unit tests
of the pure core. Paths are POSIX, relative to the repository root, without leading slash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = [
    "EntryKind",
    "MemoryTree",
    "Plan",
    "Prefixed",
    "TagSpec",
    "TreeRef",
    "TreeView",
    "WriteResult",
]

EntryKind = Literal["blob", "exec", "tree", "link", "commit"]


class TreeView(Protocol):
    commit: str | None

    def read(self, path: str) -> bytes | None: ...

    def kind(self, path: str) -> EntryKind | None: ...

    def listdir(self, path: str) -> list[str]: ...

    def tree_id(self, path: str) -> str | None: ...

    def holds(self, path: str, data: bytes) -> bool:
        """The file at ``path`` holds exactly ``data`` (``read(path) == data``), known without
        reading it where the view can: a git tree compares object ids."""
        ...

    def walk(self, path: str) -> Iterator[tuple[str, EntryKind, str]]:
        """(path relative to ``path``, kind, object id) of every non-tree entry below ``path``."""
        ...


class MemoryTree:
    """A ``TreeView`` over ``{path: bytes}``; object ids are fake but stable (sha1 of content)."""

    def __init__(self, files: dict[str, bytes], commit: str | None = None) -> None:
        self.files = dict(files)
        self.commit = commit

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)

    def kind(self, path: str) -> EntryKind | None:
        if path in self.files:
            return "blob"
        prefix = path.rstrip("/") + "/"
        return "tree" if any(p.startswith(prefix) for p in self.files) else None

    def listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/" if path else ""
        return sorted({p[len(prefix) :].split("/", 1)[0] for p in self.files if p.startswith(prefix)})

    def holds(self, path: str, data: bytes) -> bool:
        return self.files.get(path) == data

    def tree_id(self, path: str) -> str | None:
        items = sorted(self.walk(path))
        if not items:
            return None
        return hashlib.sha1(repr(items).encode(), usedforsecurity=False).hexdigest()

    def walk(self, path: str) -> Iterator[tuple[str, EntryKind, str]]:
        prefix = path.rstrip("/") + "/" if path else ""
        for p in sorted(self.files):
            if p.startswith(prefix):
                oid = hashlib.sha1(self.files[p], usedforsecurity=False).hexdigest()
                yield p[len(prefix) :], "blob", oid


class Prefixed:
    """The part of ``tree`` below the folder ``prefix``, as a tree of its own: another
    registry's records kept inside this one (a vendor's logs under ``registry/vendors/<v>``)
    read with the same code that reads a registry."""

    def __init__(self, tree: TreeView, prefix: str) -> None:
        self.tree = tree
        self.prefix = prefix.strip("/")
        self.commit = tree.commit

    def _full(self, path: str) -> str:
        return f"{self.prefix}/{path}" if path else self.prefix

    def read(self, path: str) -> bytes | None:
        return self.tree.read(self._full(path))

    def kind(self, path: str) -> EntryKind | None:
        return self.tree.kind(self._full(path))

    def listdir(self, path: str) -> list[str]:
        return self.tree.listdir(self._full(path))

    def tree_id(self, path: str) -> str | None:
        return self.tree.tree_id(self._full(path))

    def holds(self, path: str, data: bytes) -> bool:
        return self.tree.holds(self._full(path), data)

    def walk(self, path: str) -> Iterator[tuple[str, EntryKind, str]]:
        return self.tree.walk(self._full(path))


@dataclass(frozen=True)
class TreeRef:
    """Place an existing git tree at a path (a frozen snapshot, a promoted bundle: no copy)."""

    oid: str


@dataclass(frozen=True)
class TagSpec:
    """A signed tag the write creates: on the commit it makes (``target`` None), or on an
    earlier commit that recorded the event (a re-run completing a write whose tag is missing)."""

    name: str
    message: str
    target: str | None = None


@dataclass
class Plan:
    message: str
    author: str
    writes: dict[str, bytes | TreeRef] = field(default_factory=dict)
    tags: list[TagSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the operation completed rather than did (``already frozen; created the missing
    tag …``), in the user's words."""


@dataclass(frozen=True)
class WriteResult:
    """One write, done: the branch's commit, the tags it created, and what the command tells
    the user besides. ``repairs`` say what an interrupted earlier write had left and this one put
    right first (stale worktree paths, its lock files); ``warnings`` say what could not be
    finished after the swap (the write itself is done: the command still succeeds)."""

    commit: str
    tags: tuple[str, ...]
    attempts: int
    notes: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    deferred: tuple[str, ...] = ()
    """Tags the write did not create because it went to another branch than the registry's
    default one (``gitdocket tags sync`` creates them once the change lands there)."""
