"""Building the site of one registry commit: verify it, read the test evidence, render the pages
(``gitdocket.site``, pure) and run mkdocs (``adapters.site_files``).

A site is never built silently from a registry that fails verify: the findings go into the
pages (a red banner on every one, the verification page lists them all) and into the result,
and the command exits non-zero. Read-only: nothing in the repository changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitdocket.adapters.files import load_yaml
from gitdocket.adapters.forking import forked
from gitdocket.adapters.keyless import keyless_check
from gitdocket.adapters.site_files import build, read_evidence, require_mkdocs, site_assets
from gitdocket.adapters.store import GitRefs
from gitdocket.lifecycles import INVARIANTS
from gitdocket.ops.session import Session
from gitdocket.site import SiteInput, render_site
from gitdocket.site.evidence import TestRun, parse_junit
from gitdocket.verify import Context, Finding, verify_context
from gitdocket.verify.tags import split_missing

__all__ = ["SiteBuild", "build_site", "site_input"]


@dataclass(frozen=True)
class SiteBuild:
    out: Path
    commit: str | None
    findings: tuple[Finding, ...]
    pages: int


def read_runs(paths: Sequence[Path]) -> list[TestRun]:
    return [parse_junit(read_evidence(path), str(path), INVARIANTS) for path in paths]


def site_input(session: Session, evidence: Sequence[Path] = (), rev: str | None = None) -> SiteInput:
    """Verify the commit ``rev`` (default: what is checked out) and gather what its site shows."""
    runs = read_runs(evidence)  # bad evidence is refused before any long work
    tree = session.snapshot(rev)
    refs = GitRefs(session.store.repo)
    ctx = Context(tree, refs, forked, parse_yaml=load_yaml, keyless=keyless_check)
    findings, _ = split_missing(verify_context(ctx), require_tags=False)  # a tag not synced yet is drift
    return SiteInput(ctx, tuple(findings), tree.commit, tree.committed_at, refs.tags(), tuple(runs), site_assets())


def build_site(session: Session, out: Path, evidence: Sequence[Path] = (), rev: str | None = None) -> SiteBuild:
    require_mkdocs()
    site = site_input(session, evidence, rev)
    files = render_site(site)
    epoch = int(site.committed_at.timestamp()) if site.committed_at else 0
    pages = build(files, out, epoch)
    return SiteBuild(out, site.commit, tuple(site.findings), pages)
