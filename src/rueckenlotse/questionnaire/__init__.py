"""The adaptive questionnaire: questions as data (questionnaire.yaml), the flow over them, and the
building of a Case from the answers. Used by the terminal interview and by any web front end."""

from __future__ import annotations

from ..i18n.local_text import LocalText
from .flow import (
    PLACEHOLDERS,
    Questionnaire,
    QuestionnaireError,
    active_questions,
    answer_updates,
    answers_to_case,
    effective_answers,
    is_answered,
    load_questionnaire,
    missing_required,
    next_question,
    parse_questionnaire,
    previous_question,
    provisional_case,
    record_answer,
    resolved,
    unsure_fields,
    without_answer,
)
from .model import UNSURE, Option, Question, case_field_paths
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
