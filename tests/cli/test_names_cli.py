"""Hypothesis over the CLI (issue 9, item 7): names of archetypes, projects and files in a
method, drawn from all of Unicode, go through the real ``gitdocket`` entry point. Each is accepted
in its one canonical form, or refused with one ``error:`` line and exit 2, the repository left
exactly as it was; and nothing a person wrote reaches the terminal unescaped."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gitdocket.core.limits import casefold_collision, path_problem
from gitdocket.core.scopes import check_name
from gitdocket.errors import InputError
from tests.support import EXAMPLES, Registry

SETTINGS = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ODD = st.sampled_from(["\u202e", "\u200b", "\u0301", "\u0430", "\u00a0", "\x1b", "CON", ".", " ", "?", "A", "é", "分"])
NAMES = st.lists(ODD | st.text(min_size=1, max_size=3), min_size=1, max_size=4).map("".join)


SEEN: set[str] = set()
"""Archetype names created so far (a fixture's registry lives through every example)."""


def _folder(tmp: Path, name: str) -> Path:
    target = tmp / "src"
    shutil.copytree(EXAMPLES / "support-triage", target)
    doc = target / "archetype.yaml"
    doc.write_text(doc.read_text().replace("name: support-triage", f"name: {json.dumps(name)}"))
    return target


def _assert_refused_cleanly(reg: Registry, before: dict[str, str], err: str, code: int) -> None:
    assert code == 2, err
    lines = err.splitlines()
    assert lines[0].startswith("error: ") and len(lines) <= 2, err
    assert all(c.isprintable() for line in lines for c in line), err  # escaped, whatever was typed
    assert reg.refs() == before


@SETTINGS
@given(name=NAMES)
def test_an_archetype_name_is_canonical_or_refused(registry: Registry, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        before = registry.refs()
        result = registry.run("archetype", "new", name, "--from", _folder(Path(tmp), name))
        try:
            check_name(name, "archetype name")
        except InputError:
            _assert_refused_cleanly(registry, before, result.err, result.code)
            return
        assert result.code == 0 or (name in SEEN and "(ARCHETYPE_UNIQUE)" in result.err), result.err
        SEEN.add(name)


@SETTINGS
@given(project=NAMES)
def test_a_project_name_is_canonical_or_refused(registry: Registry, project: str) -> None:
    before = registry.refs()
    result = registry.run("placement", "request", "support-triage", "1.0.0", "--project", project)
    try:
        check_name(project, "project name")
    except InputError:
        _assert_refused_cleanly(registry, before, result.err, result.code)
        return
    assert result.code != 0  # nothing is published here: refused for that reason, not the name
    assert "project name" not in result.err


@SETTINGS
@given(names=st.lists(NAMES, min_size=1, max_size=3, unique=True))
@example(names=["\t"])  # a file named by a tab: the message shows it escaped, on one line
@example(names=["a\nb"])
def test_files_in_a_method_have_one_canonical_name(registry: Registry, names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archetype = f"files-{len(SEEN)}"
        SEEN.add(archetype)
        folder = _folder(Path(tmp), archetype)
        for name in names:
            if "/" in name or "\x00" in name or name in (".", ".."):
                continue  # not a name any file system stores
            try:
                (folder / "method" / "skills" / name).write_bytes(b"a skill\n")
            except OSError:
                continue
        before = registry.refs()
        result = registry.run("archetype", "new", archetype, "--from", folder)
        files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
        acceptable = all(path_problem(p) is None for p in files) and casefold_collision(files) is None
        if acceptable:
            assert result.code == 0, result.err
        else:
            _assert_refused_cleanly(registry, before, result.err, result.code)


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param("red \x1b[31mALERT\x1b[0m", id="ansi"),
        pytest.param("looks fine \u202eTXT.exe", id="bidi"),
        pytest.param("zero\u200bwidth", id="zero-width"),
    ],
)
def test_what_a_person_wrote_is_printed_safely(registry: Registry, reason: str) -> None:
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    registry.ok("version", "retire", "support-triage", "1.0.0", "--reason", reason)
    for fmt in ("text", "json"):
        out = registry.ok("version", "show", "support-triage", "1.0.0", "--format", fmt).out
        assert all(c.isprintable() or c in "\n" for c in out), out
        if fmt == "json":
            assert json.loads(out)["retired_reason"] == reason  # still the same value, escaped
