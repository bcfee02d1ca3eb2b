"""``gitdocket promote --batch FILE``: a promotion batch (``promotion_batch_v1``) in one signed
commit. Parsing and printing only; ``ops.batches`` decides."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from gitdocket.adapters.files import MAX_FILE_BYTES, load_yaml, read_file
from gitdocket.commands.output import emit
from gitdocket.core.batches import PromotionBatch
from gitdocket.core.documents import PromotionReport, parse_document
from gitdocket.lifecycles.gate import Evidence
from gitdocket.ops.batches import promote_batch, steps_of
from gitdocket.ops.environments import PromoteOutcome
from gitdocket.ops.session import Session

__all__ = ["run_batch"]


def run_batch(
    path: Path,
    session: Session,
    evidence: Mapping[str, Evidence],
    keep: Callable[[PromotionReport], str],
    report_step: Callable[[str, PromoteOutcome], dict[str, Any]],
    fmt: str,
) -> None:
    """Read, expand and promote the batch at ``path`` in one write; print each step as
    ``promote`` does, then the batch."""
    raw = read_file(path, MAX_FILE_BYTES, "pass a promotion batch file (promotion_batch_v1, YAML or JSON)")
    batch = parse_document(PromotionBatch, raw, str(path), load_yaml)
    requests = steps_of(session.snapshot(), batch, evidence, str(path))
    data: dict[str, Any] = {"ok": True, "batch": batch.batch, "steps": []}
    if not requests:
        emit(fmt, data, lambda: click.echo(f"batch {batch.batch}: every bundle is already where it names"))
        return
    result, outcomes = session.write(
        f"docket: promote batch {batch.batch} ({len(requests)} steps)",
        lambda tx: promote_batch(tx, batch.batch, requests, keep),
    )
    data["commit"] = result.commit
    data["steps"] = [report_step(result.commit, outcome) for outcome in outcomes]
    emit(
        fmt,
        data,
        lambda: click.echo(f"Promoted batch {batch.batch}: {len(outcomes)} steps in commit {result.commit[:12]}"),
    )
