"""The adaptive question flow: which question comes next, and how the answers become a Case.

Answers are a flat mapping from answer field to value: Case field names, dotted names for the
nested STarT Back and neuroplastic answers ("startback.worrying_thoughts"), and "offer.*" fields
that only open or skip a block. A multi_flags question sets one boolean field per option.
Pure logic: the questions come validated from the knowledge loader (knowledge.questionnaire).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..core.models import Case, NeuroplasticAnswers, StartBackAnswers
from ..knowledge.loader import packaged_knowledge
from ..knowledge.questionnaire import (
    LIST_KINDS,
    NESTED,
    OFFER_PREFIX,
    UNSURE,
    Question,
    Questionnaire,
)

# Stand-ins for required fields not answered yet, so the warning signs can be checked early.
PLACEHOLDERS: Mapping[str, Any] = {"regions": ("low_back",), "age": 40, "duration_weeks": 0.0}
_NESTED_MODELS: Mapping[str, type[BaseModel]] = {
    "startback": StartBackAnswers,
    "neuroplastic": NeuroplasticAnswers,
}


def resolved(question: Question, value: Any) -> Any:
    """The value an answer stands for in the Case: "not sure" counts as the sign being present."""
    if value != UNSURE or not question.unsure:
        return value
    return question.unsure_as if question.kind == "choice" else True


def load_questionnaire() -> Questionnaire:
    """The packaged questionnaire (read and validated once, by the knowledge loader)."""
    return packaged_knowledge().questionnaire


# ---- the walk over the questions ------------------------------------------------------------------
@dataclass(frozen=True)
class _Walk:
    active: tuple[tuple[Question, bool], ...]  # every question asked given the answers, and if answered
    effective: Mapping[str, Any]  # the answers of the active, answered questions ("unsure" kept)


def _walk(qn: Questionnaire, answers: Mapping[str, Any]) -> _Walk:
    unknown = set(answers) - qn.answer_fields
    if unknown:
        raise ValueError(f"unknown answer field(s): {', '.join(sorted(unknown))}")
    env: dict[str, Any] = {}  # what ask_if reads: "not sure" already counted as present
    effective: dict[str, Any] = {}
    active: list[tuple[Question, bool]] = []
    for q in qn.questions:
        if not qn.asks(q, env):
            continue
        answered = is_answered(q, answers)
        if answered:
            effective.update((f, answers[f]) for f in q.fields)
            env.update((f, resolved(q, answers[f])) for f in q.fields)
        active.append((q, answered))
    return _Walk(tuple(active), effective)


def is_answered(question: Question, answers: Mapping[str, Any]) -> bool:
    return all(f in answers for f in question.fields)


def active_questions(
    answers: Mapping[str, Any], *, questionnaire: Questionnaire | None = None
) -> list[Question]:
    """The questions asked, given these answers, in order (answered or not)."""
    return [q for q, _ in _walk(questionnaire or load_questionnaire(), answers).active]


def next_question(
    answers: Mapping[str, Any], *, questionnaire: Questionnaire | None = None
) -> Question | None:
    """The first question not yet answered whose ask_if holds; None when the interview is complete."""
    for q, answered in _walk(questionnaire or load_questionnaire(), answers).active:
        if not answered:
            return q
    return None


def previous_question(
    answers: Mapping[str, Any], current_id: str | None, *, questionnaire: Questionnaire | None = None
) -> Question | None:
    """The question asked before ``current_id`` (None: before the end); None at the first question.

    To go back, show that question again: drop its answer with ``without_answer``.
    """
    qn = questionnaire or load_questionnaire()
    order = {q.id: i for i, q in enumerate(qn.questions)}
    if current_id is not None and current_id not in order:
        raise ValueError(f"unknown question id {current_id!r}")
    limit = len(order) if current_id is None else order[current_id]
    before = [q for q, _ in _walk(qn, answers).active if order[q.id] < limit]
    return before[-1] if before else None


def effective_answers(
    answers: Mapping[str, Any], *, questionnaire: Questionnaire | None = None
) -> dict[str, Any]:
    """The answers that still count: those of questions that are asked, given the earlier answers."""
    return dict(_walk(questionnaire or load_questionnaire(), answers).effective)


def asked_in_case(case: Case, *, questionnaire: Questionnaire | None = None) -> frozenset[str]:
    """The ids of the questions the interview asked for this stored Case (answered or skipped).

    A stored Case keeps every flag, asked or not (an unasked flag is False), so its fields alone cannot
    say whether someone answered "no". This walks the questionnaire as the interview did, feeding each
    asked question's own values from the Case. The offer questions leave nothing in the Case: an offer
    counts as accepted when a question it opens holds a value (the nested answers, or the findings)."""
    qn = questionnaire or load_questionnaire()
    values = case.model_dump(mode="json", exclude_none=True)
    env: dict[str, Any] = {}
    asked: set[str] = set()
    for index, q in enumerate(qn.questions):
        if not qn.asks(q, env):
            continue
        asked.add(q.id)
        for f in q.fields:
            if f.startswith(OFFER_PREFIX):
                env[f] = _offer_taken(qn, index, f, env, values)
            elif (value := _dotted(values, f)) is not None:
                env[f] = value
    return frozenset(asked)


def _dotted(values: Mapping[str, Any], field: str) -> Any:
    head, _, tail = field.partition(".")
    value = values.get(head)
    return value.get(tail) if tail and isinstance(value, Mapping) else (None if tail else value)


def _offer_taken(
    qn: Questionnaire, index: int, field: str, env: Mapping[str, Any], values: Mapping[str, Any]
) -> bool:
    """True when a later question that only this offer opens holds a value in the Case other than the
    Case's default. (An accepted offer answered with the default, e.g. no finding ticked, cannot be told
    from a refused one: its question then reads as not asked, which claims no answer nobody gave.)"""
    taken, refused = {**env, field: True}, {**env, field: False}
    for q in qn.questions[index + 1 :]:
        if qn.asks(q, taken) and not qn.asks(q, refused):
            if any(_dotted(values, f) not in (None, _default(f)) for f in q.fields):
                return True
    return False


def _default(field: str) -> Any:
    info = Case.model_fields.get(field)
    return info.get_default(call_default_factory=True) if info is not None else None


# ---- recording answers --------------------------------------------------------------------------
def answer_updates(question: Question, value: Any) -> dict[str, Any]:
    """The answer fields to set for ``value``.

    multi_flags: the selected option fields as a list, or a mapping option field -> true / false /
    "unsure" (fields left out: false). bool and choice questions that offer it take "unsure" too.

    Raises ValueError when the value does not fit the question.
    """
    if question.kind == "multi_flags":
        return _flag_updates(question, value)
    if not (question.unsure and value == UNSURE):
        _check_value(question, value)
    assert question.field is not None  # guaranteed by the model for every other kind
    return {question.field: list(value) if question.kind in LIST_KINDS else value}


def record_answer(answers: Mapping[str, Any], question: Question, value: Any) -> dict[str, Any]:
    """A copy of ``answers`` with this question answered."""
    return {**answers, **answer_updates(question, value)}


def without_answer(answers: Mapping[str, Any], question: Question) -> dict[str, Any]:
    """A copy of ``answers`` with this question's answer removed (it will be asked again)."""
    return {f: v for f, v in answers.items() if f not in question.fields}


