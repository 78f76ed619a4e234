"""Trend analysis of the pain diary. Pure: no I/O but the packaged follow-up rules and texts.

Counting, as implemented:
- A diary day is the calendar date of an entry's ``recorded_at`` in the offset it was recorded with.
  Several entries a day are merged: pain is the day's highest value (overall and per region), activity
  minutes add up, function is the mean of the entries' item means, the reach is the furthest one noted.
- The episode starts ``Case.duration_weeks`` before the assessment (``episode_start``). Week N of the
  episode begins on the date of ``episode_start + N weeks``; weekly values are grouped the same way
  (week 0 is the first week of the episode).
- Baseline: mean of the daily highest pain over the first 7 calendar days of the diary (days without an
  entry do not count). Recent: the same mean over the 7 calendar days ending on the day checked.
- Trends need data (contract 2, SR-FU-3): a statement about change compares two windows that do not
  overlap and hold at least 3 entries each (``min_window_entries``, followup.yaml); otherwise the report
  says there are too few entries (``too_few``) and makes no statement.
- Each checkpoint (weeks 4, 6, 12; followup.yaml) is checked exactly once: on the first diary day on or
  after its date whose recent window (the 7 days ending that day) holds at least 3 entries, none of them on
  a day of the baseline window (the diary's first 7 days, also at least 3 entries). The two calendar windows
  may share days without entries: the compared entries are separate all the same. Meaningful improvement
  there = recent at least 2 points lower, or at least 30 % lower, than the baseline, or recent at most 1
  (pain-free or nearly). Without it, the checkpoint escalates. Until such a day comes, a checkpoint whose
  date has passed is "too few entries": no statement, and the text says so.
- Causal: a check on day D only uses diary days up to D (the baseline too), so a result never changes
  when later entries arrive.
- While a red flag of the episode stands (``standing``), no escalation text sends the person to exercise:
  the see-clinician step then says to have the warning sign examined first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..core.kb import KnowledgeBase
from ..core.models import Case, RegionValue
from ..i18n import LocalText
from ..i18n.formatting import format_day
from ..knowledge.loader import default_knowledge, packaged_knowledge
from .followup_texts import (
    EscalationKind,
    Parameters,
    default_followup,
    fmt_number,
    render_both,
)
from .models import PAIN_REACH_ORDER, DiaryEntry, DiaryWarningSign, PainReach
from .rescreen import RaisedFlag

_EPS = 1e-9
_FROZEN = ConfigDict(frozen=True)


class DailyValue(BaseModel):
    """One diary day: several entries merged."""

    model_config = _FROZEN
    day: date
    max_pain: int
    pain: dict[RegionValue, int]
    activity_minutes: int
    function: float | None
    pain_reach: PainReach | None
    warning_signs: list[DiaryWarningSign]
    entries: int
    # Entries of the day that noted where the pain reaches / gave function items.
    reach_entries: int = 0
    function_entries: int = 0


class WeeklyValue(BaseModel):
    """Means over the diary days of one week of the episode (week 0 begins at the episode start)."""

    model_config = _FROZEN
    week: int
    start: date
    days: int
    mean_pain: float
    pain: dict[RegionValue, float]
    activity_minutes: float
    function: float | None


class TrendCheck(BaseModel):
    """One checkpoint: pending (no diary day on or after its date yet) or checked on a diary day."""

    model_config = _FROZEN
    kind: EscalationKind
    due_week: int
    due_date: date
    checked_on: date | None = None
    baseline: float | None = None
    recent: float | None = None
    improved: bool | None = None
    # Its date has passed, but the windows hold too few entries for a statement yet.
    too_few: bool = False


class Escalation(BaseModel):
    """A checkpoint reached without meaningful improvement: the next step, and why."""

    model_config = _FROZEN
    kind: EscalationKind
    due_week: int
    due_date: date
    on: date
    baseline: float
    recent: float
    title: LocalText
    plot_label: LocalText
    reason: LocalText
    action: LocalText
    sources: list[str]


class CentralisationTrend(BaseModel):
    """Where the pain reaches, first diary days against the last ones."""

    model_config = _FROZEN
    direction: Literal["centralising", "peripheralising", "stable"]
    start: PainReach
    end: PainReach
    start_score: float
    end_score: float
    neuro_signs: bool
    see_doctor: bool
    good_sign: bool
    text: LocalText


class FunctionTrend(BaseModel):
    """Mean of the function items (0 no difficulty … 4 cannot do it), first days against the last ones."""

    model_config = _FROZEN
    direction: Literal["better", "worse", "same"]
    start: float
    end: float
    text: LocalText


class FollowUpReport(BaseModel):
    """Everything the diary shows, for the CLI and the web."""

    model_config = _FROZEN
    episode_start: datetime
    first_day: date | None
    last_day: date | None
    baseline: float | None
    days: list[DailyValue]
    weeks: list[WeeklyValue]
    checks: list[TrendCheck]
    escalations: list[Escalation]
    centralisation: CentralisationTrend | None
    function: FunctionTrend | None
    # Red flags of the episode that stand until a doctor has examined them, and what to do about them.
    standing: list[RaisedFlag] = []
    red_flag_text: LocalText | None = None
    # Set when a statement about change was left out for lack of entries.
    too_few: LocalText | None = None


def _params() -> Parameters:
    return default_followup().parameters


def _exercise_steps() -> frozenset[str]:
    """Checkpoint steps whose action sends the person to exercise therapy: not while a red flag stands."""
    return frozenset(c.kind for c in _params().checkpoints if c.to_exercise)


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return fmean(items) if items else None


# ---- daily and weekly values ----------
def entry_function(entry: DiaryEntry) -> float | None:
    """Mean of the entry's function items, or None when it has none."""
    return _mean(entry.function.values())


