"""Benchmarks of release bundles and environments (design §9).

- ``bundle verify`` of a bundle whose runtime payload is 1 GiB of incompressible files (64 MiB with
  ``quick``), as a whole ``python -m gitdocket`` process (start-up included), against ``openssl
  dgst -sha256`` over the very same files: the verdict is the ratio (gitdocket's throughput /
  openssl's; at least 1.0 passes). Measured twice: on loose objects (a fresh registry) and after
  ``git gc`` (packed, as in any clone). Both are timed warm, interleaved (best of five).
- ``promote`` of that bundle (budget < 100 ms: the release is the bundle's own git tree).
- ``status`` of 4 environments × 1,000 promotions each (100 with ``quick``; budget < 1 s).

Everything else runs in-process against throw-away bare registries in a temporary folder; the
``gitdocket`` commands are the real CLI entry point. ``run(quick)`` returns rows of
(benchmark, measured, budget, verdict) for ``bench/run.py``; ``python bench/bench_releases.py
[--quick]`` prints them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pygit2
from processes import child_env, gitdocket_argv

from gitdocket.adapters.files import dump_yaml, load_yaml
from gitdocket.adapters.signing import create_key
from gitdocket.adapters.templates import PROJECT_ROOT
from gitdocket.commands import main
from gitdocket.core.tree import TreeRef
from gitdocket.demo.releases import write_evidence
from gitdocket.ops import config as config_ops
from gitdocket.ops import environments as env_ops
from gitdocket.ops.session import Session
from gitdocket.ops.transaction import Transaction

Row = tuple[str, str, str, str]
MIB = 1 << 20
ISOLATION = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GITDOCKET_NOW": "2026-01-01T00:00:00Z",
}


@contextlib.contextmanager
def _environment(home: Path, key: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*ISOLATION, "HOME", "GITDOCKET_SIGNING_KEY")}
    os.environ.update({**ISOLATION, "HOME": str(home), "GITDOCKET_SIGNING_KEY": str(key)})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def signing_home(prefix: str) -> Iterator[tuple[Path, Path]]:
    """A new scratch folder (``prefix``) with a signing key, as HOME and the key for the block
    (``_environment``); removed after it, whatever happens. What each benchmark runs in."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        key = base / "key"
        create_key(key, "bench")
        with _environment(base, key):
            yield base, key
    finally:
        shutil.rmtree(base, ignore_errors=True)


