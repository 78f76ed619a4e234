"""Typed errors: the store and the services raise a code with parameters, the edge words them.

``DomainError("file_not_found", path=p)`` names its text ``domain.file_not_found`` in i18n/texts_errors.yaml;
the CLI, the web pages and the API call ``message(lang)`` with the reader's language. A parameter that is a
``Term`` is itself a catalogue key, worded in the same language ("Name der Praxis" / "Practice name").
"""

from __future__ import annotations

from functools import cache

from .catalogue import Catalogue, load_catalogue
from .languages import DEFAULT_LANG


class Term(str):
    """A parameter that is a catalogue key (``domain.what.practice_name``), worded in the reader's
    language."""

    __slots__ = ()


@cache
def error_texts() -> Catalogue:
    """The error catalogue (i18n/texts_errors.yaml), loaded and checked once."""
    return load_catalogue("rueckenlotse.i18n", ["texts_errors.yaml"])


class DomainError(Exception):
    """An error the user can act on (a bad URL, a missing record, a weak password): ``code`` names its text,
    ``params`` fill the text's placeholders."""

    def __init__(self, code: str, /, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(code)

    def message(self, lang: str = DEFAULT_LANG) -> str:
        """The error in ``lang`` (German for a language outside the language list)."""
        texts = error_texts()
        values = {
            name: texts.get(value, lang) if isinstance(value, Term) else value
            for name, value in self.params.items()
        }
        return texts.get(f"domain.{self.code}", lang, **values)

    def __str__(self) -> str:
        # Logs and tracebacks show both built-in languages, as before the errors were typed.
        return f"{self.message('de')} / {self.message('en')}"
