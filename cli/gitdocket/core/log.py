"""The one primitive: a signed, append-only, hash-chained scope log.

``history.jsonl`` holds one event per line, each line the RFC 8785 canonical JSON of the event.
``prev`` is ``sha256:`` of the previous line's bytes, so the log is a hash chain; ``seq`` counts
from 1. Signatures cover ``signing_payload``: the canonical JSON of the event *without* its
signatures, *plus* the scope's path, so an event copied into another scope no longer verifies.

A long log is kept in segments (ADR 0037): when an append would take ``history.jsonl`` past
``SEGMENT_BYTES``, the file is sealed as it stands into ``history/<first seq>.jsonl`` and the new
line starts a fresh ``history.jsonl``. The log is the sealed segments in name order followed by
``history.jsonl`` (``read_log``); the chain runs across them, and an append rewrites only the open
segment, so its cost does not grow with the log.

This module is pure: it parses and produces bytes; it never reads files or the clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, ValidationError

from gitdocket.core.canonical import canonical, loads_strict, plain_canonical, render, sha256_hex
from gitdocket.core.fields import TIMESTAMP_RE, Digest, Timestamp
from gitdocket.core.limits import MAX_LOG_LINE_BYTES
from gitdocket.core.model import Record, first_error
from gitdocket.core.scopes import HISTORY, Scope, scope_folders
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError, InputError, StateError

__all__ = [
    "EVENT_NAMESPACE",
    "SEGMENT_BYTES",
    "SEGMENT_NAME_RE",
    "WHOLE_LOG_KINDS",
    "Event",
    "LogPosition",
    "SignatureEntry",
    "SigstoreSignature",
    "SshSignature",
    "append_line",
    "appended_files",
    "chain_problems",
    "event_line",
    "head_digest",
    "iter_lines",
    "last_lines",
    "last_time",
    "line_time",
    "newest_time",
    "parse_history",
    "parse_line",
    "parse_line_strictly",
    "read_log",
    "read_sealed",
    "render_current",
    "resealed",
    "segment_name",
    "segment_paths",
    "segments",
    "signing_payload",
]

EVENT_NAMESPACE = "docket-event-v1"
"""SSHSIG namespace for event signatures; ``git`` is for commits and tags, so neither replays
as the other."""


class SshSignature(Record):
    kind: Literal["sshsig"]
    principal: str
    sig: str


class SigstoreSignature(Record):
    kind: Literal["sigstore"]
    principal: str
    bundle: dict[str, Any]


SignatureEntry = Annotated[SshSignature | SigstoreSignature, Field(discriminator="kind")]


class Event(Record):
    seq: int = Field(ge=1)
    prev: str | None
    at: Timestamp
    type: str = Field(pattern=r"^[a-z][a-z_]*$")
    actor: str = Field(min_length=1)
    data: dict[str, Any]
    policy_version: int = Field(ge=0)
    signatures: tuple[SignatureEntry, ...] = ()

    def unsigned(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"signatures"})

    @functools.cached_property
    def unsigned_line(self) -> bytes:
        """``canonical(self.unsigned())``, computed once per event: its line and every signature
        check of it (``signing_payload``) are spliced from it. Safe to keep because an event is
        frozen; ``model_copy`` makes a new event and drops it.

        When the fields hold plain JSON data (``plain_canonical``: strings, integers within
        ±2^53-1, booleans, None, lists, tuples and string-keyed dicts of them, exactly these
        types), they are what ``unsigned()`` dumps (the JSON dump of such a value is itself, a
        tuple a list, which prints the same), so they are encoded as they are: the dump cost as
        much again as the encoding for each event verify parses. Anything else (floats, other
        types in ``data``) goes through the dump."""
        fast = plain_canonical({name: self.__dict__[name] for name in _unsigned_fields()})
        return fast if fast is not None else canonical(self.unsigned())

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("unsigned_line", None)  # the copy's fields may differ: computed afresh
        return copy


@functools.cache
def _unsigned_fields() -> tuple[str, ...]:
    """The fields ``Event.unsigned()`` dumps: all but the signatures."""
    return tuple(name for name in Event.model_fields if name != "signatures")


def signing_payload(scope_path: str, event: Event) -> bytes:
    """The bytes every signature of ``event`` signs: binds the scope's path. It is
    ``canonical({"scope": scope_path, "event": event.unsigned()})``, put together from the
    event's ``unsigned_line``: RFC 8785 sorts the two keys (``event`` before ``scope``) and
    writes no whitespace, so the canonical form of the object is its members' forms in order."""
    return b"".join((b'{"event":', event.unsigned_line, b',"scope":', canonical(scope_path), b"}"))


