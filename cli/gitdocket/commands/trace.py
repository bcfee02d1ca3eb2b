"""``gitdocket trace RELEASE``: every environment a release reached. Parsing and printing only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gitdocket.commands.output import at_option, emit, reader, table
from gitdocket.ops.session import Session
from gitdocket.ops.trace import parse_release, trace

__all__ = ["trace_command"]


def _left(row: dict[str, Any]) -> str:
    """How the release left the environment, in words."""
    if row["left"] == "active":
        return "active"
    words = f"{row['left']} {row['left_at']} by {', '.join(row['left_by'])}"
    if row["reason"]:
        words += f": {row['reason']}"
    if row["held"]:
        words += " (held)"
    return words


def _text(data: dict[str, Any]) -> None:
    for bundle_id, built in data["bundles"].items():
        verified = f", verified by {built['verified_by']}" if built["verified_by"] else ""
        click.echo(f"{bundle_id}: built {built['built_at']} by {built['built_by']}{verified}")
    if not data["reached"]:
        click.echo(f"{data['release']} has reached no environment")
        return
    rows = [
        (
            r["environment"],
            r["bundle_id"],
            r["how"] + (f" from {r['source_environment']}" if r["source_environment"] else ""),
            r["at"],
            ", ".join(r["by"]),
            r["gate_decision"] or "-",
            r["sequence"],
            _left(r),
        )
        for r in data["reached"]
    ]
    table(f"trace of {data['release']}", ["environment", "bundle", "how", "at", "by", "gate", "seq", "left"], rows)


@click.command("trace")
@click.argument("release", metavar="BUNDLE|ARCHETYPE@VERSION")
@at_option
@reader
def trace_command(release: str, repo: Path, rev: str | None, at: datetime | None, fmt: str) -> None:
    """Every environment RELEASE (a bundle, or ARCHETYPE@VERSION) reached, and how it left.

    Every environment RELEASE reached (a bundle id, or an archetype's version: every bundle that
    carries its package), oldest first: when, signed by whom, from which environment, with which
    gate decision, and how it left — rolled back (when, by whom, why; "held" while the rollback's
    hold is in force), replaced by a later promotion, or still active.
    """
    data = trace(Session(repo).view(rev, at), parse_release(release))
    emit(fmt, data, lambda: _text(data))
