"""Every warning-sign question of a Case with its answer: yes, no, or not asked.

Which Case fields are warning signs is read from the knowledge base: every field a rule for a red-flag
condition looks at, except the context every case has (age, regions, duration, earlier episodes). The
wording is the questionnaire's, so the clinician reads what the person was asked. "Not asked" means the
questionnaire skips the question for these answers (e.g. hand clumsiness without neck pain) and the
Case does not give the field; the contract reads an absent field as "no", the report says why it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from ...core.conditions import referenced_names
from ...core.kb import KnowledgeBase
from ...core.models import Case
from ...questionnaire import Question, Questionnaire, load_questionnaire
from .texts import DocumentTexts

CONTEXT_FIELDS = frozenset({"age", "regions", "duration_weeks", "recurrent"})
Answer = Literal["yes", "no", "not_asked"]


@dataclass(frozen=True)
class SignAnswer:
    field: str
    question: str
    answer: Answer
    text: str


def warning_sign_fields(kb: KnowledgeBase) -> frozenset[str]:
    """Case fields that some red-flag rule (or one of its escalations) depends on."""
    names = frozenset(kb.compiler.names)
    fields: set[str] = set()
    for rule in kb.spec.rules:
        if rule.suspect not in kb.red_flag_conditions:
            continue
        for expr in (rule.when, *(e.when for e in rule.escalate)):
            for name in referenced_names(expr, names):
                fields |= kb.compiler.names[name]
    return frozenset(fields & set(Case.model_fields)) - CONTEXT_FIELDS


@cache
def _questions_in_order(fields: frozenset[str]) -> tuple[tuple[str, Question], ...]:
    """(field, question) for each warning-sign field, in the questionnaire's order."""
    ordered: list[tuple[str, Question]] = []
    for question in load_questionnaire().questions:
        ordered += [(f, question) for f in question.fields if f in fields]
    return tuple(ordered)


def _label(question: Question, field: str, lang: str) -> str:
    if question.kind == "multi_flags":
        option = next(o for o in question.options if o.field == field)
        return option.label.get(lang)
    return question.text.get(lang)


def _option_label(question: Question, value: Any, lang: str) -> str:
    for option in question.options:
        if option.value == value:
            return option.label.get(lang)
    return str(value)


def _env(case: Case) -> dict[str, Any]:
    """The Case as the flat answers the questionnaire's ask_if conditions read."""
    return case.model_dump(mode="json", exclude={"startback", "neuroplastic"})


def _answer(case: Case, field: str, question: Question, qn: Questionnaire) -> Answer:
    value = getattr(case, field)
    given = value not in (False, "none")
    if given:
        return "yes"
    asked = field in case.model_fields_set or qn.asks(question, _env(case))
    return "no" if asked else "not_asked"


def warning_sign_answers(
    kb: KnowledgeBase, case: Case, texts: DocumentTexts, lang: str
) -> tuple[SignAnswer, ...]:
    qn = load_questionnaire()
    rows: list[SignAnswer] = []
    for field, question in _questions_in_order(warning_sign_fields(kb)):
        answer = _answer(case, field, question, qn)
        text = texts.get(f"doc.answer.{answer}", lang)
        if answer == "yes" and question.kind == "choice":
            # the option label says which yes ("Yes, minor: a fall from standing height ...")
            text = _option_label(question, getattr(case, field), lang)
        rows.append(SignAnswer(field, _label(question, field, lang), answer, text))
    return tuple(rows)