def event_line(event: Event) -> bytes:
    """The canonical line for ``event`` (no trailing newline): ``canonical(event.model_dump())``,
    spliced from its ``unsigned_line``. The fields sort ``…, seq, signatures, type``, so the
    line is the unsigned form with ``"signatures"`` inserted before its last member, ``type``."""
    unsigned = event.unsigned_line
    # The last `,"type":` is the member's own: JSON text holds no unescaped quote inside a string.
    cut = unsigned.rindex(b',"type":')
    return b"".join((unsigned[:cut], b',"signatures":', _signatures_form(event), unsigned[cut:]))


def _signatures_form(event: Event) -> bytes:
    """``canonical`` of the event's dumped ``signatures``. SSH signatures (all but keyless ones)
    are put together from their two strings: each dumps as ``{"kind": "sshsig", "principal": …,
    "sig": …}``, whose keys RFC 8785 sorts in that order (a second dump of the event per line
    parsed cost more than the rest of the splice)."""
    ssh = [entry for entry in event.signatures if type(entry) is SshSignature]
    if len(ssh) != len(event.signatures):
        return canonical(event.model_dump(mode="json", include={"signatures"})["signatures"])
    members = [
        b"".join((b'{"kind":"sshsig","principal":', canonical(entry.principal), b',"sig":', canonical(entry.sig), b"}"))
        for entry in ssh
    ]
    return b"[" + b",".join(members) + b"]"


def head_digest(line: bytes) -> str:
    return "sha256:" + sha256_hex(line)


