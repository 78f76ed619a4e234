"""A patient's outcome measures over the API: what is due now with the course so far, and a response.

As every person route: the policy first (``can_read_person`` / ``can_write_person``), and another person's
id answers 404 exactly like one that does not exist. The answers are checked and scored by the engine
(``plan.measures``) as on the page. The request body's schema is built from measures.yaml (one alternative
per measure), so a body that fits it has answers that fit; a measure or week not open now is a conflict
(409), nothing stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ...core.errors import FieldError, InvalidInput
from ...core.measures import Change
from ...knowledge.loader import default_knowledge
from ...knowledge.measures import NAME_LENGTH, NAME_PATTERN, MeasureItem
from ...plan.measures import MeasureSeries, default_measures, week_label
from ...services import data_rights
from ...services.followup import AlreadySaved, NoIntake
from ...services.measures import (
    NotDue,
    RecordedResponse,
    due_for,
    measures_fhir,
    record_response,
    responses_of,
    series_for,
)
from ...store.repository import Store
from ...validation import parse_model_json
from ..deps import store_of
from .auth import SignedIn
from .body import parse_guarded, read_json_text
from .lang import Lang, language
from .persons import NO_STORE, PersonId, _readable, _writable
from .problems import ApiProblem, ProblemRoute, field_message, problem_responses
from .schema import ResponseModel, inline_schema

router = APIRouter(route_class=ProblemRoute, tags=["persons"])

MAX_KEY = 64


class DueOut(ResponseModel):
    measure_id: str = Field(description="The measure (measures.yaml): peg, psfs, pgic, startback, …")
    title: str = Field(description="Its title in the requested language.")
    week: int = Field(description="The episode week it answers (0 = at the intake).")
    since: date = Field(description="Due from this day until answered.")


class PointOut(ResponseModel):
    response_id: str | None = Field(description="The response; null for a value taken from the intake.")
    week: int | None
    week_label: str = Field(description='"Beginn" / "Woche 2", in the requested language.')
    recorded_at: datetime
    score: float
    subscales: dict[str, float]
    baseline: bool = Field(description="The value every follow-up is compared with.")
    change: Change | None = Field(
        description="better, same or worse by the measure's minimal important change; null for the baseline."
    )


class SeriesOut(ResponseModel):
    measure_id: str
    title: str
    direction: str = Field(description="lower_better or higher_better.")
    explain: str = Field(description="What counts as better or worse, in one plain sentence.")
    points: list[PointOut]


class MeasuresOut(ResponseModel):
    """What is due now, and the course of every measure answered so far."""

    due: list[DueOut]
    series: list[SeriesOut]


class MeasureIn(BaseModel):
    """One response: the measure, its answers, optionally the due week and a key that saves it once."""

    model_config = ConfigDict(extra="forbid", strict=True)
    measure_id: Annotated[str, Field(min_length=1, max_length=40)]
    answers: dict[str, Any] = Field(
        description="item id -> answer: a whole number (scale, choice), true/false (yes/no items), or for "
        'named activities a list of {"name": "...", "value": 0-10}.'
    )
    week: Annotated[int, Field(ge=0, le=104)] | None = Field(
        default=None, description="The due week it answers; left out: the measure's due week."
    )
    idempotency_key: (
        Annotated[str, Field(min_length=20, max_length=MAX_KEY, pattern=r"^[A-Za-z0-9_-]+$")] | None
    ) = Field(
        default=None, description="The same key again saves nothing new and answers with the first response."
    )


class MeasureCreated(ResponseModel):
    id: str
    measure_id: str
    week: int
    score: float
    saved: bool = Field(description="False when the idempotency key had saved this response before.")


def _store(request: Request) -> Store:
    store = store_of(request)
    assert isinstance(store, Store)
    return store


def _series_out(series: MeasureSeries, lang: str) -> SeriesOut:
    catalogue = default_measures()
    measure = series.measure
    return SeriesOut(
        measure_id=measure.id,
        title=measure.title.get(lang),
        direction=measure.direction,
        explain=measure.change.explain.get(lang),
        points=[
            PointOut(
                response_id=p.response_id,
                week=p.week,
                week_label=week_label(catalogue, p.week, lang),
                recorded_at=p.recorded_at,
                score=p.score,
                subscales=dict(p.subscales),
                baseline=p.baseline,
                change=p.change,
            )
            for p in series.points
        ],
    )


def _read(store: Store, person_id: str, lang: str) -> MeasuresOut:
    try:
        due = due_for(store, person_id)
        series = series_for(store, person_id)
    except NoIntake:
        raise ApiProblem("no-intake") from None
    return MeasuresOut(
        due=[
            DueOut(measure_id=d.measure.id, title=d.measure.title.get(lang), week=d.week, since=d.since)
            for d in due
        ],
        series=[_series_out(s, lang) for s in series],
    )


@router.get(
    "/persons/{person_id}/measures",
    operation_id="listMeasures",
    summary="Fragebögen und Verlauf / Questionnaires and course",
    description="Welche Fragebögen jetzt offen sind (je Woche nach der Anamnese), und der Verlauf jedes "
    "beantworteten mit besser / gleich / schlechter gegenüber dem ersten Wert.\n\nWhich questionnaires are "
    "open now (per week after the intake), and the course of each one answered, with better / same / worse "
    "against the first value.",
    response_model=MeasuresOut,
    responses=problem_responses(401, 404, 409, 422),
)
def list_measures(
    person_id: PersonId, principal: SignedIn, request: Request, lang: Annotated[Lang, Depends(language)]
) -> JSONResponse:
    _readable(principal, person_id)
    out = _read(_store(request), person_id, lang)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


@router.get(
    "/persons/{person_id}/measures/fhir",
    operation_id="measuresFhir",
    summary="Fragebögen als FHIR / Questionnaires as FHIR",
    description="Alle beantworteten Fragebögen als FHIR-R4-Bundle (collection): Questionnaire, "
    "QuestionnaireResponse und je eine Observation des Werts, mit LOINC-Codes, wo es sie gibt (PEG). Der "
    "Abruf wird protokolliert.\n\nEvery questionnaire answered as a FHIR R4 collection Bundle: "
    "Questionnaire, QuestionnaireResponse and one Observation of each score, with LOINC codes where they "
    "exist (PEG). The download is recorded in the access log.",
    responses={
        **problem_responses(401, 404, 409, 422),
        200: {
            "description": "FHIR R4 Bundle",
            "content": {"application/fhir+json": {"schema": {"type": "object"}}},
        },
    },
)
def measures_fhir_bundle(
    person_id: PersonId, principal: SignedIn, request: Request, lang: Annotated[Lang, Depends(language)]
) -> JSONResponse:
    _readable(principal, person_id)
    actor = data_rights.actor_of(principal, "api")
    try:
        bundle = measures_fhir(_store(request), person_id, actor=actor, lang=lang)
    except NoIntake:
        raise ApiProblem("no-intake") from None
    headers = {**NO_STORE, "Content-Disposition": 'attachment; filename="rueckenlotse-fragebogen.fhir.json"'}
    return JSONResponse(bundle, headers=headers, media_type="application/fhir+json")


def _item_schema(item: MeasureItem) -> dict[str, Any]:
    """The JSON Schema of one item's answer."""
    if item.kind == "yes_no":
        return {"type": "boolean"}
    if item.kind == "choice":
        return {"type": "integer", "enum": [o.value for o in item.options]}
    assert item.scale is not None
    number = {"type": "integer", "minimum": item.scale.min, "maximum": item.scale.max}
    if item.repeat is None:
        return number
    row = {
        "type": "object",
        "properties": {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": NAME_LENGTH,
                "pattern": NAME_PATTERN.pattern,
            },
            "value": number,
        },
        "required": ["name", "value"],
        "additionalProperties": False,
    }
    return {"type": "array", "items": row, "minItems": item.repeat.min, "maxItems": item.repeat.max}


