"""The stage graph (Kargo's picture of a pipeline): a build, then every environment of
``registry.yaml`` in promotion order, an arrow from each allowed source, and in each box the
bundle it runs now. Drawn from the signed configuration and the environments' states. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gitdocket.core.documents import EnvironmentConfig
from gitdocket.site.markup import text
from gitdocket.site.svg import INK, LINE, Canvas, figure

__all__ = ["stages_figure", "stages_svg"]

BOX_W = 170.0
BOX_H = 58.0
GAP_X = 50.0
GAP_Y = 22.0
MARGIN = 14.0
BUILD = "a build"


def _columns(environments: Sequence[EnvironmentConfig]) -> dict[str | None, int]:
    column: dict[str | None, int] = {None: 0}
    for _ in environments:  # at most one pass per environment settles every column
        for env in environments:
            known = [column[s] for s in env.sources if s in column]
            column[env.name] = 1 + max(known, default=0)
    return column


def stages_svg(environments: Sequence[EnvironmentConfig], running: Mapping[str, str | None]) -> str:
    column = _columns(environments)
    rows: dict[int, int] = {}
    place: dict[str | None, tuple[float, float]] = {}
    for name in [None, *(e.name for e in environments)]:
        col = column[name]
        row = rows.get(col, 0)
        rows[col] = row + 1
        place[name] = (MARGIN + col * (BOX_W + GAP_X), MARGIN + row * (BOX_H + GAP_Y))
    canvas = Canvas("stages")
    for env in environments:
        tx, ty = place[env.name]
        for source in env.sources:
            if source not in place:
                continue
            sx, sy = place[source]
            x1, y1, x2, y2 = sx + BOX_W, sy + BOX_H / 2, tx, ty + BOX_H / 2
            mid = (x1 + x2) / 2
            canvas.add(canvas.path(f"M{x1:.1f} {y1:.1f}C{mid:.1f} {y1:.1f} {mid:.1f} {y2:.1f} {x2 - 2:.1f} {y2:.1f}"))
    for name, (x, y) in place.items():
        bundle = running.get(name) if name else None
        title = name or BUILD
        gated = next((e.require_gate for e in environments if e.name == name), False)
        detail = (
            (bundle if len(bundle or "") <= 25 else (bundle or "")[:24] + "…")
            if bundle
            else ("" if name is None else "empty")
        )
        parts = [
            Canvas.rect(
                x, y, BOX_W, BOX_H, "#e3f2fd" if bundle else "#fafafa", INK if gated else LINE, 2 if gated else 1.2
            ),
            Canvas.label(x + BOX_W / 2, y + 22, title + (" (gated)" if gated else ""), 13, weight="bold"),
            Canvas.label(x + BOX_W / 2, y + 42, detail, 11, fill="#455a64"),
        ]
        canvas.group(
            "docket-stage", {"environment": name or ""}, parts, title=f"{title}: {bundle or 'nothing deployed'}"
        )
    width = max(x for x, _ in place.values()) + BOX_W + MARGIN
    height = max(y for _, y in place.values()) + BOX_H + MARGIN
    return canvas.render(width, height, "Promotion path")


def stages_figure(environments: Sequence[EnvironmentConfig], running: Mapping[str, str | None]) -> str:
    caption = text(
        "The promotion path of registry.yaml: each arrow is an allowed source; a thick border marks a "
        "gated environment; each box names the bundle it runs now."
    )
    return figure(stages_svg(environments, running), caption, "stages")
