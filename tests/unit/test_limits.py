"""Limits on every input (issue 9, item 7; ``core.limits``, ``docs/limits.md``): bounds on every
parser, one canonical form per name, safe printing. Hypothesis over the parsers and the name
rules: whatever the input, a parser returns a value within its bounds or refuses with gitdocket's
own error (never another exception), and an accepted name is canonical."""

from __future__ import annotations

import contextlib
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitdocket.adapters.files import load_yaml
from gitdocket.core.canonical import loads_strict
from gitdocket.core.limits import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_LOG_LINE_BYTES,
    casefold_collision,
    is_lfs_pointer,
    path_problem,
    printable,
    reserved,
    script_of,
)
from gitdocket.core.log import parse_history, parse_line
from gitdocket.core.scopes import check_name, check_version
from gitdocket.errors import DocketError, InputError, StateError

# -- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        pytest.param("skills/classify.md", None, id="plain"),
        pytest.param("skills/klassifizieren-ä.md", None, id="latin-with-umlaut"),
        pytest.param("skills/分類.md", None, id="han"),
        pytest.param("skills/ぶんるいclassify.md", None, id="japanese-with-latin"),
        pytest.param("skills/\u202eevil.md", "invisible or control character U+202E", id="bidi-override"),
        pytest.param("skills/zero\u200bwidth.md", "invisible or control character U+200B", id="zero-width"),
        pytest.param("skills/tab\there.md", "invisible or control character U+0009", id="control"),
        pytest.param("skills/no\u00a0break.md", "the space character U+00A0", id="no-break-space"),
        pytest.param("skills/cafe\u0301.md", "not in Unicode normal form C", id="not-nfc"),
        pytest.param("skills/payp\u0430l.md", "letters of several scripts (CYRILLIC, LATIN)", id="mixed-scripts"),
        pytest.param("skills/CON.md", "a device name Windows reserves", id="reserved-con"),
        pytest.param("skills/lpt1", "a device name Windows reserves", id="reserved-lpt1"),
        pytest.param("skills/nul.tar.gz", "a device name Windows reserves", id="reserved-with-extension"),
        pytest.param("skills/what?.md", "the character '?'", id="windows-forbidden"),
        pytest.param("skills/a\\b.md", "the character '\\\\'", id="backslash"),
        pytest.param("skills/note.", "ends with a dot", id="trailing-dot"),
        pytest.param("skills/note ", "ends with a dot or a space", id="trailing-space"),
        pytest.param("skills/../x", "an empty, '.' or '..' part", id="dotdot"),
        pytest.param("a" * 256, "longer than 255 bytes", id="long-component"),
        pytest.param("/".join(["d"] * 65), "deeper than 64 folders", id="deep"),
    ],
)
def test_path_rules(path: str, problem: str | None) -> None:
    found = path_problem(path)
    assert found == problem if problem is None else (found is not None and problem in found), found


def test_case_only_collisions_within_a_folder() -> None:
    assert casefold_collision(["skills/a.md", "skills/A.md"]) == ("skills/A.md", "skills/a.md")
    assert casefold_collision(["Skills/a.md", "skills/b.md"]) == ("Skills", "skills")
    assert casefold_collision(["skills/a.md", "tools/A.md"]) is None
    assert casefold_collision(["x/stra\u00dfe", "x/STRASSE"]) is not None  # casefold, not lower


@pytest.mark.parametrize("name", ["con", "nul", "com1", "lpt9", "aux"])
def test_reserved_names_are_refused_everywhere_a_name_names_a_folder(name: str) -> None:
    assert reserved(name) and reserved(name.upper() + ".txt")
    with pytest.raises(InputError, match="a device name Windows reserves"):
        check_name(name, "project name")


def test_versions_have_one_case() -> None:
    assert check_version("1.0.0-rc.1") == "1.0.0-rc.1"
    with pytest.raises(InputError, match="a pre-release in capitals"):
        check_version("1.0.0-RC.1")


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_an_accepted_path_is_canonical(path: str) -> None:
    """Hypothesis: whatever ``path_problem`` accepts is NFC, holds nothing invisible, no forbidden
    character, no reserved or dotted-out part, and one script per part."""
    if path_problem(path) is not None:
        return
    assert unicodedata.normalize("NFC", path) == path
    for part in path.split("/"):
        assert part not in ("", ".", "..") and not reserved(part) and part[-1] not in ". "
        assert all(unicodedata.category(c)[0] not in "CZ" or c == " " for c in part)
        assert not set('<>:"\\|?*') & set(part)
        scripts = {s for s in map(script_of, part) if s}
        assert len(scripts) <= 1 or scripts <= {"LATIN", "HAN", "HIRAGANA", "KATAKANA", "BOPOMOFO", "HANGUL"}


