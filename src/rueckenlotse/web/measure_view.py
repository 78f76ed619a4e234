"""One outcome measure's course as the pages show it (issue #18): the rows of its table (week, date, value,
"besser / gleich / schlechter" against the first value) and the line on the latest change.

One builder for both readers, rendered by one macro (``_measure_course.html``): the person's own course page
(``/mein-bereich/verlauf``: the chart as a separate SVG image) and the practice's view of a shared course
(``/praxis/verlauf/{intake_id}``: the chart inline, like the diary's). The judgement itself comes from the
series (``plan.measures``, by ``core.measures.judge_change``); nothing here decides it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup

from ..i18n.formatting import decimal, format_day
from ..plan.measures import MeasureSeries, change_text, default_measures, score_text, week_label
from ..reports.measure_svg import measure_chart
from .i18n import WebTexts

Reader = Literal["patient", "practice"]

# The drawing's own ids (``reports.measure_svg``: "t" and "d"), made the page's own for an inline chart.
_SVG_IDS = re.compile(r'aria-labelledby="t d"|<title id="t">|<desc id="d">')


@dataclass(frozen=True)
class MeasureRow:
    when: str
    date: str
    value: str
    subscales: list[str]
    change: str | None
    change_text: str


@dataclass(frozen=True)
class MeasureView:
    id: str
    title: str
    explain: str
    rows: list[MeasureRow]
    category: bool  # the measure rates the change itself (PGIC)
    latest: str | None  # the latest follow-up's change: better, same, worse (None: only the first value)
    latest_text: str | None
    chart_svg: Markup | None  # the inline chart (the practice's page); None: the page links the SVG


def inline_chart(series: MeasureSeries, lang: str) -> Markup:
    """The measure's chart for a practice's page that holds several: its title and description with ids
    of their own (``course-<measure>-chart-title`` / ``-desc``). No script, no style attribute
    (``measure_svg``)."""
    prefix = f"course-{series.measure.id}-chart"
    replacements = {
        'aria-labelledby="t d"': f'aria-labelledby="{prefix}-title {prefix}-desc"',
        '<title id="t">': f'<title id="{prefix}-title">',
        '<desc id="d">': f'<desc id="{prefix}-desc">',
    }
    svg = _SVG_IDS.sub(lambda m: replacements[m.group(0)], measure_chart(series, lang, for_practice=True))
    return Markup(svg)  # noqa: S704  # written by measure_chart, every text escaped there


def series_view(texts: WebTexts, series: MeasureSeries, lang: str, *, reader: Reader) -> MeasureView:
    """One measure's table and latest line for ``reader``; the practice's view also gets the chart inline."""
    catalogue = default_measures()
    measure = series.measure
    rows = []
    for point in series.points:
        when = week_label(catalogue, point.week, lang)
        if point.response_id is None:
            when = texts.get("course.from_intake", lang, week=when)
        subscales = [
            f"{s.title.get(lang)}: {decimal(f'{point.subscales[s.id]:g}', lang)}"
            for s in measure.scoring.subscales
            if s.id in point.subscales
        ]
        rows.append(
            MeasureRow(
                when,
                format_day(point.recorded_at.date(), lang),
                score_text(measure, point.score, lang),
                subscales,
                point.change,
                change_text(catalogue, point.change, lang, baseline=point.baseline),
            )
        )
    category = measure.change.kind == "category"
    latest_point = series.latest
    latest = latest_point.change if latest_point is not None and not latest_point.baseline else None
    latest_text = None
    if latest is not None:
        # The person reads "nach Ihrer eigenen Einschätzung"; the practice "nach Einschätzung der Person".
        itself = "course.itself_" if reader == "patient" else "course_view.itself_"
        latest_text = texts.get(f"{itself if category else 'course.latest_'}{latest}", lang)
    title, explain = measure.wording(for_practice=reader == "practice")
    return MeasureView(
        measure.id,
        title.get(lang),
        explain.get(lang),
        rows,
        category,
        latest,
        latest_text,
        inline_chart(series, lang) if reader == "practice" and series.points else None,
    )
