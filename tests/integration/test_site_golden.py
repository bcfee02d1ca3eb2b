"""The site's pages are golden files: the renderer's output for the fixture registry of
``tests/site_support.build_registry`` (deterministic keys and clock) is compared byte for byte
with ``tests/data/golden/site``. Regenerate them with ``pytest --update-golden`` (never by hand)
and review the diff: it is what a reader of the site will see change."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdocket.adapters.site_files import ASSETS
from gitdocket.site import render_site
from tests.site_support import GOLDEN, build_registry, demo_input
from tests.support import isolated

SHIPPED = {f"docs/{name}" for name in ASSETS}
"""Assets shipped as they are (vendored files, not rendered output)."""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("golden")
    with pytest.MonkeyPatch.context() as monkeypatch, isolated(root / "home", monkeypatch):
        site = demo_input(build_registry(root))
        assert site.findings == ()  # the fixture registry verifies clean
        files = render_site(site)
        assert render_site(demo_input(root / "registry")) == files  # the same bytes twice
    return {path: data for path, data in files.items() if path not in SHIPPED}


def test_pages_match_the_golden_files(rendered: dict[str, bytes], request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--update-golden"):
        for stale in GOLDEN.rglob("*"):
            if stale.is_file() and stale.relative_to(GOLDEN).as_posix() not in rendered:
                stale.unlink()
        for path, data in rendered.items():
            target = GOLDEN / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    golden = {p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in GOLDEN.rglob("*") if p.is_file()}
    assert sorted(golden) == sorted(rendered), "pages added or removed: run pytest --update-golden and review"
    changed = [path for path, data in rendered.items() if golden[path] != data]
    assert not changed, f"pages differ from tests/data/golden/site: {changed}; run pytest --update-golden and review"


def test_golden_pages_name_the_records_they_show(rendered: dict[str, bytes]) -> None:
    """A spot check that the golden files are the registry, not an empty shell."""
    home = rendered["docs/index.md"].decode()
    assert "acme-registry" in home and "Rolled back" in home
    triage = rendered["docs/archetypes/support-triage.md"].decode()
    for fact in ("{ #v-1-0-0 }", "Frozen snapshot manifest", "instructions.md", 'data-state="version:retired"'):
        assert fact in triage, fact
    assert Path("docs/environments/prod.md").as_posix() in rendered
