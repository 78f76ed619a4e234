"""The one translation layer: the language list, the UI catalogues, texts in many languages, Babel formats.

German and English are built in (German the default). A deployer adds a language with a catalogue file in
the folder ``RUECKENLOTSE_LOCALE_DIR`` (``<code>.yaml``, see docs/architecture.md, "A new language"). Babel
is only imported by the formatting and negotiation helpers, so that loading the knowledge base stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .languages import (
    BUILTIN_LANGUAGES,
    DEFAULT_LANG,
    LOCALE_DIR_ENV,
    LocaleError,
    check_language,
    fallback_of,
    is_language,
    knowledge_texts,
    languages,
    locale_texts,
    with_added_languages,
)

if TYPE_CHECKING:
    from .local_text import LocalText


def __getattr__(name: str) -> Any:
    # LocalText (Pydantic) loads on first use: the CLI's --help needs only the language list.
    if name == "LocalText":
        from .local_text import LocalText

        return LocalText
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BUILTIN_LANGUAGES",
    "DEFAULT_LANG",
    "check_language",
    "LOCALE_DIR_ENV",
    "LocalText",
    "LocaleError",
    "fallback_of",
    "is_language",
    "knowledge_texts",
    "languages",
    "locale_texts",
    "with_added_languages",
]
