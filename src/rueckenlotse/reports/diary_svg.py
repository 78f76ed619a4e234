"""The diary chart for the web: a small SVG written directly (no matplotlib), readable on a phone.

Drawn for a 360-unit wide viewBox, the width of a phone's content column: shown at 390 px the text is as
large as written (13 units, at least 12 px). Two panels share the time axis: the worst pain of each day
(0-10, a line with points) and the minutes of activity (bars); escalations are dashed vertical lines marked
"!", which the page's list explains. Only presentation attributes, no ``style`` and no script: the
page's CSP (``style-src 'self'``) allows it as an image, and nothing in it can run.

Writing the SVG takes well under a millisecond per hundred days; the matplotlib chart took seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from ..plan.trends import DailyValue

WIDTH = 360
FONT = 13
LEFT, RIGHT = 34, 10
PAIN_TOP, PAIN_HEIGHT = 30, 150
ACTIVITY_TOP, ACTIVITY_HEIGHT = 232, 70
AXIS_Y = ACTIVITY_TOP + ACTIVITY_HEIGHT
HEIGHT = AXIS_Y + 42
INK, GRID, PAIN, ACTIVITY, WARN = "#1a1a1a", "#d0d0d0", "#0b4f8a", "#7aa6c9", "#a4161a"


@dataclass(frozen=True)
class ChartText:
    """The chart's words in the reader's language (the web's texts give them)."""

    title: str
    pain: str
    activity: str
    description: str


def diary_svg(
    days: Sequence[DailyValue],
    escalation_days: Sequence[date],
    text: ChartText,
    day_label: dict[date, str],
) -> str:
    """The SVG document; ``day_label`` names the days written under the axis (first, last, and between)."""
    first, last = days[0].day, days[-1].day
    span = max((last - first).days, 1)
    inset = 9  # the first and last bar stay inside the axis
    inner = WIDTH - LEFT - RIGHT - 2 * inset

    def x(day: date) -> float:
        if first == last:
            return LEFT + inset + inner / 2
        return LEFT + inset + inner * (day - first).days / span

    def pain_y(value: float) -> float:
        return PAIN_TOP + PAIN_HEIGHT * (1 - value / 10)

    most = max((d.activity_minutes for d in days), default=0) or 1
    bar = max(2.0, min(14.0, inner / (span + 1) * 0.7))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-labelledby="t d" font-family="sans-serif" font-size="{FONT}" '
        f'fill="{INK}">',
        f'<title id="t">{escape(text.title)}</title><desc id="d">{escape(text.description)}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="{PAIN_TOP - 12}" font-weight="bold">{escape(text.pain)}</text>',
    ]
    for value in (0, 2, 4, 6, 8, 10):
        y = pain_y(value)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    points = " ".join(f"{x(d.day):.1f},{pain_y(d.max_pain):.1f}" for d in days)
    if len(days) > 1:
        parts.append(f'<polyline points="{points}" fill="none" stroke="{PAIN}" stroke-width="2.5"/>')
    radius = 4 if len(days) <= 60 else 2.5
    parts.extend(
        f'<circle cx="{x(d.day):.1f}" cy="{pain_y(d.max_pain):.1f}" r="{radius}" fill="{PAIN}"/>'
        for d in days
    )
    parts.append(
        f'<text x="{LEFT}" y="{ACTIVITY_TOP - 12}" font-weight="bold">{escape(text.activity)}</text>'
    )
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{ACTIVITY_TOP - 12}" text-anchor="end">max. {most}</text>')
    for d in days:
        height = ACTIVITY_HEIGHT * d.activity_minutes / most
        parts.append(
            f'<rect x="{x(d.day) - bar / 2:.1f}" y="{AXIS_Y - height:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}" fill="{ACTIVITY}"/>'
        )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{AXIS_Y}" y2="{AXIS_Y}" stroke="{INK}"/>')
    for day in sorted(set(escalation_days)):
        if first <= day <= last:
            ex = x(day)
            parts.append(
                f'<line x1="{ex:.1f}" x2="{ex:.1f}" y1="{PAIN_TOP}" y2="{AXIS_Y}" stroke="{WARN}" '
                f'stroke-width="2" stroke-dasharray="5 4"/>'
            )
            parts.append(
                f'<text x="{ex:.1f}" y="{PAIN_TOP - 12}" text-anchor="middle" fill="{WARN}" '
                f'font-weight="bold">!</text>'
            )
    for day, label in day_label.items():
        anchor = (
            "start"
            if day == first and first != last
            else "end"
            if day == last and first != last
            else "middle"
        )
        lx = LEFT if anchor == "start" else WIDTH - RIGHT if anchor == "end" else x(day)
        parts.append(f'<text x="{lx:.1f}" y="{AXIS_Y + 22}" text-anchor="{anchor}">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
