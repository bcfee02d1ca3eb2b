"""A failing teeth test turns its guarantee red: a real pytest run writes a JUnit report, and the
site built with it shows the rule the failing test names as failing (and the others as they are)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.site_support import build_registry
from tests.support import ROOT, run_cli

TEETH = """
import pytest

from gitdocket.errors import InvariantError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.version import LIFECYCLE, VersionState

TREE = "1" * 40


@pytest.mark.parametrize(
    ("rule", "phase"),
    [
        pytest.param("FROZEN_VERSION_IMMUTABLE", "frozen", id="FROZEN_VERSION_IMMUTABLE-frozen"),
        # The teeth pulled: a draft may be revised, so this "refusal" never comes and the test fails.
        pytest.param("FROZEN_VERSION_IMMUTABLE", "draft", id="FROZEN_VERSION_IMMUTABLE-draft"),
        pytest.param("RETIREMENT_BLOCKS_FUTURE_PACKAGING", "retired", id="RETIREMENT_BLOCKS_FUTURE_PACKAGING"),
    ],
)
def test_teeth(rule, phase):
    state = VersionState(phase=phase, archetype="a", version="1.0.0", draft_revision=1, frozen_revision=1)
    command, data = ("ReviseDraft", {"method_tree": TREE}) if rule.startswith("FROZEN") else (
        "RecordPackageReference", {"package": "registry/packages/a/1.0.0"})
    with pytest.raises(InvariantError) as caught:
        LIFECYCLE.decide(state, command, data)
    assert caught.value.invariant == rule
"""


def _row(page: str, rule: str) -> str:
    return re.search(rf'<span id="{rule.lower().replace("_", "-")}"></span>.*?</tr>', page, re.S).group(0)  # type: ignore[union-attr]


def test_a_failing_teeth_test_turns_its_guarantee_red(tmp_path: Path) -> None:
    (tmp_path / "teeth").mkdir()
    (tmp_path / "teeth" / "test_teeth.py").write_text(TEETH)
    report = tmp_path / "junit.xml"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "cli")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", f"--junitxml={report}",
         "test_teeth.py"],
        cwd=tmp_path / "teeth", env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 1 and "1 failed, 2 passed" in run.stdout, run.stdout + run.stderr
    registry = build_registry(tmp_path / "reg")
    done = run_cli("site", "build", "--repo", registry, "--out", tmp_path / "site", "--evidence", report)
    assert done.code == 0, done.err
    page = (tmp_path / "site" / "guarantees.html").read_text()
    frozen = _row(page, "FROZEN_VERSION_IMMUTABLE")
    assert 'data-state="tested:failing"' in frozen and "docket-badge--fail" in frozen
    assert 'data-state="held:held"' in frozen  # the registry itself still holds it
    assert 'data-state="tested:tested"' in _row(page, "RETIREMENT_BLOCKS_FUTURE_PACKAGING")
    assert 'data-state="tested:untested"' in _row(page, "POINTER_CHAIN")
    failing = html.unescape(page.split('id="failing-tests"', 1)[1])
    assert "test_teeth[FROZEN_VERSION_IMMUTABLE-draft]" in failing and "DID NOT RAISE" in failing
    lifecycle = (tmp_path / "site" / "lifecycles" / "version.html").read_text()
    assert 'data-state="tested:failing"' in lifecycle


@pytest.mark.parametrize("flag", [pytest.param((), id="no-evidence")])
def test_without_evidence_every_rule_says_so(tmp_path: Path, flag: tuple[str, ...]) -> None:
    registry = build_registry(tmp_path / "reg")
    done = run_cli("site", "build", "--repo", registry, "--out", tmp_path / "site", *flag)
    assert done.code == 0, done.err
    page = (tmp_path / "site" / "guarantees.html").read_text()
    assert page.count('data-state="tested:no-evidence"') >= 60
    assert 'data-state="tested:failing"' not in page
