"""Benchmarks of writes against a long history (issue 16, ADR 0033): a write's cost must not grow
with the events its scope already holds, nor with its archetype's versions.

- ``promote`` into an environment with 1,000 and then 5,000 past promotions (200 with ``quick``)
  against a promotion into an environment of the same registry that had none before;
- ``version freeze`` of a new version of an archetype with 100 and then 2,000 versions (100 with
  ``quick``) against a freeze in an archetype of the same registry that had none.

Both write through the real path (``Transaction`` → ``GitStore.write``: signed commit, ref
transaction, signed tags, then the newest-event cache records the commit, as ``Session.write``
does: without that, each write would read back the log the other one appended to) on a bare
registry; the two writes alternate so that the load of a
shared machine weighs on both alike, and the rows compare their medians without signing (what
signing costs does not depend on history). Budget: each ≤ 1.5× the empty scope's cost. A long
log is kept in segments (ADR 0037), so an append rewrites at most 256 KiB of it.
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


def _ratio_row(what: str, measured: str, ratio: float) -> Row:
    return (what, f"{ratio:.2f}× ({measured})", f"≤ {RATIO_BUDGET}×", "ok" if ratio <= RATIO_BUDGET else "OVER")


def promote_rows(base: Path, key: Path, checkpoints: tuple[int, ...], count: int) -> list[Row]:
    """Promotions into ``preview`` once it holds each of ``checkpoints`` past promotions, each
    against promotions into ``dev``, which had none before the first checkpoint."""
    repo = _registry(base, key)
    bundles = verified_bundles(repo, write_evidence(base / "evidence"))
    writer = Writer(repo, key)

    def into(env: str, offset: int) -> Callable[[int], Operation]:
        return lambda index: lambda tx: env_ops.promote(tx, env_ops.PromoteRequest(bundles[(offset + index) % 2], env))

    rows, past, short = [], 0, 0  # (dev is the short environment: the others need a gate)
    for checkpoint in checkpoints:
        for start in range(past, checkpoint, CHUNK):

            def promotions(tx: Transaction, start: int = start, end: int = checkpoint) -> None:
                for index in range(start, min(end, start + CHUNK)):
                    env_ops.promote(tx, env_ops.PromoteRequest(bundles[index % 2], "preview"))

            Session(repo).write(f"bench: promotions {start}…", promotions)
        measured, ratio = _alternate(writer, into("preview", checkpoint), into("dev", short), count)
        than = "a new environment" if not short else f"an environment of {short} past promotions"
        past, short = checkpoint + count + 1, short + count + 1  # the measured promotions count too
        what = f"promote, {checkpoint:,} past promotions ÷ {than} (p50 excl. signing)"
        rows.append(_ratio_row(what, measured, ratio))
    return rows


def freeze_rows(base: Path, checkpoints: tuple[int, ...], count: int) -> list[Row]:
    """Freezes in ``agent-long`` once it holds each of ``checkpoints`` versions, each against
    freezes in an archetype that had none (a fresh one per checkpoint)."""
    key = write_key(base / "keys")
    repo = base / "versions.git"
    session = new_registry(repo, key)
    fresh_names = [f"agent-new{n}" for n in range(len(checkpoints))]
    for name in ("agent-long", *fresh_names):
        files = archetype_files(name)
        session.write(f"bench: {name}", lambda tx, name=name, files=files: add_archetype(tx, name, files, ("alice",)))
    writer = Writer(repo, key)

    def next_of(name: str, prefix: str) -> Callable[[int], Operation]:
        return lambda index: lambda tx: freeze(tx, name, f"{prefix}.{index}")

    rows, done = [], 0
    for number, (checkpoint, fresh) in enumerate(zip(checkpoints, fresh_names, strict=True)):
        # Versions only grow (VERSIONS_MONOTONIC): each stretch gets its own major, and the
        # measured freezes come after every version built before them.
        for start in range(done, checkpoint, CHUNK):

            def frozen(tx: Transaction, start: int = start, end: int = checkpoint, major: int = number + 1) -> None:
                for index in range(start, min(end, start + CHUNK)):
                    freeze(tx, "agent-long", f"{major}.{index // 100}.{index % 100}")

            session.write(f"bench: versions {start}…", frozen)
        measured, ratio = _alternate(writer, next_of("agent-long", f"{number + 1}.999"), next_of(fresh, "1.0"), count)
        done = checkpoint + count + 1  # the measured freezes count too
        what = f"version freeze, archetype of {checkpoint:,} versions ÷ a new archetype (p50 excl. signing)"
        rows.append(_ratio_row(what, measured, ratio))
    return rows


def run(quick: bool) -> list[Row]:
    past, versions, count = ((200,), (100,), 3) if quick else ((1000, 5000), (100, 2000), 15)
    with signing_home("docket-bench-history-") as (base, key):
        (base / "promote").mkdir()
        rows = promote_rows(base / "promote", key, past, count)
        (base / "freeze").mkdir()
        rows.extend(freeze_rows(base / "freeze", versions, count))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(" | ".join(row))
