"""Time-travel rows of ``make bench`` (issue 13): ``gitdocket status --at TIME`` on a registry of
100,000 frozen versions (1,000 archetypes; the quick run: the quick fixture) whose four
environments hold 1,000 promotions each (100 with ``quick``), budget < 1 s.

The promotions land in two signed commits a day apart (half of them each); ``--at`` names a time
between the two, so every environment's log is cut after its 500th event and folded: the slow
path, not the untouched log's ``current.json``. The answer is checked (each environment at
sequence ``rounds / 2``) before it is timed, as a whole ``python -m gitdocket`` process (startup
and imports included; the median of three, wall and CPU), then in-process (best of three, next to
``status`` without ``--at``): the query's own cost."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from bench_releases import _promote_many, best_of, gitdocket, scratch_mirror, verified_bundles
from fixtures import FixtureInfo
from processes import gitdocket_argv, timed_run

from gitdocket.demo.releases import write_evidence

__all__ = ["BIG", "STATUS_AT_BUDGET_S", "run"]

Row = tuple[str, str, str, str]
STATUS_AT_BUDGET_S = 1.0
BIG = (1000, 100_000)
"""The fixture size of the full run: (archetypes, versions)."""
FIRST_DAY, SECOND_DAY, BETWEEN = "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-02T12:00:00Z"


def _promote_two_days(base: Path, repo: Path, rounds: int) -> None:
    """Two verified bundles in ``repo``, promoted ``rounds`` times per environment in two commits
    a day apart."""
    os.environ["GITDOCKET_NOW"] = FIRST_DAY
    bundles = verified_bundles(repo, write_evidence(base / "evidence"))
    _promote_many(repo, bundles, rounds // 2)
    os.environ["GITDOCKET_NOW"] = SECOND_DAY
    _promote_many(repo, bundles, rounds - rounds // 2)


def _status_at(repo: Path) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """One ``python -m gitdocket status --at`` process: (wall s, CPU s, result)."""
    return timed_run(gitdocket_argv("status", "--at", BETWEEN, "--format", "json", "--repo", repo))


def run(info: FixtureInfo, quick: bool) -> list[Row]:
    rounds = 100 if quick else 1000
    label = (
        f"status --at (4 logs cut half-way), {info.archetypes:,} archetypes / {info.versions:,} versions / "
        f"4 × {rounds:,} promotions (process)"
    )
    budget = f"< {STATUS_AT_BUDGET_S:.0f} s"
    with scratch_mirror(Path(info.path), Path(info.key), "timetravel") as (base, repo):
        _promote_two_days(base, repo, rounds)
        samples = []
        for _ in range(3):
            wall, cpu, done = _status_at(repo)
            if done.returncode != 0:
                return [(label, f"exit {done.returncode}: {done.stderr.strip()[:200]}", budget, "FAIL")]
            sequences = {row["environment"]: row["sequence"] for row in json.loads(done.stdout)}
            if set(sequences.values()) != {rounds // 2}:
                return [(label, f"wrong answer: {sequences}", budget, "FAIL")]
            samples.append((wall, cpu))
        query = best_of(3, lambda: gitdocket("status", "--at", BETWEEN, "--repo", repo))
        plain = best_of(3, lambda: gitdocket("status", "--repo", repo))
    wall, cpu = sorted(samples)[1]
    return [
        (label, f"{wall:.2f} s (cpu {cpu:.2f} s)", budget, "ok" if wall < STATUS_AT_BUDGET_S else "OVER"),
        (
            "status --at in-process (the query without interpreter start), same registry",
            f"{query * 1000:.0f} ms (status without --at: {plain * 1000:.0f} ms)",
            "—",
            "info",
        ),
    ]