def _flag_updates(question: Question, selected: Any) -> dict[str, Any]:
    if isinstance(selected, Mapping):
        return _flag_mapping(question, selected)
    if isinstance(selected, str) or not isinstance(selected, Iterable):
        raise ValueError(f"{question.id}: give the selected option fields as a list")
    chosen = set(selected)
    unknown = chosen - set(question.fields)
    if unknown:
        raise ValueError(f"{question.id}: not an option: {', '.join(sorted(map(str, unknown)))}")
    return {f: f in chosen for f in question.fields}


def _flag_mapping(question: Question, given: Mapping[Any, Any]) -> dict[str, Any]:
    unknown = set(given) - set(question.fields)
    if unknown:
        raise ValueError(f"{question.id}: not an option: {', '.join(sorted(map(str, unknown)))}")
    allowed: tuple[Any, ...] = (True, False, UNSURE) if question.unsure else (True, False)
    for f, v in given.items():
        if not any(v == a and type(v) is type(a) for a in allowed):
            raise ValueError(f"{question.id}: {v!r} is not a valid answer for {f}")
    return {f: given.get(f, False) for f in question.fields}


def _check_value(q: Question, value: Any) -> None:
    allowed = [o.value for o in q.options]
    if q.kind == "bool":
        ok = isinstance(value, bool)
    elif q.kind == "choice":
        ok = any(value == a and type(value) is type(a) for a in allowed)
    elif q.kind in LIST_KINDS:
        ok = _is_selection(value, allowed) and (q.kind != "multi_regions" or len(value) > 0)
    else:
        ok = _in_bounds(q, value)
    if not ok:
        raise ValueError(f"{q.id}: {value!r} is not a valid answer")


