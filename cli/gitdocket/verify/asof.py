"""The registry as it stood at a time, answered from its logs (``--at TIME``).

``AsOf`` is a ``TreeView`` over another (the checked-out commit, or ``--rev``) that shows every
scope as its log says it stood at ``at``: ``history.jsonl`` keeps the events dated at or before
``at`` (event times never go backwards within a scope, ``EVENT_TIME_MONOTONIC``, so they are a
prefix of the log and the hash chain holds; a log kept in segments, ADR 0037, is shown whole as
``history.jsonl``, its ``history/`` folder hidden), ``current.json`` is the fold of that prefix rendered
exactly as a writer renders it, and a scope with no event yet is absent, with everything in its
folder (a version frozen later, a bundle built later). An environment's ``releases/<id>`` is shown
only for the bundles it had received by then, and ``reports/<n>.json`` only up to its sequence
then. So every read — ``status``, ``history``,
``deployments resolve``, the listings — answers for ``at`` without knowing it.

Only the scopes a command reads are cut, lazily, and a log with no event after ``at`` is passed
through untouched (its ``current.json`` too), so ``status --at`` reads four logs whatever the
number of versions. For a cut log, ``earlier`` (``adapters.past``: git history) gives the
``current.json`` the writer rendered after that very event when a commit holds it; only
otherwise is the cut log folded here, so a long log costs a binary search, not a fold.

What is not a log (``archetype.yaml``, a method, a bundle's
payload) is read as the underlying commit has it: those are either immutable once a scope exists
or not signed state. Pure: no clock (``at`` is an argument), no I/O beyond the tree it wraps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from typing import Any

from gitdocket.core.canonical import loads_strict
from gitdocket.core.fields import format_time
from gitdocket.core.log import head_digest, iter_lines, line_time, read_log, render_current
from gitdocket.core.scopes import CURRENT, HISTORY, SEGMENTS, Scope, parse_scope_path
from gitdocket.core.tree import EntryKind, TreeView
from gitdocket.errors import InputError, StateError
from gitdocket.lifecycles import machine_of
from gitdocket.lifecycles.policy import POLICY_SCOPE

__all__ = ["AsOf", "Earlier", "registry_began"]

Earlier = Callable[[Scope[Any], int], "bytes | None"]
"""``current.json`` of a scope as it stood when its log was N events long, when known (the
commit that wrote it: ``adapters.past``), else None and the view folds the cut log itself."""


def _cut(history: bytes, at: bytes) -> bytes:
    """The prefix of ``history`` whose events are dated at or before ``at``."""
    end = 0
    for _n, line in iter_lines(history):
        if line_time(line) > at:
            break
        end += len(line) + 1
    return history[:end]


def _event(line: bytes, path: str, number: int) -> dict[str, Any]:
    try:
        event = json.loads(line)
        if isinstance(event, dict) and isinstance(event.get("data"), dict) and isinstance(event.get("seq"), int):
            return event
    except ValueError:
        pass
    raise StateError(f"{path}:{number}: not an event (changed outside gitdocket)", "run `gitdocket verify`")


def registry_began(tree: TreeView) -> str | None:
    """When the registry was made: the time of its policy's first event (``gitdocket init``
    signs it first), or None for a tree that holds no registry."""
    for _n, line in iter_lines(read_log(tree, POLICY_SCOPE)):
        return line_time(line).decode("ascii", "replace")
    return None


class AsOf:
    """``tree`` as its logs say it stood at ``at`` (module docstring)."""

    def __init__(self, tree: TreeView, at: str, earlier: Earlier | None = None) -> None:
        self.tree = tree
        self.commit = tree.commit
        self.at = at
        self.earlier = earlier
        self._stamp = at.encode("ascii")
        # Per view: a scope's log is read and cut once however often a command asks.
        self._history = cache(self._history_at)
        self._current = cache(self._current_at)
        self._scope_of = cache(self._scope_at)
        self._pointer = cache(self._pointer_at)
        self._releases = cache(self._releases_at)

    @classmethod
    def checked(cls, tree: TreeView, at: datetime, earlier: Earlier | None = None) -> AsOf:
        """The view at ``at``, refusing a time before the registry existed."""
        when = format_time(at)
        began = registry_began(tree)
        if began is not None and when < began:
            raise InputError(
                f"--at {when} is before the registry existed (its first event is dated {began})",
                f"pass a time at or after {began}",
            )
        return cls(tree, when, earlier)

    # -- logs ------------------------------------------------------------------------------------

    def _history_at(self, target: Scope[Any]) -> bytes:
        return _cut(read_log(self.tree, target), self._stamp)

    def _current_at(self, target: Scope[Any]) -> bytes | None:
        history = self._history(target)
        if not history:
            return None
        full = read_log(self.tree, target)
        if len(history) == len(full):
            return self.tree.read(target.current_path)  # nothing after ``at``: the file is the fold
        recorded = self.earlier(target, history.count(b"\n")) if self.earlier is not None else None
        if recorded is not None:
            return recorded  # what the writer rendered after that very event
        # A plain JSON read of each line, not ``parse_history``'s validated, canonical-checked
        # events: this is a read like ``current.json`` is (``verify`` is what proves a log), and
        # the fold is the cost ``status --at`` pays per event.
        events = [_event(line, target.history_path, n) for n, line in iter_lines(history)]
        state = machine_of(target).replay(target, ((e["type"], e["data"]) for e in events))
        last = history.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        return render_current(target.path, state.model_dump(mode="json"), events[-1]["seq"], head_digest(last))

    def _pointer_at(self, target: Scope[Any]) -> dict[str, Any]:
        """Environment ``target``'s ``current.json`` at ``at``, parsed (empty when there is none)."""
        current = self._current(target)
        state = loads_strict(current, target.current_path) if current is not None else {}
        return state if isinstance(state, dict) else {}

    def _releases_at(self, target: Scope[Any]) -> frozenset[str]:
        """The bundles environment ``target`` had received by ``at``: from its log, since
        ``deployment_state_v2`` leaves the release list out of ``current.json`` (ADR 0033)."""
        lines = iter_lines(self._history(target))
        events = (_event(line, target.history_path, n) for n, line in lines)
        return frozenset(str(e["data"].get("bundle_id")) for e in events if e.get("type") == "promoted")

    def _sequence(self, target: Scope[Any]) -> int:
        """Environment ``target``'s sequence at ``at``: its gated promotions' reports go to that."""
        sequence = self._pointer(target).get("sequence")
        return sequence if isinstance(sequence, int) else 0

    def _scope_at(self, folder: str) -> Scope[Any] | None:
        """The scope whose folder is ``folder`` or holds it, if any."""
        parts = folder.split("/")
        for depth in range(2, min(len(parts), 4) + 1):
            found = parse_scope_path("/".join(parts[:depth]))
            if found is not None:
                return found
        return None

    def _hidden(self, path: str) -> bool:
        """Whether ``path`` lies in a scope with no event yet, or is an environment's release not
        received yet or report not written yet."""
        target = self._scope_of(path)
        if target is None:
            return False
        if not self._history(target):
            return True
        rest = path[len(target.path) + 1 :].split("/") if path != target.path else []
        if rest[:1] == [SEGMENTS]:
            return True  # the view's history.jsonl is the whole log, cut at ``at`` (ADR 0037)
        if target.kind != "environment" or len(rest) < 2:
            return False
        if rest[0] == "releases":
            return rest[1] not in self._releases(target)
        if rest[0] == "reports":  # reports/<sequence>.json of a gated promotion not made yet
            number = rest[1].removesuffix(".json")
            return not number.isdigit() or int(number) > self._sequence(target)
        return False

    # -- TreeView --------------------------------------------------------------------------------

    def read(self, path: str) -> bytes | None:
        if self._hidden(path):
            return None
        folder, _, name = path.rpartition("/")
        target = self._scope_of(folder) if name in (HISTORY, CURRENT) else None
        if target is None or target.path != folder:
            return self.tree.read(path)
        if name == HISTORY:
            return self._history(target) or None
        return self._current(target)

    def kind(self, path: str) -> EntryKind | None:
        return None if self._hidden(path) else self.tree.kind(path)

    def listdir(self, path: str) -> list[str]:
        if self._hidden(path):
            return []
        return [n for n in self.tree.listdir(path) if not self._hidden(f"{path}/{n}" if path else n)]

    def tree_id(self, path: str) -> str | None:
        return None if self._hidden(path) else self.tree.tree_id(path)

    def walk(self, path: str) -> Iterator[tuple[str, EntryKind, str]]:
        if self._hidden(path):
            return
        prefix = f"{path}/" if path else ""
        for relative, kind, oid in self.tree.walk(path):
            if not self._hidden(prefix + relative):
                yield relative, kind, oid