@settings(max_examples=500)
@given(st.text(max_size=70))
def test_a_name_is_accepted_only_in_its_canonical_form(value: str) -> None:
    try:
        assert check_name(value) == value
    except InputError:
        return
    assert value == value.lower() and value.isascii() and not reserved(value) and 1 <= len(value) <= 63


# -- printing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("plain text", "plain text", id="plain"),
        pytest.param("a\u202eb", "a\\u202eb", id="bidi-override"),
        pytest.param("a\x1b[31mred", "a\\x1b[31mred", id="ansi-escape"),
        pytest.param("zero\u200bwidth", "zero\\u200bwidth", id="zero-width"),
        pytest.param("line\u2028sep", "line\\u2028sep", id="line-separator"),
        pytest.param("keeps\nnewline\tand tab, café", "keeps\nnewline\tand tab, café", id="kept"),
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


@given(st.text())
def test_printable_leaves_nothing_a_terminal_obeys(text: str) -> None:
    out = printable(text)
    assert all(c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp", "Cs") for c in out)


# -- parsers ---------------------------------------------------------------------------------------


def test_json_is_bounded_in_depth_size_and_values() -> None:
    deep = "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2)
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH} levels"):
        loads_strict(deep, "deep.json")
    assert loads_strict("[" * MAX_DEPTH + "]" * MAX_DEPTH, "ok.json") is not None
    with pytest.raises(InputError, match="larger than 64 MiB"):
        loads_strict(b" " * (MAX_DOCUMENT_BYTES + 1), "big.json")
    with pytest.raises(InputError, match="over 1000000 values"):
        loads_strict("[" + ",".join(["0"] * 1_000_001) + "]", "many.json")


def test_yaml_is_bounded_in_depth_and_size() -> None:
    nested = "".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH + 2)) + "  " * (MAX_DEPTH + 2) + "x: 1\n"
    with pytest.raises(InputError, match="nested more than 64 levels deep"):
        load_yaml(nested.encode(), "deep.yaml")
    with pytest.raises(InputError, match="larger than 64 MiB"):
        load_yaml(b"#" * (MAX_DOCUMENT_BYTES + 1), "big.yaml")


def test_a_history_line_is_bounded() -> None:
    with pytest.raises(StateError, match="longer than 8 MiB"):
        parse_line(b"{" + b" " * MAX_LOG_LINE_BYTES + b"}", "x/history.jsonl:1")


@settings(max_examples=300)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_no_bytes_make_a_parser_raise_anything_but_its_own_error(data: bytes) -> None:
    for parse in (
        lambda: loads_strict(data, "x.json"),
        lambda: load_yaml(data, "x.yaml"),
        lambda: parse_history(data, "x/history.jsonl"),
    ):
        with contextlib.suppress(DocketError):
            parse()


@settings(max_examples=100)
@given(st.recursive(st.none() | st.integers(-5, 5), lambda inner: st.lists(inner, max_size=2), max_leaves=200))
def test_json_nesting_is_accepted_exactly_up_to_the_bound(value: object) -> None:
    import json

    text = json.dumps(value)
    depth = _depth(value)
    try:
        assert loads_strict(text, "v.json") == value
        assert depth <= MAX_DEPTH
    except InputError:
        assert depth > MAX_DEPTH


def _depth(value: object) -> int:
    return 1 + max((_depth(v) for v in value), default=0) if isinstance(value, list) else 0


def test_lfs_pointers_are_recognised() -> None:
    pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 12\n"
    assert is_lfs_pointer(pointer) and not is_lfs_pointer(b"# a note about version https://git-lfs\n")


def test_a_yaml_load_that_failed_leaves_nothing_to_the_next() -> None:
    """The loader is used again (ADR 0038) only after a load that succeeded: an anchor of a
    document given up on half-way is not known to the next one."""
    with pytest.raises(InputError, match="invalid YAML"):
        load_yaml(b"a: &x [1, 2]\nb: [\n", "broken.yaml")
    with pytest.raises(InputError, match="invalid YAML"):
        load_yaml(b"c: *x\n", "alias.yaml")
    assert load_yaml(b"a: &x [1, 2]\nb: *x\n", "ok.yaml") == {"a": [1, 2], "b": [1, 2]}
    with pytest.raises(InputError, match="invalid YAML"):
        load_yaml(b"c: *x\n", "alias.yaml")
    assert [load_yaml(f"n: {n}\n".encode(), "n.yaml") for n in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]
