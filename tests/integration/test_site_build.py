"""``gitdocket site build`` end to end: a real registry, its verification, a real ``mkdocs build
--strict``; the site opens from disk, is the same bytes every time, carries a red banner on every
page when the registry fails verify, and bad input leaves everything as it was."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gitdocket.adapters import site_files
from tests.site_support import build_registry
from tests.support import isolated, run_cli

PAGES = {
    "index.html", "verification.html", "versions.html", "forks.html", "packages.html", "gate.html",
    "policy.html", "guarantees.html", "badges.html", "environments/index.html", "environments/preview.html",
    "environments/dev.html", "environments/staging.html", "environments/prod.html", "archetypes/index.html",
    "archetypes/support-triage.html", "archetypes/release-notes.html", "archetypes/triage-eu.html",
    "projects/index.html", "projects/acme.html", "bundles/index.html", "lifecycles/index.html",
    *(f"lifecycles/{k}.html" for k in
      ("policy", "archetype", "version", "package", "placement", "entitlement", "bundle", "environment")),
}  # fmt: skip


@pytest.fixture(scope="module")
def fixture_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site-build")
    with pytest.MonkeyPatch.context() as monkeypatch, isolated(root / "home", monkeypatch):
        return build_registry(root)


@pytest.fixture
def registry_copy(fixture_registry: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "registry"
    shutil.copytree(fixture_registry, copy, symlinks=True)
    return copy


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def _state(repo: Path) -> tuple[str, str]:
    """Every ref and the worktree's status: what a read-only command must leave alone."""
    return _git(repo, "show-ref"), _git(repo, "status", "--porcelain", "--ignored")


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_the_site_has_every_page_and_opens_from_disk(fixture_registry: Path, tmp_path: Path) -> None:
    before = _state(fixture_registry)
    out = tmp_path / "site"
    done = run_cli("site", "build", "--repo", fixture_registry, "--out", out, "--format", "json")
    assert done.code == 0, done.err
    report = done.json()
    assert report["ok"] is True and report["findings"] == 0 and report["index"] == str(out / "index.html")
    html = {p: d.decode() for p, d in _files(out).items() if p.endswith(".html")}
    assert set(html) >= PAGES, sorted(PAGES - set(html))
    assert sum(1 for p in html if p.startswith("bundles/")) == 3
    for page, text in html.items():
        if page == "404.html":
            continue  # a web server's error page, addressed from the site's root; never opened from disk
        links = re.findall(r'(?:href|src)="([^"]*)"', text)
        external = [u for u in links if re.match(r"^[a-z]+:", u) and not u.startswith("data:")]
        assert external == [], f"{page} links outside the site: {external}"
        # file:// opens files, not folders: every page link names an .html file (use_directory_urls off)
        folders = [u for u in links if u.split("#")[0].endswith("/")]
        assert folders == [], f"{page} links to folders: {folders}"
        for link in links:
            target = (out / page).parent / link.split("#")[0].split("?")[0]
            assert not link or link.startswith(("#", "data:")) or target.exists(), f"{page}: broken {link}"
    assert "fonts.googleapis.com" not in "".join(html.values())
    assert 'data-verify="ok"' in html["index.html"]
    assert _state(fixture_registry) == before


