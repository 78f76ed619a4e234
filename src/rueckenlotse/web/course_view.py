"""What the practice's course page shows (issue #18), as plain values for ``practice_course.html``, and
what the person's plan page shows of a practice's changes.

``course_context`` is the one builder of the course page's context, the outcome measures included (each
measure's chart inline, its table and "besser / gleich / schlechter" by ``web.measure_view``, the same
builder and macro as the person's own course page).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ..i18n.formatting import decimal, format_day
from ..plan.followup_texts import render as followup_text
from ..plan.library import LEVELS, default_library
from ..plan.plan_model import Plan, PracticeChange
from ..reports.diary_svg import ChartText, diary_svg
from ..services.sharing import AdjustmentRecord, Course
from ..store.account_records import PracticeRecord
from .i18n import WebTexts
from .measure_view import series_view
from .practice_view import PracticeView

FORMS = ("exclude", "add", "level", "note")


@dataclass(frozen=True)
class WeekRow:
    start: str
    days: int
    pain: str
    function: str


@dataclass(frozen=True)
class ChangeRow:
    id: str
    text: str
    made: str
    note: str | None
    state: str
    active: bool


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def _day(day: dt.date, lang: str) -> str:
    return format_day(day, lang)


def _number(value: float | None, lang: str, texts: WebTexts) -> str:
    return texts.get("share.course.not_given", lang) if value is None else decimal(f"{value:.1f}", lang)


def chart(texts: WebTexts, course: Course, lang: str) -> Markup | None:
    """The diary's pain and activity drawn inline (reports.diary_svg: no script, no style attribute)."""
    report = course.report
    if report is None or not report.days:
        return None
    first, last = report.days[0].day, report.days[-1].day
    text = ChartText(
        title=texts.get("share.course.chart", lang),
        pain=texts.get("share.course.chart_pain", lang),
        activity=texts.get("share.course.chart_activity", lang),
        description=texts.get(
            "share.course.chart_summary",
            lang,
            days=len(report.days),
            first=_day(first, lang),
            last=_day(last, lang),
            last_pain=report.days[-1].max_pain,
        ),
    )
    svg = diary_svg(
        report.days,
        [e.on for e in report.escalations],
        text,
        {first: _day(first, lang), last: _day(last, lang)},
    )
    # The drawing's own ids ("t", "d") are made the page's own: one chart per page, no clash.
    svg = svg.replace('aria-labelledby="t d"', 'aria-labelledby="chart-title chart-desc"')
    svg = svg.replace('<title id="t">', '<title id="chart-title">').replace(
        '<desc id="d">', '<desc id="chart-desc">'
    )
    return Markup(svg)  # noqa: S704  # written by diary_svg, every text escaped there


def weeks(texts: WebTexts, course: Course, lang: str) -> list[WeekRow]:
    report = course.report
    if report is None:
        return []
    return [
        WeekRow(
            _day(w.start, lang), w.days, _number(w.mean_pain, lang, texts), _number(w.function, lang, texts)
        )
        for w in report.weeks
    ]


def signs(view: PracticeView, course: Course, lang: str) -> list[tuple[dt.date, str]]:
    """Warning signs noted in the diary, re-screens that raised the assessment and the trend's escalations,
    by date; the red flags not yet examined first."""
    texts = view.texts
    found: list[tuple[dt.date, str]] = []
    report = course.report
    if report is not None:
        for day in report.days:
            if day.warning_signs:
                labels = ", ".join(followup_text(f"sign.{s}.label", lang) for s in day.warning_signs)
                found.append(
                    (
                        day.day,
                        texts.get("share.course.signs.day", lang, date=_day(day.day, lang), signs=labels),
                    )
                )
        for escalation in report.escalations:
            title = escalation.title.get(lang)
            found.append(
                (
                    escalation.on,
                    texts.get("share.course.escalation", lang, date=_day(escalation.on, lang), title=title),
                )
            )
    for rescreen in course.rescreens:
        on = rescreen.at.date()
        urgency = view.urgency(rescreen.triage)
        if rescreen.conditions:
            conditions = ", ".join(view.kt(f"condition.{c}.label") for c in rescreen.conditions)
            line = texts.get(
                "share.course.rescreen_conditions",
                lang,
                date=_day(on, lang),
                urgency=urgency,
                conditions=conditions,
            )
        else:
            line = texts.get("share.course.rescreen", lang, date=_day(on, lang), urgency=urgency)
        found.append((on, line))
    found.sort(key=lambda item: item[0])
    return found


def standing(view: PracticeView, course: Course, lang: str) -> str | None:
    plan = course.plan
    if plan is None or not plan.standing_flags:
        return None
    since = min(f.since for f in plan.standing_flags)
    conditions = ", ".join(f.label for f in plan.standing_flags)
    return view.t("share.course.standing", conditions=conditions, date=_day(since, lang))


