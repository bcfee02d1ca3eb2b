"""Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright; never ``playwright
install``) over sites built once per session: the demo's registry, and the fixture registry with
hostile text in every field. Every visit records each request and console message; a test fails
when a request leaves the machine, the console reports an error, or a page opens a dialog.
Screenshots are kept in ``build/screenshots/`` (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from gitdocket.demo.releases import ROLLBACK_DAY
from tests.site_support import HOSTILE_WORDS, build_demo, build_registry
from tests.support import ROOT, isolated, run_cli

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
LOCAL = ("file:", "data:", "blob:", "about:")
# Material renders nothing in a closed shadow root here, but Chromium extensions and other
# defaults must stay out of the way: no background networking, no component updates.
ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def _site(root: Path, registry: Path) -> Path:
    done = run_cli("site", "build", "--repo", registry, "--out", root / "site")
    assert done.code == 0, done.err
    return root / "site"


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo-site")
    registry = build_demo(root)
    with pytest.MonkeyPatch.context() as monkeypatch, isolated(root / "home", monkeypatch):
        monkeypatch.setenv("GITDOCKET_NOW", ROLLBACK_DAY)  # the demo's clock ends on its last day
        return _site(root, registry)


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-site")
    with pytest.MonkeyPatch.context() as monkeypatch, isolated(root / "home", monkeypatch):
        return _site(root, build_registry(root, HOSTILE_WORDS))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Debian's Chromium at {CHROMIUM}: `make system-deps` installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@dataclass
class Visit:
    """One browser tab and everything it did."""

    page: Page
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, site: Path, path: str) -> None:
        self.page.goto((site / path).as_uri(), wait_until="load")

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target


@pytest.fixture
def visit(chromium: Browser) -> Iterator[Visit]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Visit(page)

    def route(request_route):  # type: ignore[no-untyped-def]
        seen.blocked.append(request_route.request.url)
        request_route.abort()

    # Anything addressed over the network is refused and recorded; files are read from disk.
    context.route("http://*/**", route)
    context.route("https://*/**", route)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    yield seen
    context.close()
    assert seen.blocked == [], f"requests left the machine: {seen.blocked}"
    assert [u for u in seen.requests if not u.startswith(LOCAL)] == []
    assert seen.errors == [], f"console errors: {seen.errors}"
    assert seen.dialogs == [], f"dialogs opened: {seen.dialogs}"
