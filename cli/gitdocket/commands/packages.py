"""``gitdocket package``: publish, withdraw, list and show packages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from gitdocket.commands.completion import archetypes, versions
from gitdocket.commands.output import at_option, emit_table, reader, reason_required
from gitdocket.commands.versions import show_current, version_write, versioned_states
from gitdocket.ops.session import Session

__all__ = ["package"]


@click.group()
def package() -> None:
    """Publish, withdraw, list and show packages."""


package.command(
    "publish",
    help="Publish frozen ARCHETYPE VERSION as a package (one atomic commit "
    "that also records the reference on the version; tag "
    "packages/<archetype>/v<version>).",
)(version_write("published", "gitdocket.ops.packages:publish"))
package.command("withdraw", help="Withdraw the package ARCHETYPE VERSION: blocks future installs, keeps history.")(
    reason_required(version_write("withdrew", "gitdocket.ops.packages:withdraw"))
)


@package.command("list")
@at_option
@reader
def package_list(repo: Path, rev: str | None, at: datetime | None, fmt: str) -> None:
    """List packages with their phase (at --at: those published by then, in the phase they were in)."""
    rows = [
        {
            "archetype": a,
            "version": v,
            "phase": state.get("phase"),
            "publisher": (state.get("manifest") or {}).get("publisher"),
        }
        for a, v, state in versioned_states(Session(repo).view(rev, at), "package", None)
    ]
    columns = {"archetype": "archetype", "version": "version", "phase": "phase", "publisher": "publisher"}
    emit_table(fmt, "packages", rows, columns)


@package.command("show")
@click.argument("archetype_name", metavar="ARCHETYPE", shell_complete=archetypes)
@click.argument("number", metavar="VERSION", shell_complete=versions)
@reader
def package_show(archetype_name: str, number: str, repo: Path, rev: str | None, fmt: str) -> None:
    """Show a package manifest (its current.json)."""
    show_current("package", archetype_name, number, repo, rev, fmt)
