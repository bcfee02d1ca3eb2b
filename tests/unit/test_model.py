"""The record base's helpers: the first validation error in one line, and validation that
raises the user's error with a hint."""

from __future__ import annotations

import pytest
from pydantic import ValidationError, model_validator

from gitdocket.core.model import OptionalReasonData, ReasonData, Record, dotted, first_error, validate
from gitdocket.errors import InputError


class Pair(Record):
    low: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> Pair:
        if self.low > self.high:
            raise ValueError("low is above high")
        return self


def _error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Pair.model_validate(data)
    return caught.value


@pytest.mark.parametrize(
    ("data", "whole", "expected"),
    [
        pytest.param({"low": "x", "high": 1}, "pair", "low: Input should be a valid integer", id="field"),
        pytest.param({"low": 2, "high": 1}, "pair", "pair: Value error, low is above high", id="whole-value"),
        pytest.param([], "document", "document: Input should be a valid dictionary", id="not-an-object"),
    ],
)
def test_first_error_names_the_field_or_the_whole(data: object, whole: str, expected: str) -> None:
    assert first_error(_error(data), whole).startswith(expected)


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        pytest.param({"low": 1, "high": 2, "mid": 1}, "remove the field", id="unknown-field"),
        pytest.param({"low": 1}, "fix the value", id="missing-field"),
    ],
)
def test_validate_raises_input_error_naming_the_file(data: object, hint: str) -> None:
    with pytest.raises(InputError) as caught:
        validate(Pair, data, "pair.yaml")
    assert caught.value.message.startswith("pair.yaml: ")
    assert caught.value.hint == hint


def test_validate_returns_the_model() -> None:
    assert validate(Pair, {"low": 1, "high": 2}, "pair.yaml") == Pair(low=1, high=2)


def test_a_reason_is_required_unless_optional() -> None:
    with pytest.raises(ValidationError):
        ReasonData(reason="")
    assert OptionalReasonData().reason == ""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("status", "passed", id="top-level"),
        pytest.param("provenance.frozen_by", "alice", id="nested"),
        pytest.param("provenance.missing", None, id="missing-leaf"),
        pytest.param("status.deeper", None, id="through-a-non-object"),
        pytest.param("absent.deeper", None, id="through-a-missing-step"),
    ],
)
def test_dotted_names_a_field_of_nested_objects(path: str, expected: object) -> None:
    assert dotted({"status": "passed", "provenance": {"frozen_by": "alice"}}, path) == expected
