"""``python bench/run.py --quick``: the benchmark harness runs end to end on a small fixture and
prints its table (no timing assertions: the suite runs on shared, loaded machines)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

EXPECTED_ROWS = [
    "gitdocket verify, 50 archetypes / 500 versions",
    "one write (freeze), 50/500 registry: p50 incl. signing",
    "one write (freeze), 50/500 registry: p50 excl. signing",
    "one write (freeze), empty registry: p50 incl. signing",
    "one write (freeze), empty registry: p50 excl. signing",
    "write cost 50/500 ÷ empty (excl. signing)",
    "signing alone per write (2 events + commit + tag)",
    "promote, 200 past promotions ÷ a new environment (p50 excl. signing)",
    "version freeze, archetype of 100 versions ÷ a new archetype (p50 excl. signing)",
    "hash-chain verification (sha256 of each line + links)",
    "signature verification (canonical payload + SSHSIG Ed25519)",
    "site: verify and read the commit, 50 archetypes / 500 versions / 4 × 100 promotions",
    "site generation before mkdocs (79 pages), 50 archetypes / 500 versions / 4 × 100 promotions",
    "site: mkdocs build --strict (80 HTML pages)",
    "status --at (4 logs cut half-way), 50 archetypes / 500 versions / 4 × 100 promotions (process)",
    "status --at in-process (the query without interpreter start), same registry",
    'python -c "import pygit2, pydantic, click" (the floor)',
    "start-up: gitdocket --help",
    "start-up: gitdocket status",
    "start-up: gitdocket history --env preview",
    "start-up: gitdocket version list",
    "start-up: gitdocket deployments resolve --env preview --export DIR",
    "floor: python -c pass",
    "gitdocket vs GTO",
    "git diff --stat of those 100 commits (baseline)",
    "verify --base, 100 commits on 500 versions",
    "verify --since, 100 commits on 500 versions",
    "gitdocket export, 50 archetypes / 500 versions (12 commits)",
    "gitdocket replay (rebuild, verify, check out), 50 archetypes / 500 versions",
]


def _table(stdout: str) -> dict[str, list[str]]:
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in stdout.splitlines()
        if line.startswith("| ")
    ]
    return {row[0]: row[1:] for row in rows}


def test_bench_quick_prints_every_row(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(tmp_path)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "cli")},
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout
    table = _table(done.stdout)
    assert table["benchmark"] == ["measured", "budget", "verdict"]
    for row in EXPECTED_ROWS:
        assert row in table, f"row {row!r} missing from:\n{done.stdout}"
        measured, _budget, verdict = table[row]
        # "FAIL" would mean verify found something wrong in the generated registry.
        assert measured and verdict in ("ok", "OVER", "info"), table[row]
    # The fixture is cached under --out, keyed by size (and gitdocket's source digest).
    assert len(list(tmp_path.glob("registry-50x500-*/fixture.json"))) == 1
