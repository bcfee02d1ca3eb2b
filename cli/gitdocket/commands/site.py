"""``gitdocket site build``: the registry's documentation site, generated from a verified commit."""

from __future__ import annotations

from pathlib import Path

import click

from gitdocket.commands.output import emit, reader
from gitdocket.errors import StateError
from gitdocket.ops.session import Session
from gitdocket.ops.site import build_site

__all__ = ["site"]


@click.group()
def site() -> None:
    """The registry's site: every page generated from a verified commit."""


@site.command("build")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("site"),
    show_default=True,
    help="Folder to build the site into: new, empty, or a site gitdocket built before (replaced).",
)
@click.option(
    "--evidence",
    "evidence",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="JUNIT.xml",
    help="A JUnit XML test report (e.g. pytest --junitxml); the guarantees page maps its test cases to "
    "invariants. Repeat for several reports.",
)
@reader
def build(out: Path, evidence: tuple[Path, ...], rev: str | None, repo: Path, fmt: str) -> None:
    """Verify the registry and build its site (mkdocs-material, offline, opens from disk).

    A registry that fails `gitdocket verify` still gets its site, with a red banner on every page
    listing the findings, and the command exits 1. Needs the site extra: pip install
    'gitdocket[site]'.
    """
    done = build_site(Session(repo), out, evidence, rev)
    index = done.out.absolute() / "index.html"
    emit(
        fmt,
        {
            "ok": not done.findings,
            "out": str(done.out.absolute()),
            "index": str(index),
            "commit": done.commit,
            "pages": done.pages,
            "findings": len(done.findings),
        },
        lambda: click.echo(
            f"Built {done.pages} pages of commit {(done.commit or 'empty')[:12]} into {done.out}; open {index}"
        ),
    )
    if done.findings:
        raise StateError(
            f"the registry fails gitdocket verify: {len(done.findings)} finding(s); every page of the site shows them",
            "run `gitdocket verify` for the findings and their hints",
        )
