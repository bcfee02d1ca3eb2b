"""One scope's log read from a snapshot (``ScopeLog``): from its end when ``current.json`` stands at
its last line (``load_tail``, what a write reads, ADR 0033), or folded from its first event
(``load_log``, ``replay_log``: what every read, the policy in a write, and a row that
``needs_history`` use).

The full replay refuses a log that does not parse, chain or replay (a one-line error naming the
file, never a traceback); the read from the end checks the last line, its link to the line before,
and that ``current.json`` is exactly the rendering of a state of its contract standing at that
line. Neither checks signatures: the writer checks the last event's (``Transaction``), ``verify``
every event's. Only the lifecycle of the scope's kind is built. Kept apart from
``ops.transaction`` (signing, authorization, tags) so that a read imports none of the write path
(ADR 0035).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any, Generic, NoReturn, TypeVar

from pydantic import ValidationError

from gitdocket.core.canonical import loads_strict
from gitdocket.core.log import (
    Event,
    LogPosition,
    appended_files,
    chain_problems,
    event_line,
    head_digest,
    iter_lines,
    last_lines,
    parse_history,
    parse_line,
    read_sealed,
    render_current,
    segment_paths,
)
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError, StateError
from gitdocket.lifecycles import machine_of

__all__ = ["ScopeLog", "history_lines", "load_log", "load_tail", "replay_log"]

S = TypeVar("S", bound=Record)


def _no_segments() -> bytes:
    return b""


@dataclass(frozen=True)
class ScopeLog(Generic[S]):
    """A scope's log as a write sees it: its open segment (``history.jsonl``, what the next event
    is appended to), the state, the last event, and every event when the log was replayed
    (``parsed``; None when the state was read from ``current.json``, ``load_tail``: the sealed
    segments and the events are then read only if something asks for them, ``sealed``)."""

    scope: Scope[S]
    open: bytes
    state: S
    last: Event | None
    parsed: tuple[Event, ...] | None = None
    sealed: Callable[[], bytes] = _no_segments
    """The bytes of the log's sealed segments, in order (ADR 0037), read when called."""

    @cached_property
    def history(self) -> bytes:
        """The whole log: the sealed segments, then the open one."""
        before = self.sealed()
        return before + self.open if before else self.open

    @cached_property
    def events(self) -> tuple[Event, ...]:
        if self.parsed is not None:
            return self.parsed
        return tuple(parse_history(self.history, self.scope.history_path))

    @property
    def replayed(self) -> bool:
        """Whether the state is the fold of every event (not read from ``current.json``)."""
        return self.parsed is not None

    @property
    def seq(self) -> int:
        """The last event's ``seq`` (0 for an empty log)."""
        return self.last.seq if self.last is not None else 0

    @property
    def head(self) -> str | None:
        last = last_lines(self.open or self.history)
        return head_digest(last[0]) if last else None

    @property
    def exists(self) -> bool:
        return self.last is not None

    def appended(self, event: Event, state: S) -> tuple[ScopeLog[S], dict[str, bytes]]:
        """This log with ``event`` appended and ``state`` its new fold, and the files the append
        writes (``core.log.appended_files``: the open segment grown, or sealed and begun anew)."""
        files = appended_files(self.scope, self.open, event_line(event) + b"\n", event.seq)
        sealed = self.sealed if len(files) == 1 else _then(self.sealed, self.open)
        parsed = (*self.parsed, event) if self.parsed is not None else None
        return ScopeLog(self.scope, files[self.scope.history_path], state, event, parsed, sealed), files


def _then(sealed: Callable[[], bytes], segment: bytes) -> Callable[[], bytes]:
    return lambda: sealed() + segment


def load_log(tree: TreeView, target: Scope[S]) -> ScopeLog[S]:
    """Parse and fold ``target``'s log from ``tree`` (an absent scope folds to its initial state):
    the full replay, what every read uses."""
    return replay_log(target, tree.read(target.history_path) or b"", read_sealed(tree, target))


