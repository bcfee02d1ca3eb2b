"""Demo step: the registry's site, the last act (after the finale has verified everything).

``gitdocket site build`` verifies the registry and renders every page from it; the demo says
where to open it. Without the site extra the step says how to add it instead of failing: the
rest of the demo needs none of it.
"""

from __future__ import annotations

from gitdocket.adapters.site_files import INSTALL_HINT, require_mkdocs
from gitdocket.demo import Demo
from gitdocket.errors import StateError

__all__ = ["run"]


def run(demo: Demo) -> None:
    demo.say(
        "Last, the registry's site: every page generated from the verified commit — what is deployed "
        "where, every archetype and version, the promotion timelines, the guarantees. It opens from disk."
    )
    try:
        require_mkdocs()
    except StateError:
        demo.echo(f"# (skipped: {INSTALL_HINT})")
        return
    demo.run("site", "build", "--out", str(demo.site))