def _furthest_reach(reaches: Iterable[PainReach | None]) -> PainReach | None:
    known = [r for r in reaches if r is not None]
    return max(known, key=PAIN_REACH_ORDER.index) if known else None


def _merge_day(day: date, entries: list[DiaryEntry]) -> DailyValue:
    pain: dict[RegionValue, int] = {}
    for entry in entries:
        for region, value in entry.pain.items():
            pain[region] = max(pain.get(region, 0), value)
    signs = dict.fromkeys(s for e in entries for s in e.warning_signs)
    return DailyValue(
        day=day,
        max_pain=max(e.max_pain for e in entries),
        pain=pain,
        activity_minutes=sum(e.activity_minutes for e in entries),
        function=_mean(f for f in map(entry_function, entries) if f is not None),
        pain_reach=_furthest_reach(e.pain_reach for e in entries),
        warning_signs=list(signs),
        entries=len(entries),
        reach_entries=sum(e.pain_reach is not None for e in entries),
        function_entries=sum(bool(e.function) for e in entries),
    )


def daily_values(entries: Sequence[DiaryEntry]) -> list[DailyValue]:
    """One value per diary day, in date order."""
    by_day: dict[date, list[DiaryEntry]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: e.recorded_at):
        by_day[entry.recorded_at.date()].append(entry)
    return [_merge_day(day, by_day[day]) for day in sorted(by_day)]


def episode_start(case: Case, assessed_at: datetime) -> datetime:
    """When the episode began: the assessment time minus the Case's duration_weeks."""
    if assessed_at.tzinfo is None:
        raise ValueError("assessed_at must carry a time zone")
    return assessed_at - timedelta(weeks=case.duration_weeks)


def episode_week(day: date, start: datetime) -> int:
    """Completed weeks of the episode on that day (week N begins on the date of start + N weeks)."""
    return (day - start.date()).days // 7


def _weekly(week: int, start: datetime, days: list[DailyValue]) -> WeeklyValue:
    regions = sorted({r for d in days for r in d.pain})
    return WeeklyValue(
        week=week,
        start=start.date() + timedelta(weeks=week),
        days=len(days),
        mean_pain=round(fmean(d.max_pain for d in days), 2),
        pain={r: round(fmean(d.pain[r] for d in days if r in d.pain), 2) for r in regions},
        activity_minutes=round(fmean(d.activity_minutes for d in days), 1),
        function=_round(_mean(d.function for d in days if d.function is not None)),
    )


