"""Field types every validated knowledge file shares: ids, non-blank strings, a text in German and English."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S")]


class LocalText(BaseModel):
    """One text in German and English."""

    model_config = STRICT
    de: NonBlank
    en: NonBlank

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.de