def request_schema() -> dict[str, Any]:
    """The body as JSON Schema: one alternative per measure with its items' answers (measures.yaml), the
    optional week and idempotency key as MeasureIn states them."""
    common = inline_schema(MeasureIn)["properties"]
    alternatives = []
    for measure in default_measures().measures:
        answers = {
            "type": "object",
            "properties": {item.id: _item_schema(item) for item in measure.items},
            "required": [item.id for item in measure.items],
            "additionalProperties": False,
        }
        alternatives.append(
            {
                "type": "object",
                "title": measure.short.en,
                "properties": {
                    "measure_id": {"type": "string", "const": measure.id},
                    "answers": answers,
                    "week": common["week"],
                    "idempotency_key": common["idempotency_key"],
                },
                "required": ["measure_id", "answers"],
                "additionalProperties": False,
            }
        )
    return {"oneOf": alternatives}


_MEASURE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Die Antworten auf einen offenen Fragebogen. / The answers to an open questionnaire.",
        "content": {"application/json": {"schema": request_schema()}},
    }
}
_RESPONSES = {
    **problem_responses(401, 403, 404, 413, 415, 422),
    409: {
        **problem_responses(409)[409],
        "description": "Noch keine Einschätzung, oder dieser Fragebogen ist jetzt nicht offen (nicht "
        "fällig oder schon beantwortet). / No assessment yet, or this questionnaire is not open now (not "
        "due, or answered already).",
    },
}


