"""Outcome measures over the store: what is due for a person now, recording a response once, and the
person's series with "besser / gleich / schlechter" against the first value.

One place for what the web pages, the API and the command line do, so all behave alike:

- Due: weeks count from the intake day (``plan.measures.due_measures`` says which (measure, week) is due,
  each once, from its day until answered). STarT Back again is due only when the diary's week-4 check of
  the pain episode (``report_for``) found no meaningful improvement, from the day of that check.
- Recorded once: the answers are checked and scored by the engine (``plan.measures``) and kept with the
  knowledge version; a form's idempotency key saves one response however often it is posted, and a week
  already answered is no longer due.
- Under a red flag: the diary keeps taking entries while a red flag stands (the entry that says a doctor
  examined it ends it), so the measures stay recordable too; the pages show the red-flag text above them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import InvalidInput
from ..knowledge.loader import default_knowledge
from ..knowledge.measures import Measure, MeasureCatalogue
from ..plan.measures import (
    DueMeasure,
    MeasureSeries,
    Recorded,
    build_series,
    default_measures,
    due_measures,
    next_due_day,
    score_response,
)
from ..store import audit
from ..store.audit import Actor
from ..store.errors import StoreError
from ..store.exporting import measures_csv as _measures_csv
from ..store.measures import MeasureResponses
from ..store.records import AssessmentRecord, MeasureRecord
from ..store.repository import Store
from .followup import AlreadySaved, intake_of, report_for

__all__ = [
    "AlreadySaved",
    "NotDue",
    "Recorded",
    "due_for",
    "measures_csv",
    "next_due",
    "record_response",
    "responses_of",
    "series_for",
]


class NotDue(StoreError):
    """The measure is not due for this week now (unknown, not yet, answered already, or lapsed)."""

    def __init__(self) -> None:
        super().__init__("not_due")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _without_improvement(store: Store, person_id: str) -> dict[int, dt.date]:
    """Checkpoint week -> the day the diary's check of that week found no meaningful improvement."""
    report = report_for(store, person_id)
    return {
        c.due_week: c.checked_on for c in report.checks if c.improved is False and c.checked_on is not None
    }


def _checks_matter(
    catalogue: MeasureCatalogue, regions: Collection[str], answered: Collection[tuple[str, int]]
) -> bool:
    """Whether a measure asked only without improvement (STarT Back again) may still be due: one for these
    regions with a week after its latest answer. Only then is the diary's trend worth replaying (it reads
    the whole diary, and the patient's home page asks what is due on every visit)."""
    for measure in catalogue.measures:
        if not measure.schedule.only_without_improvement:
            continue
        if measure.regions and not set(measure.regions) & set(regions):
            continue
        latest = max((week for m, week in answered if m == measure.id), default=-1)
        if max(measure.schedule.weeks) > latest:
            return True
    return False


def _due(store: Store, person_id: str, intake: AssessmentRecord, today: dt.date) -> list[DueMeasure]:
    catalogue, regions = default_measures(), list(intake.case.regions)
    answered = MeasureResponses(store).answered(person_id)
    checks = _checks_matter(catalogue, regions, answered)
    return due_measures(
        catalogue,
        regions=regions,
        intake_at=intake.created_at,
        today=today,
        answered=answered,
        without_improvement=_without_improvement(store, person_id) if checks else {},
    )


def due_for(store: Store, person_id: str, *, today: dt.date | None = None) -> list[DueMeasure]:
    """The measures due for the person today (UTC), each with the week it answers; raises NoIntake."""
    intake = intake_of(store, person_id)
    return _due(store, person_id, intake, today or _now().date())


def next_due(store: Store, person_id: str, *, today: dt.date | None = None) -> dt.date | None:
    """The day the next scheduled measure becomes due, if any (raises NoIntake)."""
    intake = intake_of(store, person_id)
    return next_due_day(
        default_measures(),
        regions=list(intake.case.regions),
        intake_at=intake.created_at,
        today=today or _now().date(),
        answered=MeasureResponses(store).answered(person_id),
    )


@dataclass(frozen=True)
class RecordedResponse:
    """A kept response: its id, the week it answers and its score."""

    id: str
    measure_id: str
    week: int
    score: float


