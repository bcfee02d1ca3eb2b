"""Benchmarks of writes against a long history (issue 16, ADR 0033): a write's cost must not grow
with the events its scope already holds, nor with its archetype's versions.

- ``promote`` into an environment with 5,000 past promotions (200 with ``quick``) against a
  promotion into an environment of the same registry that had none before the run;
- ``version freeze`` of a new version of an archetype with 2,000 versions (100 with ``quick``)
  against a freeze in an archetype of the same registry that had none.

Both write through the real path (``Transaction`` → ``GitStore.write``: signed commit, ref
transaction, signed tags, then the newest-event cache records the commit, as ``Session.write``
does: without that, each write would read back the log the other one appended to) on a bare
registry; the two writes alternate so that the load of a
shared machine weighs on both alike, and the rows compare their medians without signing (what
signing costs does not depend on history). Budget: each ≤ 1.5× the empty scope's cost. What is
left of the growth is git's: the log is one blob, read and written whole by every append.
``run(quick)`` returns rows for ``bench/run.py``; ``python bench/bench_history.py [--quick]``
prints them.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from bench_releases import _registry, signing_home, verified_bundles
from fixtures import archetype_files, new_registry, write_key
from run import Operation
from run import TimedWriter as Writer

from gitdocket.demo.releases import write_evidence
from gitdocket.ops import environments as env_ops
from gitdocket.ops.archetypes import add_archetype
from gitdocket.ops.session import Session
from gitdocket.ops.transaction import Transaction
from gitdocket.ops.versions import freeze

Row = tuple[str, str, str, str]
RATIO_BUDGET = 1.5
CHUNK = 500
"""Events per commit while the history is built (one transaction each)."""


def _alternate(
    writer: Writer, long: Callable[[int], Operation], short: Callable[[int], Operation], count: int
) -> tuple[str, float]:
    """Medians of ``count`` writes of each, alternating, after one warm-up of each: (the two
    medians in words, their ratio)."""
    samples: dict[str, list[float]] = {"long": [], "short": []}
    for index in range(count + 1):
        for name, make in (("long", long), ("short", short)):
            took = writer.timed(make(index))
            if index:
                samples[name].append(took)
    big, small = statistics.median(samples["long"]), statistics.median(samples["short"])
    return f"{big:.1f} ms ÷ {small:.1f} ms", big / small


def promote_row(base: Path, key: Path, past: int, count: int) -> Row:
    repo = _registry(base, key)
    bundles = verified_bundles(repo, write_evidence(base / "evidence"))
    for start in range(0, past, CHUNK):

        def promotions(tx: Transaction, start: int = start) -> None:
            for index in range(start, min(past, start + CHUNK)):
                env_ops.promote(tx, env_ops.PromoteRequest(bundles[index % 2], "preview"))

        Session(repo).write(f"bench: promotions {start}…", promotions)
    writer = Writer(repo, key)

    def into(env: str, offset: int) -> Callable[[int], Operation]:
        return lambda index: lambda tx: env_ops.promote(tx, env_ops.PromoteRequest(bundles[(offset + index) % 2], env))

    measured, ratio = _alternate(writer, into("preview", past), into("dev", 0), count)
    return (
        f"promote, {past:,} past promotions ÷ a new environment (p50 excl. signing)",
        f"{ratio:.2f}× ({measured})",
        f"≤ {RATIO_BUDGET}×",
        "ok" if ratio <= RATIO_BUDGET else "OVER",
    )


def freeze_row(base: Path, versions: int, count: int) -> Row:
    key = write_key(base / "keys")
    repo = base / "versions.git"
    session = new_registry(repo, key)
    for name in ("agent-long", "agent-new"):
        files = archetype_files(name)
        session.write(f"bench: {name}", lambda tx, name=name, files=files: add_archetype(tx, name, files, ("alice",)))
    for start in range(0, versions, CHUNK):

        def frozen(tx: Transaction, start: int = start) -> None:
            for index in range(start, min(versions, start + CHUNK)):
                freeze(tx, "agent-long", f"1.{index // 100}.{index % 100}")

        session.write(f"bench: versions {start}…", frozen)
    writer = Writer(repo, key)

    def next_of(name: str) -> Callable[[int], Operation]:
        return lambda index: lambda tx: freeze(tx, name, f"9.0.{index}")

    measured, ratio = _alternate(writer, next_of("agent-long"), next_of("agent-new"), count)
    return (
        f"version freeze, archetype of {versions:,} versions ÷ a new archetype (p50 excl. signing)",
        f"{ratio:.2f}× ({measured})",
        f"≤ {RATIO_BUDGET}×",
        "ok" if ratio <= RATIO_BUDGET else "OVER",
    )


def run(quick: bool) -> list[Row]:
    past, versions, count = (200, 100, 3) if quick else (5000, 2000, 15)
    with signing_home("docket-bench-history-") as (base, key):
        (base / "promote").mkdir()
        rows = [promote_row(base / "promote", key, past, count)]
        (base / "freeze").mkdir()
        rows.append(freeze_row(base / "freeze", versions, count))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(" | ".join(row))
