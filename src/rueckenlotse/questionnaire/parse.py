"""Reading a typed answer (one line of text) for a question, with clear messages in the user's language."""

from __future__ import annotations

import re
from typing import Any

from ..i18n.formatting import decimal
from ..knowledge.questionnaire import UNSURE, Question
from .texts import questionnaire_texts

# Texts of this module: questionnaire/texts.yaml, keys parse.*.

YES = frozenset({"j", "ja", "y", "yes"})
NO = frozenset({"n", "nein", "no"})
NOT_SURE = frozenset(
    {"?", "ns", "nicht sicher", "weiß nicht", "weiss nicht", "unsicher", "not sure", "unsure", "don't know"}
)

# Units a duration in weeks may be given in, and their length in weeks (a year is 52 weeks).
_WEEK_UNITS: dict[str, float] = {
    **dict.fromkeys(("t", "tag", "tage", "tagen", "d", "day", "days"), 1 / 7),
    **dict.fromkeys(("w", "wo", "woche", "wochen", "wk", "wks", "week", "weeks"), 1.0),
    **dict.fromkeys(("mo", "mon", "monat", "monate", "monaten", "month", "months"), 52 / 12),
    **dict.fromkeys(("j", "jahr", "jahre", "jahren", "y", "yr", "yrs", "year", "years"), 52.0),
}
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([^\W\d_]*)\.?\s*$")
_SEPARATORS = re.compile(r"[\s,;]+")


class AnswerError(ValueError):
    """The typed answer does not fit the question; the message tells the user what to type."""


def message(key: str, lang: str, **values: object) -> str:
    return questionnaire_texts().get(f"parse.{key}", lang, **values)


def input_hint(question: Question, lang: str = "de") -> str:
    """A short hint on what to type, e.g. "j/n" or "Zahl von 0 bis 120"."""
    kind = question.kind
    if kind == "bool" and question.unsure:
        return message("hint.bool_unsure", lang)
    if kind in ("bool", "choice", "int"):
        return message(f"hint.{kind}", lang, min=question.min, max=question.max)
    if kind == "number":
        return message("hint.weeks" if question.unit == "weeks" else "hint.number", lang)
    if kind == "multi_flags" and question.unsure:
        return message("hint.multi_unsure", lang)
    return message("hint.regions" if kind == "multi_regions" else "hint.multi", lang)


def parse_answer(question: Question, raw: str, lang: str = "de") -> Any:
    """The answer value for ``flow.record_answer``; raises AnswerError with a message for the user.

    multi_flags give the list of selected option fields, or, when one is marked "not sure" (2?), a
    mapping option field -> true / "unsure"; multi_regions and multi_choice the list of selected
    values; choice the option's value; bool, int and number their value. A question that offers
    "not sure" takes ? (bool), the extra last number (choice) or a ? after a number (multi_flags).
    """
    text = raw.strip()
    if question.kind == "bool":
        if question.unsure and text.lower() in NOT_SURE:
            return UNSURE
        return _parse_bool(text, lang, unsure=question.unsure)
    if question.kind == "choice":
        count = len(question.options) + (1 if question.unsure else 0)
        index = _parse_index(text, count, lang)
        return UNSURE if index == len(question.options) else question.options[index].value
    if question.kind == "int":
        return _parse_int(question, text, lang)
    if question.kind == "number":
        return _parse_number(question, text, lang)
    return _parse_selection(question, text, lang)


def _parse_bool(text: str, lang: str, *, unsure: bool = False) -> bool:
    word = text.lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise AnswerError(message("bool_unsure" if unsure else "bool", lang))


def _parse_index(text: str, count: int, lang: str) -> int:
    if not text.isdecimal() or not 1 <= int(text) <= count:
        raise AnswerError(message("choice", lang, n=count))
    return int(text) - 1


def _parse_int(question: Question, text: str, lang: str) -> int:
    error = AnswerError(message("int", lang, min=question.min, max=question.max))
    if not text.isdecimal():
        raise error
    value = int(text)
    if (question.min is not None and value < question.min) or (
        question.max is not None and value > question.max
    ):
        raise error
    return value


def _parse_number(question: Question, text: str, lang: str) -> float:
    weeks = question.unit == "weeks"
    error = AnswerError(message("weeks" if weeks else "number", lang, min=_format(question.min, lang)))
    match = _NUMBER.match(text)
    if match is None:
        raise error
    number, unit = float(match.group(1).replace(",", ".")), match.group(2).lower()
    if unit:
        if not weeks or unit not in _WEEK_UNITS:
            raise error
        number = round(number * _WEEK_UNITS[unit], 2)
    if (question.min is not None and number < question.min) or (
        question.max is not None and number > question.max
    ):
        raise error
    return number


def _format(value: float | None, lang: str) -> str:
    return decimal(f"{value:g}" if value is not None else "0", lang)


def _parse_selection(question: Question, text: str, lang: str) -> list[Any] | dict[str, Any]:
    count = len(question.options)
    regions = question.kind == "multi_regions"
    unsure = question.kind == "multi_flags" and question.unsure
    key = "regions" if regions else "multi_unsure" if unsure else "multi"
    error = AnswerError(message(key, lang, n=count))
    tokens = [t for t in _SEPARATORS.split(text) if t]
    if not tokens or tokens == ["0"]:
        if regions:
            raise error
        return []
    marked_tokens = {t for t in tokens if unsure and t.endswith("?")}
    marked = {t.removesuffix("?") for t in marked_tokens}
    plain = set(tokens) - marked_tokens
    if not all(t.isdecimal() and 1 <= int(t) <= count for t in marked | plain) or marked & plain:
        raise error  # "2 2?" says yes and not sure at once: ask again
    indices = sorted({int(t) - 1 for t in marked | plain})
    if question.kind != "multi_flags":
        return [question.options[i].value for i in indices]
    fields = [question.options[i].field or "" for i in indices]
    if not marked:
        return fields
    return {f: UNSURE if str(i + 1) in marked else True for i, f in zip(indices, fields, strict=True)}
