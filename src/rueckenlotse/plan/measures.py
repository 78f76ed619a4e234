"""Outcome measures at work: checking and scoring a response, its change by the measure's minimal
important change (``core.measures.judge_change``), the series of a person's responses, and which measure
is due when.

Pure: no I/O, no clock. Every function takes the loaded measures (``knowledge.measures``: the packaged
ones are ``default_measures()``); the engine-scored measure (STarT Back again) also takes the knowledge
base and the intake's Case, whose derived values (derived.yaml) score it exactly as at the intake.

Answers, as stored and as the API takes them: ``{item_id: value}``; a scale or choice item a whole number,
a yes/no item true or false, a named item (PSFS) a list of ``{"name": "Treppen steigen", "value": 4}``.
Field errors name the item (``pain``) or the activity (``activity[0].value``), German first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import Any

from ..core.engine import derived_values
from ..core.errors import FieldError, InvalidInput
from ..core.kb import KnowledgeBase
from ..core.measures import Change, judge_change
from ..core.models import Case
from ..i18n.formatting import decimal
from ..knowledge.loader import packaged_knowledge
from ..knowledge.measures import NAME_LENGTH, NAME_PATTERN, Measure, MeasureCatalogue, MeasureItem

__all__ = [
    "DueMeasure",
    "MeasureScore",
    "MeasureSeries",
    "Recorded",
    "SeriesPoint",
    "build_series",
    "change_text",
    "default_measures",
    "due_measures",
    "form_answers",
    "judge",
    "next_due_day",
    "score_response",
    "score_text",
    "validate_answers",
    "week_label",
]


def default_measures() -> MeasureCatalogue:
    """The packaged measures (measures.yaml), loaded once per process."""
    return packaged_knowledge().measures


def _measure(catalogue: MeasureCatalogue, measure: Measure | str) -> Measure:
    return catalogue.get(measure) if isinstance(measure, str) else measure


# ---- checking answers ---------------------------------------------------------------------------------
def _whole(value: Any) -> int | None:
    """A whole number (an int, or a float without a fraction); never a bool."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _check_value(
    catalogue: MeasureCatalogue, item: MeasureItem, value: Any, where: str, lang: str
) -> tuple[int | bool | None, FieldError | None]:
    """The item's value as kept, or the error that refuses it."""
    if value is None:
        return None, FieldError(where, "required", catalogue.text("error.required", lang))
    if item.kind == "yes_no":
        if isinstance(value, bool):
            return value, None
        return None, FieldError(where, "yes_no", catalogue.text("error.yes_no", lang))
    whole = _whole(value)
    if item.kind == "choice":
        if whole is not None and whole in item.values:
            return whole, None
        return None, FieldError(where, "choice", catalogue.text("error.choice", lang))
    assert item.scale is not None
    if whole is not None and item.scale.min <= whole <= item.scale.max:
        return whole, None
    message = catalogue.text("error.range", lang, min=item.scale.min, max=item.scale.max)
    return None, FieldError(where, "range", message)


def _check_named(
    catalogue: MeasureCatalogue, item: MeasureItem, value: Any, lang: str, errors: list[FieldError]
) -> list[dict[str, Any]]:
    assert item.repeat is not None
    rows = value if isinstance(value, list) else None
    if rows is None or not item.repeat.min <= len(rows) <= item.repeat.max:
        message = catalogue.text("error.count", lang, min=item.repeat.min, max=item.repeat.max)
        errors.append(FieldError(item.id, "count", message))
        return []
    kept: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        where = f"{item.id}[{index}]"
        row = row if isinstance(row, Mapping) else {}
        raw = row.get("name")
        name = raw.strip() if isinstance(raw, str) else ""
        if not isinstance(raw, str) or len(raw) > NAME_LENGTH or not NAME_PATTERN.search(raw):
            message = catalogue.text("error.name", lang, max=NAME_LENGTH)
            errors.append(FieldError(f"{where}.name", "name", message))
        number, error = _check_value(catalogue, item, row.get("value"), f"{where}.value", lang)
        if error is not None:
            errors.append(error)
        unknown = sorted(str(k) for k in row if k not in ("name", "value"))
        errors += [
            FieldError(f"{where}.{k}", "unknown", catalogue.text("error.unknown", lang)) for k in unknown
        ]
        kept.append({"name": name, "value": number})
    return kept


