"""Registry text reaches a page only as text: every escape is checked through Python-Markdown
with the extensions the site enables, so what the reader's browser gets is what is asserted."""

from __future__ import annotations

import html as html_module
import re
from html.parser import HTMLParser

import markdown
import pytest

from gitdocket.site.markup import attr, code, details, heading, table, text, xml

EXTENSIONS = ["admonition", "attr_list", "tables", "toc", "pymdownx.details", "pymdownx.superfences"]

HOSTILE = [
    pytest.param("<script>alert(1)</script>", id="script-tag"),
    pytest.param('<img src=x onerror="alert(1)">', id="img-onerror"),
    pytest.param("[click](javascript:alert(1))", id="markdown-js-link"),
    pytest.param("![x](https://evil.example/x.png)", id="markdown-external-image"),
    pytest.param("<https://evil.example>", id="autolink"),
    pytest.param("**bold** _em_ `code`", id="emphasis-and-code"),
    pytest.param("{: onclick=alert(1) }", id="attr-list"),
    pytest.param("| a | b |", id="table-pipes"),
    pytest.param("&lt;script&gt;", id="entities"),
    pytest.param("line one\n# heading\n- item\n\n<div>x</div>", id="line-breaks-and-blocks"),
    pytest.param("\x00\x1b[31mred\u2028next", id="control-characters"),
    pytest.param('"quoted" \\ backslash ~~strike~~ ^sup^', id="quotes-backslash-strike"),
]


def _html(source: str) -> str:
    return markdown.markdown(source, extensions=EXTENSIONS)


def _visible(html: str) -> str:
    """The text a browser shows: tags removed, entities decoded."""
    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


class _Tags(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("value", HOSTILE)
def test_text_renders_as_the_characters_typed(value: str) -> None:
    html = _html(f"Reason: {text(value)}")
    assert html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1
    tags = re.findall(r"<(\w+)", html)
    assert tags == ["p"], f"markup leaked: {html}"
    flat = " ".join(re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", value).split())
    assert " ".join(_visible(html).split()) == f"Reason: {flat}"


@pytest.mark.parametrize("value", HOSTILE)
def test_table_cells_hold_the_whole_value(value: str) -> None:
    html = _html(table(["a", "b"], [[text(value), "after"]]))
    assert html.count("<td>") == 2 and "<td>after</td>" in html
    assert re.findall(r"<(\w+)", html) == ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td"]


@pytest.mark.parametrize("value", HOSTILE)
def test_attributes_and_svg_text_are_escaped(value: str) -> None:
    for escaped in (attr(value), xml(value)):
        assert not set(escaped) & set('<>"'), escaped
    html = _html(f'<span title="{attr(value)}">x</span>')
    assert html.count("<span") == 1


@pytest.mark.parametrize("value", HOSTILE)
def test_code_headings_and_details_escape_too(value: str) -> None:
    html = _html(f"{heading(2, text(value), 'fixed-id')}\n\n{code(value)}\n\n{details(text(value), 'body')}")
    tags = _tags(html)
    assert {t for t, _ in tags} <= {"h2", "p", "code", "details", "summary"}, html
    assert [a for _, attrs in tags for a in attrs if a not in ("id", "class")] == [], html
    assert ("h2", {"id": "fixed-id"}) in tags


def test_empty_tables_say_so() -> None:
    assert table(["a"], []) == "_None._"
