"""The question flow on the web: a question as a form, the form back as an answer, and where to go next.

The flow itself (order, ask_if, what counts) is the questionnaire package's, shared with the terminal
interview. This module only translates between that flow and HTML form fields: every control is named
``answer``; radio buttons and checkboxes send the 1-based number of their option (yes/no for a bool).
A warning-sign question that offers "not sure" adds the value ``unsure`` (bool, choice), or beside each
sign of a list a second checkbox "Nicht sicher" that sends the sign's number with a ? ("3?"): it works
without JavaScript and stacks on a narrow phone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..questionnaire import (
    UNSURE,
    AnswerError,
    Question,
    active_questions,
    is_answered,
    next_question,
    parse_answer,
    unsure_label,
)
from .i18n import WebTexts

FIELD = "answer"
MAX_TEXT = 40  # longer than any number or "12 Wochen"; longer input is refused unread
YES, NO = "yes", "no"
Control = Literal["radio", "checkbox", "text"]


class FormAnswerError(ValueError):
    """The form does not answer the question; the message says what to do, in the user's language."""


@dataclass(frozen=True)
class OptionView:
    value: str
    label: str
    checked: bool
    # A sign in a list that offers "not sure": the value and state of its own "Nicht sicher" box.
    unsure_value: str | None = None
    unsure_checked: bool = False


@dataclass(frozen=True)
class QuestionView:
    """Everything the question template shows."""

    id: str
    control: Control
    text: str
    help: str | None
    hint: str | None
    options: tuple[OptionView, ...]
    value: str
    error: str | None
    inputmode: str
    number: int
    total: int
    unsure_text: str = ""  # "Nicht sicher" beside each sign of a list that offers it

    @property
    def first_input_id(self) -> str:
        return f"{FIELD}-1" if self.options else FIELD

    @property
    def is_first(self) -> bool:
        return self.number == 1


def control_of(question: Question) -> Control:
    if question.kind in ("bool", "choice"):
        return "radio"
    if question.kind in ("int", "number"):
        return "text"
    return "checkbox"


# ---- reading the form ----------------------------------------------------------------------------
def read_answer(question: Question, values: Sequence[str], lang: str, texts: WebTexts) -> Any:
    """The answer value for ``record_answer``; raises FormAnswerError for anything else."""
    kind = question.kind
    if question.unsure and kind != "multi_flags" and _single(values) == UNSURE:
        return UNSURE
    if kind == "bool":
        single = _single(values)
        if single not in (YES, NO):
            raise FormAnswerError(texts.get("intake.error_bool", lang))
        return single == YES
    if kind in ("int", "number"):
        raw = _single(values) or ""
        try:
            return parse_answer(question, raw if len(raw) <= MAX_TEXT else "?", lang)
        except AnswerError as e:
            raise FormAnswerError(str(e)) from None
    if kind == "choice":
        index = _index(_single(values), len(question.options))
        if index is None:
            raise FormAnswerError(texts.get("intake.error_choice", lang))
        return question.options[index].value
    return _read_selection(question, values, lang, texts)


def _read_selection(
    question: Question, values: Sequence[str], lang: str, texts: WebTexts
) -> list[Any] | dict[str, Any]:
    if question.kind == "multi_flags" and question.unsure:
        return _read_flags(question, values, lang, texts)
    indices = [_index(v, len(question.options)) for v in values]
    if None in indices or len(set(indices)) != len(indices):
        raise FormAnswerError(texts.get("intake.error_options", lang))
    if question.kind == "multi_regions" and not indices:
        raise FormAnswerError(texts.get("intake.error_regions", lang))
    chosen = [question.options[i] for i in sorted(i for i in indices if i is not None)]
    if question.kind == "multi_flags":
        return [option.field for option in chosen]
    return [option.value for option in chosen]


def _read_flags(question: Question, values: Sequence[str], lang: str, texts: WebTexts) -> dict[str, Any]:
    """A list of signs with "not sure" boxes: option field -> true or "unsure" (unticked: false)."""
    chosen: dict[str, Any] = {}
    for value in values:
        index = _index(value.removesuffix("?"), len(question.options))
        if index is None:
            raise FormAnswerError(texts.get("intake.error_options", lang))
        field = question.options[index].field or ""
        if field in chosen:  # "yes" and "not sure" for the same sign, or a value sent twice
            raise FormAnswerError(texts.get("intake.error_both", lang))
        chosen[field] = UNSURE if value.endswith("?") else True
    return chosen


def _single(values: Sequence[str]) -> str | None:
    return values[0].strip() if len(values) == 1 else None


def _index(value: str | None, count: int) -> int | None:
    if value is None or not value.isdecimal() or len(value) > 3 or not 1 <= int(value) <= count:
        return None
    return int(value) - 1


