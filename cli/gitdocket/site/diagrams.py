"""Lifecycle diagrams drawn from the transition tables (``Machine.transitions``) at build time.

A phase is a box; a row whose target differs from its source is an arrow labelled with what the
command does in the user's words (``Transition.does``); a row that keeps the phase (``target`` is
None, or the same phase) is listed inside its box. Phases are laid out in columns by the longest
path from the initial phase (cycles broken in table order). Arrows between neighbouring columns
are curves; arrows that skip a column or go back are routed in lanes below the boxes, so no arrow
crosses a box. Nothing is typed by hand: change a row and the drawing changes with it. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitdocket.lifecycles.machine import Machine, Transition
from gitdocket.site.markup import text
from gitdocket.site.svg import INK, LINE, Canvas, figure, text_width

__all__ = ["Edge", "Graph", "graph", "lifecycle_figure", "lifecycle_svg", "words"]

_PREPOSITIONS = (" of", " into", " to", " for", " in", " from", " under", " behind")
NODE_MIN = 140.0
NODE_MAX = 240.0
HEADER = 30.0
LINE_HEIGHT = 15.0
COLUMN_GAP = 120.0
ROW_GAP = 34.0
LANE = 22.0
MARGIN = 16.0


def words(row: Transition[Any, Any]) -> str:
    """What a row does, as an arrow's label: ``does`` without the trailing preposition that joins
    it to the subject in a sentence ("publish a package of" → "publish a package")."""
    label = row.does
    for preposition in _PREPOSITIONS:
        if label.endswith(preposition):
            return label[: -len(preposition)]
    return label


@dataclass
class Edge:
    source: str
    target: str
    labels: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


@dataclass
class Graph:
    kind: str
    phases: list[str]
    initial: str
    edges: list[Edge]
    stays: dict[str, list[str]]
    column: dict[str, int]


def _initial(machine: Machine[Any]) -> str:
    default = machine.state.model_fields["phase"].default
    return str(default) if default in machine.phases else next(iter(machine.phases))


def _back_edges(phases: list[str], initial: str, edges: list[Edge]) -> set[tuple[str, str]]:
    """The edges that close a cycle, found by a depth-first walk in table order."""
    out: dict[str, list[str]] = {p: [] for p in phases}
    for edge in edges:
        out[edge.source].append(edge.target)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}

    def walk(node: str) -> None:
        state[node] = 1
        for nxt in out[node]:
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                walk(nxt)
        state[node] = 2

    for start in [initial, *phases]:
        if start not in state:
            walk(start)
    return back


def _columns(phases: list[str], initial: str, edges: list[Edge]) -> dict[str, int]:
    """Longest path from ``initial`` over the edges, back edges left out; unreachable phases go
    after the rest."""
    back = _back_edges(phases, initial, edges)
    forward = [e for e in edges if (e.source, e.target) not in back]
    column = {initial: 0}
    for _ in phases:  # a longest path has fewer edges than there are phases
        for edge in forward:
            if edge.source in column:
                column[edge.target] = max(column.get(edge.target, 0), column[edge.source] + 1)
    last = max(column.values(), default=0)
    for phase in phases:
        column.setdefault(phase, last + 1)
    return column


def graph(machine: Machine[Any]) -> Graph:
    """The phases, arrows and in-phase commands of ``machine``'s table."""
    phases = list(machine.phases)
    edges: dict[tuple[str, str], Edge] = {}
    stays: dict[str, list[str]] = {p: [] for p in phases}
    for row in machine.transitions:
        for source in row.sources:
            target = row.target or source
            if target == source:
                stays[source].append(words(row))
                continue
            edge = edges.setdefault((source, target), Edge(source, target))
            edge.labels.append(words(row))
            edge.events.append(row.event)
    initial = _initial(machine)
    listed = list(edges.values())
    return Graph(machine.kind, phases, initial, listed, stays, _columns(phases, initial, listed))


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> tuple[float, float]:
        return self.x + self.w, self.y + self.h / 2

    @property
    def left(self) -> tuple[float, float]:
        return self.x, self.y + self.h / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h


def _layout(g: Graph) -> tuple[dict[str, _Box], float]:
    longest = max([text_width(p, 13) for p in g.phases] + [text_width(s, 11) for v in g.stays.values() for s in v])
    width = min(NODE_MAX, max(NODE_MIN, longest + 24))
    boxes: dict[str, _Box] = {}
    tops: dict[int, float] = {}
    for phase in g.phases:
        col = g.column[phase]
        y = tops.get(col, MARGIN + 18)
        height = HEADER + LINE_HEIGHT * len(g.stays[phase]) + (8 if g.stays[phase] else 0)
        boxes[phase] = _Box(MARGIN + col * (width + COLUMN_GAP), y, width, height)
        tops[col] = y + height + ROW_GAP
    bottom = max(b.bottom for b in boxes.values())
    return boxes, bottom


