"""The web pages' own texts (texts.yaml and texts_<area>.yaml, German first, English second) and the choice of
language.

The language is never kept on the server: it comes from ``?lang=`` on a GET, from the form that switches it,
or from the ``lang`` cookie; without either, the browser's Accept-Language (negotiated by Babel), else German.
The texts are loaded and checked by the translation layer's one catalogue loader.
"""

from __future__ import annotations

import re
from importlib import resources

from starlette.requests import Request

from ..i18n import DEFAULT_LANG, is_language
from ..i18n.catalogue import Catalogue, CatalogueError, parse_catalogue
from ..i18n.catalogue import load_catalogue as _load_catalogue
from ..i18n.negotiate import accepted_language

LANG_COOKIE = "lang"
TextsError = CatalogueError
WebTexts = Catalogue

__all__ = [
    "DEFAULT_LANG", "LANG_COOKIE", "TextsError", "WebTexts", "load_texts", "parse_texts", "request_lang",
]  # fmt: skip


def parse_texts(raw: object) -> Catalogue:
    """Check every entry has a non-empty text in every language, with the same placeholders."""
    return parse_catalogue(raw, "web texts")


def load_texts() -> Catalogue:
    """texts.yaml plus every texts_<area>.yaml beside it (one file per area of the site); a key may be
    defined only once."""
    folder = resources.files("rueckenlotse.web")
    names = [
        "texts.yaml",
        *sorted(e.name for e in folder.iterdir() if re.fullmatch(r"texts_\w+\.yaml", e.name)),
    ]
    return _load_catalogue("rueckenlotse.web", names)


def valid_lang(value: object) -> str | None:
    return value if isinstance(value, str) and is_language(value) else None


def request_lang(request: Request) -> str:
    """The language of this request: ?lang= on a GET, else the cookie, else Accept-Language, else German."""
    if request.method in ("GET", "HEAD"):
        from_query = valid_lang(request.query_params.get("lang"))
        if from_query:
            return from_query
    return valid_lang(request.cookies.get(LANG_COOKIE)) or accepted_language(
        request.headers.get("accept-language")
    )
