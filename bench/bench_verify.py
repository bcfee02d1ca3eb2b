"""Verify rows of ``make bench`` beyond the snapshot row (issues 11.2, 11.3 and 16.3).

- **PR and history mode**: a private copy of the fixture gets ``PR_COMMITS`` new commits (one
  freeze each, through the real write path, dated now: a pull request verified when it is
  written), then ``verify --base`` and ``verify --since`` of that change run as real processes,
  side by side with a snapshot verify of the same head and ``git diff --stat`` of the same
  change in the same run. CPU time (parent and its forked child) is what a shared machine
  measures best; the ratios to the snapshot and to git's own diff are what the design's
  "proportional to the change" asks (ADR 0034). The full run adds the same rows on a
  1,000-version fixture: the cost must stay flat as the registry grows.
- **Memory**: the peak resident memory of ``verify`` (the largest of the process and its
  forked child, ``resource.getrusage(RUSAGE_CHILDREN)`` of a wrapper that runs only it), with
  its wall and CPU time: on the fixture, on the quick fixture, the growth per 1,000 versions
  between the two and what it extrapolates to at 100,000 versions (issue 16.3), and on the
  100,000-version fixture itself (budget < 1 GiB) when ``bench/bench_timetravel.py`` built it.
- **Signatures**: the per-signature cost of gitdocket's check (canonical payload + SSHSIG
  parsing + Ed25519) as a ratio to ``cryptography``'s bare ``Ed25519PublicKey.verify`` of the
  same signatures, in the same run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fixtures import NOW, OUT, FixtureInfo, cache_key, fixture

from gitdocket.adapters.signing import KeySigner
from gitdocket.adapters.store import GitStore, GitTree
from gitdocket.adapters.timeline import newest_event
from gitdocket.core import sshsig
from gitdocket.core.log import EVENT_NAMESPACE, SshSignature, iter_lines, parse_line, signing_payload
from gitdocket.core.tree import Plan
from gitdocket.ops.transaction import Transaction
from gitdocket.ops.versions import freeze
from gitdocket.verify.context import discover_scopes

__all__ = [
    "BIG_VERSIONS",
    "MEMORY_BUDGET_MIB",
    "PR_BUDGET_S",
    "PR_COMMITS",
    "cached",
    "memory_rows",
    "pr_rows",
    "run",
    "signature_rows",
]

Row = tuple[str, str, str, str]
PR_COMMITS = 100
PR_BUDGET_S = 2.0
MEMORY_BUDGET_MIB = 1024
BIG_VERSIONS = 100_000
"""Issue 16.3's scale: a snapshot verify of this many versions runs in under 1 GiB."""
_WRAPPER = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
    "wall = time.perf_counter() - start\n"
    "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'rc': done.returncode, 'wall': wall, 'cpu': use.ru_utime + use.ru_stime,\n"
    "                  'rss_kib': use.ru_maxrss, 'err': done.stderr[-2000:]}))\n"
)


def measure(repo: Path, *args: str) -> dict[str, float | str]:
    """Run ``python -m gitdocket verify ARGS`` alone under a wrapper process: exit status, wall
    and CPU seconds, peak RSS in KiB (the process and its forked child, whichever is larger)."""
    return measure_command([sys.executable, "-m", "gitdocket", "verify", "--repo", str(repo), *args])


def measure_command(command: list[str]) -> dict[str, float | str]:
    """``measure`` of any command (the same-run baseline: ``git diff --stat``)."""
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=True)
    result: dict[str, float | str] = json.loads(done.stdout)
    return result


def _freezes(repo: Path, key: Path, count: int, when: datetime = NOW) -> None:
    """``count`` commits on ``repo``, each freezing one new version of one archetype, dated
    ``when`` (a pull request written now, verified now: within ``BRANCH_LAG`` of the clock)."""
    store = GitStore.open(repo, "main")
    signer = KeySigner.from_file(key)
    for number in range(count):
        archetype, version = f"agent-{number % 50:05d}", f"9.0.{number}"

        def plan(tree: GitTree, archetype: str = archetype, version: str = version) -> Plan:
            tx = Transaction(tree, [signer], when, newest=newest_event)
            freeze(tx, archetype, version)
            return tx.plan(f"docket: froze {archetype} {version}")

        store.write(plan, signer, when)


