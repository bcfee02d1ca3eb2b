"""``gitdocket release``: freeze and publish a version in one commit."""

from __future__ import annotations

from pathlib import Path

import click

from gitdocket.commands.completion import archetypes, versions
from gitdocket.commands.output import done, writer
from gitdocket.commands.plans import dry_run_option
from gitdocket.core.scopes import check_name, check_version
from gitdocket.ops.releases import release as release_op
from gitdocket.ops.session import Session

__all__ = ["release"]


@click.command("release")
@click.argument("archetype_name", metavar="ARCHETYPE", shell_complete=archetypes)
@click.argument("number", metavar="VERSION", shell_complete=versions)
@click.option(
    "--auto-upgrade",
    "auto",
    is_flag=True,
    help="Also upgrade the placements whose holders opted in (placement edit --auto-upgrade on).",
)
@dry_run_option
@writer
def release(archetype_name: str, number: str, auto: bool, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Freeze and publish ARCHETYPE VERSION in one atomic commit (owners)."""
    check_name(archetype_name, "archetype name")
    check_version(number)
    result, released = Session(repo, keys).write(
        f"docket: release {archetype_name} {number}",
        lambda tx: release_op(tx, archetype_name, number, auto),
    )
    moved = f"; auto-upgraded {', '.join(released.upgraded)}" if released.upgraded else ""
    done(
        fmt,
        f"Released {archetype_name} {number} ({released.content_hash}){moved}",
        result.commit,
        {
            "archetype": archetype_name,
            "version": number,
            "content_hash": released.content_hash,
            "upgraded": list(released.upgraded),
            "tags": list(result.tags),
        },
        result.notes,
    )
