"""A Case as a FHIR R4B QuestionnaireResponse to our intake Questionnaire.

Every Case field is answered, also the "no"s a Case leaves out: a reader of the response sees what was
asked and denied, and reading it back gives the same Case. Optional fields without a value (no sex given,
no STarT Back block) have no item.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...core.kb import KnowledgeBase
from ...core.models import Case
from .common import Json, coding, instant, reference, resource_id, validated
from .layout import FieldItem, GroupItem, Layout, intake_layout
from .questionnaire import questionnaire_canonical


def case_value(case: Case, path: str) -> Any:
    """The value of a Case field path (None when a nested block is absent)."""
    head, _, tail = path.partition(".")
    value = getattr(case, head)
    if tail:
        return None if value is None else getattr(value, tail)
    return value


def _answer(item: FieldItem, value: Any, lang: str) -> Json:
    if item.type == "coding":
        option = next(o for o in item.options if o.value == value)
        return {"valueCoding": coding(item.system, option.code, option.label.get(lang))}
    if item.type == "boolean":
        return {"valueBoolean": value}
    if item.type == "integer":
        return {"valueInteger": value}
    return {"valueDecimal": value}


def _field(item: FieldItem, case: Case, lang: str) -> Json | None:
    value = case_value(case, item.link_id)
    values = value if isinstance(value, list) else [] if value is None else [value]
    if not values:
        return None
    return {
        "linkId": item.link_id,
        "text": item.text.get(lang),
        "answer": [_answer(item, v, lang) for v in values],
    }


def _items(layout: Layout, case: Case, lang: str) -> list[Json]:
    out: list[Json] = []
    for item in layout.items:
        if isinstance(item, GroupItem):
            children = [c for c in (_field(f, case, lang) for f in item.items) if c is not None]
            if children:
                out.append({"linkId": item.link_id, "text": item.text.get(lang), "item": children})
            continue
        field = _field(item, case, lang)
        if field is not None:
            out.append(field)
    return out


def build_response(
    case: Case,
    kb: KnowledgeBase,
    *,
    at: dt.datetime,
    patient: Json,
    lang: str = "de",
    layout: Layout | None = None,
) -> Json:
    """The QuestionnaireResponse of one Case; item and option texts in ``lang``."""
    return validated(
        {
            "resourceType": "QuestionnaireResponse",
            "id": resource_id(case, "QuestionnaireResponse"),
            "language": lang,
            "questionnaire": questionnaire_canonical(kb),
            "status": "completed",
            "subject": reference(patient),
            "authored": instant(at),
            "item": _items(layout or intake_layout(), case, lang),
        }
    )