def _is_selection(value: Any, allowed: list[Any]) -> bool:
    if not isinstance(value, list | tuple):
        return False
    return len(set(value)) == len(value) and all(v in allowed for v in value)


def _in_bounds(q: Question, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if q.kind == "int" and not isinstance(value, int):
        return False
    if not math.isfinite(value):
        return False
    return (q.min is None or value >= q.min) and (q.max is None or value <= q.max)


# ---- building the Case ----------------------------------------------------------------------------
def answers_to_case(
    answers: Mapping[str, Any], *, questionnaire: Questionnaire | None = None
) -> dict[str, Any]:
    """The Case (contract form) from the answers that still count.

    An answer "unsure" counts as the sign being present (see ``resolved``). Offer fields and
    "no answer" (null) are left out; the nested answers are grouped into ``startback`` (only when
    all nine were answered) and ``neuroplastic``.
    Required fields not answered yet stay missing (see ``provisional_case``).
    """
    qn = questionnaire or load_questionnaire()
    case: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {name: {} for name in NESTED}
    for field, given in effective_answers(answers, questionnaire=qn).items():
        value = resolved(qn.owner(field), given)
        if field.startswith(OFFER_PREFIX) or value is None:
            continue
        head, _, tail = field.partition(".")
        target = nested[head] if tail else case
        target[tail or field] = list(value) if isinstance(value, list | tuple) else value
    for name, values in nested.items():
        if _complete(_NESTED_MODELS[name], values):
            case[name] = values
    return case


def _complete(model: type[BaseModel], values: Mapping[str, Any]) -> bool:
    required = {n for n, info in model.model_fields.items() if info.is_required()}
    return bool(values) and required <= set(values)


def provisional_case(
    answers: Mapping[str, Any], *, questionnaire: Questionnaire | None = None
) -> dict[str, Any]:
    """Like ``answers_to_case``, with placeholders (age 40, 0 weeks, low back) for required
    fields not answered yet: for checking the warning signs while the interview goes on."""
    case = answers_to_case(answers, questionnaire=questionnaire)
    for field, value in PLACEHOLDERS.items():
        if field not in case:
            case[field] = list(value) if isinstance(value, tuple) else value
    return case


def missing_required(answers: Mapping[str, Any], *, questionnaire: Questionnaire | None = None) -> list[str]:
    """Required Case fields the answers do not give yet."""
    case = answers_to_case(answers, questionnaire=questionnaire)
    return [n for n, info in Case.model_fields.items() if info.is_required() and n not in case]


def unsure_fields(answers: Mapping[str, Any], *, questionnaire: Questionnaire | None = None) -> list[str]:
    """The answer fields, in the order asked, answered "not sure" among the answers that still count."""
    return [f for f, v in effective_answers(answers, questionnaire=questionnaire).items() if v == UNSURE]