def iter_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, line bytes) for each line; a final line without newline is still yielded."""
    if not data:
        return
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    yield from enumerate(parts, start=1)


def last_lines(data: bytes, count: int = 1) -> list[bytes]:
    """The last ``count`` lines of a history (fewer when it has fewer), oldest first, found from
    the end without splitting the rest: what a writer reads of a long log."""
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    found: list[bytes] = []
    while end > 0 and len(found) < count:
        start = data.rfind(b"\n", 0, end) + 1
        found.append(data[start:end])
        end = start - 1
    return found[::-1]


def parse_line(line: bytes, where: str) -> Event:
    """Parse one history line strictly: JSON, schema, and canonical form; no longer than
    ``core.limits.MAX_LOG_LINE_BYTES``."""
    if len(line) > MAX_LOG_LINE_BYTES:
        raise StateError(
            f"{where}: longer than {MAX_LOG_LINE_BYTES >> 20} MiB", "history lines are written by gitdocket only"
        )
    event = _canonical_event(line)
    return event if event is not None else parse_line_strictly(line, where)


def _canonical_event(line: bytes) -> Event | None:
    """The event of ``line`` when the line is its canonical form (every line gitdocket writes),
    through pydantic's JSON parser: a third of the strict path's cost. None, and the strict path
    decides and words the error, for anything else.

    Sound because a line that equals the canonical JSON of an event holds nothing the strict
    parser refuses (duplicate keys, non-finite or out-of-range numbers, invalid UTF-8, lone
    surrogates: canonical JSON has none of them), so the strict path parses it to the same JSON
    value, validates it to an equal event and accepts it too."""
    try:
        event = Event.model_validate_json(line)
        return event if event_line(event) == line else None
    except (ValueError, TypeError, RecursionError, DocketError):  # ValidationError is a ValueError
        return None


def parse_line_strictly(line: bytes, where: str) -> Event:
    """``parse_line`` without the fast path: strict JSON, then the schema, then the canonical
    form, each refusal worded for the finding."""
    try:
        obj = loads_strict(line, where)
    except InputError as exc:  # a corrupt log is the repository's state, not the user's input
        raise StateError(
            exc.message, "history lines are written by gitdocket only; restore the line from git history"
        ) from exc
    try:
        event = Event.model_validate(obj)
    except ValidationError as exc:
        raise StateError(f"{where}: {first_error(exc, 'event')}", "restore the line from git history") from exc
    if event_line(event) != line:
        raise StateError(
            f"{where}: line is not in canonical form (hand-edited?)",
            "history lines are written by gitdocket only; restore the line from git history",
        )
    return event


def parse_history(data: bytes, path: str) -> list[Event]:
    """Parse a whole ``history.jsonl``; raises ``StateError`` at the first bad line."""
    if data and not data.endswith(b"\n"):
        raise StateError(f"{path}: last line has no newline (truncated?)", "restore the file from git")
    return [parse_line(line, f"{path}:{n}") for n, line in iter_lines(data)]


def chain_problems(events: list[Event], lines: list[bytes]) -> list[tuple[int, str]]:
    """(seq index, message) for every broken link of the hash chain."""
    problems: list[tuple[int, str]] = []
    prev: str | None = None
    for index, (event, line) in enumerate(zip(events, lines, strict=True), start=1):
        if event.seq != index:
            problems.append((index, f"seq {event.seq} where {index} was expected"))
        if event.prev != prev:
            problems.append((index, "prev does not match the hash of the previous line"))
        prev = head_digest(line)
    return problems


def append_line(history: bytes, event: Event) -> bytes:
    return b"".join((history, event_line(event), b"\n"))  # one copy of a long log, not two


SEGMENT_BYTES = 256 * 1024
"""How long ``history.jsonl`` may grow before an append seals it (ADR 0037): an append rewrites
at most this much, whatever the log holds. Changing it changes where future writes cut, never how
a log reads."""

SEGMENT_NAME_RE = re.compile(r"^([0-9]{9})\.jsonl$")
"""A sealed segment's file name in ``history/``: the ``seq`` of its first line, nine digits, so
that name order is log order."""


WHOLE_LOG_KINDS = frozenset({"bundle"})
"""Scopes whose log is never segmented: a bundle's log travels with its files, whole, in an
archive and an import (``adapters.bundle_files``), and holds a handful of events."""


def segment_name(first_seq: int) -> str:
    return f"{first_seq:09d}.jsonl"


def segment_paths(tree: TreeView, target: Scope[Any]) -> list[str]:
    """The paths of ``target``'s sealed segments, in log order. Only entries named like a segment
    count; ``verify`` reports any other entry of the folder."""
    folder = target.segments_path
    if tree.kind(folder) != "tree":
        return []
    return [f"{folder}/{n}" for n in sorted(tree.listdir(folder)) if SEGMENT_NAME_RE.fullmatch(n)]


def segments(tree: TreeView, target: Scope[Any]) -> list[tuple[str, bytes]]:
    """(path, bytes) of ``target``'s sealed segments, in log order."""
    return [(path, tree.read(path) or b"") for path in segment_paths(tree, target)]


def read_sealed(tree: TreeView, target: Scope[Any]) -> bytes:
    """The bytes of ``target``'s sealed segments, joined in log order (empty for a short log)."""
    return b"".join(data for _path, data in segments(tree, target))


def read_log(tree: TreeView, target: Scope[Any]) -> bytes:
    """``target``'s whole log: its sealed segments in order, then ``history.jsonl`` (empty for a
    scope with no log)."""
    return read_sealed(tree, target) + (tree.read(target.history_path) or b"")


