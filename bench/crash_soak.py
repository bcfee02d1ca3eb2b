"""A crash campaign: every kind of write, run as a real process and killed with SIGKILL at a random
moment (and at every step of the crash hook), then checked as the crash tests check it.

    python bench/crash_soak.py --trials 40

Each trial copies a prepared registry, starts the write, kills it after a random delay drawn
across the later part of the command's own duration (measured first: the first third is Python
starting), and then asks: did the write land (the branch
moved)? does ``gitdocket verify`` pass? does the same command run again finish, or say the write
is done already? does ``verify`` pass after it, is the worktree what HEAD holds, is ``git fsck``
clean, and does the registry take the next write? It prints one Markdown table, a row per kind,
and exits 1 when any trial broke one of them. The suite's ``tests/integration/test_crash.py`` is
the deterministic part (one trial per hook step); this is the random part.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "cli")]

from tests.support import write_key  # noqa: E402

from gitdocket.adapters.faults import CRASH_STEPS  # noqa: E402
from gitdocket.demo.releases import write_evidence  # noqa: E402

ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GITDOCKET_NOW": "2026-01-01T00:00:00Z",
    "PYTHONPATH": str(ROOT / "cli"),
}


def gitdocket(reg: Path, key: Path, *args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``gitdocket ARGS --repo REG``, signing with ``key`` (``init`` takes the registry's path)."""
    repo = [] if args[0] == "init" else ["--repo", str(reg)]
    return subprocess.Popen(
        [sys.executable, "-m", "gitdocket", *map(str, args), *repo],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**ENV, "GITDOCKET_SIGNING_KEY": str(key), **(env or {})},
    )


def ok(reg: Path, key: Path, *args: str | Path) -> str:
    process = gitdocket(reg, key, *args)
    out, err = process.communicate(timeout=300)
    if process.returncode != 0:
        raise SystemExit(f"set-up failed: gitdocket {' '.join(map(str, args))}: {err}")
    return out


def git(reg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(reg), *args], capture_output=True, text=True, env=ENV, check=False)


def prepare(base: Path) -> Path:
    """keys/, evidence/, reg/ (1.0.0 published and bundled, 1.1.0 frozen), imported.tar.gz."""
    keys = base / "keys"
    keys.mkdir(parents=True)
    alice = write_key(keys, "alice")
    reg = base / "reg"
    ok(reg, alice, "init", reg, "--identity", "alice", "--gate-preset", "agent-skills")
    ok(reg, alice, "archetype", "new", "support-triage", "--from", ROOT / "examples/archetypes/support-triage")
    ok(reg, alice, "release", "support-triage", "1.0.0")
    ok(reg, alice, "version", "freeze", "support-triage", "1.1.0")
    evidence = write_evidence(base / "evidence")
    gate = evidence / "release_readiness_gate_report.json"
    process = gitdocket(
        reg, alice, "gate", "evaluate", "--evidence", evidence, "--profile", "transitional", "--output", gate
    )
    process.communicate(timeout=300)
    for label in ("candidate", "imported"):
        built = ok(reg, alice, "bundle", "build", "--label", label, "--evidence", evidence, "--format", "json")
        bundle = built.split('"bundle_id": "', 1)[1].split('"', 1)[0]
        ok(reg, alice, "bundle", "verify", bundle, "--record")
    imported = next(p.name for p in (reg / "bundles").iterdir() if p.name.startswith("imported-"))
    ok(reg, alice, "bundle", "export", imported, "--to", base / "imported.tar.gz")
    # The registry forgets the exported bundle: importing it is a write.
    git(reg, "reset", "-q", "--hard", "HEAD~2")
    return base


@dataclass(frozen=True)
class Kind:
    name: str
    args: Callable[[Path], list[str | Path]]


def _candidate(base: Path) -> str:
    return next(p.name for p in (base / "reg" / "bundles").iterdir() if p.name.startswith("candidate-"))


KINDS = [
    Kind("freeze", lambda b: ["version", "freeze", "support-triage", "1.2.0"]),
    Kind("publish", lambda b: ["package", "publish", "support-triage", "1.1.0"]),
    Kind("release", lambda b: ["release", "support-triage", "1.2.0"]),
    Kind("bundle build", lambda b: ["bundle", "build", "--label", "rc", "--evidence", b / "evidence"]),
    Kind("bundle import", lambda b: ["bundle", "import", b / "imported.tar.gz"]),
    Kind("promote", lambda b: ["promote", _candidate(b), "--env", "preview", "--gated", "--reports-dir", b / "out"]),
    Kind(
        "promote exported",
        lambda b: ["promote", b / "imported.tar.gz", "--env", "preview", "--gated", "--reports-dir", b / "out"],
    ),
]


@dataclass
class Tally:
    trials: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    broken: list[str] = field(default_factory=list)


