"""What the practice pages show: inbox rows and every answer of an intake, as plain texts for the templates.

The labels come from the knowledge base (``condition.*.label``) and the questionnaire (question texts and
option labels), so the practice reads exactly what the patient was asked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

from ..core.kb import KnowledgeBase
from ..core.models import Case
from ..i18n import zone as zones
from ..i18n.formatting import decimal, format_moment
from ..questionnaire import Question, asked_in_case, load_questionnaire
from ..questionnaire.model import OFFER_PREFIX
from ..store.account_records import InboxRow
from .i18n import WebTexts

TRIAGES = ("emergency", "urgent", "soon", "routine", "self_care")


def local_zone() -> dt.tzinfo | None:
    """RUECKENLOTSE_TIME_ZONE, or None where the system has no time-zone data (times then say UTC)."""
    zone = zones.local_zone()
    return None if zone is dt.UTC else zone


def format_time(moment: datetime, lang: str) -> str:
    zone = local_zone()
    local = moment.astimezone(zone) if zone is not None else moment
    suffix = "" if zone is not None else " UTC"
    return format_moment(local, lang) + (" Uhr" if lang == "de" and zone is not None else suffix)


@dataclass(frozen=True)
class RowView:
    id: str
    triage: str
    urgency: str
    submitted: str
    person: str
    named: bool  # the person gave a name (else ``person`` already says the reference)
    reference: str | None
    conditions: tuple[str, ...]
    signs: tuple[str, ...]
    reviewed: str | None


@dataclass(frozen=True)
class AnswerLine:
    label: str
    answer: str
    yes: bool


@dataclass(frozen=True)
class AnswerTable:
    id: str
    caption: str
    warning_signs: bool
    lines: tuple[AnswerLine, ...]


@cache
def _flag_labels() -> dict[str, Any]:
    """Case field -> the option label of the warning-sign question that asks it."""
    return {
        option.field: option.label
        for question in load_questionnaire().questions
        if question.kind == "multi_flags"
        for option in question.options
        if option.field is not None
    }


class PracticeView:
    def __init__(self, kb: KnowledgeBase, texts: WebTexts, lang: str) -> None:
        self.kb = kb
        self.texts = texts
        self.lang = lang

    def t(self, key: str, **values: object) -> str:
        return self.texts.get(key, self.lang, **values)

    def kt(self, key: str) -> str:
        entry = self.kb.spec.texts.get(key)
        return entry[self.lang] if entry is not None else key

    def urgency(self, triage: str) -> str:
        return self.t(f"practice.urgency.{triage}") if triage in TRIAGES else triage

    def sign_label(self, field: str) -> str | None:
        label = _flag_labels().get(field)
        return label.get(self.lang) if label is not None else None

    def person(self, person_id: str, display_name: str | None, reference: str | None = None) -> str:
        """The name the person gave; else "no name" with the reference (what they quote on the phone)."""
        if display_name:
            return display_name
        if reference:
            return self.t("practice.person_unnamed", reference=reference)
        return self.t("practice.person_anonymous", short=person_id[:8])

    def row(self, row: InboxRow) -> RowView:
        intake = row.intake
        signs = tuple(label for sign in row.warning_signs if (label := self.sign_label(sign)) is not None)
        reviewed = intake.reviewed_at
        return RowView(
            id=intake.id,
            triage=intake.triage,
            urgency=self.urgency(intake.triage),
            submitted=format_time(intake.submitted_at, self.lang),
            person=self.person(intake.person_id, row.display_name, intake.reference),
            named=bool(row.display_name),
            reference=intake.reference,
            conditions=tuple(self.kt(f"condition.{c}.label") for c in row.red_flag_conditions),
            signs=signs,
            reviewed=self.t("practice.reviewed_at", when=format_time(reviewed, self.lang))
            if reviewed
            else None,
        )

    # ---- every answer --------------------------------------------------------------------------------
    def answers(self, case: Case) -> tuple[AnswerTable, ...]:
        """One table per warning-sign question (each sign with Yes or No), then one with the rest.

        A question the interview did not ask reads "nicht gefragt": the stored Case holds a False for
        every flag, and a clinician must never read a "no" that nobody said."""
        asked = asked_in_case(case)
        tables: list[AnswerTable] = []
        others: list[AnswerLine] = []
        for question in load_questionnaire().questions:
            if question.kind == "multi_flags":
                lines = tuple(
                    self._yes_no(option.label.get(self.lang), _value(case, option.field or ""))
                    if question.id in asked
                    else self._not_asked(option.label.get(self.lang))
                    for option in question.options
                )
                tables.append(AnswerTable(question.id, self._caption(question), True, lines))
            elif question.field is not None and not question.field.startswith(OFFER_PREFIX):
                line = (
                    self._line(question, _value(case, question.field))
                    if question.id in asked
                    else self._not_asked(self._wording(question))
                )
                others.append(line)
        tables.append(AnswerTable("other", self.t("practice.detail.answers_title"), False, tuple(others)))
        return tuple(tables)

    def _caption(self, question: Question) -> str:
        """The table's title for the clinician (the patient's wording speaks to the patient)."""
        key = f"practice.detail.flags.{question.id}"
        return self.t(key) if key in self.texts else self._wording(question)

    def _wording(self, question: Question) -> str:
        return self.t("practice.detail.wording", text=question.text.get(self.lang))

    def _not_asked(self, label: str) -> AnswerLine:
        return AnswerLine(label, self.t("practice.detail.not_asked"), False)

    def _yes_no(self, label: str, value: Any) -> AnswerLine:
        yes = value is True
        return AnswerLine(label, self.t("intake.yes" if yes else "intake.no"), yes)

    def _line(self, question: Question, value: Any) -> AnswerLine:
        label = self._wording(question)
        if question.kind == "bool":
            if value is None:
                return AnswerLine(label, self.t("practice.detail.not_given"), False)
            return self._yes_no(label, value)
        return AnswerLine(label, self._text(question, value), False)

    def _text(self, question: Question, value: Any) -> str:
        if value is None:
            return self.t("practice.detail.not_given")
        if question.kind in ("multi_regions", "multi_choice"):
            chosen = [self._option(question, v) for v in value] if isinstance(value, list) else []
            return ", ".join(chosen) if chosen else self.t("practice.detail.none")
        if question.kind == "choice":
            return self._option(question, value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = decimal(f"{value:g}", self.lang)
            return self.t("practice.detail.weeks", value=number) if question.unit == "weeks" else number
        return str(value)

    def _option(self, question: Question, value: Any) -> str:
        for option in question.options:
            if option.value == value and type(option.value) is type(value):
                return option.label.get(self.lang)
        return str(value)


def _value(case: Case, field: str) -> Any:
    """A Case field by its questionnaire name (``startback.x`` for nested ones); None if not there."""
    target: Any = case
    for part in field.split("."):
        if target is None:
            return None
        target = getattr(target, part, None)
    if isinstance(target, Enum):
        return target.value
    if isinstance(target, list):
        return [item.value if isinstance(item, Enum) else item for item in target]
    return target
