"""Hypothesis: ``parse_line``'s fast path (pydantic's JSON parser, then the canonical check)
accepts exactly the lines the strict path accepts, as equal events of the same types, and leaves
every other line to the strict path, whose error it reports unchanged. Lines are canonical event
lines, as gitdocket writes them, and those lines edited every way a hand or an attacker might."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gitdocket.core.log import Event, SigstoreSignature, SshSignature, event_line, parse_line, parse_line_strictly
from gitdocket.errors import StateError

SAFE = 2**53 - 1
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(['"', "\\", "\n", "\x00", "é", "😀", "\u2028"]), st.characters(exclude_categories=("Cs",))
    ),
    max_size=8,
)
keys = st.text(alphabet="abcdé_", min_size=1, max_size=5)
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-SAFE, SAFE), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=8,
)
signatures = st.lists(
    st.one_of(
        st.builds(SshSignature, kind=st.just("sshsig"), principal=keys, sig=texts),
        st.builds(
            SigstoreSignature,
            kind=st.just("sigstore"),
            principal=keys,
            bundle=st.dictionaries(keys, values, max_size=2),
        ),
    ),
    max_size=2,
).map(tuple)
events = st.builds(
    Event,
    seq=st.integers(1, 1000),
    prev=st.one_of(st.none(), st.just("sha256:" + "ab" * 32)),
    at=st.just("2026-01-01T00:00:00Z"),
    type=st.sampled_from(["draft_created", "version_frozen", "x"]),
    actor=keys,
    data=st.dictionaries(keys, values, max_size=4),
    policy_version=st.integers(0, 5),
    signatures=signatures,
)

EDITS = [
    (b'"seq":', b'"seq": '),  # whitespace
    (b'"seq":', b'"seq":"1",  "seq":'),  # duplicate key
    (b'"actor":', b'"actor":"x","actor":'),
    (b'"policy_version":', b'"policy_version":1.0,"policy_version_":'),
    (b'"seq":1', b'"seq":1.0'),
    (b'"seq":1', b'"seq":true'),
    (b'"seq":', b'"seq":9007199254740993,"x":'),
    (b'"data":{', b'"data":{"f":1.5,'),
    (b'"data":{', b'"data":{"n":NaN,'),
    (b'"data":{', b'"data":{"big":9007199254740992,'),
    (b'"data":{', b'"data":{"s":"\\ud800",'),
    (b'"data":{', b'"data":{"s":"\\u00e9",'),
    (b'"data":{', b'"data":{"s":"\\/",'),
    (b'"data":{', b'"data":{"z":1,"a":2,'),  # keys out of order
    (b'"at":', b'"zz":1,"at":'),  # unknown field
    (b'"prev":', b'"prev_":'),
    (b"}", b"} "),
    (b"{", b"[{"),
]


def outcome(parse: Any, line: bytes) -> tuple[Any, ...]:
    try:
        event = parse(line, "registry/x/history.jsonl:1")
    except StateError as exc:
        return "error", exc.message, exc.hint
    return "ok", event, repr(event.model_dump()), event_line(event)


@settings(max_examples=300)
@given(events)
def test_canonical_lines_parse_the_same_either_way(event: Event) -> None:
    line = event_line(event)
    fast = outcome(parse_line, line)
    assert fast == outcome(parse_line_strictly, line)
    assert fast[0] == "ok"


@settings(max_examples=500)
@given(events, st.sampled_from(EDITS), st.integers(0, 3))
def test_edited_lines_get_the_strict_verdict(event: Event, edit: tuple[bytes, bytes], nth: int) -> None:
    line = event_line(event)
    old, new = edit
    at = -1
    for _ in range(nth + 1):
        found = line.find(old, at + 1)
        at = found if found >= 0 else at
    edited = line[:at] + new + line[at + len(old) :] if at >= 0 else line + new
    assert outcome(parse_line, edited) == outcome(parse_line_strictly, edited)


@settings(max_examples=300)
@given(events, st.integers(0, 10_000), st.binary(min_size=1, max_size=3))
def test_any_byte_edit_gets_the_strict_verdict(event: Event, position: int, junk: bytes) -> None:
    line = event_line(event)
    cut = position % (len(line) + 1)
    for edited in (line[:cut] + junk + line[cut + 1 :], line[:cut] + junk + line[cut:], line[:cut]):
        assert outcome(parse_line, edited) == outcome(parse_line_strictly, edited)