def trial(
    template: Path, work: Path, kind: Kind, kill: Callable[[subprocess.Popen[str]], None]
) -> tuple[str, list[str]]:
    """One kill and its checks: (what the kill left, the checks that failed)."""
    base = work / "trial"
    shutil.rmtree(base, ignore_errors=True)
    shutil.copytree(template, base, symlinks=True)
    reg, key = base / "reg", base / "keys" / "alice_ed25519"
    before = git(reg, "rev-parse", "HEAD").stdout
    process = gitdocket(reg, key, *kind.args(base), env={"GITDOCKET_TEST_CRASH_AT": os.environ.get("STEP", "")})
    kill(process)
    process.communicate(timeout=300)
    landed = git(reg, "rev-parse", "HEAD").stdout != before
    state = "finished" if process.returncode == 0 else ("landed" if landed else "nothing written")
    if process.returncode not in (0, -signal.SIGKILL):
        state = f"exit {process.returncode}"
    failed = []
    checks: list[tuple[str, Callable[[], str | None]]] = [
        ("verify after the kill", lambda: _fails(gitdocket(reg, key, "verify"))),
        ("same command again", lambda: _rerun(gitdocket(reg, key, *kind.args(base)))),
        ("verify after the re-run", lambda: _fails(gitdocket(reg, key, "verify"))),
        ("worktree is HEAD", lambda: git(reg, "status", "--porcelain", "--untracked-files=all").stdout or None),
        ("git fsck", lambda: git(reg, "fsck", "--strict", "--no-dangling").stderr or None),
        ("next write", lambda: _fails(gitdocket(reg, key, "policy", "expires", "2030-01-01T00:00:00Z"))),
    ]
    for name, check in checks:
        why = check()
        if why is not None:
            failed.append(f"{name} ({why.strip()[:400]})")
    return state, failed


def _fails(process: subprocess.Popen[str]) -> str | None:
    """None when the command succeeded, else what it said."""
    out, err = process.communicate(timeout=300)
    return None if process.returncode == 0 else f"exit {process.returncode}: {err or out}"


def _rerun(process: subprocess.Popen[str]) -> str | None:
    """The re-run finishes the write, or says it is done already (a refusal naming it)."""
    _out, err = process.communicate(timeout=300)
    done = process.returncode == 0 or (process.returncode == 1 and "already" in err)
    return None if done else f"exit {process.returncode}: {err}"


def duration(template: Path, work: Path, kind: Kind) -> float:
    times = []
    for _ in range(3):
        start = time.monotonic()
        trial(template, work, kind, lambda p: p.wait())
        times.append(time.monotonic() - start)
    base = work / "trial"
    shutil.rmtree(base, ignore_errors=True)
    shutil.copytree(template, base, symlinks=True)
    start = time.monotonic()
    _fails(gitdocket(base / "reg", base / "keys" / "alice_ed25519", *kind.args(base)))
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="Random-moment kills per kind.")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="crash-soak-") as tmp:
        template = prepare(Path(tmp) / "template")
        work = Path(tmp)
        rows = []
        for kind in KINDS:
            tally = Tally()
            span = duration(template, work, kind)
            for step in CRASH_STEPS:  # one kill at every hook step
                os.environ["STEP"] = step
                state, failed = trial(template, work, kind, lambda p: p.wait())
                tally.trials += 1
                tally.outcomes[f"hook: {state}"] += 1
                tally.broken.extend(f"{step}: {f}" for f in failed)
            os.environ["STEP"] = ""
            for _ in range(args.trials):
                # Most of a command's time is Python starting; the write is the last part of it.
                delay = rng.uniform(0.3 * span, 1.1 * span)

                def kill(process: subprocess.Popen[str], delay: float = delay) -> None:
                    try:
                        process.wait(timeout=delay)
                    except subprocess.TimeoutExpired:
                        process.send_signal(signal.SIGKILL)

                state, failed = trial(template, work, kind, kill)
                tally.trials += 1
                tally.outcomes[state] += 1
                tally.broken.extend(f"random {delay:.3f}s: {f}" for f in failed)
            rows.append((kind.name, tally))
            print(
                f"{kind.name}: {tally.trials} trials, {dict(tally.outcomes)}, broken: {tally.broken}", file=sys.stderr
            )
    print(
        "| write | trials | killed, nothing written | killed after landing | finished before the kill | checks failed |"
    )
    print("|---|---|---|---|---|---|")
    for name, tally in rows:
        nothing = sum(n for k, n in tally.outcomes.items() if k.endswith("nothing written"))
        landed = sum(n for k, n in tally.outcomes.items() if k.endswith("landed"))
        finished = sum(n for k, n in tally.outcomes.items() if k.endswith("finished"))
        print(f"| {name} | {tally.trials} | {nothing} | {landed} | {finished} | {len(tally.broken)} |")
    return 1 if any(t.broken for _, t in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
