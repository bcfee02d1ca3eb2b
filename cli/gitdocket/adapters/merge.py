"""The git adapter for three-way tree merges (``pull-from-source``): pygit2's
``merge_trees(ancestor, ours, theirs)``.

``GitMerger`` answers with a ``MergeOutcome``: the merged tree's id, or the conflicting paths.
It writes tree and blob objects to the object database only (unreferenced until a commit uses
them) — never a ref, the index or the worktree — so a conflict leaves the repository as it was.
The operation layer depends on the ``TreeMerger`` protocol, not on pygit2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pygit2
from pygit2.enums import MergeFavor

__all__ = ["FAVOR", "GitMerger", "MergeOutcome", "TreeMerger"]


@dataclass(frozen=True)
class MergeOutcome:
    tree: str | None
    conflicts: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return self.tree is not None and not self.conflicts


class TreeMerger(Protocol):
    def merge(self, base: str, ours: str, theirs: str) -> MergeOutcome: ...


FAVOR = {"normal": MergeFavor.NORMAL, "ours": MergeFavor.OURS, "theirs": MergeFavor.THEIRS}
"""How file-level conflicts resolve: ``normal`` reports them; ``ours``/``theirs`` take a side."""


class GitMerger:
    def __init__(self, repo: pygit2.Repository, favor: str = "normal") -> None:
        self.repo = repo
        self.favor = FAVOR[favor]

    def merge(self, base: str, ours: str, theirs: str) -> MergeOutcome:
        index = self.repo.merge_trees(
            pygit2.Oid(hex=base), pygit2.Oid(hex=ours), pygit2.Oid(hex=theirs), favor=self.favor
        )
        if index.conflicts is not None:
            paths: set[str] = set()
            for entries in index.conflicts:
                paths.update(entry.path for entry in entries if entry is not None)
            return MergeOutcome(None, tuple(sorted(paths)))
        return MergeOutcome(str(index.write_tree(self.repo)))
