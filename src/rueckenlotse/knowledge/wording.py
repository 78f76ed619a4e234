"""Field types every validated knowledge file shares: ids, non-blank strings, a text in German and English."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from ..i18n import LocalText

STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S")]


# The one model of a text in every language lives in the translation layer.
__all__ = ["STRICT", "Id", "LocalText", "NonBlank"]
