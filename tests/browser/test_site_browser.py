"""The registry's site in a real browser, opened from disk (``file://``): navigation, search,
diagrams and timelines as visible SVG, badges, hostile text. The visit fixture fails a test on any
request that leaves the machine, any console error and any dialog."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdocket.site.badges import TONES
from tests.browser.conftest import Visit
from tests.site_support import HOSTILE_WORDS

# One worker runs every browser test (make test: -n 2 --dist loadgroup), so each site is built once.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _h1(visit: Visit) -> str:
    return visit.page.locator("article h1").inner_text().removesuffix("¶")


def _rgb(colour: str) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def test_navigation_from_home_to_an_archetype_a_version_and_an_environment(demo_site: Path, visit: Visit) -> None:
    page = visit.page
    visit.open(demo_site, "index.html")
    assert _h1(visit) == "acme-registry"
    visit.shot("home")
    page.locator("article").get_by_role("link", name="Archetypes", exact=True).click()
    assert page.url.endswith("/archetypes/index.html")
    page.locator("article").get_by_role("link", name="support-triage", exact=True).first.click()
    assert page.url.endswith("/archetypes/support-triage.html")
    assert _h1(visit) == "support-triage"
    visit.shot("archetype")
    page.locator("article table").first.get_by_role("link", name="1.0.0", exact=True).click()
    assert page.url.endswith("/archetypes/support-triage.html#v-1-0-0")
    section = page.locator("#v-1-0-0")
    assert section.is_visible() and section.evaluate("e => e.getBoundingClientRect().top") < 300
    assert page.get_by_text("Frozen snapshot manifest").first.is_visible()
    page.locator("nav.md-nav--primary").get_by_role("link", name="prod", exact=True).click()
    assert page.url.endswith("/environments/prod.html")
    assert _h1(visit) == "prod"
    visit.shot("environment")
    assert all(u.startswith("file://") for u in visit.requests)


def test_search_finds_an_archetype_from_disk(demo_site: Path, visit: Visit) -> None:
    page = visit.page
    visit.open(demo_site, "index.html")
    field = page.locator("input.md-search__input")
    field.click()
    field.press_sequentially("release-notes", delay=20)  # Material listens for key events, not fill()
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=15000)
    assert "release-notes" in results.first.inner_text()
    visit.shot("search")
    results.first.locator("a").first.click()
    assert "/archetypes/release-notes.html" in page.url


@pytest.mark.parametrize(
    ("path", "svg", "labels"),
    [
        pytest.param(
            "lifecycles/version.html", "#svg-lifecycle-version", ["freeze", "retire", "publish a package"],
            id="version-lifecycle",
        ),
        pytest.param(
            "lifecycles/entitlement.html", "#svg-lifecycle-entitlement", ["activate", "suspend", "resume"],
            id="entitlement-lifecycle",
        ),
        pytest.param("environments/prod.html", "#svg-timeline-prod", ["↺ rollback", "#1", "go"], id="prod-timeline"),
        pytest.param("environments/index.html", "#svg-stages", ["a build", "prod (gated)"], id="stage-graph"),
    ],
)  # fmt: skip
def test_diagrams_and_timelines_are_visible_svg(
    demo_site: Path, visit: Visit, path: str, svg: str, labels: list[str]
) -> None:
    visit.open(demo_site, path)
    drawing = visit.page.locator(svg)
    assert drawing.is_visible()
    box = drawing.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 50
    texts = drawing.locator("text").all_text_contents()
    for label in labels:
        assert label in texts, (label, texts)
    visit.shot(path.replace("/", "-").removesuffix(".html"))


def test_the_timeline_marks_the_rollback_and_its_reason(demo_site: Path, visit: Visit) -> None:
    visit.open(demo_site, "environments/prod.html")
    timeline = visit.page.locator("#svg-timeline-prod")
    assert timeline.locator('g.docket-event[data-type="rolled_back"]').count() == 1
    assert timeline.locator('g.docket-event[data-type="promoted"]').count() >= 2
    note = timeline.locator("g.docket-rollback-note text").text_content() or ""
    assert "canary error rate doubled after the switch" in note


def test_badges_show_the_right_states(demo_site: Path, visit: Visit) -> None:
    page = visit.page
    visit.open(demo_site, "index.html")
    rows = page.locator("article table").first.locator("tbody tr")
    states = [r.locator(".docket-badge").first.get_attribute("data-state") for r in rows.all()]
    assert states == ["environment:active"] * 3 + ["environment:rolled-back"]
    rolled = rows.nth(3).locator(".docket-badge").first
    assert rolled.inner_text() == "Rolled back"
    style = rolled.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert style == [_rgb(TONES["warn"][0]), _rgb(TONES["warn"][1])]
    icon = rolled.evaluate(
        "e => getComputedStyle(e, '::before').maskImage || getComputedStyle(e, '::before').webkitMaskImage"
    )
    assert icon.startswith('url("data:image/svg+xml')
    visit.open(demo_site, "archetypes/support-triage.html")
    phases = page.locator("article table").first.locator('.docket-badge[data-state^="version:"]').all_inner_texts()
    # 1.0.0 and 1.1.0 published, 1.2.0 retired, 1.3.0 frozen with a security approval (never
    # published), then the clients act's releases.
    assert phases[:5] == ["Packaged", "Packaged", "Retired", "Frozen", "Packaged"]
    visit.open(demo_site, "guarantees.html")
    rows = page.locator("article table tbody tr")
    assert rows.locator('[data-state="held:violated"]').count() == 0
    assert rows.locator('[data-state="held:held"]').count() == rows.count() > 60
    visit.shot("guarantees")


@pytest.mark.parametrize(
    "path",
    ["index.html", "archetypes/support-triage.html", "projects/acme.html", "environments/prod.html", "packages.html"],
)
def test_hostile_text_is_shown_never_run(hostile_site: Path, visit: Visit, path: str) -> None:
    page = visit.page
    visit.open(hostile_site, path)
    article = page.locator("article")
    assert article.locator("img[src='x'], iframe, a[href^='javascript']").count() == 0
    assert page.evaluate("() => document.querySelectorAll('[onerror],[onclick]').length") == 0
    assert '<script>alert("x")</script>' in article.inner_text()
    assert HOSTILE_WORDS.instructions not in page.content()