# ---- showing a question --------------------------------------------------------------------------
def saved_selection(question: Question, answers: Mapping[str, Any]) -> tuple[set[str], str]:
    """The form values of a saved answer: (checked option values, text), for pre-filling the form."""
    if not is_answered(question, answers):
        return set(), ""
    if question.kind == "multi_flags":
        given = [(i, answers.get(o.field or "")) for i, o in enumerate(question.options, 1)]
        return {str(i) for i, v in given if v is True} | {f"{i}?" for i, v in given if v == UNSURE}, ""
    value = answers[question.field or ""]
    if value == UNSURE and question.unsure:
        return {UNSURE}, ""
    if question.kind == "bool":
        return {YES if value else NO}, ""
    if question.kind in ("int", "number"):
        return set(), _format_number(value)
    chosen = value if isinstance(value, list) else [value]
    return {
        str(i)
        for i, o in enumerate(question.options, 1)
        if any(o.value == c and type(o.value) is type(c) for c in chosen)
    }, ""


def _format_number(value: Any) -> str:
    # "0.5" and "0,5" are both read back; the dot keeps one spelling for both languages.
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else ""


def question_view(
    question: Question,
    answers: Mapping[str, Any],
    lang: str,
    texts: WebTexts,
    *,
    submitted: tuple[set[str], str] | None = None,
    error: str | None = None,
) -> QuestionView:
    """The question with its saved answer (or what was just submitted, when it had an error)."""
    checked, text = submitted if submitted is not None else saved_selection(question, answers)
    number, total = progress(question, answers)
    return QuestionView(
        id=question.id,
        control=control_of(question),
        text=question.text.get(lang),
        help=question.help.get(lang) if question.help is not None else None,
        hint=_hint(question, lang, texts),
        options=tuple(_options(question, lang, texts, checked)),
        value=text,
        error=error,
        inputmode=_inputmode(question),
        number=number,
        total=total,
        unsure_text=unsure_label(lang),
    )


def _options(question: Question, lang: str, texts: WebTexts, checked: set[str]) -> list[OptionView]:
    if question.kind == "bool":
        options = [
            OptionView(YES, texts.get("intake.yes", lang), YES in checked),
            OptionView(NO, texts.get("intake.no", lang), NO in checked),
        ]
    elif question.kind == "multi_flags" and question.unsure:
        return [
            OptionView(str(i), o.label.get(lang), str(i) in checked, f"{i}?", f"{i}?" in checked)
            for i, o in enumerate(question.options, 1)
        ]
    else:
        options = [
            OptionView(str(i), o.label.get(lang), str(i) in checked)
            for i, o in enumerate(question.options, 1)
        ]
    if question.unsure and question.kind != "multi_flags":
        options.append(OptionView(UNSURE, unsure_label(lang), UNSURE in checked))
    return options


def _hint(question: Question, lang: str, texts: WebTexts) -> str | None:
    if question.kind == "int":
        return texts.get("intake.hint_int", lang, min=question.min, max=question.max)
    if question.kind == "number":
        return texts.get("intake.hint_weeks" if question.unit == "weeks" else "intake.hint_number", lang)
    if question.kind == "multi_regions":
        return texts.get("intake.hint_regions", lang)
    if question.kind == "multi_flags" and question.unsure:
        return texts.get("intake.hint_none_unsure", lang)
    if question.kind in ("multi_flags", "multi_choice"):
        return texts.get("intake.hint_none", lang)
    return None


def _inputmode(question: Question) -> str:
    if question.kind == "int":
        return "numeric"
    # Durations may be typed with a unit ("3 Tage"), so they need the full keyboard.
    return "text" if question.unit == "weeks" else "decimal"


def submitted_selection(question: Question, values: Sequence[str]) -> tuple[set[str], str]:
    """What the user sent, to show it again next to the error."""
    if control_of(question) == "text":
        return set(), (values[0][:MAX_TEXT] if values else "")
    return {v for v in values if len(v) <= len(UNSURE)}, ""


# ---- where to go ---------------------------------------------------------------------------------
def progress(question: Question, answers: Mapping[str, Any]) -> tuple[int, int]:
    """(number of this question, estimated total): the questions asked given the answers so far."""
    ids = [q.id for q in active_questions(answers)]
    number = ids.index(question.id) + 1 if question.id in ids else len(ids)
    return number, max(len(ids), number)


def is_reachable(question_id: str, answers: Mapping[str, Any]) -> bool:
    """The question is asked and every question before it is answered (no skipping ahead)."""
    for question in active_questions(answers):
        if question.id == question_id:
            return True
        if not is_answered(question, answers):
            return False
    return False


def following_question(answers: Mapping[str, Any], question: Question) -> Question | None:
    """The question after this one (answered or not: stepping forward shows saved answers again)."""
    active = active_questions(answers)
    ids = [q.id for q in active]
    if question.id in ids:
        later = active[ids.index(question.id) + 1 :]
        if later:
            return later[0]
    return next_question(answers)