def validate_answers(
    catalogue: MeasureCatalogue, measure: Measure | str, answers: Mapping[str, Any], *, lang: str = "de"
) -> dict[str, Any]:
    """The answers as kept (numbers whole, names trimmed), or ``InvalidInput`` with every field's error
    in ``lang``: a missing answer, a value outside the scale or the options, an unknown key."""
    m = _measure(catalogue, measure)
    if not isinstance(answers, Mapping):
        raise InvalidInput(
            [FieldError(field="answers", type="type", message=catalogue.text("error.required", lang))]
        )
    errors: list[FieldError] = []
    kept: dict[str, Any] = {}
    for item in m.items:
        raw = answers.get(item.id)
        if item.kind == "named_scale":
            kept[item.id] = _check_named(catalogue, item, raw, lang, errors)
            continue
        value, error = _check_value(catalogue, item, raw, item.id, lang)
        if error is not None:
            errors.append(error)
        kept[item.id] = value
    known = {item.id for item in m.items}
    for key in sorted(str(k) for k in answers if k not in known):
        errors.append(FieldError(key, "unknown", catalogue.text("error.unknown", lang)))
    if errors:
        raise InvalidInput(errors)
    return kept


# ---- scoring ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeasureScore:
    """A scored response: the score (rounded to the measure's decimals), its subscales, and the answers
    as kept."""

    measure_id: str
    score: float
    subscales: dict[str, float]
    answers: dict[str, Any]


def _values(m: Measure, answers: Mapping[str, Any], items: Collection[str] | None = None) -> list[float]:
    """The numbers the scoring counts: one per item, one per named activity (yes = 1, no = 0)."""
    out: list[float] = []
    for item in m.items:
        if items is not None and item.id not in items:
            continue
        value = answers[item.id]
        if item.kind == "named_scale":
            out += [float(row["value"]) for row in value]
        else:
            out.append(float(value))
    return out


def _aggregate(kind: str, values: Sequence[float]) -> float:
    return fmean(values) if kind == "mean" else float(sum(values))


def score_response(
    catalogue: MeasureCatalogue,
    measure: Measure | str,
    answers: Mapping[str, Any],
    *,
    lang: str = "de",
    case: Case | None = None,
    kb: KnowledgeBase | None = None,
) -> MeasureScore:
    """Check and score one response. Mean, sum or the single item's value as the measure says; an
    engine-scored measure (scoring ``derived``) needs the intake's ``case`` and the knowledge base ``kb``:
    its answers replace the Case's nested answers (``items_from``) and the derived values score them.

    Raises ``InvalidInput`` (field errors in ``lang``) for answers that do not fit, or that give no score
    (STarT Back for neck pain alone)."""
    m = _measure(catalogue, measure)
    kept = validate_answers(catalogue, m, answers, lang=lang)
    scoring = m.scoring
    if scoring.kind == "derived":
        score, subscales = _derived_score(catalogue, m, kept, case, kb, lang)
    else:
        values = _values(m, kept)
        score = values[0] if scoring.kind == "value" else _aggregate(scoring.kind, values)
        subscales = {s.id: _aggregate(s.kind, _values(m, kept, s.items)) for s in scoring.subscales}
    digits = scoring.decimals
    return MeasureScore(
        measure_id=m.id,
        score=round(score, digits),
        subscales={k: round(v, digits) for k, v in subscales.items()},
        answers=kept,
    )


def _derived_score(
    catalogue: MeasureCatalogue,
    m: Measure,
    kept: Mapping[str, Any],
    case: Case | None,
    kb: KnowledgeBase | None,
    lang: str,
) -> tuple[float, dict[str, float]]:
    if case is None or kb is None:
        raise ValueError(f"measure {m.id!r} is scored by the engine: give the intake's case and kb")
    assert m.items_from is not None and m.scoring.derived is not None
    group = m.items_from.questionnaire
    # Through JSON, as a stored Case is read back (absent, not null, for "not answered"): the strict nested
    # models take the answers as given.
    data = {**case.model_dump(mode="json", exclude_none=True), group: dict(kept)}
    values = derived_values(kb, Case.model_validate_json(json.dumps(data)))
    category = values.get(m.scoring.derived.score)
    if category not in m.scoring.derived.categories:
        raise InvalidInput(
            [FieldError(field="answers", type="not_scored", message=catalogue.text("error.not_scored", lang))]
        )
    subscales = {s.id: float(values[s.derived]) for s in m.scoring.subscales if s.derived is not None}
    return float(m.scoring.derived.categories[category]), subscales


