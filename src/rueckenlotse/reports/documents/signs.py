"""Every warning-sign question of a Case with its answer: yes, no, or not asked.

Which Case fields are warning signs is read from the knowledge base: every field a rule for a red-flag
condition looks at, except the context every case has (age, regions, duration, earlier episodes). Each
row has a short label of the report's own (texts_documents.yaml, ``doc.sign.<field>``): the clinician
reads the clinical meaning at a glance, also for fields the questionnaire no longer asks (contract 1's
``neuro_bilateral``). A choice answer says which yes (``doc.sign.<field>.<value>``), so "strain" (lifting
without a fall) never reads like a fall. "Not asked" means the questionnaire skips the question for these
answers (e.g. hand clumsiness without neck pain): the contract reads such a field as "no", the report says
that nobody said it (``questionnaire.asked_in_case`` walks the questions as the interview did).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from ...core.conditions import referenced_names
from ...core.kb import KnowledgeBase
from ...core.models import Case
from ...questionnaire import Question, asked_in_case, load_questionnaire
from .texts import DocumentTexts

CONTEXT_FIELDS = frozenset({"age", "regions", "duration_weeks", "recurrent"})
# Contract 1's one question for both legs or both arms: the two contract-2 questions replace it. Its row
# stands beside theirs; when a Case answers it with yes, they were not asked (the engine reads the old
# answer as legs or arms, the report does not guess which).
V1_BILATERAL = "neuro_bilateral"
V2_BILATERAL = ("neuro_bilateral_legs", "neuro_bilateral_arms")
Answer = Literal["yes", "no", "not_asked"]


@dataclass(frozen=True)
class SignAnswer:
    field: str
    label: str
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
def _questions_in_order(fields: frozenset[str]) -> tuple[tuple[str, Question | None], ...]:
    """(field, question) in the questionnaire's order; fields it does not ask come last, question None
    (contract 1's bilateral question right after the two that replace it)."""
    ordered: list[tuple[str, Question | None]] = []
    for question in load_questionnaire().questions:
        ordered += [(f, question) for f in question.fields if f in fields]
    asked = [f for f, _ in ordered]
    unasked = sorted(fields - set(asked))
    if V1_BILATERAL in unasked and V2_BILATERAL[-1] in asked:
        unasked.remove(V1_BILATERAL)
        ordered.insert(asked.index(V2_BILATERAL[-1]) + 1, (V1_BILATERAL, None))
    ordered += [(f, None) for f in unasked]
    return tuple(ordered)


def _answer(case: Case, field: str, question: Question | None, asked: frozenset[str]) -> Answer:
    value = getattr(case, field)
    if value not in (False, "none"):
        return "yes"
    if field in V2_BILATERAL and case.neuro_bilateral:
        return "not_asked"  # the old question was answered instead: its "yes" is no "no" for these
    if question is None:  # a field the questionnaire never asks: only a Case that gives it says "no"
        return "no" if field in case.model_fields_set else "not_asked"
    # A stored Case holds every flag, asked or not: only the interview's walk says whether "no" was said.
    return "no" if question.id in asked else "not_asked"


def _yes_text(case: Case, field: str, texts: DocumentTexts, lang: str) -> str:
    value = getattr(case, field)
    if isinstance(value, str):  # a choice: the value says which yes
        return texts.get(f"doc.sign.{field}.{value}", lang)
    if field == "pregnant" and case.pregnancy_week is not None:
        return texts.get("doc.sign.pregnant.week", lang, week=case.pregnancy_week)
    return texts.get("doc.answer.yes", lang)


def warning_sign_answers(
    kb: KnowledgeBase, case: Case, texts: DocumentTexts, lang: str
) -> tuple[SignAnswer, ...]:
    asked = asked_in_case(case)
    rows: list[SignAnswer] = []
    for field, question in _questions_in_order(warning_sign_fields(kb)):
        answer = _answer(case, field, question, asked)
        if answer == "yes":
            text = _yes_text(case, field, texts, lang)
        else:
            text = texts.get(f"doc.answer.{answer}", lang)
        rows.append(SignAnswer(field, texts.get(f"doc.sign.{field}", lang), answer, text))
    return tuple(rows)
