"""The documentation site builds offline with `mkdocs build --strict` (what `make docs` runs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def test_docs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--quiet",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr + done.stdout
    for page in (
        "index.html",
        "concepts.html",
        "cli.html",
        "adr/0001-one-signed-scope-log.html",
        "search/search_index.js",
    ):
        assert (site / page).is_file(), page
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in index  # theme.font: false keeps the site offline
    assert "The git repository is the database" in index
    # Opened from disk, a link to a folder shows a directory listing: every link names a file.
    for html in site.rglob("*.html"):
        if html.name == "404.html":
            continue
        links = re.findall(r'href="([^"#]*)', html.read_text(encoding="utf-8"))
        assert [u for u in links if u.endswith("/") and not re.match(r"^[a-z]+:", u)] == [], html
    assert 'src="javascripts/iframe-worker-shim.js"' in index  # search from file://, without a CDN


def test_the_docs_ship_the_same_search_shim_as_registry_sites() -> None:
    shipped = ROOT / "cli" / "gitdocket" / "site" / "assets" / "iframe-worker-shim.js"
    assert (ROOT / "docs" / "javascripts" / "iframe-worker-shim.js").read_bytes() == shipped.read_bytes()
