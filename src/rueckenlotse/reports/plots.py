"""The diary plot: pain per region and daily activity over time, with plan milestones and escalations.

Matplotlib without pyplot (a Figure of its own, no global backend or state), DejaVu Sans (ships with
matplotlib), text kept as text in the SVG, fixed ids and no date stamp so the same diary gives the same
file. Readable in black and white: every region has its own line style and marker; milestones are thin
dotted lines, escalations thick dashed ones.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.typing import RcKeyType

from ..core.models import Region
from ..i18n import check_language
from ..plan.followup_texts import render
from ..plan.models import DiaryEntry
from ..plan.trends import DailyValue, Escalation, daily_values


@dataclass(frozen=True)
class _Style:
    color: str
    linestyle: Literal["-", "--", "-.", ":"]
    marker: str


_REGION_STYLE = {
    Region.low_back: _Style("#1f4e79", "-", "o"),
    Region.thoracic: _Style("#2e7d32", "--", "s"),
    Region.neck: _Style("#6a1b9a", "-.", "^"),
}
_MILESTONE = _Style("#1565c0", ":", "")
_ESCALATION = _Style("#c62828", "--", "")
_WARNING_COLOR = "#c62828"
_ACTIVITY_COLOR = "#9e9e9e"
_LABEL_CHARS = 26
_DATE_FORMAT = {"de": ("%d.%m.", "%d.%m.%Y"), "en": ("%d/%m", "%d/%m/%Y")}


def _date_format(lang: str) -> tuple[str, str]:
    """The axis and title date formats; a language added by a deployer uses the day-first English ones."""
    return _DATE_FORMAT.get(lang, _DATE_FORMAT["en"])


_RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "svg.fonttype": "none",
    "svg.hashsalt": "rueckenlotse-diary",
    "axes.titlesize": 13,
}


def _dates(days: Iterable[date]) -> Any:
    """Dates for matplotlib's date axis (its type stubs do not list dates as x values)."""
    return list(days)


def _region_series(days: Sequence[DailyValue]) -> dict[Region, tuple[list[date], list[int]]]:
    series: dict[Region, tuple[list[date], list[int]]] = {}
    for region in _REGION_STYLE:
        points = [(d.day, d.pain[region.value]) for d in days if region.value in d.pain]
        if points:
            series[region] = ([p[0] for p in points], [p[1] for p in points])
    return series


def _plot_pain(ax: Axes, days: Sequence[DailyValue], lang: str) -> list[Line2D]:
    handles: list[Line2D] = []
    for region, (xs, ys) in _region_series(days).items():
        style = _REGION_STYLE[region]
        (line,) = ax.plot(
            _dates(xs),
            ys,
            color=style.color,
            linestyle=style.linestyle,
            marker=style.marker,
            markersize=5,
            linewidth=1.8,
            label=render(f"plot.region.{region.value}", lang),
        )
        handles.append(line)
    ax.set_ylim(0, 10.5)
    ax.set_yticks(range(0, 11))
    ax.set_ylabel(render("plot.axis.pain", lang))
    return handles


def _plot_warnings(ax: Axes, days: Sequence[DailyValue], lang: str) -> list[Line2D]:
    flagged = [d for d in days if d.warning_signs]
    if not flagged:
        return []
    (marks,) = ax.plot(
        _dates(d.day for d in flagged),
        [d.max_pain for d in flagged],
        linestyle="none",
        marker="X",
        markersize=11,
        color=_WARNING_COLOR,
        markeredgecolor="black",
        label=render("plot.legend.warning", lang),
        zorder=5,
    )
    return [marks]


def _plot_activity(ax: Axes, days: Sequence[DailyValue], lang: str) -> Patch:
    ax.bar(
        _dates(d.day for d in days),
        [d.activity_minutes for d in days],
        width=0.8,
        color=_ACTIVITY_COLOR,
        edgecolor="#424242",
        linewidth=0.4,
    )
    ax.set_ylim(bottom=0)
    ax.set_ylabel(render("plot.axis.activity", lang))
    return Patch(facecolor=_ACTIVITY_COLOR, edgecolor="#424242", label=render("plot.legend.activity", lang))


def _group(events: Iterable[tuple[date, str]]) -> dict[date, list[str]]:
    grouped: dict[date, list[str]] = defaultdict(list)
    for day, label in events:
        if label not in grouped[day]:
            grouped[day].append(label)
    return grouped


def _wrap(labels: list[str]) -> str:
    """Several labels of one day, each wrapped: rotated, every line becomes a column of its own."""
    return "\n".join(line for label in labels for line in textwrap.wrap(label, _LABEL_CHARS))


