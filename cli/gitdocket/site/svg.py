"""SVG pieces the diagrams and timelines are drawn with: a document, boxes, text, paths and an
arrow marker. Every text and attribute value goes through ``markup.xml``; numbers are rounded to
one decimal so that the same drawing is the same bytes on every machine. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

from gitdocket.site.markup import attr, xml

__all__ = ["CHAR_WIDTH", "Canvas", "figure", "num", "text_width"]

CHAR_WIDTH = 6.6
"""Average advance of a 12 px sans-serif character: what layouts budget for a label."""

INK = "#37474f"
LINE = "#78909c"


def num(value: float) -> str:
    """``value`` with at most one decimal, no trailing ``.0``."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def text_width(label: str, size: float = 12) -> float:
    return len(label) * CHAR_WIDTH * size / 12


class Canvas:
    """Elements of one SVG drawing, in paint order."""

    def __init__(self, ident: str) -> None:
        self.ident = ident
        self.parts: list[str] = []

    @property
    def arrow(self) -> str:
        return f"docket-arrow-{self.ident}"

    def add(self, element: str) -> None:
        self.parts.append(element)

    def group(self, css: str, data: dict[str, str], children: Iterable[str], title: str = "") -> None:
        attrs = "".join(f' data-{k}="{attr(v)}"' for k, v in sorted(data.items()))
        tooltip = f"<title>{xml(title)}</title>" if title else ""
        self.add(f'<g class="{css}"{attrs}>{tooltip}{"".join(children)}</g>')

    @staticmethod
    def rect(x: float, y: float, w: float, h: float, fill: str, stroke: str = LINE, width: float = 1.2) -> str:
        return (
            f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{num(width)}"/>'
        )

    @staticmethod
    def circle(x: float, y: float, r: float, fill: str, stroke: str = "none") -> str:
        return f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(r)}" fill="{fill}" stroke="{stroke}" stroke-width="2"/>'

    @staticmethod
    def label(
        x: float, y: float, words: str, size: float = 12, anchor: str = "middle", fill: str = INK, weight: str = ""
    ) -> str:
        bold = f' font-weight="{weight}"' if weight else ""
        return (
            f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}" text-anchor="{anchor}" '
            f'fill="{fill}"{bold}>{xml(words)}</text>'
        )

    def path(self, d: str, stroke: str = LINE, arrow: bool = True, dash: bool = False) -> str:
        marker = f' marker-end="url(#{self.arrow})"' if arrow else ""
        dashed = ' stroke-dasharray="5 4"' if dash else ""
        return f'<path d="{d}" fill="none" stroke="{stroke}" stroke-width="1.4"{dashed}{marker}/>'

    def render(self, width: float, height: float, title: str) -> str:
        """The SVG document (one line per element, no blank line: a Markdown HTML block)."""
        defs = (
            f'<defs><marker id="{self.arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="{LINE}"/></marker></defs>'
        )
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="docket-svg" id="svg-{self.ident}" '
            f'viewBox="0 0 {num(width)} {num(height)}" width="{num(width)}" height="{num(height)}" role="img" '
            f'aria-label="{attr(title)}">'
        )
        return "\n".join([head, f"<title>{xml(title)}</title>", defs, *self.parts, "</svg>"])


def figure(svg: str, caption: str, ident: str) -> str:
    """``svg`` in a ``<figure>`` block with a caption (``caption`` is already escaped markup)."""
    head = f'<figure class="docket-figure" id="figure-{attr(ident)}">'
    return f"{head}\n{svg}\n<figcaption>{caption}</figcaption>\n</figure>"