def _record(store: Store, person_id: str, text: str, lang: str) -> MeasureCreated:
    body = parse_guarded(lambda: parse_model_json(MeasureIn, text, default_knowledge(), lang), lang)
    if body.measure_id not in default_measures().ids:
        message = field_message("unknown_measure", lang)
        raise InvalidInput([FieldError(field="measure_id", type="unknown_measure", message=message)])
    try:
        recorded: RecordedResponse = record_response(
            store,
            person_id,
            body.measure_id,
            body.answers,
            week=body.week,
            lang=lang,
            idempotency_key=body.idempotency_key,
        )
    except AlreadySaved as e:
        first = next(r for r in responses_of(store, person_id) if r.id == e.entry_id)
        return MeasureCreated(
            id=first.id,
            measure_id=first.measure_id,
            week=first.week or 0,
            score=first.score or 0.0,
            saved=False,
        )
    except NoIntake:
        raise ApiProblem("no-intake") from None
    except NotDue:
        raise ApiProblem("not-due") from None
    return MeasureCreated(
        id=recorded.id, measure_id=recorded.measure_id, week=recorded.week, score=recorded.score, saved=True
    )


@router.post(
    "/persons/{person_id}/measures",
    operation_id="addMeasureResponse",
    status_code=201,
    summary="Fragebogen beantworten / Answer a questionnaire",
    description="Speichert die Antworten auf einen jetzt offenen Fragebogen mit dem Wert, den die Regeln "
    "daraus berechnen. Ungültige Antworten: 422 je Feld; ein Fragebogen, der jetzt nicht offen ist: 409; "
    "nichts gespeichert.\n\nStores the answers to a questionnaire open now with the score the rules compute. "
    "Invalid answers: 422 per field; a questionnaire not open now: 409; nothing stored.",
    response_model=MeasureCreated,
    responses=_RESPONSES,
    openapi_extra=_MEASURE_BODY,
)
async def add_measure_response(
    person_id: PersonId, principal: SignedIn, request: Request, lang: Annotated[Lang, Depends(language)]
) -> JSONResponse:
    _writable(principal, person_id)
    text = await read_json_text(request, lang)
    created = await run_in_threadpool(_record, _store(request), person_id, text, lang)
    return JSONResponse(created.model_dump(mode="json"), status_code=201, headers=NO_STORE)