def _mark(axes: Sequence[Axes], events: dict[date, list[str]], style: _Style, left: bool) -> None:
    """Vertical lines through every panel; the labels stand in the strip on top (axes[0]), clear of data."""
    width = 2.2 if style is _ESCALATION else 1.6
    for day, labels in sorted(events.items()):
        for ax in axes:
            ax.axvline(
                _dates([day])[0], color=style.color, linestyle=style.linestyle, linewidth=width, zorder=1
            )
        axes[0].annotate(
            _wrap(labels),
            xy=(_dates([day])[0], 0.02),
            xytext=(-3 if left else 3, 0),
            textcoords="offset points",
            rotation=90,
            ha="right" if left else "left",
            va="bottom",
            fontsize=8.5,
            color=style.color,
            fontweight="bold" if style is _ESCALATION else "normal",
        )


def _event_handles(lang: str, milestones: bool, escalations: bool) -> list[Line2D]:
    handles = []
    if milestones:
        handles.append(_legend_line(_MILESTONE, 1.6, render("plot.legend.milestone", lang)))
    if escalations:
        handles.append(_legend_line(_ESCALATION, 2.2, render("plot.legend.escalation", lang)))
    return handles


def _legend_line(style: _Style, width: float, label: str) -> Line2D:
    return Line2D([], [], color=style.color, linestyle=style.linestyle, linewidth=width, label=label)


def _format_dates(ax: Axes, first: date, last: date, lang: str) -> None:
    # matplotlib.dates has no type hints
    ax.xaxis.set_major_locator(AutoDateLocator(minticks=4, maxticks=12))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(DateFormatter(_date_format(lang)[0]))  # type: ignore[no-untyped-call]
    ax.set_xlim(*_dates([first - timedelta(days=1), last + timedelta(days=1)]))
    ax.set_xlabel(render("plot.axis.date", lang))


def _panels(fig: Figure) -> tuple[Axes, Axes, Axes]:
    """A label strip on top, then pain, then activity, all sharing the date axis."""
    strip, pain, activity = fig.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [1.5, 3, 1.4], "hspace": 0.02}
    )
    strip.set_ylim(0, 1)
    strip.axis("off")
    for ax in (pain, activity):
        ax.grid(True, color="#d0d0d0", linewidth=0.6)
        ax.set_axisbelow(True)
    pain.tick_params(labelbottom=False)
    return strip, pain, activity


def _build(
    days: Sequence[DailyValue],
    escalations: Sequence[Escalation],
    milestones: Sequence[tuple[date, str]],
    lang: str,
) -> Figure:
    fig = Figure(figsize=(11, 8.5), dpi=100, layout="constrained")
    strip, pain_ax, activity_ax = _panels(fig)
    handles: list[Any] = _plot_pain(pain_ax, days, lang)
    handles += _plot_warnings(pain_ax, days, lang)
    handles.append(_plot_activity(activity_ax, days, lang))
    escalated = _group((e.on, e.plot_label.get(lang)) for e in escalations)
    planned = _group(milestones)
    _mark((strip, pain_ax, activity_ax), planned, _MILESTONE, left=False)
    _mark((strip, pain_ax, activity_ax), escalated, _ESCALATION, left=True)
    handles += _event_handles(lang, bool(planned), bool(escalated))
    every_day = [d.day for d in days] + list(planned) + list(escalated)
    _format_dates(activity_ax, min(every_day), max(every_day), lang)
    fmt = _date_format(lang)[1]
    period = f"{days[0].day.strftime(fmt)} – {days[-1].day.strftime(fmt)}"
    fig.suptitle(f"{render('plot.title', lang)}\n{period}", x=0.01, ha="left", fontsize=13)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False)
    return fig


def plot_diary(
    entries: Sequence[DiaryEntry],
    *,
    escalations: Sequence[Escalation] = (),
    milestones: Sequence[tuple[date, str]] = (),
    lang: str = "de",
    svg_path: Path | None = None,
    png_path: Path | None = None,
    jpeg_path: Path | None = None,
) -> None:
    """Draw the diary (pain per region, activity per day, milestones, escalations) to SVG, PNG and/or JPEG."""
    check_language(lang)
    days = daily_values(entries)
    if not days:
        raise ValueError("the diary has no entries to plot")
    with mpl.rc_context(_RC):
        fig = _build(days, escalations, milestones, lang)
        if svg_path is not None:
            fig.savefig(svg_path, format="svg", metadata={"Date": None})
        if png_path is not None:
            fig.savefig(png_path, format="png", dpi=150, metadata={"Software": None})
        if jpeg_path is not None:
            # For the PDF report: WeasyPrint copies a JPEG into the PDF as it is, where it lays out every
            # letter of an SVG's text on its own and re-encodes a PNG (each cost more than a page of text).
            fig.savefig(jpeg_path, format="jpeg", dpi=150, pil_kwargs={"quality": 92, "optimize": True})
