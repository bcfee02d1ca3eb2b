"""The scope log: canonical lines, strict history parsing, the hash chain, and what a signature
binds (the scope path as well as the event)."""

from __future__ import annotations

import json

import pytest

from gitdocket.core import log as core_log
from gitdocket.core import sshsig
from gitdocket.core.canonical import canonical, loads_strict
from gitdocket.core.log import (
    EVENT_NAMESPACE,
    Event,
    SshSignature,
    append_line,
    appended_files,
    chain_problems,
    event_line,
    head_digest,
    iter_lines,
    line_time,
    newest_time,
    parse_history,
    parse_line,
    read_log,
    render_current,
    resealed,
    segment_paths,
    signing_payload,
)
from gitdocket.core.scopes import scope
from gitdocket.core.tree import MemoryTree
from gitdocket.errors import StateError, TrustError
from tests.support import det_key

SCOPE_A = "registry/versions/support-triage/1.0.0"
SCOPE_B = "registry/versions/support-triage/2.0.0"
PATH = f"{SCOPE_A}/history.jsonl"


def _event(seq: int, prev: str | None, kind: str = "draft_created") -> Event:
    return Event(
        seq=seq,
        prev=prev,
        at="2026-01-01T00:00:00Z",
        type=kind,
        actor="alice",
        data={"method_tree": "a" * 40, "n": seq},
        policy_version=1,
    )


def _signed(event: Event, scope_path: str = SCOPE_A, name: str = "alice") -> Event:
    sig = sshsig.sign(det_key(name), signing_payload(scope_path, event), EVENT_NAMESPACE).decode()
    return event.model_copy(update={"signatures": (SshSignature(kind="sshsig", principal=name, sig=sig),)})


def _history(count: int) -> tuple[list[Event], bytes]:
    events: list[Event] = []
    data = b""
    prev = None
    for seq in range(1, count + 1):
        event = _signed(_event(seq, prev))
        data = append_line(data, event)
        prev = head_digest(event_line(event))
        events.append(event)
    return events, data


def _lines(data: bytes) -> list[bytes]:
    return [line for _, line in iter_lines(data)]


def test_event_line_is_canonical_json_of_the_whole_event() -> None:
    event = _signed(_event(1, None))
    line = event_line(event)
    assert line == canonical(json.loads(line))
    assert b"\n" not in line
    assert parse_line(line, PATH) == event


def test_history_round_trips_and_chains() -> None:
    events, data = _history(3)
    assert data.endswith(b"\n") and data.count(b"\n") == 3
    parsed = parse_history(data, PATH)
    assert parsed == events
    assert chain_problems(parsed, _lines(data)) == []
    assert parsed[1].prev == head_digest(_lines(data)[0])


def test_empty_history_is_an_empty_log() -> None:
    assert parse_history(b"", PATH) == []


def test_iter_lines_yields_a_final_line_without_newline() -> None:
    assert list(iter_lines(b"a\nb")) == [(1, b"a"), (2, b"b")]
    assert list(iter_lines(b"a\nb\n")) == [(1, b"a"), (2, b"b")]


def _reformat(line: bytes) -> bytes:
    return json.dumps(json.loads(line), indent=None).encode()


