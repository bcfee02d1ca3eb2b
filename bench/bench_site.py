"""Site rows of ``make bench`` (design §9: site generation for 1,000 archetypes < 10 s before
mkdocs). The registry is the scale fixture (1,000 archetypes, 10,000 frozen versions, one package
each) with two verified bundles promoted ``rounds`` times through each of the four environments
(4 × 1,000 promotions in one signed commit, as ``bench_releases`` does).

Rows: verifying and reading the commit (``ops.site.site_input``: the verification every site
build starts with), rendering every page (the pure renderer, best of three: the budget), and
``mkdocs build --strict`` of the result (information: mkdocs is not ours)."""

from __future__ import annotations

import time
from pathlib import Path

from bench_releases import _promote_many, scratch_mirror, verified_bundles
from fixtures import FixtureInfo

from gitdocket.adapters.site_files import build
from gitdocket.demo.releases import write_evidence
from gitdocket.ops.session import Session
from gitdocket.ops.site import site_input
from gitdocket.site import render_site

__all__ = ["RENDER_BUDGET_S", "run"]

Row = tuple[str, str, str, str]
RENDER_BUDGET_S = 10.0


def run(info: FixtureInfo, quick: bool) -> list[Row]:
    rounds = 100 if quick else 1000
    size = f"{info.archetypes:,} archetypes / {info.versions:,} versions / 4 × {rounds:,} promotions"
    with scratch_mirror(Path(info.path), Path(info.key), "site") as (base, repo):
        # Two verified bundles, promoted ``rounds`` times per environment.
        _promote_many(repo, verified_bundles(repo, write_evidence(base / "evidence")), rounds)
        started = time.perf_counter()
        site = site_input(Session(repo))
        read = time.perf_counter() - started
        if site.findings:
            return [(f"site of {size}", f"{len(site.findings)} findings", "—", "FAIL")]
        render = float("inf")
        for _ in range(1 if quick else 3):
            started = time.perf_counter()
            files = render_site(site)
            render = min(render, time.perf_counter() - started)
        pages = sum(1 for name in files if name.endswith(".md"))
        epoch = int(site.committed_at.timestamp()) if site.committed_at else 0
        started = time.perf_counter()
        built = build(files, base / "out", epoch)
        mkdocs = time.perf_counter() - started
    verdict = "ok" if render < RENDER_BUDGET_S else "OVER"
    return [
        (f"site: verify and read the commit, {size}", f"{read:.2f} s", "—", "info"),
        (
            f"site generation before mkdocs ({pages:,} pages), {size}",
            f"{render:.2f} s",
            f"< {RENDER_BUDGET_S:.0f} s",
            verdict,
        ),
        (f"site: mkdocs build --strict ({built:,} HTML pages)", f"{mkdocs:.1f} s", "—", "info"),
    ]
