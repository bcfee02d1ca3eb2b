"""The registry's site: a pure renderer from one verified snapshot to Markdown pages, SVG
diagrams, a stylesheet and the ``mkdocs.yml`` that builds them (``adapters.mkdocs`` runs mkdocs).

``render_site(SiteInput) -> {path: bytes}`` is the whole interface: the same commit, findings
and evidence give the same bytes (no clock, no build time: times shown are the registry's own).
Every page starts with the verification banner (red, listing the findings, when the registry
fails ``gitdocket verify``). Registry text reaches pages only through ``markup``'s escapes.

What it does not do: read files, run mkdocs or verify anything itself; it imports only the pure
layers (``core``, ``lifecycles``, ``verify``).
"""

from __future__ import annotations

from gitdocket.errors import StateError
from gitdocket.site.badges import stylesheet
from gitdocket.site.config import NAV_LIMIT, SHIM, STYLESHEET, NavItem, mkdocs_yml
from gitdocket.site.pages import catalog, distribution, home, releases, rules, trust
from gitdocket.site.pages.common import Page, banner
from gitdocket.site.view import SiteInput, View

__all__ = ["SiteInput", "View", "render_pages", "render_site"]

_FAMILIES = (home, catalog, distribution, releases, trust, rules)
_WIDE = "---\nhide:\n  - toc\n---\n\n"
"""Front matter of a page of wide tables: Material hides its table of contents."""


def render_pages(view: View) -> list[Page]:
    """Every page, in a stable order."""
    return [page for family in _FAMILIES for page in family.pages(view)]


def _section(title: str, index: str, pages: dict[str, Page], folder: str) -> NavItem:
    children = [NavItem(p.title, p.path) for path, p in pages.items() if path.startswith(folder) and path != index]
    return NavItem(title, index, tuple(children) if len(children) <= NAV_LIMIT else ())


def _nav(pages: dict[str, Page]) -> list[NavItem]:
    lifecycles = [
        NavItem(p.title, p.path)
        for p in pages.values()
        if p.path.startswith("lifecycles/") and p.path != "lifecycles/index.md"
    ]
    return [
        NavItem("Home", "index.md"),
        _section("Environments", "environments/index.md", pages, "environments/"),
        _section("Archetypes", "archetypes/index.md", pages, "archetypes/"),
        NavItem("Versions", "versions.md"),
        NavItem("Fork tree", "forks.md"),
        NavItem("Packages", "packages.md"),
        _section("Projects", "projects/index.md", pages, "projects/"),
        _section("Bundles", "bundles/index.md", pages, "bundles/"),
        NavItem("Release gate", "gate.md"),
        NavItem("Trust policy", "policy.md"),
        NavItem("Guarantees", "guarantees.md"),
        NavItem("Lifecycles", "lifecycles/index.md", tuple(lifecycles)),
        NavItem("Badges", "badges.md"),
        NavItem("Verification", "verification.md"),
    ]


def _provenance_files(view: View) -> dict[str, bytes]:
    """The signed provenance of each environment's promotions, published as it is stored, for
    the environment pages to link (``docs/environments/<env>/provenance/<seq>.intoto.json``)."""
    out = {}
    for record in view.environments:
        env = record.scope.keys[0]
        for name in view.ctx.tree.listdir(f"deployments/{env}/provenance"):
            data = view.ctx.tree.read(f"deployments/{env}/provenance/{name}")
            if data is not None:
                out[f"docs/environments/{env}/provenance/{name}"] = data
    return out


def render_site(site: SiteInput) -> dict[str, bytes]:
    """``{path: bytes}`` of the mkdocs project: ``mkdocs.yml`` and everything under ``docs/``."""
    view = View(site)
    pages = {page.path: page for page in render_pages(view)}
    files = {
        f"docs/{path}": f"{_WIDE if page.wide else ''}{banner(view, path)}\n\n{page.body}\n".encode()
        for path, page in sorted(pages.items())
    }
    files["docs/" + STYLESHEET] = stylesheet().encode()
    files.update(_provenance_files(view))
    for name, data in sorted(site.assets.items()):
        files[f"docs/{name}"] = data
    if f"docs/{SHIM}" not in files:
        raise StateError(
            f"the site's asset {SHIM} is missing", "reinstall gitdocket: its site assets are packaged with it"
        )
    files["mkdocs.yml"] = mkdocs_yml(view.config.name, _nav(pages)).encode()
    return dict(sorted(files.items()))
