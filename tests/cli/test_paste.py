"""Output people can paste: terminal tables never cut an id, a version or a hash (gto#489 showed
``v0.0.100`` as ``v0.0.10``), whatever the width; with ``--format json`` errors are JSON too,
with stable codes."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from gitdocket.commands.output import render_table
from tests.support import ROOT, Registry

IDS = [
    "pr-preview-20260101-000000-5532bcfa",
    "v0.0.100",
    "v0.100.0",
    "sha256:039e3910370d53ea7b080171236e286eb0f081299c2fe7f4f1e581c4bac8f085",
    "55627e5e6bb18a62154d5cb2446849a593d01c8b",
    "support-triage",
]


@pytest.mark.parametrize("width", [pytest.param(w, id=f"width-{w}") for w in (40, 60, 80)])
@pytest.mark.parametrize("colour", [pytest.param(True, id="colour"), pytest.param(False, id="plain")])
def test_tables_keep_every_id_whole_at_narrow_widths(width: int, colour: bool) -> None:
    buffer = io.StringIO()
    out = Console(file=buffer, width=width, force_terminal=colour, color_system="truecolor" if colour else None)
    rows = [
        ["prod", IDS[0], "v0.0.100", IDS[3], "promoted after the staging smoke run passed, by the release captain"],
        ["staging", IDS[0], "v0.100.0", IDS[4], ""],
        ["dev", IDS[5], "1.0.0", "", "a note"],
    ]
    render_table(out, "environments", ["environment", "bundle", "version", "digest", "reason"], rows)
    shown = buffer.getvalue()
    plain = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", shown)
    lines = plain.splitlines()
    for value in IDS:
        assert any(value in line for line in lines), f"{value} is cut at width {width}:\n{plain}"
    assert "v0.0.10 " not in plain and "…" not in plain
    assert all(word in plain for word in ("promoted", "captain"))  # text wraps, nothing is dropped


def test_a_table_that_fits_is_as_wide_as_it_needs() -> None:
    buffer = io.StringIO()
    render_table(Console(file=buffer, width=200, color_system=None), "t", ["a", "b"], [["x", "y"]])
    assert max(len(line) for line in buffer.getvalue().splitlines()) < 20


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        pytest.param(("status", "--bogus"), "USAGE", 2, id="unknown-option"),
        pytest.param(("version", "freeze", "Bad Name", "1.0.0"), "BAD_INPUT", 2, id="bad-input"),
        pytest.param(("archetype", "show", "nobody"), "NOT_FOUND", 1, id="not-found"),
        pytest.param(("rollback", "--env", "dev", "--reason", "x"), "INVARIANT", 1, id="refused-by-a-rule"),
        pytest.param(("policy", "expires", "2027-01-01T00:00:00Z"), "TRUST", 1, id="untrusted-key"),
    ],
)
def test_errors_are_json_with_stable_codes(
    registry: Registry, args: tuple[str, ...], code: str, exit_code: int
) -> None:
    registry.add_archetype()
    key = "mallory" if code == "TRUST" else "alice"
    for form in (("--format", "json"), ("--format=json",)):
        result = registry.run(*args, *form, key=key)
        assert result.code == exit_code, result.err
        assert result.out == ""
        [line] = result.err.splitlines()
        error = json.loads(line)
        assert (error["code"], error["exit"]) == (code, exit_code), error
        assert error["error"] and isinstance(error["hint"], str)
        if code == "INVARIANT":
            assert error["invariant"] == "ROLLBACK_REQUIRES_PREVIOUS_RELEASE"
    text = registry.run(*args, key=key)
    assert text.err.startswith("error: ")  # without --format json: the lines people read


def test_a_dry_run_refusal_prints_the_plan_on_stdout_and_the_error_as_json(registry: Registry) -> None:
    result = registry.run("rollback", "--env", "dev", "--reason", "x", "--dry-run", "--format", "json")
    assert result.code == 1
    assert json.loads(result.out)["would_write"] is False
    assert json.loads(result.err)["code"] == "INVARIANT"


def test_the_docs_table_lists_every_error_code_and_only_those() -> None:
    from gitdocket import errors

    text = (ROOT / "docs" / "operations.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \| [12] \|", text, re.M))
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.DocketError)]
    assert documented == {*errors.BOUNDARY_CODES, *(c.code for c in classes)}


def test_the_docs_table_lists_every_drift_code() -> None:
    from gitdocket.ops.doctor import CODES

    text = (ROOT / "docs" / "operations.md").read_text()
    assert set(CODES) == set(re.findall(r"`([A-Z]+_[A-Z_]+)`", text.split("## Drift", 1)[1].split("\n## ", 1)[0]))
