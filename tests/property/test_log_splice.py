"""Hypothesis: an event's line and its signing payload, spliced from its cached unsigned form
(``Event.unsigned_line``), are byte for byte the RFC 8785 canonical JSON of the whole event and
of ``{"scope": path, "event": unsigned}``: what ``core.log`` defined them as before the splice.
And a copy of an event with other fields never signs or prints as the original."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitdocket.core.canonical import canonical
from gitdocket.core.log import Event, event_line, parse_line, signing_payload
from gitdocket.errors import InputError
from tests.property.test_log_parse_fast_path import events, keys, values

paths = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)
floats = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300)
@given(events, paths)
def test_spliced_line_and_payload_are_the_canonical_json(event: Event, path: str) -> None:
    assert event_line(event) == canonical(event.model_dump(mode="json"))
    assert signing_payload(path, event) == canonical({"scope": path, "event": event.unsigned()})


@settings(max_examples=100)
@given(events, st.dictionaries(keys, floats, min_size=1, max_size=3))
def test_floats_take_the_rfc8785_path_inside_the_splice(event: Event, data: dict[str, float]) -> None:
    with_floats = event.model_copy(update={"data": data})
    assert event_line(with_floats) == canonical(with_floats.model_dump(mode="json"))
    assert signing_payload("p", with_floats) == canonical({"scope": "p", "event": with_floats.unsigned()})


@settings(max_examples=200)
@given(events, st.dictionaries(keys, values, max_size=3), st.integers(1, 1000))
def test_a_copy_is_spliced_from_its_own_fields(event: Event, data: dict[str, object], seq: int) -> None:
    parsed = parse_line(event_line(event), "registry/x/history.jsonl:1")
    original = signing_payload("p", parsed)  # fills the parsed event's cached unsigned form
    copy = parsed.model_copy(update={"data": data, "seq": seq})
    assert signing_payload("p", copy) == canonical({"scope": "p", "event": copy.unsigned()})
    assert event_line(copy) == canonical(copy.model_dump(mode="json"))
    assert (signing_payload("p", copy) == original) == (copy.unsigned() == parsed.unsigned())


class Colour(enum.StrEnum):
    RED = "red"


other_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),  # beyond ±2^53-1 too: rfc8785 refuses those
        floats,
        st.text(),
        st.just(Colour.RED),
        st.just(datetime(2026, 1, 1, tzinfo=UTC)),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple), st.dictionaries(keys, inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300)
@given(events, st.dictionaries(keys, other_values, max_size=3))
def test_the_unsigned_form_is_the_dumps_whatever_the_data_holds(event: Event, data: dict[str, object]) -> None:
    """``unsigned_line`` encodes plain fields as they are and dumps anything else: either way it
    is (or refuses as) ``canonical(unsigned())``: tuples, big integers, floats, enums, times."""
    copy = event.model_copy(update={"data": data})
    try:
        expected: bytes | type[InputError] = canonical(copy.unsigned())
    except InputError:
        expected = InputError
    if expected is InputError:
        with pytest.raises(InputError):
            _ = copy.unsigned_line
    else:
        assert copy.unsigned_line == expected
