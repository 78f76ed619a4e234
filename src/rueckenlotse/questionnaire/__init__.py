"""The adaptive questionnaire: questions as data (questionnaire.yaml, validated in
knowledge.questionnaire), the flow over them, and the building of a Case from the answers.
Used by the terminal interview and the web."""

from __future__ import annotations

from ..i18n.local_text import LocalText
from ..knowledge.questionnaire import (
    UNSURE,
    Option,
    Question,
    Questionnaire,
    QuestionnaireError,
    case_field_paths,
    parse_questionnaire,
)
from .flow import (
    PLACEHOLDERS,
    active_questions,
    answer_updates,
    answers_to_case,
    asked_in_case,
    effective_answers,
    is_answered,
    load_questionnaire,
    missing_required,
    next_question,
    previous_question,
    provisional_case,
    record_answer,
    resolved,
    unsure_fields,
    without_answer,
)
from .parse import AnswerError, input_hint, parse_answer
from .unsure import sign_name, unsure_label, unsure_notes

__all__ = [
    "PLACEHOLDERS",
    "UNSURE",
    "AnswerError",
    "LocalText",
    "Option",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "active_questions",
    "asked_in_case",
    "answer_updates",
    "answers_to_case",
    "case_field_paths",
    "effective_answers",
    "input_hint",
    "is_answered",
    "load_questionnaire",
    "missing_required",
    "next_question",
    "parse_answer",
    "parse_questionnaire",
    "previous_question",
    "provisional_case",
    "record_answer",
    "resolved",
    "sign_name",
    "unsure_fields",
    "unsure_label",
    "unsure_notes",
    "without_answer",
]
