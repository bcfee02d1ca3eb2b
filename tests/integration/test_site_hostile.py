"""Hostile text in every free-text field of a registry — names, titles, descriptions, reasons,
notes, context, config values, terms, receipts, instructions — reaches the built site as text,
never as HTML, script or Markdown."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from tests.site_support import HOSTILE_WORDS, build_registry
from tests.support import isolated, run_cli

PAYLOAD = HOSTILE_WORDS.title


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, _Elements]:
    root = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as monkeypatch, isolated(root / "home", monkeypatch):
        registry = build_registry(root, HOSTILE_WORDS)
        done = run_cli("site", "build", "--repo", registry, "--out", root / "site")
        assert done.code == 0, done.err
    pages = {}
    for page in sorted((root / "site").rglob("*.html")):
        parser = _Elements()
        parser.feed(page.read_text())
        pages[page.relative_to(root / "site").as_posix()] = parser
    return pages


def test_no_page_gains_an_element_attribute_or_script_from_registry_text(hostile_site: dict[str, _Elements]) -> None:
    for page, parsed in hostile_site.items():
        for tag, attrs in parsed.elements:
            handlers = [a for a in attrs if a.startswith("on")]
            assert handlers == [], f"{page}: <{tag}> has {handlers}"
            for name in ("href", "src", "action", "formaction"):
                value = (attrs.get(name) or "").strip().lower()
                assert not value.startswith(("javascript:", "vbscript:")), f"{page}: {name}={value}"
            assert not (tag == "img" and attrs.get("src") == "x"), page
        assert not [s for s in parsed.scripts if "alert(" in s], page


@pytest.mark.parametrize(
    ("page", "field"),
    [
        pytest.param("archetypes/support-triage.html", HOSTILE_WORDS.title, id="archetype-title"),
        pytest.param("archetypes/support-triage.html", HOSTILE_WORDS.description, id="archetype-description"),
        pytest.param("archetypes/support-triage.html", HOSTILE_WORDS.tag, id="archetype-tag"),
        pytest.param("archetypes/support-triage.html", HOSTILE_WORDS.retire_reason, id="retire-reason"),
        pytest.param("archetypes/support-triage.html", HOSTILE_WORDS.terms, id="crossing-terms"),
        pytest.param("packages.html", HOSTILE_WORDS.withdraw_reason, id="withdraw-reason"),
        pytest.param("projects/acme.html", HOSTILE_WORDS.notes, id="placement-notes"),
        pytest.param("projects/acme.html", HOSTILE_WORDS.context, id="placement-context"),
        pytest.param("projects/acme.html", HOSTILE_WORDS.config_value, id="placement-config"),
        pytest.param("projects/acme.html", HOSTILE_WORDS.receipt, id="receipt-reference"),
        pytest.param("environments/prod.html", HOSTILE_WORDS.rollback_reason, id="rollback-reason"),
        pytest.param("index.html", HOSTILE_WORDS.registry_name, id="registry-name"),
    ],
)
def test_the_text_is_shown_as_typed(hostile_site: dict[str, _Elements], page: str, field: str) -> None:
    shown = " ".join("".join(hostile_site[page].text).split())
    assert " ".join(field.split()) in shown


def test_the_method_is_not_published(hostile_site: dict[str, _Elements]) -> None:
    """The instructions are the vendor's method: the site proves them by hash, never shows them."""
    for parsed in hostile_site.values():
        assert HOSTILE_WORDS.instructions not in "".join(parsed.text)


def test_titles_and_headings_carry_no_markup(hostile_site: dict[str, _Elements]) -> None:
    for page, parsed in hostile_site.items():
        titles = [t for t, _ in parsed.elements if t in ("title", "h1")]
        assert titles, page
    raw = html.unescape(re.sub(r"\s+", " ", " ".join(hostile_site["index.html"].text)))
    assert "<script>" in raw  # shown, as text
