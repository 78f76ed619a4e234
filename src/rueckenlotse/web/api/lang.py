"""The language of an API request: ``?lang=``, else the Accept-Language header (negotiated by Babel), else
German.

The choices are the translation layer's language list as it stands when this module is imported: German and
English, plus the languages of ``RUECKENLOTSE_LOCALE_DIR``. The OpenAPI document lists them as an enum, so a
deployment without added languages keeps contract 2's ``de``/``en`` exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Query, Request

from ...i18n import DEFAULT_LANG, languages
from ...i18n.negotiate import accepted_language as _negotiated

if TYPE_CHECKING:
    Lang = str
else:
    Lang = Literal[languages()]
LANGS: tuple[str, ...] = languages()

__all__ = ["DEFAULT_LANG", "LANGS", "Lang", "accepted_language", "language", "request_language"]


def accepted_language(header: str | None) -> Lang:
    """The best language in an Accept-Language header (``en-GB,en;q=0.9``); German by default."""
    return _negotiated(header)


def request_language(request: Request) -> Lang:
    """``?lang=`` when valid, else the Accept-Language header, else German."""
    query = request.query_params.get("lang")
    if query is not None and query in LANGS:
        return query
    return accepted_language(request.headers.get("accept-language"))


_LANG_QUERY = Query(
    description="Sprache der Texte: de (Standard) oder en. Ohne lang gilt Accept-Language. / "
    "Language of the texts: de (default) or en. Without lang, Accept-Language applies.",
)


def language(request: Request, lang: Annotated[Lang, _LANG_QUERY] = DEFAULT_LANG) -> Lang:
    """Dependency: the language of this request (a bad ``lang`` is a 422 before this runs)."""
    if "lang" in request.query_params:
        return lang
    return accepted_language(request.headers.get("accept-language"))
