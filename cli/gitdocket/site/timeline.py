"""An environment's promotion timeline as a picture, drawn from its log (Kargo's freight
timeline, read from the signed history instead of a cluster).

Each event is a column, oldest left, with its date and time under the lanes. Each bundle the
window shows has a lane; a thick line shows which bundle was active from one event to the next; a
dot marks a promotion (coloured by its gate decision), a red diamond a rollback, whose reason is
written under the picture. Only
the last ``WINDOW`` events are drawn (the full history is the table under the picture). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gitdocket.site.markup import text
from gitdocket.site.svg import INK, LINE, Canvas, figure, text_width

__all__ = ["WINDOW", "Change", "timeline_figure", "timeline_svg"]

WINDOW = 40
LEFT = 250.0
STEP = 84.0
LANE_HEIGHT = 30.0
TOP = 44.0
DECISION_COLOUR = {"go": "#2e7d32", "conditional-go": "#ef8f00", "no-go": "#c62828", None: "#78909c"}
ROLLBACK = "#c62828"


@dataclass(frozen=True)
class Change:
    """One promotion or rollback of an environment, as the log recorded it."""

    seq: int
    at: str
    actor: str
    bundle_id: str
    rollback: bool
    gate_decision: str | None = None
    source_environment: str | None = None
    reason: str | None = None
    batch: str | None = None
    """The promotion batch the event belongs to (one commit promoted every step of it)."""

    @property
    def summary(self) -> str:
        if self.rollback:
            return f"#{self.seq} rolled back to {self.bundle_id} at {self.at} by {self.actor}: {self.reason or ''}"
        source = self.source_environment or "a build"
        gate = self.gate_decision or "ungated"
        batch = f" in batch {self.batch}" if self.batch else ""
        return f"#{self.seq} promoted {self.bundle_id} from {source} at {self.at} by {self.actor}{batch} (gate: {gate})"


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _lanes(changes: Sequence[Change]) -> dict[str, int]:
    lanes: dict[str, int] = {}
    for change in changes:
        lanes.setdefault(change.bundle_id, len(lanes))
    return lanes


def _marker(canvas: Canvas, change: Change, x: float, y: float) -> None:
    if change.rollback:
        shape = (
            f'<path d="M{x:.1f} {y - 8:.1f}L{x + 8:.1f} {y:.1f}L{x:.1f} {y + 8:.1f}L{x - 8:.1f} {y:.1f}z" '
            f'fill="{ROLLBACK}" stroke="#ffffff" stroke-width="1.5"/>'
        )
        tag = Canvas.label(x, TOP - 10, "↺ rollback", 10, fill=ROLLBACK, weight="bold")
    else:
        colour = DECISION_COLOUR.get(change.gate_decision, LINE)
        shape = Canvas.circle(x, y, 7, colour, "#ffffff")
        tag = Canvas.label(x, TOP - 10, change.gate_decision or "ungated", 10, fill=colour)
    kind = "rolled_back" if change.rollback else "promoted"
    canvas.group(
        "docket-event",
        {"seq": str(change.seq), "type": kind, "bundle": change.bundle_id},
        [shape, tag, Canvas.label(x, TOP - 24, f"#{change.seq}", 10, fill=INK)],
        title=change.summary,
    )


def timeline_svg(environment: str, changes: Sequence[Change]) -> str:
    """The last ``WINDOW`` of ``changes`` (oldest first) as an SVG document."""
    shown = list(changes)[-WINDOW:]
    lanes = _lanes(shown)
    canvas = Canvas(f"timeline-{environment}")
    width = LEFT + STEP * (len(shown) + 1)
    bottom = TOP + LANE_HEIGHT * max(len(lanes), 1)
    for bundle, lane in lanes.items():
        y = TOP + LANE_HEIGHT * lane + LANE_HEIGHT / 2
        canvas.add(f'<line x1="{LEFT - 6:.1f}" y1="{y:.1f}" x2="{width:.1f}" y2="{y:.1f}" stroke="#eceff1"/>')
        canvas.group(
            "docket-lane",
            {"bundle": bundle},
            [Canvas.label(LEFT - 12, y + 4, _short(bundle, 36), 11, anchor="end")],
            title=bundle,
        )
    points = [
        (LEFT + STEP * (i + 0.5), TOP + LANE_HEIGHT * lanes[c.bundle_id] + LANE_HEIGHT / 2) for i, c in enumerate(shown)
    ]
    for index, (x, y) in enumerate(points):
        end = points[index + 1][0] if index + 1 < len(points) else width - 8
        canvas.add(f'<path d="M{x:.1f} {y:.1f}H{end:.1f}" stroke="#90a4ae" stroke-width="5" stroke-linecap="round"/>')
        if index + 1 < len(points) and points[index + 1][1] != y:
            nx, ny = points[index + 1]
            canvas.add(f'<path d="M{nx:.1f} {y:.1f}V{ny:.1f}" stroke="#90a4ae" stroke-width="2"/>')
    for change, (x, y) in zip(shown, points, strict=True):
        _marker(canvas, change, x, y)
    for index, (change, (x, _y)) in enumerate(zip(shown, points, strict=True)):
        # When each bundle entered: the date where it changes, the time under every change.
        day, _, clock = change.at.partition("T")
        if index == 0 or shown[index - 1].at.partition("T")[0] != day:
            canvas.add(Canvas.label(x, bottom + 12, day, 9, fill=INK))
        canvas.add(Canvas.label(x, bottom + 23, clock[:5], 9, fill=LINE))
    notes = [c for c in shown if c.rollback]
    for index, change in enumerate(notes):
        y = bottom + 44 + index * 18
        note = _short(f"↺ #{change.seq} rolled back: {change.reason or ''}", 110)
        width = max(width, LEFT + text_width(note, 11) + 16)
        canvas.group(
            "docket-rollback-note",
            {"seq": str(change.seq)},
            [Canvas.label(LEFT, y, note, 11, "start", ROLLBACK)],
            title=change.summary,
        )
    height = bottom + 32 + 18 * len(notes) + (12 if notes else 0)
    if not shown:
        canvas.add(Canvas.label(LEFT, TOP + 18, "nothing has been promoted here yet", 12, "start", LINE))
    return canvas.render(max(width, 480), height, f"Promotion timeline of {environment}")


def timeline_figure(environment: str, changes: Sequence[Change]) -> str:
    hidden = max(0, len(changes) - WINDOW)
    earlier = f" ({hidden} earlier changes are in the table below)" if hidden else ""
    caption = text(
        f"Which bundle {environment} ran after each change, oldest left{earlier}: dots are promotions "
        "(green go, amber conditional-go, grey ungated), red diamonds rollbacks with their reasons."
    )
    return figure(timeline_svg(environment, changes), caption, f"timeline-{environment}")
