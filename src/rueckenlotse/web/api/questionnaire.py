"""The adaptive questionnaire over the API, so that a practice's own front end can drive the same flow.

``GET /questionnaire`` lists every question (ask_if as data); ``POST /questionnaire/next`` takes the
answers so far and returns the next question, the progress and the provisional triage. Stateless:
the client keeps the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import Field, WithJsonSchema
from starlette.concurrency import run_in_threadpool

from ... import assess
from ...core.models import Case, RedFlag, Triage
from ...knowledge.loader import default_knowledge
from ...questionnaire import (
    Question,
    active_questions,
    answers_to_case,
    is_answered,
    load_questionnaire,
    missing_required,
    next_question,
    previous_question,
    provisional_case,
    unsure_fields,
    unsure_notes,
)
from ...questionnaire.model import Kind
from ...validation import parse_model_json, validate_case
from .answers import AnswersIn, answer_errors, answers_schema
from .body import parse_guarded, read_json_text
from .lang import Lang, language
from .problems import ApiProblem, ProblemRoute, problem_responses
from .schema import ResponseModel, inline_schema

router = APIRouter(route_class=ProblemRoute, tags=["questionnaire"])

CaseJson = Annotated[dict[str, Any], WithJsonSchema(inline_schema(Case))]


class OptionOut(ResponseModel):
    """One option of a question."""

    label: str = Field(description="The option's text in the requested language.")
    value: str | int | None = Field(
        description="choice / multi_regions / multi_choice: the answer value (null: 'no answer'); "
        "multi_flags: null."
    )
    field: str | None = Field(
        description="multi_flags: the boolean answer field this option sets; else null."
    )


class QuestionOut(ResponseModel):
    """One question of the interview, in the requested language."""

    id: str
    kind: Kind = Field(
        description="bool: true/false. choice: one option value. int / number: a number within min..max. "
        "multi_regions / multi_choice: a list of option values. "
        "multi_flags: every option field true or false."
    )
    field: str | None = Field(description="The answer field (null for multi_flags: see fields).")
    fields: list[str] = Field(description="Every answer field this question fills.")
    text: str
    help: str | None
    options: list[OptionOut]
    min: int | float | None
    max: int | float | None
    unit: Literal["weeks"] | None
    ask_if: Any = Field(
        description="The condition (rueckenlotse.core.conditions) over earlier answers under which the "
        "question is asked; null: always."
    )
    defer_check: bool = Field(description="The emergency check waits for the next answer.")
    unsure: bool = Field(
        description='The question offers "nicht sicher" / "not sure": send "unsure" as the answer (bool, '
        "choice) or as the value of an option field (multi_flags). It counts as the sign being present."
    )
    unsure_as: str | int | None = Field(
        description='choice: the option value an "unsure" answer counts as (the worse one); else null.'
    )


class QuestionnaireOut(ResponseModel):
    """Every question in order; which of them are asked depends on the answers (ask_if)."""

    lang: Lang
    knowledge_version: str
    contract_version: Literal["2"] = "2"
    questions: list[QuestionOut]


class Progress(ResponseModel):
    answered: int = Field(ge=0, description="Questions answered among those asked.")
    remaining_estimate: int = Field(ge=0, description="Questions still open; later answers can change it.")


class NextStep(ResponseModel):
    """What comes next in the interview."""

    question: QuestionOut | None = Field(
        description="The next question; null when the interview is complete."
    )
    progress: Progress
    provisional_triage: Triage = Field(
        description="Triage of the answers so far (placeholders for required fields not yet given). "
        "emergency: show the call to 112 now."
    )
    red_flags: list[RedFlag] = Field(description="The warning signs behind the provisional triage.")
    emergency_check_deferred: bool = Field(
        description="The last answer's warning sign waits for the next question (defer_check)."
    )
    complete: bool
    missing_required: list[str] = Field(description="Required Case fields not answered yet.")
    unsure_fields: list[str] = Field(
        description='Answer fields answered "unsure", in the order asked: each counts as the sign being '
        "present. Show the notes beside the result."
    )
    unsure_notes: list[str] = Field(
        description="For each unsure answer, in the requested language: that it was counted as present."
    )
    case: CaseJson | None = Field(
        description="The Case from the answers, ready for POST /assessments; "
        "null while required fields are missing."
    )


def question_out(q: Question, lang: str) -> QuestionOut:
    return QuestionOut(
        id=q.id,
        kind=q.kind,
        field=q.field,
        fields=list(q.fields),
        text=q.text.get(lang),
        help=q.help.get(lang) if q.help is not None else None,
        options=[
            OptionOut(label=o.label.get(lang), value=o.value if o.has_value else None, field=o.field)
            for o in q.options
        ],
        min=q.min,
        max=q.max,
        unit=q.unit,
        ask_if=q.ask_if,
        defer_check=q.defer_check,
        unsure=q.unsure,
        unsure_as=q.unsure_as,
    )


# ---- the next step -------------------------------------------------------------------------------
def _deferred(answers: Mapping[str, Any], question: Question | None) -> bool:
    if question is None:
        return False
    before = previous_question(answers, question.id)
    return before is not None and before.defer_check and is_answered(before, answers)


def _case(answers: Mapping[str, Any], missing: list[str], lang: Lang) -> dict[str, Any] | None:
    if missing:
        return None
    case = answers_to_case(answers)
    validate_case(case, default_knowledge(), lang)  # the questionnaire only gives values that fit
    return case


def next_step(text: str, lang: Lang) -> NextStep:
    kb = default_knowledge()
    parsed = parse_guarded(lambda: parse_model_json(AnswersIn, text, kb, lang), lang)
    answers = parsed.answers
    errors = answer_errors(answers, lang)
    if errors:
        raise ApiProblem("invalid-input", errors)
    question = next_question(answers)
    active = active_questions(answers)
    answered = sum(1 for q in active if is_answered(q, answers))
    provisional = assess(provisional_case(answers), lang=lang)
    missing = missing_required(answers)
    return NextStep(
        question=question_out(question, lang) if question is not None else None,
        progress=Progress(answered=answered, remaining_estimate=len(active) - answered),
        provisional_triage=provisional.triage,
        red_flags=provisional.red_flags,
        emergency_check_deferred=_deferred(answers, question),
        complete=question is None,
        missing_required=missing,
        unsure_fields=unsure_fields(answers),
        unsure_notes=unsure_notes(answers, lang),
        case=_case(answers, missing, lang),
    )


# ---- routes --------------------------------------------------------------------------------------
@router.get(
    "/questionnaire",
    operation_id="getQuestionnaire",
    summary="Alle Fragen / Every question",
    description="Alle Fragen des Interviews in der Reihenfolge, in der sie gestellt werden, mit Optionen und "
    "der Bedingung (ask_if), unter der eine Frage kommt.\n\n"
    "Every interview question in the order asked, with its options and the condition (ask_if) under "
    "which it is asked.",
    response_model=QuestionnaireOut,
    responses=problem_responses(422),
)
def get_questionnaire(lang: Annotated[Lang, Depends(language)]) -> QuestionnaireOut:
    return QuestionnaireOut(
        lang=lang,
        knowledge_version=default_knowledge().version,
        questions=[question_out(q, lang) for q in load_questionnaire().questions],
    )


_ANSWERS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Die bisherigen Antworten: Antwortfeld → Wert. / "
        "The answers so far: answer field → value.",
        "content": {"application/json": {"schema": answers_schema()}},
    }
}


@router.post(
    "/questionnaire/next",
    operation_id="nextQuestion",
    summary="Nächste Frage / Next question",
    description="Nimmt die bisherigen Antworten (Antwortfeld → Wert) und gibt die nächste Frage, den "
    "Fortschritt und die vorläufige Dringlichkeit zurück. Bei `provisional_triage` = emergency sofort 112 "
    "anzeigen. Nichts wird gespeichert.\n\n"
    "Takes the answers so far (answer field → value) and returns the next question, the progress and the "
    "provisional triage. When `provisional_triage` is emergency, show the call to 112 at once. Nothing "
    "is stored.",
    response_model=NextStep,
    responses=problem_responses(413, 415, 422),
    openapi_extra=_ANSWERS_BODY,
)
async def post_next_question(request: Request, lang: Annotated[Lang, Depends(language)]) -> JSONResponse:
    text = await read_json_text(request, lang)
    step = await run_in_threadpool(next_step, text, lang)
    return JSONResponse(step.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