def judge(measure: Measure, baseline: float | None, current: float) -> Change | None:
    """ "better", "same" or "worse" by the measure's minimal important change (``core.measures``)."""
    return judge_change(measure.change_rule, baseline, current)


# ---- a form's fields as answers -----------------------------------------------------------------------
def _form_value(item: MeasureItem, text: str) -> Any:
    if item.kind == "yes_no":
        return {"yes": True, "no": False}.get(text, text)
    return int(text) if text.lstrip("-").isdigit() and len(text) <= 6 else text


def form_answers(measure: Measure, get: Callable[[str], str | None]) -> tuple[dict[str, Any], dict[str, str]]:
    """A form's (or the command line's) fields as answers, and for each answer's error field the form
    field it belongs to. Fields: ``<item>`` for a scale or choice (a number) and yes/no ("yes", "no");
    ``<item>-<n>-name`` and ``<item>-<n>-value`` for the n-th named activity (from 1; a row left blank
    is skipped). An empty field is a missing answer; text that is no number is kept for the range error."""
    answers: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for item in measure.items:
        if item.kind != "named_scale":
            text = (get(item.id) or "").strip()
            if text:
                answers[item.id] = _form_value(item, text)
            fields[item.id] = item.id
            continue
        assert item.repeat is not None
        rows: list[dict[str, Any]] = []
        for n in range(1, item.repeat.max + 1):
            name = (get(f"{item.id}-{n}-name") or "").strip()
            value = (get(f"{item.id}-{n}-value") or "").strip()
            if not name and not value:
                continue
            index = len(rows)
            rows.append({"name": name, "value": _form_value(item, value) if value else None})
            fields[f"{item.id}[{index}].name"] = f"{item.id}-{n}-name"
            fields[f"{item.id}[{index}].value"] = f"{item.id}-{n}-value"
        answers[item.id] = rows
        fields[item.id] = f"{item.id}-1-name"
    return answers, fields


# ---- the series of a person's responses ---------------------------------------------------------------
@dataclass(frozen=True)
class Recorded:
    """One scored response of a person (``response_id`` None: the intake's own answers, e.g. STarT Back)."""

    week: int | None
    recorded_at: datetime
    score: float
    subscales: Mapping[str, float] = field(default_factory=dict)
    response_id: str | None = None


@dataclass(frozen=True)
class SeriesPoint:
    """A response in the series, judged against the baseline (a category measure: by itself)."""

    week: int | None
    recorded_at: datetime
    score: float
    subscales: Mapping[str, float]
    response_id: str | None
    baseline: bool
    change: Change | None


@dataclass(frozen=True)
class MeasureSeries:
    """One measure's responses of one person, oldest first, each with its change."""

    measure: Measure
    points: tuple[SeriesPoint, ...]

    @property
    def baseline(self) -> SeriesPoint | None:
        return next((p for p in self.points if p.baseline), None)

    @property
    def latest(self) -> SeriesPoint | None:
        return self.points[-1] if self.points else None


def build_series(measure: Measure, recorded: Sequence[Recorded]) -> MeasureSeries:
    """The series with "better / same / worse" for each follow-up: against the week-0 response (or, without
    one, the first) by the measure's minimal important change. A measure that rates change itself (PGIC) has
    no baseline: each response is judged by its own value."""
    ordered = sorted(recorded, key=lambda r: (r.week is None, r.week or 0, r.recorded_at))
    category = measure.change.kind == "category"
    base = None if category or not ordered else ordered[0]
    points = tuple(
        SeriesPoint(
            week=r.week,
            recorded_at=r.recorded_at,
            score=r.score,
            subscales=dict(r.subscales),
            response_id=r.response_id,
            baseline=r is base,
            change=None if r is base else judge(measure, None if base is None else base.score, r.score),
        )
        for r in ordered
    )
    return MeasureSeries(measure, points)


