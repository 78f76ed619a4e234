"""Answers given as "nicht sicher" / "not sure": which signs they were, and the note the result shows.

For triage such an answer counts as the sign being present (``flow.resolved``): a missed emergency is
worse than one check too many. The note tells the person that we assumed so, and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..knowledge.questionnaire import Question, Questionnaire
from .flow import load_questionnaire, unsure_fields
from .texts import questionnaire_texts

# Texts of this module: questionnaire/texts.yaml, keys unsure.*.


def unsure_label(lang: str) -> str:
    """The option text "Nicht sicher" / "Not sure"."""
    return questionnaire_texts().get("unsure.option", lang)


def sign_name(question: Question, field: str, lang: str) -> str:
    """The sign's name: the option label in a list of signs, else the question's short name."""
    if question.kind == "multi_flags":
        option = next(o for o in question.options if o.field == field)
        return option.label.get(lang)
    assert question.short is not None  # the model requires it for unsure bool and choice questions
    return question.short.get(lang)


def unsure_notes(
    answers: Mapping[str, Any], lang: str, *, questionnaire: Questionnaire | None = None
) -> list[str]:
    """One note per sign answered "not sure", in the order asked."""
    qn = questionnaire or load_questionnaire()
    notes: list[str] = []
    for field in unsure_fields(answers, questionnaire=qn):
        question = qn.owner(field)
        sign = sign_name(question, field, lang)
        if question.kind == "choice":
            worse = next(o for o in question.options if o.value == question.unsure_as).label.get(lang)
            notes.append(_text("note_choice", lang, sign=sign, worse=worse))
        else:
            notes.append(_text("note", lang, sign=sign))
    return notes


def _text(key: str, lang: str, **values: str) -> str:
    return questionnaire_texts().format(f"unsure.{key}", lang, **values)
