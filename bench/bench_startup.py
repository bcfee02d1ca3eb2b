"""Start-up of the commands people and runtimes wait on (issue 11.1), as whole processes.

Each row is the CPU time of ``python -m gitdocket ...`` on a small bare registry with one release
deployed in ``preview``, less the CPU time of ``python -c "import pygit2, pydantic, click"`` in
the same run (the floor of any CLI built on those): budget ≤ 0.15 s over it. Both are the least
of several runs. Each row also says what one more run under ``python -X importtime`` imported:
how many gitdocket modules, which lifecycles (ADR 0035: a read builds only the lifecycles of the
scopes it reads) and their import time. ``run(quick) -> rows`` for ``bench/run.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import bench_releases as releases
from processes import RunFailedError, child_env, cpu_of, gitdocket_argv

from gitdocket.lifecycles import LIFECYCLES

Row = tuple[str, str, str, str]
BUDGET_S = 0.15
BARE = "import pygit2, pydantic, click"
KINDS = frozenset(LIFECYCLES)


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
    export = scratch / "export"
    floor = [sys.executable, "-c", BARE]
    table = {"floor": floor, **commands(repo, export)}
    least = _least_interleaved(table, runs, env, export)
    bare = least.pop("floor")
    rows: list[Row] = [(f'python -c "{BARE}" (the floor)', f"{bare:.3f} s cpu", "—", "info")]
    for label, cpu in least.items():
        if isinstance(cpu, RunFailedError):
            rows.append((f"start-up: {label}", str(cpu)[:200], f"≤ +{BUDGET_S:.2f} s", "FAIL"))
            continue
        over = cpu - bare
        measured = f"{cpu:.3f} s cpu = bare imports +{over:.3f} s ({cpu / bare:.2f}×)"
        rows.append(
            (
                f"start-up: {label}",
                f"{measured}; {imported(table[label], env, export)}",
                f"≤ +{BUDGET_S:.2f} s",
                "ok" if over <= BUDGET_S else "OVER",
            )
        )
    return rows


def imported(argv: list[str], env: dict[str, str], export: Path) -> str:
    """What one run under ``-X importtime`` imported: how many gitdocket modules, and which
    lifecycles (its times are wall clock, too noisy on a shared machine to print)."""
    shutil.rmtree(export, ignore_errors=True)
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, env=env, check=False
    )
    own = set()
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[2].strip().startswith("gitdocket"):
            own.add(parts[2].strip())
    kinds = sorted(
        m.rsplit(".", 1)[1]
        for m in own
        if m.rsplit(".", 1)[0] == "gitdocket.lifecycles" and m.rsplit(".", 1)[1] in KINDS
    )
    return f"imports {len(own)} gitdocket modules, lifecycles: {', '.join(kinds) or 'none'}"


def _least_interleaved(
    table: dict[str, list[str]], runs: int, env: dict[str, str], export: Path
) -> dict[str, float | RunFailedError]:
    """Least CPU of each command over ``runs`` rounds after a warm-up round (bytecode written,
    pages cached). A round runs every command once, the floor among them, so that a burst of load
    on this shared machine falls on all of them alike. The export folder is removed before each
    run (resolve refuses to overwrite one)."""
    samples: dict[str, list[float]] = {label: [] for label in table}
    failed: dict[str, RunFailedError] = {}
    for round_ in range(runs + 1):
        for label, argv in table.items():
            if label in failed:
                continue
            shutil.rmtree(export, ignore_errors=True)
            try:
                cpu = cpu_of(argv, env)
            except RunFailedError as exc:
                failed[label] = exc
                continue
            if round_:
                samples[label].append(cpu)
    return {label: failed[label] if label in failed else min(samples[label]) for label in table}


def run(quick: bool) -> list[Row]:
    with releases.signing_home("docket-bench-startup-") as (base, key):
        return rows_for(deployed(base, key), base, 3 if quick else 7)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(" | ".join(row))