def replay_log(target: Scope[S], open_segment: bytes, sealed: bytes = b"") -> ScopeLog[S]:
    """Parse and fold ``target``'s log, its ``sealed`` segments then ``open_segment``: every
    line, every link of the chain."""
    history = sealed + open_segment if sealed else open_segment
    events = parse_history(history, target.history_path)
    for seq, problem in chain_problems(events, history_lines(history))[:1]:
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
    last = events[-1] if events else None
    return ScopeLog(target, open_segment, state, last, tuple(events), (lambda: sealed) if sealed else _no_segments)


def load_tail(tree: TreeView, target: Scope[S]) -> ScopeLog[S] | None:
    """``target``'s log read from its end (ADR 0033): the last line (and the one before, for the
    link between them) is parsed, and the state is ``current.json``'s, once its ``log`` block
    stands at that last line and it is exactly the rendering of the state it holds. A write's
    cost then does not grow with the log: the sealed segments (ADR 0037) are not read, but for
    the last line of the last one when ``history.jsonl`` holds a single line. None when
    ``current.json`` is in an earlier contract version (the caller replays the log, and the write
    renders the current one); raises ``StateError`` when ``current.json`` does not stand at the
    log's last line."""
    history = tree.read(target.history_path) or b""
    if not history or not history.endswith(b"\n"):
        return None  # nothing to skip, or a truncated log: the full replay says what is wrong
    *before, line = last_lines(history, 2)
    last = parse_line(line, f"{target.history_path} (last line)")
    if not before and last.seq > 1:  # the line before is the last of the newest sealed segment
        newest = segment_paths(tree, target)[-1:]
        before = last_lines(tree.read(newest[0]) or b"") if newest else []
    link = _link_problem(before, last)
    if link is not None:  # worded as the full replay words it: the line, then what is wrong
        number = history.count(b"\n")
        raise StateError(
            f"{target.history_path}:{number}: {link} (changed outside gitdocket)",
            "run `gitdocket verify`, then restore the log from git history",
        )
    state = _tail_state(target, tree.read(target.current_path) or b"", last, head_digest(line))
    if state is None:
        return None
    return ScopeLog(target, history, state, last, None, partial(read_sealed, tree, target))


def _link_problem(before: list[bytes], last: Event) -> str | None:
    """Whether the last line follows the one before it (the link a full replay would check)."""
    expected = head_digest(before[0]) if before else None
    if last.prev != expected:
        return "prev does not match the hash of the previous line"
    if (last.seq == 1) != (not before):
        return f"seq {last.seq} where {1 if not before else 'more than 1'} was expected"
    return None


def _tail_state(target: Scope[Any], raw: bytes, last: Event, head: str) -> Any | None:
    """The state ``raw`` (a ``current.json``) holds for the log ending in ``last``; None when it
    is in an earlier contract (the caller replays the log). Refused when it cannot stand for it."""
    if not raw:
        _refuse(target, "missing beside its history.jsonl")
    try:
        obj = loads_strict(raw, target.current_path)
        position = LogPosition.model_validate(obj.get("log") if isinstance(obj, dict) else None)
    except (DocketError, ValidationError):
        _refuse(target, "not a current.json gitdocket writes")
    if (position.scope, position.seq, position.head) != (target.path, last.seq, head):
        _refuse(
            target,
            f"its log block (seq {position.seq} of {position.scope}) is not the last line of the log "
            f"(seq {last.seq}, {head[:19]}…)",
        )
    body = {k: v for k, v in obj.items() if k != "log"}
    machine = machine_of(target)
    if machine.in_earlier_contract(body):
        return None
    try:
        state = machine.restore(body)
    except (DocketError, ValidationError):
        _refuse(target, "does not hold a state of its contract")
    if render_current(target.path, state.model_dump(mode="json"), last.seq, head) != raw:
        _refuse(target, "is not the rendering of the state it holds")
    return state


def _refuse(target: Scope[Any], problem: str) -> NoReturn:
    raise StateError(
        f"{target.current_path}: {problem}; refusing to write from it (changed outside gitdocket?)",
        "run `gitdocket verify`, then restore the scope's files from git history",
    )


def history_lines(history: bytes) -> list[bytes]:
    return [line for _, line in iter_lines(history)]
