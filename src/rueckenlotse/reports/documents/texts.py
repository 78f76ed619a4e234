"""The report texts (reports/texts_documents.yaml), loaded once and checked: every key has de and en."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGS = ("de", "en")


class DocumentTextError(ValueError):
    """texts_documents.yaml is malformed; the message names the key."""


@dataclass(frozen=True)
class DocumentTexts:
    entries: dict[str, dict[str, str]]

    def get(self, key: str, lang: str, **values: object) -> str:
        """The text in ``lang`` with its placeholders filled; an unknown key is a programming error."""
        raw = self.entries[key][lang]
        return raw.format(**values) if values else raw


def parse_texts(raw: Any) -> DocumentTexts:
    if not isinstance(raw, dict) or not raw:
        raise DocumentTextError("texts_documents.yaml must be a non-empty mapping of keys to {de, en}")
    entries: dict[str, dict[str, str]] = {}
    for key, entry in raw.items():
        if not isinstance(entry, dict) or set(entry) != set(LANGS):
            raise DocumentTextError(f"text {key!r}: give exactly 'de' and 'en'")
        if not all(isinstance(entry[lang], str) and entry[lang].strip() for lang in LANGS):
            raise DocumentTextError(f"text {key!r}: both languages need a non-empty string")
        entries[str(key)] = {lang: entry[lang] for lang in LANGS}
    return DocumentTexts(entries)


@cache
def document_texts() -> DocumentTexts:
    source = resources.files("rueckenlotse.reports").joinpath("texts_documents.yaml")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise DocumentTextError(f"texts_documents.yaml: cannot parse: {e}") from e
    return parse_texts(raw)
