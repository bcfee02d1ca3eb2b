"""``gitdocket key``: create the ed25519 signing keys gitdocket (and git) sign with."""

from __future__ import annotations

from pathlib import Path

import click

from gitdocket.adapters.signing import create_key
from gitdocket.commands.output import emit, format_option

__all__ = ["key"]


@click.group()
def key() -> None:
    """Manage signing keys."""


@key.command("create")
@click.argument(
    "path", type=click.Path(dir_okay=False, path_type=Path), default=Path("~/.ssh/docket_ed25519").expanduser()
)
@click.option("--comment", default="gitdocket", show_default=True, help="Comment stored in the .pub file.")
@format_option
def key_create(path: Path, comment: str, fmt: str) -> None:
    """Create a new ed25519 key pair at PATH (private, mode 0600) and PATH.pub."""
    line = create_key(path, comment)
    emit(
        fmt,
        {"ok": True, "private_key": str(path), "public_key": line},
        lambda: click.echo(f"Created {path} and {path}.pub\n{line}"),
    )
