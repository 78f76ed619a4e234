"""The cohort chart for the practice's results page: a small SVG written directly, readable on a phone.

One bar per row of the table, as shares of its total: better / same / worse / no baseline for a measure
at a week, the event and the rest for an event row. Counts suppressed in the table are never drawn apart:
together they are one hatched stretch, whose length is the total minus the counts shown (what the table
lets anyone work out anyway); a row whose total is suppressed gets a line of text instead of a bar. The
numbers written are the table's own texts, "< 5" included.

Drawn for a 360-unit wide viewBox like ``reports.diary_svg``; only presentation attributes, no ``style``
and no script, so the page's CSP allows it inline. Ids carry a prefix: a page may hold several charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH = 360
FONT = 13
LEFT, RIGHT = 4, 4
BAR = 16
LINE = 17  # a line of a bar's label
GAP = 10  # below a bar
CHAR = 7.8  # the width of a letter of the bold label, about (to wrap before the edge)
INK, GRID, HATCH = "#1a1a1a", "#6b6b6b", "#5a5a5a"
COLOURS = {
    "better": "#1b6e3c",
    "same": "#9aa5b1",
    "worse": "#a4161a",
    "no_baseline": "#dde2e7",
    "event": "#0b4f8a",
    "rest": "#ffffff",
}
LIGHT = frozenset({"same", "no_baseline", "rest"})  # dark ink on these, white on the others


@dataclass(frozen=True)
class Segment:
    kind: str  # a key of COLOURS
    count: int | None  # None: suppressed in the table
    text: str  # the table's text of the count


@dataclass(frozen=True)
class ChartBar:
    label: str
    total: int | None  # None: suppressed
    segments: Sequence[Segment]
    note: str = ""  # written instead of a bar (too few, none)


@dataclass(frozen=True)
class ChartText:
    title: str
    description: str
    legend: Sequence[tuple[str, str]]  # (kind, words), "hidden" for the hatched stretch


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _lines(label: str) -> list[str]:
    """The label wrapped at plain spaces to the chart's width (a no-break space keeps its words together)."""
    room = int((WIDTH - LEFT - RIGHT) / CHAR)
    lines: list[str] = []
    for word in label.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= room:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _legend(text: ChartText, prefix: str) -> tuple[list[str], int]:
    """The legend's swatches, wrapped over lines; returns its parts and its height."""
    parts: list[str] = []
    x: float = LEFT
    y = 16
    for kind, words in text.legend:
        width = 18 + 7.2 * len(words) + 14
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = LEFT, y + 20
        fill = f"url(#{prefix}-hatch)" if kind == "hidden" else COLOURS[kind]
        parts.append(
            f'<rect x="{_fmt(x)}" y="{y - 11}" width="13" height="13" fill="{fill}" stroke="{GRID}" '
            'stroke-width="0.5"/>'
        )
        parts.append(f'<text x="{_fmt(x + 18)}" y="{y}">{escape(words)}</text>')
        x += width
    return parts, y + 14


def cohort_svg(bars: Sequence[ChartBar], text: ChartText, prefix: str = "cohort") -> str:
    """The SVG document (its ids start with ``prefix``)."""
    legend, top = _legend(text, prefix)
    labels = [_lines(bar.label) for bar in bars]
    height = top + sum(LINE * len(lines) + BAR + GAP for lines in labels) + 4
    inner = WIDTH - LEFT - RIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-labelledby="{prefix}-t {prefix}-d" font-family="sans-serif" '
        f'font-size="{FONT}" fill="{INK}">',
        f'<title id="{prefix}-t">{escape(text.title)}</title>',
        f'<desc id="{prefix}-d">{escape(text.description)}</desc>',
        f'<defs><pattern id="{prefix}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH}" stroke-width="2"/></pattern></defs>',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        *legend,
    ]
    y = top
    for bar, lines in zip(bars, labels, strict=True):
        for line in lines:
            y += LINE
            parts.append(f'<text x="{LEFT}" y="{y - 3}" font-weight="bold">{escape(line)}</text>')
        bar_y = y + 3
        y += BAR + GAP
        if bar.note or not bar.total:
            parts.append(f'<text x="{LEFT}" y="{bar_y + 12}">{escape(bar.note)}</text>')
            continue
        x = float(LEFT)
        shown = sum(s.count for s in bar.segments if s.count is not None)
        pieces = [(s.kind, s.count, s.text) for s in bar.segments if s.count]
        if shown < bar.total:  # what the table suppressed, as one stretch
            pieces.append(("hidden", bar.total - shown, ""))
        for kind, count, label in pieces:
            width = inner * count / bar.total
            fill = f"url(#{prefix}-hatch)" if kind == "hidden" else COLOURS[kind]
            parts.append(
                f'<rect x="{_fmt(x)}" y="{bar_y}" width="{_fmt(width)}" height="{BAR}" fill="{fill}"/>'
            )
            if label and width >= 9 * len(label) + 6:
                ink = INK if kind in LIGHT else "#ffffff"
                parts.append(
                    f'<text x="{_fmt(x + width / 2)}" y="{bar_y + 12.5}" text-anchor="middle" fill="{ink}">'
                    f"{escape(label)}</text>"
                )
            x += width
        parts.append(
            f'<rect x="{LEFT}" y="{bar_y}" width="{inner}" height="{BAR}" fill="none" stroke="{GRID}" '
            'stroke-width="0.5"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
