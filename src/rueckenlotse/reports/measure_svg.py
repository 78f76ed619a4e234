"""The chart of one outcome measure over time: a small SVG written directly, readable on a phone.

The same drawing for the person's course page and (later) the clinician's view: ``measure_chart(series,
lang)``. Drawn for a 360-unit wide viewBox like the diary chart (``reports.diary_svg``): shown at 390 px its
13-unit text is at least 12 px. The x axis is the episode week each response answers (0 = the intake);
the y axis the measure's score range, with words instead of numbers where the measure has them (STarT Back:
niedrig, mittel, hoch). Each response is a point with its value written above it; the baseline is a ring,
a follow-up filled in the colour of its judgement (better, same, worse), and a grey band marks the values
that count as "the same" as the first one (the minimal important change). The colours are never the only
cue: the page's table gives every value with "besser / gleich / schlechter", and ``<desc>`` says the same.

Only presentation attributes, no ``style`` and no script (the page's CSP allows it as an image).
"""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import escape

from ..i18n.catalogue import Catalogue, load_catalogue
from ..knowledge.measures import Measure, MeasureCatalogue
from ..plan.measures import MeasureSeries, change_text, default_measures, score_text, week_label

__all__ = ["chart_texts", "measure_chart"]

WIDTH = 360
FONT = 13
RIGHT = 14
TOP, PLOT_HEIGHT = 46, 150
AXIS_Y = TOP + PLOT_HEIGHT
HEIGHT = AXIS_Y + 62
CHAR = 7.4  # about the width of one character at 13 units (for the axis labels' room)
WORD_TICKS = 8  # words on the y axis only when each is this short (else numbers, the ends explained)
MIN_WEEKS = 12  # the x axis reaches at least the last scheduled week
INK, GRID, BAND, BASE = "#1a1a1a", "#d0d0d0", "#e6e6e6", "#0b4f8a"
CHANGE_COLOUR = {"better": "#1b6e2e", "same": "#595959", "worse": "#a4161a", None: "#595959"}


@cache
def chart_texts() -> Catalogue:
    """The chart's words (reports/texts_measures.yaml), loaded once."""
    return load_catalogue("rueckenlotse.reports", ["texts_measures.yaml"])


def _ticks(measure: Measure) -> list[float]:
    low, high = measure.range.min, measure.range.max
    step = 1.0 if high - low <= 7 else 2.0
    ticks, value = [], low
    while value <= high + 1e-9:
        ticks.append(value)
        value += step
    return ticks


def _same_band(measure: Measure, baseline: float) -> tuple[float, float] | None:
    """The values judged "the same" as the baseline: within the minimal important change around it. Only
    for a score that varies finely (a mean or sum); a score in whole steps (a risk group) has none."""
    rule = measure.change_rule
    if rule.kind != "difference" or measure.scoring.kind not in ("mean", "sum"):
        return None
    reach = max(rule.mic_points or 0.0, (rule.mic_fraction or 0.0) * baseline)
    if reach <= 0:
        return None
    return max(measure.range.min, baseline - reach), min(measure.range.max, baseline + reach)


