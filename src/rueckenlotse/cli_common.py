"""What every command group of the CLI shares: the language choice."""

from __future__ import annotations

from enum import StrEnum

from . import LANGUAGES


class Lang(StrEnum):
    """The --lang choice of every command (the texts exist in German and English)."""

    de = "de"
    en = "en"


assert tuple(Lang) == LANGUAGES