def _direct(canvas: Canvas, edge: Edge, a: _Box, b: _Box, taken: list[tuple[float, float]]) -> None:
    (x1, y1), (x2, y2) = a.right, b.left
    mid = (x1 + x2) / 2
    d = f"M{x1:.1f} {y1:.1f}C{mid:.1f} {y1:.1f} {mid:.1f} {y2:.1f} {x2 - 2:.1f} {y2:.1f}"
    label = " · ".join(edge.labels)
    ly = (y1 + y2) / 2 - 5
    while any(abs(ly - y) < 15 and abs(mid - x) < 60 for x, y in taken):
        ly += 15
    taken.append((mid, ly))
    width = text_width(label, 11) + 8
    canvas.group(
        "docket-edge",
        {"from": edge.source, "to": edge.target},
        [
            canvas.path(d),
            Canvas.rect(mid - width / 2, ly - 11, width, 15, "#ffffff", "none", 0),
            Canvas.label(mid, ly, label, 11),
        ],
        title=f"{edge.source} → {edge.target}: {label} (event: {', '.join(edge.events)})",
    )


def _routed(canvas: Canvas, edge: Edge, a: _Box, b: _Box, lane_y: float, index: int) -> None:
    """Out of the source's right side into the gap after its column, down to its own lane below
    every box, along it, up the gap before the target's column and into the target's left side:
    the vertical runs stay in the gaps, so the arrow crosses no box."""
    (x1, y1), (x2, y2) = a.right, b.left
    out_x, in_x = x1 + 10 + 5 * index, x2 - 10 - 5 * index
    d = (
        f"M{x1:.1f} {y1:.1f}L{out_x:.1f} {y1:.1f}L{out_x:.1f} {lane_y:.1f}L{in_x:.1f} {lane_y:.1f}"
        f"L{in_x:.1f} {y2:.1f}L{x2 - 2:.1f} {y2:.1f}"
    )
    label = " · ".join(edge.labels)
    x = (out_x + in_x) / 2
    width = text_width(label, 11) + 8
    canvas.group(
        "docket-edge docket-edge--routed",
        {"from": edge.source, "to": edge.target},
        [
            canvas.path(d, dash=True),
            Canvas.rect(x - width / 2, lane_y - 8, width, 15, "#ffffff", "none", 0),
            Canvas.label(x, lane_y + 3.5, label, 11),
        ],
        title=f"{edge.source} → {edge.target}: {label} (event: {', '.join(edge.events)})",
    )


def _node(canvas: Canvas, g: Graph, phase: str, box: _Box, terminal: bool) -> None:
    fill = "#e3f2fd" if phase == g.initial else "#fafafa"
    parts = [Canvas.rect(box.x, box.y, box.w, box.h, fill, INK if terminal else LINE, 2.2 if terminal else 1.2)]
    parts.append(Canvas.label(box.x + box.w / 2, box.y + 20, phase, 13, weight="bold"))
    for index, stay in enumerate(g.stays[phase]):
        y = box.y + HEADER + 8 + index * LINE_HEIGHT
        parts.append(Canvas.label(box.x + 10, y, f"↻ {stay}", 11, anchor="start", fill="#455a64"))
    title = f"phase {phase}" + (" (initial)" if phase == g.initial else "") + (" (final)" if terminal else "")
    canvas.group("docket-node", {"phase": phase}, parts, title=title)


def lifecycle_svg(machine: Machine[Any]) -> str:
    """The diagram of ``machine`` as an SVG document."""
    g = graph(machine)
    boxes, bottom = _layout(g)
    canvas = Canvas(f"lifecycle-{g.kind}")
    start = boxes[g.initial]
    canvas.add(Canvas.label(start.x, MARGIN + 8, "start", 11, anchor="start", fill=LINE))
    leaving = {e.source for e in g.edges}
    for phase in g.phases:
        _node(canvas, g, phase, boxes[phase], terminal=phase not in leaving and not g.stays[phase])
    taken: list[tuple[float, float]] = []
    lane = bottom + 18
    routed = 0
    for edge in g.edges:
        a, b = boxes[edge.source], boxes[edge.target]
        if g.column[edge.target] - g.column[edge.source] == 1:
            _direct(canvas, edge, a, b, taken)
        else:
            _routed(canvas, edge, a, b, lane, routed)
            lane += LANE
            routed += 1
    width = max(b.x + b.w for b in boxes.values()) + MARGIN
    height = lane + MARGIN - (LANE if routed else 0) + 6
    return canvas.render(width, height, f"The {g.kind} lifecycle")


def lifecycle_figure(machine: Machine[Any]) -> str:
    caption = text(
        f"The {machine.kind} lifecycle, drawn from its transition table: boxes are phases, arrows "
        "the commands that change the phase, ↻ the commands that keep it; dashed arrows skip a "
        "column or go back."
    )
    return figure(lifecycle_svg(machine), caption, f"lifecycle-{machine.kind}")