def gitdocket(*args: str | Path) -> str:
    """Run the real CLI in-process; return its standard output, raise on a non-zero exit."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    if code:
        raise RuntimeError(f"gitdocket {' '.join(map(str, args))} exited {code}: {err.getvalue().strip()}")
    return out.getvalue()


def best_of(times: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def _registry(base: Path, key: Path) -> Path:
    repo = base / "registry.git"
    gitdocket("init", repo, "--bare", "--identity", "bench", "--key", key, "--gate-preset", "agent-skills")
    gitdocket(
        "archetype",
        "new",
        "support-triage",
        "--from",
        PROJECT_ROOT / "examples" / "archetypes" / "support-triage",
        "--repo",
        repo,
    )
    gitdocket("version", "freeze", "support-triage", "1.0.0", "--repo", repo)
    gitdocket("package", "publish", "support-triage", "1.0.0", "--repo", repo)
    return repo


def _payload(base: Path, repo: Path, total: int, files: int) -> list[Path]:
    """Write ``files`` random files (``total`` bytes), commit them as ``runtime/`` and include
    that folder in bundles (registry.yaml ``bundle.include``)."""
    folder = base / "payload"
    folder.mkdir()
    paths = []
    git = pygit2.Repository(str(repo))
    builder = git.TreeBuilder()
    for index in range(files):
        path = folder / f"model-{index:03d}.bin"
        with path.open("wb") as handle:
            for _ in range(total // files // MIB):
                handle.write(os.urandom(MIB))
        builder.insert(path.name, git.create_blob_fromdisk(str(path)), pygit2.enums.FileMode.BLOB)
        paths.append(path)
    tree = str(builder.write())

    def place(tx: Transaction) -> None:
        config = load_yaml(tx.tree.read("registry/registry.yaml") or b"", "registry.yaml")
        config["bundle"]["include"] = ["runtime"]
        tx.put("registry/registry.yaml", dump_yaml(config))
        tx.put("runtime", TreeRef(tree))
        config_ops.apply(tx)  # writers read the signed configuration, not the file

    Session(repo).write("bench: runtime payload", place)
    return paths


def bundle_rows(base: Path, key: Path, total: int, files: int) -> list[Row]:
    repo = _registry(base, key)
    payload = _payload(base, repo, total, files)
    evidence = write_evidence(base / "evidence")
    built = json.loads(
        gitdocket(
            "bundle",
            "build",
            "--label",
            "bench",
            "--evidence",
            evidence,
            "--format",
            "json",
            "--repo",
            repo,
        )
    )
    bundle = built["bundle_id"]
    gitdocket("bundle", "verify", bundle, "--record", "--repo", repo)
    mib = total / MIB
    rows = [_verify_row("loose objects", repo, bundle, payload, mib)]
    # What any clone, fetch or `git gc` does: one pack. The delta search is skipped (random
    # bytes have no deltas; it only costs minutes), so the blobs are packed as gc packs them.
    subprocess.run(["git", "-C", str(repo), "-c", "pack.window=0", "gc", "-q", "--prune=now"], check=True)
    rows.append(_verify_row("packed, after git gc", repo, bundle, payload, mib))
    first = best_of(1, lambda: gitdocket("promote", bundle, "--env", "preview", "--repo", repo))
    second = best_of(
        1,
        lambda: gitdocket("promote", bundle, "--env", "dev", "--source-env", "preview", "--repo", repo),
    )
    promote = max(first, second)
    promote_row = (
        f"promote ({mib:,.0f} MiB bundle, bare registry)",
        f"{promote * 1000:.0f} ms (worst of 2)",
        "< 100 ms",
        "ok" if promote < 0.1 else "OVER",
    )
    return [*rows, promote_row]


def _verify_row(shape: str, repo: Path, bundle: str, payload: list[Path], mib: float) -> Row:
    """``python -m gitdocket bundle verify`` as a whole process (start-up included) against
    ``openssl dgst -sha256`` over the same files, interleaved so both see the same load; the
    ratio of their best wall times."""
    ours_argv = gitdocket_argv("bundle", "verify", bundle, "--repo", repo)
    env = child_env()
    ours, theirs = float("inf"), float("inf")
    for _ in range(5):
        ours = min(ours, best_of(1, lambda: subprocess.run(ours_argv, check=True, capture_output=True, env=env)))
        theirs = min(
            theirs,
            best_of(
                1, lambda: subprocess.run(["openssl", "dgst", "-sha256", *payload], check=True, capture_output=True)
            ),
        )
    ratio = theirs / ours
    return (
        f"bundle verify, {shape} (process vs openssl dgst -sha256)",
        f"{mib / ours:,.0f} MiB/s over {mib:,.0f} MiB = {ratio:.2f}x openssl ({mib / theirs:,.0f} MiB/s)",
        ">= 1.00x openssl",
        "ok" if ratio >= 1.0 else "SLOWER",
    )


def _promote_many(repo: Path, bundles: list[str], rounds: int) -> None:
    """``rounds`` promotions in each of the four environments, in one signed commit."""

    def promote_all(tx: Transaction) -> None:
        for round_ in range(rounds):
            bundle = bundles[round_ % 2]
            for env, source in (
                ("preview", None),
                ("dev", "preview"),
                ("staging", "dev"),
                ("prod", "staging"),
            ):
                env_ops.promote(
                    tx,
                    env_ops.PromoteRequest(bundle, env, source, gated=env in ("staging", "prod")),
                )

    Session(repo).write(f"bench: {rounds} promotions per environment", promote_all)


def verified_bundles(repo: Path, evidence: Path) -> list[str]:
    """Build and verify (recorded) the bundles ``blue`` and ``green`` of ``repo``; their ids."""
    bundles = []
    for label in ("blue", "green"):
        built = json.loads(
            gitdocket("bundle", "build", "--label", label, "--evidence", evidence, "--format", "json", "--repo", repo)
        )
        gitdocket("bundle", "verify", built["bundle_id"], "--record", "--repo", repo)
        bundles.append(built["bundle_id"])
    return bundles


@contextlib.contextmanager
def scratch_mirror(fixture: Path, key: Path, name: str) -> Iterator[tuple[Path, Path]]:
    """A private mirror of the registry at ``fixture``, in an isolated environment signing with
    ``key``, removed afterwards: yields (its folder, the mirror)."""
    base = Path(tempfile.mkdtemp(prefix=f"docket-bench-{name}-"))
    try:
        (base / "home").mkdir()
        with _environment(base / "home", key):
            repo = base / f"{name}.git"
            subprocess.run(["git", "clone", "--quiet", "--mirror", "--local", str(fixture), str(repo)], check=True)
            yield base, repo
    finally:
        shutil.rmtree(base, ignore_errors=True)


def status_row(base: Path, key: Path, rounds: int) -> Row:
    repo = _registry(base, key)
    bundles = verified_bundles(repo, write_evidence(base / "evidence"))
    _promote_many(repo, bundles, rounds)
    rows = json.loads(gitdocket("status", "--format", "json", "--repo", repo))
    assert [r["sequence"] for r in rows] == [rounds] * 4, rows
    took = best_of(3, lambda: gitdocket("status", "--repo", repo))
    return (
        f"status (4 environments x {rounds:,} promotions)",
        f"{took * 1000:.0f} ms",
        "< 1 s",
        "ok" if took < 1.0 else "OVER",
    )


def run(quick: bool) -> list[Row]:
    total, files, rounds = (64 * MIB, 16, 100) if quick else (1024 * MIB, 64, 1000)
    rows: list[Row] = []
    with signing_home("docket-bench-releases-") as (base, key):
        (base / "verify").mkdir()
        rows.extend(bundle_rows(base / "verify", key, total, files))
        (base / "status").mkdir()
        rows.append(status_row(base / "status", key, rounds))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(" | ".join(row))
