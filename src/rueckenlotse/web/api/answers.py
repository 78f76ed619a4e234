"""The answers of ``POST /questionnaire/next``: their JSON Schema (from questionnaire.yaml) and their checks.

Answers are a flat mapping from answer field to value, as ``rueckenlotse.questionnaire`` keeps them:
Case field names, dotted names for STarT Back and neuroplastic answers, ``offer.*`` fields that open a
block, and one boolean per option of a multi_flags question. A warning-sign question that offers it
takes "unsure" too ("nicht sicher": counts as the sign being present). Every error names
``answers.<field>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ...i18n.formatting import decimal
from ...questionnaire import UNSURE, Question, answer_updates, load_questionnaire
from .problems import ProblemFieldError, field_error

MAX_ANSWERS = 200
ShortText = Annotated[str, Field(max_length=100)]
AnswerValue = bool | int | float | ShortText | Annotated[list[ShortText | int], Field(max_length=20)] | None


class AnswersIn(BaseModel):
    """The answers so far: answer field -> value (dotted names for STarT Back and neuroplastic)."""

    model_config = ConfigDict(strict=True, extra="forbid", title="Answers")

    answers: Annotated[dict[str, AnswerValue], Field(max_length=MAX_ANSWERS)]


# ---- checks --------------------------------------------------------------------------------------
def _number(value: float | None, lang: str) -> str:
    return decimal(f"{value:g}" if value is not None else "0", lang)


def _expected(q: Question) -> str:
    return ", ".join(o.value if isinstance(o.value, str) else json.dumps(o.value) for o in q.options)


def _answer_error(name: str, q: Question, lang: str) -> ProblemFieldError:
    field = f"answers.{name}"
    if q.kind in ("bool", "multi_flags"):
        return field_error(field, "bool_type", lang)
    if q.kind == "choice":
        return field_error(field, "literal_error", lang, expected=_expected(q))
    if q.kind in ("multi_regions", "multi_choice"):
        kind = "answer_regions" if q.kind == "multi_regions" else "answer_selection"
        return field_error(field, kind, lang, expected=_expected(q))
    bounds = {"min": _number(q.min, lang), "max": _number(q.max, lang)}
    if q.kind == "int":
        return field_error(field, "answer_int", lang, **bounds)
    return field_error(field, "answer_number" if q.max is None else "answer_number_range", lang, **bounds)


def _fits(q: Question, value: Any) -> bool:
    if q.kind == "multi_flags":  # the answers hold one boolean (or "unsure") per option field
        return isinstance(value, bool) or (q.unsure and value == UNSURE)
    try:
        answer_updates(q, value)
    except ValueError:
        return False
    return True


def answer_errors(answers: Mapping[str, Any], lang: str) -> list[ProblemFieldError]:
    """One error per answer that names no question's field or does not fit its question."""
    owner = {f: q for q in load_questionnaire().questions for f in q.fields}
    errors: list[ProblemFieldError] = []
    for name, value in answers.items():
        q = owner.get(name)
        if q is None:
            errors.append(field_error(f"answers.{name}", "extra_forbidden", lang))
        elif not _fits(q, value):
            errors.append(_answer_error(name, q, lang))
    return errors


# ---- the JSON Schema -----------------------------------------------------------------------------
def _answer_schema(q: Question) -> dict[str, Any]:
    """The JSON Schema of one answer field of this question."""
    values = [o.value for o in q.options]
    if q.kind in ("bool", "multi_flags"):
        return {"anyOf": [{"type": "boolean"}, {"const": UNSURE}]} if q.unsure else {"type": "boolean"}
    if q.kind == "choice":
        return {"enum": [*values, UNSURE] if q.unsure else values}
    if q.kind in ("multi_regions", "multi_choice"):
        least = 1 if q.kind == "multi_regions" else 0
        return {"type": "array", "items": {"enum": values}, "uniqueItems": True, "minItems": least}
    bounds = {"minimum": q.min, **({"maximum": q.max} if q.max is not None else {})}
    return {"type": "integer" if q.kind == "int" else "number", **bounds}


def answers_schema() -> dict[str, Any]:
    """The body of POST /questionnaire/next: every answer field of the questionnaire with its values."""
    fields = {f: _answer_schema(q) for q in load_questionnaire().questions for f in q.fields}
    answers = {"type": "object", "additionalProperties": False, "properties": fields}
    return {
        "title": "Answers",
        "type": "object",
        "additionalProperties": False,
        "required": ["answers"],
        "properties": {"answers": answers},
    }