def week_label(catalogue: MeasureCatalogue, week: int | None, lang: str) -> str:
    """ "Beginn" for week 0 (the intake), else "Woche N"."""
    if not week:
        return catalogue.text("week.0", lang)
    return catalogue.text("week.n", lang, week=week)


# ---- when a measure is due ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DueMeasure:
    """A measure to answer now for the episode week ``week``, due since ``since``."""

    measure: Measure
    week: int
    since: date


def due_measures(
    catalogue: MeasureCatalogue,
    *,
    regions: Collection[str],
    intake_at: datetime,
    today: date,
    answered: Collection[tuple[str, int]],
    without_improvement: Mapping[int, date],
) -> list[DueMeasure]:
    """The measures due on ``today``, in the catalogue's order, each once with the week it answers.

    Week 0 is due from the intake on, week N > 0 from N weeks after the intake day: outcomes are measured
    from the start of the course, as in outcome studies, so that a person who comes with long-standing pain
    is followed up as one with new pain (counting from the pain's onset, every follow-up week of chronic
    pain would lie before the intake). A week ``only_without_improvement``
    is due from the day the diary's check of that week (``without_improvement``: week -> day checked)
    found no meaningful improvement, and not otherwise. A week is due until it is answered; of several due
    weeks only the latest is asked (the earlier ones lapse), and a week before an answered one lapses too.
    A measure for some regions only (STarT Back: not for neck pain alone) is asked of those regions."""
    intake_day = intake_at.date()
    done: dict[str, set[int]] = {}
    for measure_id, week in answered:
        done.setdefault(measure_id, set()).add(week)
    due: list[DueMeasure] = []
    for measure in catalogue.measures:
        if measure.regions and not set(measure.regions) & set(regions):
            continue
        latest_answer = max(done.get(measure.id, set()), default=-1)
        open_weeks: list[DueMeasure] = []
        for week in measure.schedule.weeks:
            since = _due_since(measure, week, intake_day, without_improvement)
            if since is None or since > today or week <= latest_answer:
                continue
            open_weeks.append(DueMeasure(measure, week, since))
        if open_weeks:
            due.append(open_weeks[-1])
    return due


def next_due_day(
    catalogue: MeasureCatalogue,
    *,
    regions: Collection[str],
    intake_at: datetime,
    today: date,
    answered: Collection[tuple[str, int]],
) -> date | None:
    """The first day after ``today`` on which a scheduled week becomes due (weeks asked only without
    improvement are not foreseen); None when no week is left."""
    intake_day = intake_at.date()
    days: list[date] = []
    for measure in catalogue.measures:
        if measure.schedule.only_without_improvement or (
            measure.regions and not set(measure.regions) & set(regions)
        ):
            continue
        latest_answer = max((w for m, w in answered if m == measure.id), default=-1)
        for week in measure.schedule.weeks:
            since = _due_since(measure, week, intake_day, {})
            if since is not None and since > today and week > latest_answer:
                days.append(since)
    return min(days, default=None)


def _due_since(
    measure: Measure,
    week: int,
    intake_day: date,
    without_improvement: Mapping[int, date],
) -> date | None:
    if measure.schedule.only_without_improvement:
        # Tied to the diary's check of that episode week (NVL: a risk re-screen after 4 weeks of pain).
        return without_improvement.get(week)
    return intake_day + timedelta(weeks=week)


# ---- words for people -----------------------------------------------------------------------------------
def score_text(measure: Measure, value: float, lang: str) -> str:
    """A score as people read it: its word where the measure has one ("hoch", "viel besser"), else the
    number with one decimal in the language's form ("5,7")."""
    label = measure.score_label(value)
    if label is not None:
        return label.get(lang)
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return decimal(text, lang)


def change_text(
    catalogue: MeasureCatalogue, change: Change | None, lang: str, *, baseline: bool = False
) -> str:
    """ "besser", "gleich", "schlechter"; "Ausgangswert" for the baseline; "–" without a judgement."""
    if baseline:
        return catalogue.text("change.baseline", lang)
    return "–" if change is None else catalogue.text(f"change.{change}", lang)
