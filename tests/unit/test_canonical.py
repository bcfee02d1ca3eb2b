"""Canonical JSON (RFC 8785 vectors), the deterministic render, and strict parsing."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from gitdocket.core.canonical import canonical, loads_strict, render, sha256_hex
from gitdocket.errors import InputError

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), [pytest.param(b, t, id=b) for b, t in APPENDIX_B])
def test_rfc8785_appendix_b_numbers(bits: str, text: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical(value) == text.encode()


def test_rfc8785_section_3_2_2_example() -> None:
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical(loads_strict(source, "example.json")) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_sorts_by_utf16_code_units() -> None:
    source = (
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return",'
        ' "\\ufb33": "Hebrew Letter Dalet With Dagesh",'
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",'
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}'
    )
    out = canonical(loads_strict(source, "sort.json")).decode("utf-8")
    values = [part.split('":"')[1] for part in out.strip("{}").split('","')]
    assert [v.rstrip('"') for v in values] == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="infinity"),
        pytest.param(2**53, id="int-beyond-2-53"),
        pytest.param("\ud800", id="lone-surrogate"),
    ],
)
def test_canonical_refuses_values_without_a_canonical_form(value: Any) -> None:
    with pytest.raises(InputError, match="no canonical JSON form"):
        canonical({"v": value})


def test_render_is_sorted_indented_and_newline_terminated() -> None:
    assert (
        render({"b": [1, {"d": "é", "c": None}], "a": True})
        == ('{\n  "a": true,\n  "b": [\n    1,\n    {\n      "c": null,\n      "d": "é"\n    }\n  ]\n}\n').encode()
    )


def test_sha256_hex() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param('{"a": 1, "a": 2}', "duplicate key 'a'", id="duplicate-key"),
        pytest.param('{"x": {"a": 1, "a": 1}}', "duplicate key 'a'", id="nested-duplicate-key"),
        pytest.param('{"a": NaN}', "non-finite number NaN", id="nan"),
        pytest.param("[Infinity]", "non-finite number Infinity", id="infinity"),
        pytest.param("[-Infinity]", "non-finite number -Infinity", id="minus-infinity"),
        pytest.param("[1e400]", "not finite", id="overflow-to-infinity"),
        pytest.param("[9007199254740992]", "outside", id="int-beyond-2-53"),
        pytest.param('["\\udc00"]', "lone surrogate", id="lone-surrogate"),
        pytest.param(b'["\\ud800"]', "lone surrogate", id="lone-surrogate-bytes"),
        pytest.param(b'{"k": "x\\uDFFFy"}', "lone surrogate", id="lone-surrogate-upper-hex"),
        pytest.param('["\ud800"]', "lone surrogate", id="lone-surrogate-in-text"),
        pytest.param('{"a": 1,}', "invalid JSON", id="trailing-comma"),
        pytest.param("", "invalid JSON", id="empty"),
        pytest.param(b'{"a": "\xff"}', "not UTF-8", id="not-utf8"),
    ],
)
def test_loads_strict_refuses(source: str | bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        loads_strict(source, "registry/x.json")
    assert info.value.message.startswith("registry/x.json: ")
    assert info.value.hint


def test_loads_strict_accepts_what_canonical_can_write() -> None:
    value = loads_strict('{"big": 9007199254740991, "pair": "\\ud83d\\ude00", "f": 1e300}', "ok.json")
    assert canonical(value) == '{"big":9007199254740991,"f":1e+300,"pair":"😀"}'.encode()