def resealed(before: TreeView, after: TreeView, target: Scope[Any]) -> str | None:
    """The first sealed segment of ``target`` in ``before`` that ``after`` lacks or holds changed
    (a sealed segment is never written again), or None."""
    folder = target.segments_path
    if before.tree_id(folder) == after.tree_id(folder):
        return None
    kept = {rel: (kind, oid) for rel, kind, oid in after.walk(folder)}
    sealed = (rel for rel, kind, oid in sorted(before.walk(folder)) if kept.get(rel) != (kind, oid))
    return next((f"{folder}/{rel}" for rel in sealed if SEGMENT_NAME_RE.fullmatch(rel)), None)


def appended_files(target: Scope[Any], open_segment: bytes, line: bytes, seq: int) -> dict[str, bytes]:
    """The files an append of ``line`` (the event ``seq``, newline included) to ``target``'s
    log writes: ``history.jsonl`` grown by the line; or, when that would take it past
    ``SEGMENT_BYTES``, the open segment sealed as it stands and ``history.jsonl`` holding the line
    alone."""
    if target.kind in WHOLE_LOG_KINDS or not open_segment or len(open_segment) + len(line) <= SEGMENT_BYTES:
        return {target.history_path: open_segment + line}
    first = seq - open_segment.count(b"\n")
    return {f"{target.segments_path}/{segment_name(first)}": open_segment, target.history_path: line}


class LogPosition(Record):
    """Where a ``current.json`` stands in its scope's log: the scope folder, the last ``seq`` and
    the digest of the last history line (the ``log`` block ``render_current`` adds)."""

    scope: str = Field(min_length=1)
    seq: int = Field(ge=1)
    head: Digest


def render_current(scope_path: str, state: dict[str, Any], seq: int, head: str | None) -> bytes:
    """``current.json``: the folded state plus where in the log it stands."""
    return render({**state, "log": {"scope": scope_path, "seq": seq, "head": head}})


_AT = b'"at":"'
_STAMP = 20  # len("2026-01-01T00:00:00Z"): every event time is UTC to the second (fields.Timestamp)


def line_time(line: bytes) -> bytes:
    """The ``at`` of one history line, read without parsing it: in a canonical line the keys are
    sorted, so the first ``"at":"`` follows ``"actor"``, whose principal holds no quote. Empty for
    a line without one (it sorts first; ``verify`` reports it)."""
    start = line.find(_AT)
    return line[start + len(_AT) : start + len(_AT) + _STAMP] if start >= 0 else b""


def _line_times(data: bytes) -> Iterator[str]:
    """``line_time`` of every line of a history that has a well-formed one, found by scanning
    ``data`` once instead of splitting it into lines."""
    start = data.find(_AT)
    while start >= 0:
        stamp = data[start + len(_AT) : start + len(_AT) + _STAMP].decode("ascii", "replace")
        if TIMESTAMP_RE.fullmatch(stamp):
            yield stamp
        end = data.find(b"\n", start)
        start = data.find(_AT, end) if end >= 0 else -1


def newest_time(tree: TreeView, paths: Iterable[str] | None = None) -> str | None:
    """The newest event time of every log in ``tree`` (or of the logs at ``paths``): what a
    writer must not date its events much before (``lifecycles.timeline``)."""
    logs = paths if paths is not None else (f"{folder}/{HISTORY}" for _kind, folder in scope_folders(tree))
    return max((t for path in logs for t in _line_times(tree.read(path) or b"")), default=None)


def last_time(tree: TreeView, paths: Iterable[str]) -> str | None:
    """The newest time of the last events of the logs at ``paths``: their newest events, since a
    log's events are dated in order (``EVENT_TIME_MONOTONIC``). What a writer reads of the logs
    that changed since a commit it knows the newest time of (ADR 0033)."""
    lasts = (line for path in paths for line in last_lines(tree.read(path) or b""))
    stamps = (line_time(line).decode("ascii", "replace") for line in lasts)
    return max((s for s in stamps if TIMESTAMP_RE.fullmatch(s)), default=None)