def _rewrite(line: bytes, **changes: object) -> bytes:
    obj = json.loads(line)
    obj.update(changes)
    return canonical(obj)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(lambda d: d[:-1], r"last line has no newline \(truncated\?\)", id="no-final-newline"),
        pytest.param(lambda d: d[: len(d) * 2 // 3], r"last line has no newline", id="cut-mid-line"),
        pytest.param(
            lambda d: d[: len(d) * 2 // 3] + b"\n",
            r":3: invalid JSON",
            id="cut-mid-line-newline-added",
        ),
        pytest.param(lambda d: d + b"\n", r":4: invalid JSON", id="blank-line"),
        pytest.param(
            lambda d: _reformat(d.split(b"\n")[0]) + b"\n" + d.split(b"\n", 1)[1],
            r":1: line is not in canonical form",
            id="spaces-after-separators",
        ),
        pytest.param(
            lambda d: d.replace(b'"seq":2', b'"seq":2.0'),
            r":2: line is not in canonical form",
            id="float-seq",
        ),
        pytest.param(
            lambda d: d.replace(b'"seq":2', b'"seq":"2"'),
            r":2: line is not in canonical form",
            id="string-seq",
        ),
        pytest.param(
            lambda d: d.replace(b'"actor":"alice",', b"", 1),
            r":1: actor: Field required",
            id="missing-field",
        ),
        pytest.param(
            lambda d: d.replace(b'"at":"2026-01-01T00:00:00Z"', b'"at":"yesterday"', 1),
            r":1: at: String should match pattern",
            id="bad-timestamp",
        ),
        pytest.param(
            lambda d: d.replace(b'"actor":"alice"', b'"actor":"alice","x":1', 1),
            r":1: x: Extra inputs are not permitted",
            id="unknown-field",
        ),
        pytest.param(
            lambda d: d.replace(b'"n":1}', b'"n":1,"n":1}', 1),
            r":1: invalid JSON: duplicate key",
            id="duplicate-key",
        ),
        pytest.param(
            lambda d: b"[]\n" + d,
            r":1: event: Input should be a valid dictionary",
            id="not-an-object",
        ),
    ],
)
def test_parse_history_refuses(mutate: object, message: str) -> None:
    _, data = _history(3)
    bad = mutate(data)  # type: ignore[operator]
    assert bad != data
    with pytest.raises(StateError, match=message) as info:
        parse_history(bad, PATH)
    assert info.value.message.startswith(PATH)
    assert "git" in info.value.hint


def test_non_finite_data_is_a_state_error_not_a_crash() -> None:
    line = event_line(_event(1, None)).replace(b'"n":1', b'"n":1e400')
    with pytest.raises(StateError, match="not finite"):
        parse_line(line, PATH)


def _chain(mutate: object) -> list[tuple[int, str]]:
    events, data = _history(4)
    lines = _lines(data)
    events, lines = mutate(events, lines)  # type: ignore[operator]
    return chain_problems(events, lines)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(lambda e, ln: (e, ln), [], id="intact"),
        pytest.param(
            lambda e, ln: (e[:2] + e[3:], ln[:2] + ln[3:]),
            [
                (3, "seq 4 where 3 was expected"),
                (3, "prev does not match the hash of the previous line"),
            ],
            id="middle-line-removed",
        ),
        pytest.param(
            lambda e, ln: (e[1:], ln[1:]),
            [
                (1, "seq 2 where 1 was expected"),
                (1, "prev does not match the hash of the previous line"),
                (2, "seq 3 where 2 was expected"),
                (3, "seq 4 where 3 was expected"),
            ],
            id="first-line-removed",
        ),
        pytest.param(
            lambda e, ln: ([e[0], e[2], e[1], e[3]], [ln[0], ln[2], ln[1], ln[3]]),
            [
                (2, "seq 3 where 2 was expected"),
                (2, "prev does not match the hash of the previous line"),
                (3, "seq 2 where 3 was expected"),
                (3, "prev does not match the hash of the previous line"),
                (4, "prev does not match the hash of the previous line"),
            ],
            id="lines-swapped",
        ),
        pytest.param(
            lambda e, ln: (
                [*e[:2], e[1].model_copy(update={"seq": 3}), e[3]],
                [*ln[:2], _rewrite(ln[1], seq=3), ln[3]],
            ),
            [
                (3, "prev does not match the hash of the previous line"),
                (4, "prev does not match the hash of the previous line"),
            ],
            id="line-replayed-with-next-seq",
        ),
        pytest.param(
            lambda e, ln: (e, [_rewrite(ln[0], actor="mallory"), *ln[1:]]),
            [(2, "prev does not match the hash of the previous line")],
            id="earlier-line-edited",
        ),
        pytest.param(
            lambda e, ln: ([e[0].model_copy(update={"prev": "sha256:" + "0" * 64}), *e[1:]], ln),
            [(1, "prev does not match the hash of the previous line")],
            id="first-prev-not-null",
        ),
    ],
)
def test_chain_problems(mutate: object, expected: list[tuple[int, str]]) -> None:
    assert _chain(mutate) == expected


def test_signing_payload_binds_the_scope_path() -> None:
    event = _signed(_event(1, None), SCOPE_A)
    entry = event.signatures[0]
    assert isinstance(entry, SshSignature)
    sig = entry.sig.encode()
    key = det_key("alice").public_key()
    sshsig.verify(sig, signing_payload(SCOPE_A, event), EVENT_NAMESPACE, key)
    with pytest.raises(TrustError, match="does not match the signed bytes"):
        sshsig.verify(sig, signing_payload(SCOPE_B, event), EVENT_NAMESPACE, key)


def test_signing_payload_covers_everything_but_the_signatures() -> None:
    event = _event(1, None)
    payload = signing_payload(SCOPE_A, event)
    assert payload == signing_payload(SCOPE_A, _signed(event))
    assert loads_strict(payload, "payload") == {"scope": SCOPE_A, "event": event.unsigned()}
    changes: tuple[dict[str, object], ...] = (
        {"seq": 2},
        {"actor": "bob"},
        {"data": {}},
        {"policy_version": 2},
        {"type": "x"},
        {"at": "2026-01-01T00:00:01Z"},
        {"prev": "sha256:" + "1" * 64},
    )
    for change in changes:
        assert signing_payload(SCOPE_A, event.model_copy(update=change)) != payload, change