def weekly_values(days: Sequence[DailyValue], start: datetime) -> list[WeeklyValue]:
    """Means per week of the episode over the diary days of that week."""
    by_week: dict[int, list[DailyValue]] = defaultdict(list)
    for d in days:
        by_week[episode_week(d.day, start)].append(d)
    return [_weekly(week, start, by_week[week]) for week in sorted(by_week)]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# ---- baseline, recent, improvement ----------
def _window_mean(days: Sequence[DailyValue], first: date, last: date) -> float | None:
    return _mean(d.max_pain for d in days if first <= d.day <= last)


def baseline_pain(days: Sequence[DailyValue], as_of: date | None = None) -> float | None:
    """Mean daily highest pain over the diary's first 7 days, using only days up to as_of."""
    if not days:
        return None
    first = days[0].day
    last = first + timedelta(days=_params().baseline_days - 1)
    return _window_mean(days, first, last if as_of is None else min(last, as_of))


def recent_pain(days: Sequence[DailyValue], on: date) -> float | None:
    """Mean daily highest pain over the 7 days ending on that day."""
    return _window_mean(days, on - timedelta(days=_params().recent_days - 1), on)


def meaningful_improvement(baseline: float, recent: float) -> bool:
    """At least 2 points or 30 % below the baseline, or pain-free or nearly (followup.yaml)."""
    rule = _params().improvement
    drop = baseline - recent
    return (
        recent <= rule.nearly_pain_free + _EPS
        or drop >= rule.min_points - _EPS
        or (baseline > 0 and drop >= rule.min_fraction * baseline - _EPS)
    )


# ---- checkpoints and escalations ----------
def _entries_in(days: Sequence[DailyValue], first: date, last: date) -> int:
    return sum(d.entries for d in days if first <= d.day <= last)


def _decidable(days: Sequence[DailyValue], day: date) -> bool:
    """Whether a check on that day compares two separate windows of at least 3 entries each.

    Separate means that no diary day counts in both: the recent window's first diary day lies after the
    baseline window. The calendar days may touch when the shared days hold no entry (a first week whose
    last days are empty); waiting for the calendar windows to part would say "too few entries" about two
    windows of 3 entries each (contract 2) and delay, or lose, a checkpoint's escalation."""
    params = _params()
    first = days[0].day
    baseline_end = first + timedelta(days=params.baseline_days - 1)
    recent_start = day - timedelta(days=params.recent_days - 1)
    recent = [d for d in days if recent_start <= d.day <= day]
    return (
        bool(recent)
        and recent[0].day > baseline_end
        and _entries_in(days, first, baseline_end) >= params.min_window_entries
        and sum(d.entries for d in recent) >= params.min_window_entries
    )


def _check(days: Sequence[DailyValue], kind: EscalationKind, week: int, start: datetime) -> TrendCheck:
    due = (start + timedelta(weeks=week)).date()
    reached = [d.day for d in days if d.day >= due]
    day = next((d for d in reached if _decidable(days, d)), None)
    if day is None:
        return TrendCheck(kind=kind, due_week=week, due_date=due, too_few=bool(reached))
    baseline = baseline_pain(days, as_of=day)
    recent = recent_pain(days, day)
    assert baseline is not None and recent is not None  # both windows hold entries
    return TrendCheck(
        kind=kind,
        due_week=week,
        due_date=due,
        checked_on=day,
        baseline=round(baseline, 2),
        recent=round(recent, 2),
        improved=meaningful_improvement(baseline, recent),
    )


def trend_checks_for_days(days: Sequence[DailyValue], start: datetime) -> list[TrendCheck]:
    """Every checkpoint of followup.yaml, checked once on its day or still pending."""
    return [_check(days, c.kind, c.week, start) for c in _params().checkpoints]


