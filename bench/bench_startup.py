"""Start-up of the commands people and runtimes wait on (issue 11.1), as whole processes.

Each row is the CPU time of ``python -m gitdocket ...`` on a small bare registry with one release
deployed in ``preview``, less the CPU time of ``python -c "import pygit2, pydantic, click"`` in
the same run (the floor of any CLI built on those): budget ≤ 0.15 s over it. Both are the least
of several runs. ``run(quick) -> rows`` for ``bench/run.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import bench_releases as releases
from processes import RunFailedError, best_cpu, child_env, cpu_of, gitdocket_argv

Row = tuple[str, str, str, str]
BUDGET_S = 0.15
BARE = "import pygit2, pydantic, click"


def deployed(base: Path, key: Path) -> Path:
    """A bare registry with a frozen, published version and one bundle promoted to preview."""
    repo = releases._registry(base, key)
    evidence = releases.write_evidence(base / "evidence")
    built = json.loads(
        releases.gitdocket(
            "bundle", "build", "--label", "bench", "--evidence", evidence, "--format", "json", "--repo", repo
        )
    )
    releases.gitdocket("bundle", "verify", built["bundle_id"], "--record", "--repo", repo)
    releases.gitdocket("promote", built["bundle_id"], "--env", "preview", "--repo", repo)
    return repo


def commands(repo: Path, export: Path) -> dict[str, list[str]]:
    where = ["--repo", str(repo)]
    return {
        "gitdocket --help": gitdocket_argv("--help"),
        "gitdocket status": gitdocket_argv("status", *where),
        "gitdocket history --env preview": gitdocket_argv("history", "--env", "preview", *where),
        "gitdocket version list": gitdocket_argv("version", "list", *where),
        "gitdocket deployments resolve --env preview --export DIR": gitdocket_argv(
            "deployments", "resolve", "--env", "preview", "--export", str(export), *where
        ),
    }


def rows_for(repo: Path, scratch: Path, runs: int) -> list[Row]:
    env = child_env(releases.ISOLATION)
    bare = best_cpu([sys.executable, "-c", BARE], runs, env)
    rows: list[Row] = [(f'python -c "{BARE}" (the floor)', f"{bare:.3f} s cpu", "—", "info")]
    for label, argv in commands(repo, scratch / "export").items():
        try:
            cpu = _least(argv, runs, env, scratch / "export")
        except RunFailedError as exc:
            rows.append((f"start-up: {label}", str(exc)[:200], f"≤ +{BUDGET_S:.2f} s", "FAIL"))
            continue
        over = cpu - bare
        rows.append(
            (
                f"start-up: {label}",
                f"{cpu:.3f} s cpu = bare imports +{over:.3f} s ({cpu / bare:.2f}×)",
                f"≤ +{BUDGET_S:.2f} s",
                "ok" if over <= BUDGET_S else "OVER",
            )
        )
    return rows


def _least(argv: list[str], runs: int, env: dict[str, str], export: Path) -> float:
    """Least CPU of ``runs`` runs after a warm-up (bytecode written, pages cached); the export
    folder is removed before each (resolve refuses to overwrite one)."""
    samples = []
    for _ in range(runs + 1):
        shutil.rmtree(export, ignore_errors=True)
        samples.append(cpu_of(argv, env))
    return min(samples[1:])


def run(quick: bool) -> list[Row]:
    base = Path(tempfile.mkdtemp(prefix="docket-bench-startup-"))
    try:
        key = base / "key"
        releases.create_key(key, "bench")
        with releases._environment(base, key):
            repo = deployed(base, key)
            return rows_for(repo, base, 3 if quick else 7)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(" | ".join(row))
