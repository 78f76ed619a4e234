"""The web pages' own texts (texts.yaml, German first, English second) and the choice of language.

The language is never kept on the server: it comes from ``?lang=`` on a GET, from the form that switches it,
or from the ``lang`` cookie; German is the default.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import yaml
from starlette.requests import Request

LANGUAGES = ("de", "en")
DEFAULT_LANG = "de"
LANG_COOKIE = "lang"


class TextsError(ValueError):
    """texts.yaml is malformed; the message names the key."""


@dataclass(frozen=True)
class WebTexts:
    """Validated page texts: key -> {de, en}."""

    entries: Mapping[str, Mapping[str, str]]

    def get(self, key: str, lang: str, **values: object) -> str:
        text = self.entries[key][lang if lang in LANGUAGES else DEFAULT_LANG]
        return text.format(**values) if values else text

    def __contains__(self, key: object) -> bool:
        return key in self.entries


def _placeholders(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def parse_texts(raw: object) -> WebTexts:
    """Check every entry has exactly a non-empty de and en text, with the same placeholders."""
    if not isinstance(raw, Mapping) or not raw:
        raise TextsError("web texts.yaml must be a non-empty mapping of key -> {de, en}")
    entries: dict[str, dict[str, str]] = {}
    for key, entry in raw.items():
        if not isinstance(entry, Mapping) or set(entry) != set(LANGUAGES):
            raise TextsError(f"web text {key!r}: needs exactly the languages {', '.join(LANGUAGES)}")
        if not all(isinstance(entry[lang], str) and entry[lang].strip() for lang in LANGUAGES):
            raise TextsError(f"web text {key!r}: every language needs a non-empty string")
        if _placeholders(entry["de"]) != _placeholders(entry["en"]):
            raise TextsError(f"web text {key!r}: German and English use different placeholders")
        entries[str(key)] = {lang: entry[lang] for lang in LANGUAGES}
    return WebTexts(entries)


def load_texts() -> WebTexts:
    """texts.yaml plus every texts_<area>.yaml beside it (one file per area of the site); a key may be
    defined only once."""
    folder = resources.files("rueckenlotse.web")
    names = [
        "texts.yaml",
        *sorted(e.name for e in folder.iterdir() if re.fullmatch(r"texts_\w+\.yaml", e.name)),
    ]
    merged: dict[str, object] = {}
    for name in names:
        try:
            raw = yaml.safe_load(folder.joinpath(name).read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise TextsError(f"web {name}: cannot parse: {e}") from e
        if not isinstance(raw, dict):
            raise TextsError(f"web {name} must be a mapping of key -> {{de, en}}")
        twice = sorted(set(raw) & set(merged))
        if twice:
            raise TextsError(f"web {name}: keys defined twice: {twice}")
        merged.update(raw)
    return parse_texts(merged)


def valid_lang(value: object) -> str | None:
    return value if isinstance(value, str) and value in LANGUAGES else None


def request_lang(request: Request) -> str:
    """The language of this request: ?lang= on a GET, else the cookie, else German."""
    if request.method in ("GET", "HEAD"):
        from_query = valid_lang(request.query_params.get("lang"))
        if from_query:
            return from_query
    return valid_lang(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANG
