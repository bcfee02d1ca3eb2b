"""Where a scope's ``current.json`` stood earlier, from git history: what ``--at`` reads instead of
folding a long log again (``verify.asof``).

A write renders a scope's ``current.json`` after its last event; the commit that made the log
``n`` events long holds that rendering. Along the branch's first-parent chain a log only grows
(``verify`` refuses anything else), so the commit is found by a binary search over the chain on
the log's length. When no commit of the chain holds exactly ``n`` events (one commit appended
past the cut, or the history is not here: a shallow clone, a tarball), the caller folds.
"""

from __future__ import annotations

import contextlib
import json

import pygit2

from gitdocket.core.log import last_lines
from gitdocket.core.scopes import Scope

__all__ = ["Earlier"]


class Earlier:
    """The first-parent chain of ``commit`` (read once, on first use), searched per scope."""

    def __init__(self, repo: pygit2.Repository, commit: str | None) -> None:
        self.repo = repo
        self.commit = commit
        self._chain: list[pygit2.Commit] | None = None

    def _commits(self) -> list[pygit2.Commit]:
        """The chain oldest first; it stops where a shallow clone's history does."""
        if self._chain is None:
            chain: list[pygit2.Commit] = []
            if self.commit is not None:
                walker = self.repo.walk(self.commit, pygit2.enums.SortMode.TOPOLOGICAL)
                walker.simplify_first_parent()
                with contextlib.suppress(pygit2.GitError, KeyError):
                    chain.extend(walker)
            self._chain = chain[::-1]
        return self._chain

    def _blob(self, commit: pygit2.Commit, path: str) -> bytes:
        with contextlib.suppress(KeyError):
            entry = commit.tree[path]
            if isinstance(entry, pygit2.Blob):
                return entry.data
        return b""

    def _length(self, commit: pygit2.Commit, target: Scope[object]) -> int:
        """How many events ``target``'s log holds at ``commit``: its last line's ``seq`` (a log
        in segments, ADR 0037, keeps only its newest lines in ``history.jsonl``); 0 when that
        line is not an event (the caller then folds)."""
        last = last_lines(self._blob(commit, target.history_path))
        with contextlib.suppress(ValueError, AttributeError):
            seq = json.loads(last[0]).get("seq") if last else 0
            return seq if isinstance(seq, int) else 0
        return 0

    def current(self, target: Scope[object], events: int) -> bytes | None:
        """``target``'s ``current.json`` as the commit that made its log ``events`` long has it."""
        chain = self._commits()
        low, high = 0, len(chain)
        while low < high:  # the first commit whose log holds at least ``events`` lines
            middle = (low + high) // 2
            if self._length(chain[middle], target) < events:
                low = middle + 1
            else:
                high = middle
        if low == len(chain) or self._length(chain[low], target) != events:
            return None
        return self._blob(chain[low], target.current_path) or None
