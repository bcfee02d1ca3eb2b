"""``docket demo``: the whole flow on a throwaway registry, narrated (see ``docket.demo``)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["demo"]


@click.command()
@click.option("--dir", "directory", metavar="PATH",
              type=click.Path(file_okay=False, path_type=Path),
              help="Keep the registry, keys and scratch files in PATH (new or empty). "
                   "Default: a temporary folder, removed at the end.")
def demo(directory: Path | None) -> None:
    """Run the whole flow on a fresh registry, narrated: keys, policy, archetypes, versions,
    packages, verify, and tampering that verify catches."""
    from docket.demo import run_demo

    run_demo(directory, click.echo)
