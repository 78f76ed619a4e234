"""The warning-sign lexicon that screens every `ask` question (ask_screen.yaml), validated with Pydantic.

Patterns are regular expressions over *folded* text (see ``fold``): lower case, umlauts written out,
ß as ss, hyphens and slashes as spaces. An umlaut or ß written in a pattern also accepts the folded
and the plain spelling ("fuß" matches "fuss", "fuß" and "fus"), so the YAML can use normal German.
Every pattern is compiled once, when the file is loaded; a pattern that does not compile, a Case field
that does not exist or a combination that names an unknown entry stops loading with the entry's id.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from ..core.models import Case
from .wording import STRICT as _STRICT
from .wording import Id, LocalText, NonBlank

ScreenLevel = Literal["soon", "urgent", "emergency"]
SCREEN_LEVELS: tuple[str, ...] = get_args(ScreenLevel)  # lowest first
EntryKind = Literal["sign", "topic", "part"]

CASE_FIELDS: frozenset[str] = frozenset(Case.model_fields)

# Folding: the same table for the question and (as alternatives) for the patterns.
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "’": "'", "‘": "'", "`": "'"})
_PATTERN_FOLD = {"ä": "(?:ae?)", "ö": "(?:oe?)", "ü": "(?:ue?)", "ß": "(?:ss?)", "’": "'"}
_SPACES = re.compile(r"[\s\-_/]+")


def fold(text: str) -> str:
    """Lower case, umlauts and ß written out, hyphens and slashes as spaces, one space between words."""
    lowered = unicodedata.normalize("NFKC", text).lower().translate(_FOLD)
    return _SPACES.sub(" ", lowered).strip()


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A lexicon pattern compiled for folded text; umlauts and ß also match their plain spellings."""
    # Not lower-cased: that would turn \S into \s; the pattern is matched ignoring case anyway.
    source = "".join(_PATTERN_FOLD.get(ch.lower(), ch) for ch in pattern)
    return re.compile(source, re.IGNORECASE)


class Patterns(BaseModel):
    """German and English patterns; both lists are used for every question, whatever its language."""

    model_config = _STRICT
    de: Annotated[list[NonBlank], Field(min_length=1)]
    en: Annotated[list[NonBlank], Field(min_length=1)]

    @field_validator("de", "en")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                compile_pattern(pattern)
            except re.error as e:
                raise ValueError(f"pattern {pattern!r} does not compile: {e}") from None
        return value


class _Texts(BaseModel):
    """What a hit says: the seek-care text and the clause that makes it conditional."""

    model_config = _STRICT
    condition: LocalText | None = None
    text: LocalText | None = None

    def _check_texts(self, level: str) -> None:
        if self.condition is None or self.text is None:
            raise ValueError("needs both condition and text")
        if not self.condition.de.startswith("Falls ") or not self.condition.en.startswith("If "):
            raise ValueError('condition must begin with "Falls " (de) and "If " (en)')
        if level == "emergency":
            for lang in ("de", "en"):
                words = self.text.get(lang)
                if "112" not in words or words.index("112") > 40:
                    raise ValueError(f"an emergency text must name 112 in its first sentence ({lang})")


class Entry(_Texts):
    """One warning sign (or the topic of one) and the words that stand for it.

    kind ``sign``: the words say the person has the sign. ``topic``: the words only name the topic
    ("Blase", "schwanger"), so the text is always worded as a condition. ``part``: the words count only
    inside a combination (bleeding in pregnancy) and never make a hit of their own.
    """

    id: Id
    fields: Annotated[list[str], Field(min_length=1)]
    level: ScreenLevel
    kind: EntryKind = "sign"
    patterns: Patterns
    _compiled: tuple[re.Pattern[str], ...] = PrivateAttr(default=())

    @field_validator("fields")
    @classmethod
    def _case_fields(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - CASE_FIELDS)
        if unknown:
            raise ValueError(f"not a Case field: {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _ready(self) -> Entry:
        if self.kind != "part":
            self._check_texts(self.level)
        self._compiled = tuple(compile_pattern(p) for p in [*self.patterns.de, *self.patterns.en])
        return self

    @property
    def compiled(self) -> tuple[re.Pattern[str], ...]:
        return self._compiled


class Combination(_Texts):
    """Signs that together need more than each alone (fever after a spinal injection: 112).

    Fires when every group in ``all_of`` has a hit; each group lists entry ids.
    """

    id: Id
    level: ScreenLevel
    all_of: Annotated[list[Annotated[list[Id], Field(min_length=1)]], Field(min_length=2)]

    @model_validator(mode="after")
    def _ready(self) -> Combination:
        self._check_texts(self.level)
        return self


class Frame(BaseModel):
    """The texts around the hits in every channel."""

    model_config = _STRICT
    heading: LocalText
    assessment_cli: LocalText
    assessment_web: LocalText
    general_answers: LocalText


class AskScreenSpec(BaseModel):
    """The whole lexicon: entries, combinations and the frame texts."""

    model_config = _STRICT
    frame: Frame
    entries: Annotated[list[Entry], Field(min_length=1)]
    combinations: list[Combination] = []

    @model_validator(mode="after")
    def _consistent(self) -> AskScreenSpec:
        ids = [e.id for e in self.entries] + [c.id for c in self.combinations]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"id used twice: {', '.join(twice)}")
        by_id = {e.id: e for e in self.entries}
        rank = SCREEN_LEVELS.index
        for combo in self.combinations:
            for group in combo.all_of:
                unknown = [i for i in group if i not in by_id]
                if unknown:
                    raise ValueError(f"combination {combo.id}: unknown entry {', '.join(unknown)}")
                if any(by_id[i].kind == "sign" and rank(by_id[i].level) > rank(combo.level) for i in group):
                    raise ValueError(f"combination {combo.id}: a sign's own level is higher than its level")
        return self

    def entry(self, entry_id: str) -> Entry:
        return next(e for e in self.entries if e.id == entry_id)
