"""``gitdocket provenance``: check the signed provenance of a promoted release offline."""

from __future__ import annotations

from pathlib import Path

import click

from gitdocket.adapters.store import GitRefs
from gitdocket.commands.output import emit, reader
from gitdocket.errors import TrustError
from gitdocket.ops import provenance as provenance_ops
from gitdocket.ops.session import Session

__all__ = ["provenance"]


@click.group()
def provenance() -> None:
    """The in-toto / SLSA provenance each promotion records (docs/provenance.md)."""


@provenance.command("verify")
@click.argument("bundle_id", metavar="BUNDLE")
@click.option("--env", "environment", required=True, metavar="ENV", help="The environment BUNDLE was promoted to.")
@reader
def provenance_verify(bundle_id: str, environment: str, repo: Path, rev: str | None, fmt: str) -> None:
    """Check the provenance of BUNDLE's latest promotion to ENV, offline: an in-toto Statement
    (SLSA provenance v1) in a DSSE envelope, signed by the promoter, that states exactly what the
    registry records (bundle, packages, builder, gate report, approvals) and a registry commit
    of this history. Exits 1 when it does not hold."""
    tree = Session(repo).snapshot(rev)
    refs = GitRefs(tree.repo)
    head = tree.commit or ""
    found = provenance_ops.check(
        tree, environment, bundle_id, lambda commit: bool(commit) and refs.reaches(head, commit)
    )
    data = {
        "ok": not found.problems,
        "environment": found.environment,
        "bundle_id": found.bundle_id,
        "sequence": found.sequence,
        "path": found.path,
        "registry_commit": found.registry_commit,
        "problems": list(found.problems),
    }
    if found.problems:
        emit(fmt, data, lambda: None)
        raise TrustError(
            f"provenance of {bundle_id} in {environment}: {found.problems[0]}"
            + (f" (and {len(found.problems) - 1} more)" if len(found.problems) > 1 else ""),
            "the provenance is written by `gitdocket promote`; restore it from git history, or promote again",
        )
    emit(
        fmt,
        data,
        lambda: click.echo(
            f"provenance of {bundle_id} in {environment} (promotion {found.sequence}): OK — "
            f"signed by the promoter, built from commit {found.registry_commit[:12]} ({found.path})"
        ),
    )
