"""One scope's log read from a snapshot: its bytes, parsed events and fold (``ScopeLog``).

``load_log`` is what every operation and read asks first: it refuses a log that does not parse,
chain or replay (a one-line error naming the file, never a traceback) and builds only the
lifecycle of the scope's kind. Kept apart from ``ops.transaction`` (signing, authorization,
tags) so that a read imports none of the write path (ADR 0035).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from gitdocket.core.log import Event, chain_problems, head_digest, iter_lines, parse_history
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope
from gitdocket.core.tree import TreeView
from gitdocket.errors import StateError
from gitdocket.lifecycles import machine_of

__all__ = ["ScopeLog", "load_log"]

S = TypeVar("S", bound=Record)


@dataclass(frozen=True)
class ScopeLog(Generic[S]):
    scope: Scope[S]
    history: bytes
    events: tuple[Event, ...]
    state: S

    @property
    def head(self) -> str | None:
        last = self.history.rstrip(b"\n").rsplit(b"\n", 1)[-1] if self.history else b""
        return head_digest(last) if last else None

    @property
    def exists(self) -> bool:
        return bool(self.events)


def load_log(tree: TreeView, target: Scope[S]) -> ScopeLog[S]:
    """Parse and fold ``target``'s log from ``tree`` (an absent scope folds to its initial state)."""
    history = tree.read(target.history_path) or b""
    events = parse_history(history, target.history_path)
    for seq, problem in chain_problems(events, _history_lines(history))[:1]:
        raise StateError(
            f"{target.history_path}:{seq}: {problem} (changed outside gitdocket)",
            "run `gitdocket verify`, then restore the log from git history",
        )
    machine = machine_of(target)
    try:
        state = machine.replay(target, ((e.type, e.data) for e in events))
    except Exception as exc:  # a corrupt log must become a one-line error
        raise StateError(
            f"{target.history_path}: does not replay ({exc})", "run `gitdocket verify` to see what was changed"
        ) from exc
    return ScopeLog(target, history, tuple(events), state)


def _history_lines(history: bytes) -> list[bytes]:
    return [line for _, line in iter_lines(history)]