def _amount(value: float) -> str:
    return f"{value:g}"


def _escalation(check: TrendCheck, *, red_flag: bool = False) -> Escalation:
    assert check.checked_on and check.baseline is not None and check.recent is not None
    rule = _params().improvement
    sources = next(c.sources for c in _params().checkpoints if c.kind == check.kind)
    baseline, recent = check.baseline, check.recent
    return Escalation(
        kind=check.kind,
        due_week=check.due_week,
        due_date=check.due_date,
        on=check.checked_on,
        baseline=baseline,
        recent=recent,
        title=render_both(f"escalation.{check.kind}.title", week=check.due_week),
        plot_label=render_both(f"plot.escalation.{check.kind}", week=check.due_week),
        reason=render_both(
            "escalation.reason",
            week=check.due_week,
            recent=lambda lang: fmt_number(recent, lang),
            baseline=lambda lang: fmt_number(baseline, lang),
            points=_amount(rule.min_points),
            percent=_amount(rule.min_fraction * 100),
        ),
        action=render_both(
            "escalation.red_flag.action"
            if red_flag and check.kind in _exercise_steps()
            else f"escalation.{check.kind}.action"
        ),
        sources=list(sources),
    )


def escalations_from_checks(checks: Iterable[TrendCheck], *, red_flag: bool = False) -> list[Escalation]:
    return [_escalation(c, red_flag=red_flag) for c in checks if c.improved is False]


def trend_escalations(entries: Sequence[DiaryEntry], *, start: datetime) -> list[Escalation]:
    """The escalations of the trend rules for a diary whose episode began at start."""
    return escalations_from_checks(trend_checks_for_days(daily_values(entries), start))


# ---- centralisation and function ----------
def _window_scores(
    days: Sequence[DailyValue], window: int, score: dict[date, float], counts: dict[date, int]
) -> tuple[float, float] | None:
    """Mean score of the first and the last window of days with a score; None unless the windows are
    separate and hold at least 3 entries each."""
    known = [d.day for d in days if d.day in score]
    if not known:
        return None
    head = [d for d in known if d <= known[0] + timedelta(days=window - 1)]
    tail = [d for d in known if d >= known[-1] - timedelta(days=window - 1)]
    needed = _params().min_window_entries
    if tail[0] <= head[-1] or sum(counts[d] for d in head) < needed or sum(counts[d] for d in tail) < needed:
        return None
    return fmean(score[d] for d in head), fmean(score[d] for d in tail)


def _reach_at(score: float) -> PainReach:
    index = min(int(score + 0.5), len(PAIN_REACH_ORDER) - 1)
    reach: PainReach = ("back_only", "buttock_thigh", "below_knee")[index]
    return reach


def _reach_direction(start: float, end: float) -> Literal["centralising", "peripheralising", "stable"]:
    shift = end - start
    if abs(shift) < _params().centralisation.min_shift - _EPS or _reach_at(start) == _reach_at(end):
        return "stable"
    return "centralising" if shift < 0 else "peripheralising"


def centralisation_for_days(days: Sequence[DailyValue]) -> CentralisationTrend | None:
    """How far the pain reaches, first diary days against the last; None without two days of data."""
    score = {d.day: float(PAIN_REACH_ORDER.index(d.pain_reach)) for d in days if d.pain_reach}
    counts = {d.day: d.reach_entries for d in days}
    windows = _window_scores(days, _params().centralisation.window_days, score, counts)
    if windows is None:
        return None
    start, end = windows
    direction = _reach_direction(start, end)
    # Signs from the nerves (diary.yaml neuro_signs): with pain spreading outwards they need a doctor's look.
    neuro_signs = set(packaged_knowledge().diary.neuro_signs)
    neuro = any(neuro_signs.intersection(d.warning_signs) for d in days)
    see_doctor = direction == "peripheralising" and neuro
    key = "peripheralising_with_neuro" if see_doctor else direction
    start_reach, end_reach = _reach_at(start), _reach_at(end)
    return CentralisationTrend(
        direction=direction,
        start=start_reach,
        end=end_reach,
        start_score=round(start, 2),
        end_score=round(end, 2),
        neuro_signs=neuro,
        see_doctor=see_doctor,
        good_sign=direction == "centralising",
        text=render_both(
            f"centralisation.{key}",
            start=lambda lang: _reach_label(start_reach, lang),
            end=lambda lang: _reach_label(end_reach, lang),
        ),
    )