def test_render_current_appends_the_log_position() -> None:
    out = render_current(SCOPE_A, {"phase": "draft"}, 3, "sha256:abc")
    assert loads_strict(out, "current.json") == {
        "phase": "draft",
        "log": {"scope": SCOPE_A, "seq": 3, "head": "sha256:abc"},
    }
    assert out.endswith(b"}\n")


def _dated(seq: int, prev: str | None, at: str) -> Event:
    return _signed(_event(seq, prev).model_copy(update={"at": at}))


def test_line_time_reads_the_time_of_a_canonical_line_without_parsing_it() -> None:
    first = _dated(1, None, "2026-01-01T00:00:00Z")
    second = _dated(2, head_digest(event_line(first)), "2026-03-04T05:06:07Z")
    data = append_line(append_line(b"", first), second)
    assert [line_time(line) for line in _lines(data)] == [b"2026-01-01T00:00:00Z", b"2026-03-04T05:06:07Z"]
    assert line_time(b'{"seq":1}') == b""  # no time: sorts first, and verify reports the line


def test_newest_time_is_the_newest_well_formed_time_of_every_log() -> None:
    first = _dated(1, None, "2026-03-04T05:06:07Z")
    second = _dated(2, head_digest(event_line(first)), "2026-02-01T00:00:00Z")  # backdated: verify's finding
    other = _dated(1, None, "2026-01-01T00:00:00Z")
    tree = MemoryTree(
        {
            PATH: append_line(append_line(b"", first), second),
            f"{SCOPE_B}/history.jsonl": append_line(b"", other) + b'{"at":"not a time at all"}\n',
        }
    )
    assert newest_time(tree) == "2026-03-04T05:06:07Z"
    assert newest_time(tree, [f"{SCOPE_B}/history.jsonl"]) == "2026-01-01T00:00:00Z"
    assert newest_time(MemoryTree({})) is None


# -- segments (ADR 0037) -------------------------------------------------------------------------

VERSION = scope("version", "support-triage", "1.0.0")
BUNDLE = scope("bundle", "b1-20260101-000000-00000001")


@pytest.mark.parametrize(
    ("open_segment", "size", "expected"),
    [
        pytest.param(b"", 4, {PATH: b"new\n"}, id="empty-log-never-seals"),
        pytest.param(b"a\nb\n", 8, {PATH: b"a\nb\nnew\n"}, id="fits-exactly"),
        pytest.param(
            b"a\nb\n",
            7,
            {f"{SCOPE_A}/history/000000005.jsonl": b"a\nb\n", PATH: b"new\n"},
            id="past-the-size-seals-named-by-first-seq",
        ),
    ],
)
def test_an_append_seals_the_open_segment_past_the_size(
    open_segment: bytes, size: int, expected: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_log, "SEGMENT_BYTES", size)
    assert appended_files(VERSION, open_segment, b"new\n", 7) == expected


def test_a_bundle_log_is_never_segmented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_log, "SEGMENT_BYTES", 1)
    assert appended_files(BUNDLE, b"a\n", b"b\n", 2) == {BUNDLE.history_path: b"a\nb\n"}


def test_read_log_joins_the_segments_in_name_order_and_skips_what_is_not_one() -> None:
    folder = VERSION.segments_path
    tree = MemoryTree(
        {
            f"{folder}/000000003.jsonl": b"3\n",
            f"{folder}/000000001.jsonl": b"1\n2\n",
            f"{folder}/notes.txt": b"not a segment\n",
            PATH: b"4\n",
        }
    )
    assert read_log(tree, VERSION) == b"1\n2\n3\n4\n"
    assert segment_paths(tree, VERSION) == [f"{folder}/000000001.jsonl", f"{folder}/000000003.jsonl"]
    assert read_log(MemoryTree({}), VERSION) == b""


def test_resealed_names_the_first_sealed_segment_changed_or_gone() -> None:
    folder = VERSION.segments_path
    base = {f"{folder}/000000001.jsonl": b"1\n", f"{folder}/000000002.jsonl": b"2\n", PATH: b"3\n"}
    assert resealed(MemoryTree(base), MemoryTree({**base, PATH: b"3\n4\n"}), VERSION) is None
    grown = {**base, f"{folder}/000000003.jsonl": b"3\n", PATH: b"4\n"}
    assert resealed(MemoryTree(base), MemoryTree(grown), VERSION) is None  # a new seal changes none
    joined = {f"{folder}/000000001.jsonl": b"1\n2\n", PATH: b"3\n"}
    assert resealed(MemoryTree(base), MemoryTree(joined), VERSION) == f"{folder}/000000001.jsonl"
