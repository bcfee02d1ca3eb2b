"""``gitdocket demo``: the whole flow on a throwaway registry, narrated (see ``gitdocket.demo``)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["demo"]


@click.command()
@click.option(
    "--dir",
    "directory",
    metavar="PATH",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the registry, keys and scratch files in PATH (new or empty). "
    "Default: a temporary folder, removed at the end.",
)
def demo(directory: Path | None) -> None:
    """Run the whole flow on a throwaway registry, narrated.

    Creates a key and a registry, adds the sample archetypes, freezes, publishes and retires
    versions, proves it all with `gitdocket verify` and `git verify-commit`, then tampers with a copy
    and shows verify catching it. Every step is the real command, echoed with its output.
    """
    from gitdocket.demo import run_demo

    run_demo(directory, click.echo)
