"""Hypothesis: the fast paths of ``canonical`` give exactly the bytes (and the refusals) of the
reference implementations on any JSON-like value: nested containers, every kind of string
(controls, quotes, separators U+2028/9, astral characters, lone surrogates), integers on both
sides of ±2^53-1, floats and non-ASCII keys.

- ``canonical`` (standard-library compact JSON where it equals JCS) against ``rfc8785.dumps``;
- ``render`` (a generator-free walk) against ``json.dumps(indent=2, sort_keys=True)``;
- ``loads_strict``'s lone-surrogate check, skipped when no escape can make one."""

from __future__ import annotations

import enum
import json
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from gitdocket.core.canonical import SAFE_INT, _plain, canonical, loads_strict, render
from gitdocket.errors import InputError

TRICKY = [chr(c) for c in range(0x20)] + [
    '"',
    "\\",
    "/",
    "\x7f",
    "\x80",
    "é",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ue000",
    "\uffff",
    "€",
    "\U0001f600",
    "\U0010ffff",
    "\ud800",
    "\udfff",
    "a",
    "Z",
    "0",
    " ",
]
ascii_text = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=12)
any_text = st.text(alphabet=st.one_of(st.sampled_from(TRICKY), st.characters()), max_size=12)
ascii_keys = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)
safe_ints = st.integers(min_value=-SAFE_INT, max_value=SAFE_INT)
edge_ints = st.sampled_from([0, -1, SAFE_INT, -SAFE_INT, SAFE_INT + 1, -SAFE_INT - 1, 2**64])
floats = st.floats(allow_nan=True, allow_infinity=True)


def _json(scalars: st.SearchStrategy[Any], keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.lists(inner, max_size=4).map(tuple),
            st.dictionaries(keys, inner, max_size=4),
        ),
        max_leaves=20,
    )


plain_values = _json(st.one_of(st.none(), st.booleans(), safe_ints, any_text), ascii_keys)
"""Values the fast path takes (only a lone surrogate in a string sends it back)."""
any_values = _json(
    st.one_of(st.none(), st.booleans(), safe_ints, edge_ints, st.integers(), floats, any_text),
    st.one_of(ascii_keys, any_text),
)


def reference(value: Any) -> bytes:
    """``canonical`` as it was before the fast path: ``rfc8785`` alone."""
    try:
        return bytes(rfc8785.dumps(value))
    except rfc8785.CanonicalizationError as exc:
        raise InputError(f"value has no canonical JSON form: {exc}", "") from exc


def reference_render(value: Any) -> bytes:
    """``render`` as it was: the standard library's indented encoder."""
    text = json.dumps(value, sort_keys=True, indent=2, separators=(",", ": "), ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def outcome(function: Any, value: Any) -> tuple[str, Any]:
    try:
        return "bytes", function(value)
    except Exception as exc:  # noqa: BLE001 - the kind of refusal is what is compared
        return "raises", type(exc)


@settings(max_examples=600)
@given(plain_values)
def test_fast_path_bytes_equal_rfc8785(value: Any) -> None:
    assert _plain(value)
    assert outcome(canonical, value) == outcome(reference, value)


@settings(max_examples=600)
@given(any_values)
def test_any_value_same_bytes_or_same_refusal(value: Any) -> None:
    assert outcome(canonical, value) == outcome(reference, value)


ORDER_KEYS = ["a", "z", "é", "\ue000", "\uffff", "\U0001f600", "\U0010ffff", "\ud800"]
"""Code point order and UTF-16 order disagree between U+E000..U+FFFF and astral characters."""


@given(st.dictionaries(st.one_of(st.sampled_from(ORDER_KEYS), any_text), safe_ints, min_size=2, max_size=6))
def test_non_ascii_keys_sort_by_utf16_code_units(value: dict[str, int]) -> None:
    assert outcome(canonical, value) == outcome(reference, value)


class Level(enum.IntEnum):
    HIGH = 1


class Name(str):
    def __lt__(self, other: object) -> bool:  # a subclass may sort any way it likes
        return not str.__lt__(self, str(other))


def _cycle() -> list[Any]:
    looped: list[Any] = []
    looped.append(looped)
    return looped


def test_fast_path_declines_what_it_cannot_print_identically() -> None:
    assert _plain({"a": [1, "x", None, True, (2, 3)], "b": {"c": -SAFE_INT}})
    declined = [
        1.0,
        {"n": [0.5]},
        SAFE_INT + 1,
        {"é": 1},
        {1: "int key"},
        Level.HIGH,
        Name("b"),
        {Name("a"): 1},
        _cycle(),
    ]
    for value in declined:
        assert not _plain(value), value
    assert canonical({Name("b"): 1, Name("a"): 2}) == b'{"a":2,"b":1}'
    assert canonical([1.5, {"é": 1, "e": 2}]) == '[1.5,{"e":2,"é":1}]'.encode()


ESCAPES = [
    "\\ud800",
    "\\uDBFF",
    "\\udc00",
    "\\uDFFF",
    "\\ud83d\\ude00",
    "\\u00e9",
    "\\\\",
    "\\\\ud800",
    "\\n",
    "a",
    "é",
    "😀",
]
json_texts = st.lists(st.sampled_from(ESCAPES), max_size=6).map(lambda parts: '["' + "".join(parts) + '"]')


@given(json_texts)
def test_loads_strict_skips_the_surrogate_check_only_when_no_escape_can_make_one(text: str) -> None:
    """Text input always runs the full check; bytes input runs it only when an escape could
    decode to a surrogate. Both must refuse and accept alike."""
    assert outcome(lambda t: loads_strict(t, "x.json"), text.encode()) == outcome(
        lambda t: loads_strict(t, "x.json"), text
    )


@settings(max_examples=400)
@given(st.one_of(plain_values, any_values))
def test_render_same_bytes_or_same_refusal(value: Any) -> None:
    assert outcome(render, value) == outcome(reference_render, value)


def test_render_leaves_unusual_values_to_json() -> None:
    """Floats, subclasses, non-string keys and cycles take ``json.dumps`` itself."""
    for value in [
        {"f": 1.5, "n": float("nan")},
        {2: "a", 1: "b"},
        {Name("b"): 1, Name("a"): 2},
        [Level.HIGH],
        {"é": {"x": ()}},
    ]:
        assert render(value) == reference_render(value), value
    assert outcome(render, {1: "a", None: "b"}) == ("raises", TypeError)
    assert outcome(render, _cycle()) == outcome(reference_render, _cycle())
    assert outcome(render, _cycle()) == ("raises", ValueError)