def record_response(
    store: Store,
    person_id: str,
    measure_id: str,
    answers: Mapping[str, Any],
    *,
    week: int | None = None,
    lang: str = "de",
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
) -> RecordedResponse:
    """Check, score and keep one response for a measure due now (``week``: the due week; None takes the
    measure's due week).

    Raises ``InvalidInput`` with field errors in ``lang`` (first: even a repeated key never accepts answers
    that do not fit), ``AlreadySaved`` when the form's key saved a response already (nothing new is
    written), ``NotDue`` for a measure or week not due now, and ``NoIntake`` without an intake. The check
    of what is due and the write are one unit, under the person's lock: two posts of one form, or of two
    forms for the same week, keep one response."""
    responses = MeasureResponses(store)
    catalogue = default_measures()
    if measure_id not in catalogue.ids:
        raise NotDue()
    intake = intake_of(store, person_id)
    kb = default_knowledge()
    # Checked first: answers that do not fit are refused even when the key saved a response before.
    scored = score_response(catalogue, measure_id, answers, lang=lang, case=intake.case, kb=kb)
    if idempotency_key is not None:
        earlier = responses.by_key(person_id, idempotency_key)
        if earlier is not None:
            raise AlreadySaved(earlier)
    moment = at or _now()
    with store.atomic():
        store.lock_person(person_id)
        if idempotency_key is not None:
            earlier = responses.by_key(person_id, idempotency_key)
            if earlier is not None:
                raise AlreadySaved(earlier)
        due = {d.measure.id: d.week for d in _due(store, person_id, intake, moment.astimezone(dt.UTC).date())}
        if measure_id not in due or (week is not None and due[measure_id] != week):
            raise NotDue()
        response_id = responses.add(
            person_id,
            measure_id=measure_id,
            week=due[measure_id],
            recorded_at=moment,
            answers=scored.answers,
            score=scored.score,
            knowledge_version=kb.version,
            idempotency_key=idempotency_key,
        )
    return RecordedResponse(response_id, measure_id, due[measure_id], scored.score)


def responses_of(store: Store, person_id: str) -> list[MeasureRecord]:
    return MeasureResponses(store).of_person(person_id)


def _subscales(
    catalogue: MeasureCatalogue, measure: Measure, answers: Mapping[str, Any], intake: AssessmentRecord
) -> dict[str, float]:
    """A stored response's subscales, scored again from its answers (none when they no longer fit)."""
    if not measure.scoring.subscales:
        return {}
    try:
        return score_response(catalogue, measure, answers, case=intake.case, kb=default_knowledge()).subscales
    except InvalidInput:
        return {}


def _from_intake(measure: Measure, intake: AssessmentRecord) -> Recorded | None:
    """The intake's own answers as the first value of a measure asked again from the questionnaire
    (STarT Back): its score as the intake's assessment gave it."""
    if measure.items_from is None or measure.scoring.derived is None:
        return None
    nested = getattr(intake.case, measure.items_from.questionnaire, None)
    if nested is None:
        return None
    catalogue = default_measures()
    try:
        scored = score_response(
            catalogue, measure, nested.model_dump(mode="json"), case=intake.case, kb=default_knowledge()
        )
    except InvalidInput:
        return None
    return Recorded(0, intake.created_at, scored.score, scored.subscales, response_id=None)


def series_for(store: Store, person_id: str) -> list[MeasureSeries]:
    """Every measure the person has a value of, in the catalogue's order, with "better / same / worse"
    for each follow-up by the measure's minimal important change. Raises NoIntake."""
    intake = intake_of(store, person_id)
    catalogue = default_measures()
    by_measure: dict[str, list[Recorded]] = {}
    for record in responses_of(store, person_id):
        if record.measure_id not in catalogue.ids or record.score is None:
            continue  # a measure no longer shipped, or a response without a score: kept, not drawn
        measure = catalogue.get(record.measure_id)
        by_measure.setdefault(record.measure_id, []).append(
            Recorded(
                record.week,
                record.recorded_at,
                record.score,
                _subscales(catalogue, measure, record.answers, intake),
                response_id=record.id,
            )
        )
    series: list[MeasureSeries] = []
    for measure in catalogue.measures:
        recorded = by_measure.get(measure.id, [])
        if not recorded:
            continue
        # Asked again (STarT Back): the intake's answers are the first value.
        first = _from_intake(measure, intake) if not any(r.week == 0 for r in recorded) else None
        series.append(build_series(measure, [first, *recorded] if first is not None else recorded))
    return series


def measures_csv(store: Store, person_id: str, *, actor: Actor) -> str:
    """The measure responses as CSV, recorded in the audit like the diary's CSV."""
    text = _measures_csv(responses_of(store, person_id))
    with store.transaction() as session:
        audit.record(session, actor, "export.measures_csv", person_id=person_id)
    return text


def measures_fhir(
    store: Store, person_id: str, *, actor: Actor, lang: str = "de", at: dt.datetime | None = None
) -> dict[str, Any]:
    """The person's measure responses as a FHIR R4B collection Bundle (``reports.fhir.measures``):
    Questionnaires, QuestionnaireResponses and score Observations (LOINC where the measure has codes).
    Subscales are scored again from the kept answers, as the course page does. Audited like the CSV.
    Raises NoIntake."""
    # Imported here: fhir.resources takes a second to import, which the pages and commands without FHIR
    # should not pay.
    from ..reports.fhir.measures import MeasureRecord as FhirRecord
    from ..reports.fhir.measures import measures_bundle

    intake = intake_of(store, person_id)
    catalogue = default_measures()
    records = [
        FhirRecord(
            r.measure_id,
            r.week,
            r.recorded_at,
            r.score,
            _subscales(catalogue, catalogue.get(r.measure_id), r.answers, intake),
            r.answers,
        )
        for r in responses_of(store, person_id)
        if r.measure_id in catalogue.ids and r.score is not None
    ]
    bundle = measures_bundle(person_id, records, at=at or _now().replace(microsecond=0), lang=lang)
    with store.transaction() as session:
        audit.record(session, actor, "export.measures_fhir", person_id=person_id)
    return bundle