def _head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _cpu_row(label: str, found: dict[str, float | str], budget: str, verdict: str) -> Row:
    if found["rc"] != 0:
        return (label, f"exit {found['rc']}: {str(found['err']).strip()[-200:]}", budget, "FAIL")
    return (label, f"{float(found['cpu']):.2f} s cpu ({float(found['wall']):.2f} s wall)", budget, verdict)


def _ratio(label: str, found: dict[str, float | str], other: dict[str, float | str]) -> list[Row]:
    if found["rc"] != 0 or other["rc"] != 0:
        return []
    return [(label, f"{float(found['cpu']) / float(other['cpu']):.2f}×", "—", "info")]


def pr_rows(info: FixtureInfo) -> list[Row]:
    """``verify --base`` and ``--since`` of ``PR_COMMITS`` new commits, next to a snapshot verify
    of the same head and ``git diff --stat`` of the same change (same run, interleaved)."""
    size = f"{info.versions:,} versions"
    with tempfile.TemporaryDirectory(prefix="docket-bench-pr-") as tmp:
        repo = Path(tmp) / "pr.git"
        subprocess.run(["git", "clone", "--quiet", "--mirror", "--local", info.path, str(repo)], check=True)
        base = _head(repo)
        _freezes(repo, Path(info.key), PR_COMMITS, datetime.now(UTC).replace(microsecond=0))
        snapshot = measure(repo)
        git = measure_command(["git", "-C", str(repo), "diff", "--stat", base, "main"])
        pr = measure(repo, "--base", base, "--head", "main")
        since = measure(repo, "--since", base)
    rows = [
        _cpu_row(f"verify snapshot, {size} (+{PR_COMMITS} commits)", snapshot, "—", "info"),
        _cpu_row(f"git diff --stat of those {PR_COMMITS} commits (baseline)", git, "—", "info"),
    ]
    modes = (("--base", pr), ("--since", since))
    for mode, found in modes:
        label = f"verify {mode}, {PR_COMMITS} commits on {size}"
        ok = found["rc"] == 0 and float(found["cpu"]) < PR_BUDGET_S
        rows.append(_cpu_row(label, found, f"< {PR_BUDGET_S:.0f} s", "ok" if ok else "OVER"))
        rows += _ratio("  ÷ snapshot verify of the same head (cpu)", found, snapshot)
        rows += _ratio("  ÷ git diff --stat of the same change (cpu)", found, git)
    return rows


def peak_mib(info: FixtureInfo) -> tuple[float | None, Row]:
    """Peak RSS (MiB) and time of a snapshot verify of ``info``, and its row. The fixture may hold
    findings (a fixture older than a change to what gitdocket writes): the memory is still
    measured, the row says so. Only a verify that did not finish has no figure."""
    found = measure(Path(info.path))
    label = f"verify snapshot, {info.versions:,} versions: peak RSS"
    if found["rc"] not in (0, 1):
        return None, (label, f"exit {found['rc']}: {str(found['err'])[-200:]}", f"< {MEMORY_BUDGET_MIB} MiB", "FAIL")
    mib = float(found["rss_kib"]) / 1024
    timing = f"{float(found['wall']):.2f} s wall, {float(found['cpu']):.2f} s cpu"
    stale = "" if found["rc"] == 0 else "; the fixture has findings (stale? bump FIXTURE_FORMAT)"
    verdict = "ok" if mib < MEMORY_BUDGET_MIB else "OVER"
    return mib, (label, f"{mib:,.0f} MiB ({timing}){stale}", f"< {MEMORY_BUDGET_MIB} MiB", verdict)


def cached(archetypes: int, versions: int, out: Path = OUT) -> FixtureInfo | None:
    """The fixture of that size when it was built already (``fixtures.fixture`` builds it)."""
    marker = out / f"registry-{archetypes}x{versions}-{cache_key()}" / "fixture.json"
    return FixtureInfo(**json.loads(marker.read_text())) if marker.is_file() else None