def _reach_label(reach: PainReach, lang: str) -> str:
    return default_followup().text(f"reach.{reach}.label").get(lang)


def centralisation(entries: Sequence[DiaryEntry]) -> CentralisationTrend | None:
    """Pain moving towards the back (a good sign) or outwards over the diary; None without data."""
    return centralisation_for_days(daily_values(entries))


def function_trend_for_days(days: Sequence[DailyValue]) -> FunctionTrend | None:
    """Function items, first diary days against the last; lower is better."""
    params = _params().function
    score = {d.day: d.function for d in days if d.function is not None}
    counts = {d.day: d.function_entries for d in days}
    windows = _window_scores(days, params.window_days, score, counts)
    if windows is None:
        return None
    start, end = windows
    change = end - start
    direction: Literal["better", "worse", "same"] = (
        "same" if abs(change) < params.min_change - _EPS else "better" if change < 0 else "worse"
    )
    return FunctionTrend(
        direction=direction,
        start=round(start, 2),
        end=round(end, 2),
        text=render_both(
            f"function.{direction}",
            start=lambda lang: fmt_number(start, lang),
            end=lambda lang: fmt_number(end, lang),
        ),
    )


# ---- the whole report ----------
def _too_few(
    days: Sequence[DailyValue],
    checks: Sequence[TrendCheck],
    reach: CentralisationTrend | None,
    function: FunctionTrend | None,
) -> LocalText | None:
    """The "too few entries" text when a statement about change had to be left out."""
    withheld = (
        any(c.too_few for c in checks)
        or (reach is None and any(d.pain_reach for d in days))
        or (function is None and any(d.function is not None for d in days))
    )
    if not days or not withheld:
        return None
    return render_both("trend.too_few", count=str(_params().min_window_entries))


def red_flag_text(standing: Sequence[RaisedFlag], kb: KnowledgeBase | None = None) -> LocalText | None:
    """What the diary says while red flags of the episode stand: which, since when, and what ends them."""
    if not standing:
        return None
    kb = kb or default_knowledge()
    since = min(f.raised_at for f in standing).date()

    def conditions(lang: str) -> str:
        return ", ".join(kb.render(f"condition.{f.condition}.label", lang) for f in standing)

    return render_both(
        "red_flag.standing",
        conditions=conditions,
        since=lambda lang: format_day(since, lang),
    )


def follow_up_report(
    entries: Sequence[DiaryEntry],
    *,
    case: Case,
    assessed_at: datetime,
    standing: Sequence[RaisedFlag] = (),
    kb: KnowledgeBase | None = None,
) -> FollowUpReport:
    """Daily and weekly series, checkpoints, escalations, centralisation and function of one diary.

    ``standing`` are the red flags of the episode not yet examined (``plan.rescreen.replay``)."""
    start = episode_start(case, assessed_at)
    days = daily_values(entries)
    checks = trend_checks_for_days(days, start)
    reach = centralisation_for_days(days)
    function = function_trend_for_days(days)
    return FollowUpReport(
        episode_start=start,
        first_day=days[0].day if days else None,
        last_day=days[-1].day if days else None,
        baseline=_round(baseline_pain(days)),
        days=days,
        weeks=weekly_values(days, start),
        checks=checks,
        escalations=escalations_from_checks(checks, red_flag=bool(standing)),
        centralisation=reach,
        function=function,
        standing=list(standing),
        red_flag_text=red_flag_text(standing, kb),
        too_few=_too_few(days, checks, reach, function),
    )
