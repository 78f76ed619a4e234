"""The language of an API request: ``?lang=de|en``, else the Accept-Language header, else German."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import Query, Request

Lang = Literal["de", "en"]
LANGS: tuple[Lang, ...] = ("de", "en")
DEFAULT_LANG: Lang = "de"


def accepted_language(header: str | None) -> Lang:
    """The best of de / en in an Accept-Language header (``en-GB,en;q=0.9``); German by default."""
    best: tuple[float, Lang] | None = None
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        weight = _quality(params)
        if primary in LANGS and weight > 0 and (best is None or weight > best[0]):
            best = (weight, "en" if primary == "en" else "de")
    return best[1] if best else DEFAULT_LANG


def _quality(params: str) -> float:
    match = re.search(r"q\s*=\s*([0-9.]+)", params)
    if match is None:
        return 1.0
    try:
        return float(match.group(1))
    except ValueError:
        return 0.0


def request_language(request: Request) -> Lang:
    """``?lang=`` when valid, else the Accept-Language header, else German."""
    query = request.query_params.get("lang")
    if query == "en":
        return "en"
    if query == "de":
        return "de"
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
