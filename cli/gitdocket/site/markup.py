"""Markdown and HTML built from values, with every piece of registry text escaped.

Everything the registry holds that a person typed (titles, descriptions, reasons, notes, terms,
receipts, owners, file names) reaches a page only through ``text`` (or ``attr`` inside an HTML
attribute, ``xml`` inside SVG): HTML's specials become entities and Markdown's specials become
numeric character references, so ``<script>``, ``[link](javascript:…)``, ``**bold**``,
``{: onclick=…}`` and ``| cell`` all show as the characters typed, never as markup. Line breaks
become spaces: a value never starts a block of its own.

What it does not do: decide what a page says (``site.pages``), or trust any input to be safe
because a name pattern already checked it — names go through ``text`` like everything else.
Pure.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

__all__ = [
    "anchor",
    "attr",
    "bullet_list",
    "code",
    "details",
    "heading",
    "identifier",
    "link",
    "table",
    "text",
    "xml",
]

# Every ASCII character that Markdown, the extensions the site enables (``config.py``: attr_list,
# tables, admonitions and details, superfences, toc) or HTML give a meaning to, as a numeric
# character reference. Enabling another extension (emoji, arithmatex, ...) needs its characters here.
_SPECIALS = '\\`*_{}[]()#+!|<>&"~^'
_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in _SPECIALS})
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _flat(value: object) -> str:
    """``value`` as one line: control characters and line breaks become one space."""
    return _CONTROL.sub(" ", str(value)).strip()


def text(value: object) -> str:
    """``value`` as literal text inside Markdown (a paragraph, a table cell, a link's label)."""
    return _flat(value).translate(_ESCAPES)


def attr(value: object) -> str:
    """``value`` inside a double-quoted HTML attribute (raw inline HTML is not Markdown)."""
    return html.escape(_flat(value), quote=True)


def xml(value: object) -> str:
    """``value`` as SVG text or attribute content."""
    return html.escape(_flat(value), quote=True)


def code(value: object) -> str:
    """``value`` in a monospace span (ids, digests, paths), escaped like ``text``."""
    return f"<code>{text(value)}</code>"


def identifier(value: object) -> str:
    """``code`` for long snake-case names (rules, check ids): a narrow table column may break the
    line after an underscore instead of inside a word."""
    return code(value).replace("&#95;", "&#95;<wbr>")


def link(label: str, target: str) -> str:
    """A link whose label is registry text and whose target is a page path the renderer built
    from checked names (``archetypes/support-triage.md#v-1-0-0``)."""
    return f"[{label}]({target})"


def anchor(value: str) -> str:
    """An HTML id for ``value`` (a version, a bundle id, a rule): lowercase letters, digits and
    dashes only."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "x"


def heading(level: int, title: str, ident: str = "") -> str:
    """A heading; ``title`` is already markup; ``ident`` pins its id (attr_list)."""
    suffix = f" {{ #{ident} }}" if ident else ""
    return f"{'#' * level} {title}{suffix}"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table; headers and cells are already markup (``text``, ``link``, badges).
    An empty table is one line saying so."""
    body = [f"| {' | '.join(cell or ' ' for cell in row)} |" for row in rows]
    if not body:
        return "_None._"
    head = f"| {' | '.join(headers)} |"
    rule = "|" + "|".join(" --- " for _ in headers) + "|"
    return "\n".join([head, rule, *body])


def bullet_list(items: Iterable[str]) -> str:
    lines = [f"- {item}" for item in items]
    return "\n".join(lines) if lines else "_None._"


def details(summary: str, body: str, kind: str = "note") -> str:
    """A collapsed admonition (pymdownx.details): ``summary`` is markup, ``body`` Markdown."""
    indented = "\n".join(f"    {line}" if line else "" for line in body.splitlines())
    return f'??? {kind} "{summary}"\n\n{indented}'