def memory_rows(info: FixtureInfo, small: FixtureInfo | None = None, big: FixtureInfo | None = None) -> list[Row]:
    """Peak RSS and time of a snapshot verify of the fixture; with ``small`` (a smaller fixture)
    the growth per 1,000 versions and its extrapolation to ``BIG_VERSIONS``; the measured row of
    ``big`` when that fixture exists."""
    mib, row = peak_mib(info)
    rows = [row]
    if small is not None and mib is not None and small.versions < info.versions:
        low, low_row = peak_mib(small)
        rows.append(low_row)
        if low is not None:
            slope = (mib - low) / (info.versions - small.versions) * 1000
            guess = mib + slope * (BIG_VERSIONS - info.versions) / 1000
            rows.append(
                (
                    f"  growth per 1,000 versions ({small.versions:,} → {info.versions:,})",
                    f"{slope:.1f} MiB; at {BIG_VERSIONS:,} versions ≈ {guess:,.0f} MiB (extrapolated)",
                    f"< {MEMORY_BUDGET_MIB} MiB",
                    "ok" if guess < MEMORY_BUDGET_MIB else "OVER",
                )
            )
    if big is not None:
        rows.append(peak_mib(big)[1])
    else:
        rows.append(
            (
                f"verify snapshot, {BIG_VERSIONS:,} versions: peak RSS",
                "not measured: that fixture is not built yet (the timetravel section builds it)",
                f"< {MEMORY_BUDGET_MIB} MiB",
                "info",
            )
        )
    return rows


def signature_rows(info: FixtureInfo, count: int) -> list[Row]:
    """gitdocket's whole signature check against bare Ed25519 on the same signatures."""
    tree = GitStore.open(Path(info.path), "main").snapshot()
    scopes, _ = discover_scopes(tree)
    jobs = []
    for target in scopes:
        for _, line in iter_lines(tree.read(target.history_path) or b""):
            event = parse_line(line, target.history_path)
            jobs.extend((target.path, event, e) for e in event.signatures if isinstance(e, SshSignature))
        if len(jobs) >= count:
            break
    jobs = jobs[:count]
    public = sshsig.parse_public_key(Path(info.key + ".pub").read_text())
    bare = []
    for path, event, entry in jobs:
        _, ns, alg, raw = sshsig._fields(entry.sig.encode())
        bare.append((raw, sshsig._signed_data(signing_payload(path, event), ns, alg)))
    started = time.process_time()
    for raw, data in bare:
        public.verify(raw, data)
    ed25519 = time.process_time() - started
    started = time.process_time()
    for path, event, entry in jobs:
        sshsig.verify(entry.sig.encode(), signing_payload(path, event), EVENT_NAMESPACE, public)
    ours = time.process_time() - started
    return [
        ("Ed25519 verify alone (cryptography)", f"{len(bare) / ed25519:,.0f} signatures/s", "—", "info"),
        (
            "signature check (payload + SSHSIG + Ed25519)",
            f"{len(jobs) / ours:,.0f} signatures/s ({ed25519 / ours:.2f}× of bare Ed25519)",
            "—",
            "info",
        ),
    ]


SMALLER = (100, 1000)
"""The fixture of the 1,000-version PR rows (the main one has 10,000; 100,000 takes hours to
build: ``bench_timetravel.BIG`` is built once and cached when asked for)."""


def run(info: FixtureInfo, quick: bool, small: FixtureInfo | None = None) -> list[Row]:
    """``small``: a smaller fixture, for the memory growth per version (the full run passes the
    half-size one: both are streamed, ADR 0036). The PR rows run on the 1,000-version fixture,
    this one, and the 100,000-version one when it has been built (flat as the registry grows)."""
    big = None if quick else cached(1000, BIG_VERSIONS)
    smaller = [] if quick else pr_rows(fixture(*SMALLER))
    bigger = pr_rows(big) if big is not None else []
    rows = [*smaller, *pr_rows(info), *bigger, *memory_rows(info, small, big)]
    return [*rows, *signature_rows(info, 1000 if quick else 10000)]
