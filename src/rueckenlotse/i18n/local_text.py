"""One text in every language: German and English required, an added language optional (it falls back)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .languages import fallback_of, languages

NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S")]


class LocalText(BaseModel):
    """A user-facing text of the knowledge YAML, German first, English second; further languages of the
    language list may follow (``nl: ...``). A language without its own text shows its fallback's."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)

    de: NonBlank
    en: NonBlank

    @model_validator(mode="before")
    @classmethod
    def _known_languages(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = languages()
            unknown = sorted(str(k) for k in data if k not in known)
            if unknown:
                raise ValueError(f"unknown languages {unknown}; the languages are {', '.join(known)}")
            empty = sorted(str(k) for k, v in data.items() if not isinstance(v, str) or not v.strip())
            if empty:
                raise ValueError(f"empty or non-text languages {empty}")
        return data

    def get(self, lang: str) -> str:
        """The text in ``lang``; an added language without its own text gets its fallback's.

        Raises ValueError for a language outside the language list."""
        if lang == "de":
            return self.de
        if lang == "en":
            return self.en
        own = (self.model_extra or {}).get(lang)
        if isinstance(own, str):
            return own
        return self.get(fallback_of(lang))

    def texts(self) -> dict[str, str]:
        """lang -> text for every language of the language list (fallbacks filled in)."""
        return {lang: self.get(lang) for lang in languages()}