def measure_chart(
    series: MeasureSeries,
    lang: str,
    *,
    catalogue: MeasureCatalogue | None = None,
    for_practice: bool = False,
) -> str:
    """The SVG document of one measure's series in ``lang`` (the series must hold a point); named as a
    practice reads it (``practice_title``) with ``for_practice``."""
    catalogue = catalogue or default_measures()
    texts = chart_texts()
    measure = series.measure
    points = series.points
    if not points:
        raise ValueError("a chart needs at least one value")
    ticks = _ticks(measure)
    words = {t: score_text(measure, t, lang) for t in ticks}
    numbered = any(len(word) > WORD_TICKS for word in words.values())
    tick_labels = {t: f"{t:g}" for t in ticks} if numbered else words
    left = 12 + CHAR * max(len(label) for label in tick_labels.values())
    weeks = [p.week or 0 for p in points]
    span = max(MIN_WEEKS, *weeks)
    inner = WIDTH - left - RIGHT - 16

    def x(week: int) -> float:
        return left + 8 + inner * week / span

    def y(value: float) -> float:
        low, high = measure.range.min, measure.range.max
        return TOP + PLOT_HEIGHT * (1 - (value - low) / (high - low))

    direction = texts.get(f"measure_chart.{measure.direction}", lang)
    point_texts = [
        texts.get(
            "measure_chart.point",
            lang,
            week=week_label(catalogue, p.week, lang),
            value=score_text(measure, p.score, lang),
            change=change_text(catalogue, p.change, lang, baseline=p.baseline),
        )
        for p in points
    ]
    title = measure.wording(for_practice=for_practice)[0].get(lang)
    description = texts.get(
        "measure_chart.description", lang, title=title, direction=direction, points="; ".join(point_texts)
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-labelledby="t d" font-family="sans-serif" font-size="{FONT}" '
        f'fill="{INK}">',
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(description)}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{left - 4:.1f}" y="{TOP - 26}" font-weight="bold">'
        f"{escape(measure.short.get(lang))}</text>",
        f'<text x="{WIDTH - RIGHT}" y="{TOP - 26}" text-anchor="end">{escape(direction)}</text>',
    ]
    base = series.baseline
    band = _same_band(measure, base.score) if base is not None else None
    if band is not None:
        top, bottom = y(band[1]), y(band[0])
        parts.append(
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{WIDTH - RIGHT - left:.1f}" '
            f'height="{max(bottom - top, 1.0):.1f}" fill="{BAND}"/>'
        )
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line x1="{left:.1f}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{left - 6:.1f}" y="{ty + 4:.1f}" text-anchor="end">{escape(tick_labels[tick])}</text>'
        )
    parts.append(f'<line x1="{left:.1f}" x2="{WIDTH - RIGHT}" y1="{AXIS_Y}" y2="{AXIS_Y}" stroke="{INK}"/>')
    for week in sorted({0, span, *weeks, *(w for w in measure.schedule.weeks if w <= span)}):
        wx = x(week)
        parts.append(f'<line x1="{wx:.1f}" x2="{wx:.1f}" y1="{AXIS_Y}" y2="{AXIS_Y + 5}" stroke="{INK}"/>')
        parts.append(f'<text x="{wx:.1f}" y="{AXIS_Y + 20}" text-anchor="middle">{week}</text>')
    parts.append(
        f'<text x="{(left + WIDTH - RIGHT) / 2:.1f}" y="{AXIS_Y + 40}" text-anchor="middle">'
        f"{escape(texts.get('measure_chart.week_axis', lang))}</text>"
    )
    if band is not None:
        parts.append(
            f'<rect x="{left:.1f}" y="{AXIS_Y + 48}" width="12" height="10" fill="{BAND}" stroke="{GRID}"/>'
            f'<text x="{left + 18:.1f}" y="{AXIS_Y + 57}">'
            f"{escape(texts.get('measure_chart.same_band', lang))}</text>"
        )
    elif numbered:
        ends = texts.get(
            "measure_chart.ends",
            lang,
            low=tick_labels[ticks[0]],
            low_word=words[ticks[0]],
            high=tick_labels[ticks[-1]],
            high_word=words[ticks[-1]],
        )
        parts.append(f'<text x="{left:.1f}" y="{AXIS_Y + 57}">{escape(ends)}</text>')
    coordinates = [(x(p.week or 0), y(p.score)) for p in points]
    if len(points) > 1:
        line = " ".join(f"{px:.1f},{py:.1f}" for px, py in coordinates)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{BASE}" stroke-width="2"/>')
    for point, (px, py) in zip(points, coordinates, strict=True):
        if point.baseline:
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="6" fill="#ffffff" stroke="{BASE}" stroke-width="3"/>'
            )
        else:
            colour = CHANGE_COLOUR[point.change]
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="6" fill="{colour}"/>')
        # Numbers where the axis has numbers (long words would run into each other); the table has words.
        label = f"{point.score:g}" if numbered else score_text(measure, point.score, lang)
        ly = py - 11 if py - 11 > TOP - 8 else py + 21
        half = CHAR * len(label) / 2
        anchor = "end" if px + half > WIDTH - 2 else "start" if px - half < left else "middle"
        lx = px + 6 if anchor == "end" else px - 6 if anchor == "start" else px
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-weight="bold">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