def test_the_same_commit_builds_the_same_bytes(fixture_registry: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    assert run_cli("site", "build", "--repo", fixture_registry, "--out", first).code == 0
    assert run_cli("site", "build", "--repo", fixture_registry, "--out", second).code == 0
    assert _files(first) == _files(second)
    assert b"<lastmod>" not in _files(first).get("sitemap.xml", b"") or b"2026-01-01" in _files(first)["sitemap.xml"]


def test_a_registry_that_fails_verify_gets_a_red_banner_on_every_page(registry_copy: Path, tmp_path: Path) -> None:
    frozen = registry_copy / "registry" / "versions" / "support-triage" / "1.0.0" / "method" / "instructions.md"
    frozen.write_text(frozen.read_text() + "\nquietly changed\n")
    _git(registry_copy, "commit", "--quiet", "--no-verify", "-am", "edit a frozen snapshot")
    out = tmp_path / "site"
    done = run_cli("site", "build", "--repo", registry_copy, "--out", out)
    assert done.code == 1
    assert done.err.startswith("error: the registry fails gitdocket verify: 1 finding(s)")
    assert len(done.err.strip().splitlines()) == 2  # error + hint
    pages = {p: d.decode() for p, d in _files(out).items() if p.endswith(".html") and p != "404.html"}
    assert pages and all('data-verify="failed"' in text and "SNAPSHOT_MISMATCH" in text for text in pages.values())
    assert "quietly" not in "".join(pages.values())  # the method's contents are never published
    assert 'data-state="verify:failed"' in pages["verification.html"]


def test_an_older_commit_is_built_with_rev(fixture_registry: Path, tmp_path: Path) -> None:
    old = _git(fixture_registry, "rev-parse", "HEAD~1").strip()
    done = run_cli("site", "build", "--repo", fixture_registry, "--out", tmp_path / "old", "--rev", "HEAD~1")
    assert done.code == 0, done.err
    index = (tmp_path / "old" / "index.html").read_text()
    assert old in index
    assert "Rolled back" not in index.split("What is deployed where")[1].split("</table>")[0]


def test_a_rebuild_replaces_the_site_it_built(fixture_registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run_cli("site", "build", "--repo", fixture_registry, "--out", out).code == 0
    (out / "stale.html").write_text("old")
    assert run_cli("site", "build", "--repo", fixture_registry, "--out", out).code == 0
    assert not (out / "stale.html").exists() and (out / site_files.MARKER).is_file()


@pytest.mark.parametrize(
    ("setup", "args", "code", "message"),
    [
        pytest.param(
            None, ("--evidence", "{tmp}/missing.xml"), 2, "{tmp}/missing.xml: no such file", id="missing-junit",
        ),
        pytest.param(
            ("bad.xml", "<testsuites><testcase"), ("--evidence", "{tmp}/bad.xml"), 2,
            "{tmp}/bad.xml: not a JUnit XML report (XML error", id="malformed-junit",
        ),
        pytest.param(
            ("notes.txt", "mine"), ("--out", "{tmp}/notes.txt"), 2, "{tmp}/notes.txt: exists and is not a folder",
            id="out-is-a-file",
        ),
        pytest.param(
            ("mine/keep.txt", "mine"), ("--out", "{tmp}/mine"), 2,
            "{tmp}/mine: a folder that holds something other than a gitdocket site", id="out-is-someone-elses-folder",
        ),
        pytest.param(None, ("--rev", "no-such-rev"), 2, "'no-such-rev' names no commit", id="unknown-rev"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_changes_nothing(
    fixture_registry: Path,
    tmp_path: Path,
    setup: tuple[str, str] | None,
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    if setup is not None:
        path = tmp_path / setup[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(setup[1])
    before = _state(fixture_registry), _files(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = [] if "--out" in argv else ["--out", str(tmp_path / "site")]
    done = run_cli("site", "build", "--repo", fixture_registry, *out, *argv)
    assert done.code == code, done.err
    lines = done.err.strip().splitlines()
    assert lines[0].startswith("error: " + message.replace("{tmp}", str(tmp_path))), lines
    assert len(lines) == 2 and lines[1].startswith("hint: ")
    assert "Traceback" not in done.err
    assert (_state(fixture_registry), _files(tmp_path)) == before


def test_without_the_site_extra_the_error_names_the_install(
    fixture_registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = site_files.importlib.util.find_spec
    monkeypatch.setattr(
        site_files.importlib.util, "find_spec", lambda name, *a: None if name == "material" else real(name, *a)
    )
    done = run_cli("site", "build", "--repo", fixture_registry, "--out", tmp_path / "site")
    assert done.code == 1
    assert done.err.splitlines() == [
        "error: gitdocket site build needs mkdocs-material, which is not installed",
        "hint: install the site tools: pip install 'gitdocket[site]'",
    ]
    assert not (tmp_path / "site").exists()


def test_a_badly_broken_registry_still_gets_its_bannered_site(registry_copy: Path, tmp_path: Path) -> None:
    """Deleted scopes, a document that does not parse, a truncated log, an edited current.json,
    a missing log: every page still renders (what it can) under the banner, without a traceback."""
    bundle = next(p.name for p in (registry_copy / "bundles").iterdir() if p.name.startswith("pr-preview-"))
    _git(registry_copy, "rm", "-rq", f"bundles/{bundle}", "registry/placements/acme/triage/history.jsonl")
    (registry_copy / "registry" / "archetypes" / "release-notes" / "archetype.yaml").write_text("name: [broken\n")
    log = registry_copy / "registry" / "versions" / "support-triage" / "1.1.0" / "history.jsonl"
    log.write_bytes(log.read_bytes()[:100])
    (registry_copy / "registry" / "packages" / "support-triage" / "1.0.0" / "current.json").write_text("{}\n")
    _git(registry_copy, "commit", "--quiet", "--no-verify", "-am", "break things")
    done = run_cli("site", "build", "--repo", registry_copy, "--out", tmp_path / "site")
    assert done.code == 1 and "Traceback" not in done.err
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'data-verify="failed"' in index and f"<code>{bundle}</code> (missing)" in html.unescape(index)
    assert (tmp_path / "site" / "archetypes" / "release-notes.html").is_file()