def _title(exercise_id: str | None, lang: str) -> str:
    exercise = default_library().exercises.get(exercise_id or "")
    return exercise.title.get(lang) if exercise is not None else (exercise_id or "")


def change_rows(
    texts: WebTexts, changes: list[AdjustmentRecord], plan: Plan | None, lang: str
) -> list[ChangeRow]:
    """This practice's changes, newest first: what, when, the note, and whether it applies."""
    shown = {c.id: c for c in plan.practice_changes} if plan is not None else {}
    rows = []
    for change in reversed(changes):
        what = texts.get(
            f"share.course.change.{change.kind}",
            lang,
            **({"title": _title(change.exercise_id, lang)} if change.kind in ("exclude", "add") else {}),
            **({"level": change.level} if change.kind == "level" else {}),
        )
        made = texts.get("share.course.change.made", lang, date=_day(change.created_at.date(), lang))
        if change.undone_at is not None:
            state = texts.get("share.course.change.undone", lang, date=_day(change.undone_at.date(), lang))
        elif (applied := shown.get(change.id)) is not None and applied.not_applied is not None:
            reason = texts.get(f"share.reason.{applied.not_applied}", lang)
            state = texts.get("share.course.change.not_applied", lang, reason=reason)
        else:
            state = texts.get("share.course.change.active", lang)
        rows.append(ChangeRow(change.id, what, made, change.note, state, change.active))
    return rows


def course_context(
    view: PracticeView,
    course: Course,
    practice: PracticeRecord,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Everything ``practice_course.html`` shows. ``errors``: field id → message of a refused form (the
    page then answers 422); ``values``: what that form held."""
    lang, texts, plan = view.lang, view.texts, course.plan
    lib = default_library()
    shared = course.course
    person = view.person(shared.person_id, shared.display_name, shared.reference)
    return {
        "person": person,
        "practice": practice,
        "intake_id": shared.intake_id,
        "shared_since": texts.get(
            "share.course.shared_since",
            lang,
            practice=practice.name,
            date=_day(shared.granted_at.date(), lang),
        ),
        "triage": course.latest_triage,
        "urgency": view.urgency(course.latest_triage) if course.latest_triage else None,
        "chart": chart(texts, course, lang),
        "weeks": weeks(texts, course, lang),
        "function_trend": course.report.function.text.get(lang)
        if course.report is not None and course.report.function is not None
        else None,
        "signs": [line for _, line in signs(view, course, lang)],
        "standing": standing(view, course, lang),
        "plan": plan,
        "plan_line": texts.get(
            "share.course.plan.week",
            lang,
            week=plan.current_week,
            level=plan.current_level,
            minutes=plan.activity_minutes,
        )
        if plan is not None and plan.current_week is not None
        else None,
        "changes": change_rows(texts, course.adjustments, plan, lang),
        "exclude_options": [Option(e.id, e.title) for e in plan.exercises] if plan is not None else [],
        "add_options": [Option(i, lib.exercises[i].title.get(lang)) for i in course.addable],
        "level_options": [
            Option(
                str(level),
                texts.get(
                    "share.form.level.option", lang, level=level, name=lib.text(f"plan.level.{level}", lang)
                ),
            )
            for level in LEVELS
        ],
        "form_keys": {form: secrets.token_urlsafe(32) for form in FORMS},
        "errors": errors or {},
        "values": values or {},
        "measures": [series_view(texts, m, lang, reader="practice") for m in course.measures if m.points],
    }


# ---- the person's plan page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeNote:
    """One practice change as the person reads it on their plan page."""

    text: str | None  # what changed (None for a plain note)
    practice: str
    when: str
    note: str | None


def plan_notes(texts: WebTexts, plan: Plan, lang: str) -> tuple[list[ChangeNote], bool]:
    """The practices' changes the plan applies (newest first), and whether some wait for a red flag to be
    examined (the page then says so, without naming them: no exercise is shown under a red flag)."""
    notes = []
    for change in reversed(plan.practice_changes):
        if not change.applied:
            continue
        notes.append(
            ChangeNote(
                _what(texts, change, lang),
                change.practice,
                texts.get("share.plan.on", lang, date=_day(change.on, lang)),
                change.note,
            )
        )
    waiting = any(c.not_applied == "red_flag" for c in plan.practice_changes)
    return notes, waiting


def _what(texts: WebTexts, change: PracticeChange, lang: str) -> str | None:
    if change.kind == "note":
        return None
    if change.kind == "level":
        return texts.get("share.plan.level", lang, practice=change.practice, level=change.level)
    title = change.title or change.exercise_id or ""
    return texts.get(f"share.plan.{change.kind}", lang, practice=change.practice, title=title)
