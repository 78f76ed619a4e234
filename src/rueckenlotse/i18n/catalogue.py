"""The one loader of the UI catalogues (web pages, reports, CLI, error messages).

A catalogue file maps each key to its texts, German first, English second (``key: {de: ..., en: ...}``);
an added language's texts come from its file in the catalogue folder. For every key every language must be
present and non-empty and use the same ``{placeholders}``: a CatalogueError names the key and the file.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from importlib import resources
from importlib.resources.abc import Traversable

import yaml

from .languages import BUILTIN_LANGUAGES, DEFAULT_LANG, languages, locale_texts


class CatalogueError(ValueError):
    """A catalogue is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Catalogue:
    """Validated texts: key -> {lang: text} for every language of the language list."""

    entries: Mapping[str, Mapping[str, str]]

    def get(self, key: str, /, lang: str, **values: object) -> str:
        """The text in ``lang`` (German for a language outside the list) with its placeholders filled;
        an unknown key is a programming error (KeyError)."""
        entry = self.entries[key]
        text = entry.get(lang) or entry[DEFAULT_LANG]
        return text.format(**values) if values else text

    def format(self, key: str, /, lang: str, **values: object) -> str:
        """Like get, but always through str.format (``{{`` becomes ``{`` even without values)."""
        entry = self.entries[key]
        return (entry.get(lang) or entry[DEFAULT_LANG]).format(**values)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def keys(self) -> Iterable[str]:
        return self.entries.keys()


def placeholders(text: str) -> frozenset[str]:
    """The names of a text's ``{placeholders}``."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def _entry(key: str, entry: object, where: str) -> dict[str, str]:
    if not isinstance(entry, Mapping) or set(entry) != set(BUILTIN_LANGUAGES):
        wanted = ", ".join(BUILTIN_LANGUAGES)
        raise CatalogueError(f"{where}: text {key!r}: needs exactly the languages {wanted}")
    texts = {lang: entry[lang] for lang in BUILTIN_LANGUAGES}
    for lang in languages()[len(BUILTIN_LANGUAGES) :]:
        added = locale_texts(lang).get(key)
        if added is None:
            raise CatalogueError(f"{where}: text {key!r} has no {lang} version in the catalogue folder")
        texts[lang] = added
    if not all(isinstance(text, str) and text.strip() for text in texts.values()):
        raise CatalogueError(f"{where}: text {key!r}: every language needs a non-empty string")
    first = placeholders(texts[DEFAULT_LANG])
    differ = [lang for lang, text in texts.items() if placeholders(text) != first]
    if differ:
        raise CatalogueError(f"{where}: text {key!r}: {', '.join(differ)} use other placeholders than de")
    return texts


def parse_catalogue(raw: object, where: str = "catalogue") -> Catalogue:
    """Check and complete one catalogue (key -> {de, en}) with the added languages' texts."""
    if not isinstance(raw, Mapping) or not raw:
        raise CatalogueError(f"{where}: must be a non-empty mapping of key -> {{de, en}}")
    return Catalogue({str(key): _entry(str(key), entry, where) for key, entry in raw.items()})


def _read(source: Traversable) -> Mapping[str, object]:
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise CatalogueError(f"{source.name}: cannot parse: {e}") from e
    if not isinstance(raw, dict):
        raise CatalogueError(f"{source.name}: must be a mapping of key -> {{de, en}}")
    return raw


# Every UI catalogue of the package (package, file-name pattern): an added language translates all of them.
UI_CATALOGUES: tuple[tuple[str, str], ...] = (
    ("rueckenlotse.web", "texts*.yaml"),
    ("rueckenlotse.web.api", "texts.yaml"),
    ("rueckenlotse.reports", "texts_*.yaml"),
    ("rueckenlotse.questionnaire", "texts.yaml"),
    ("rueckenlotse.cli", "texts*.yaml"),
    ("rueckenlotse.i18n", "texts_*.yaml"),
)


def ui_catalogue_texts() -> dict[str, dict[str, str]]:
    """Every key of every UI catalogue with its German and English text: what a new language translates
    (a tool's input; the pages load their own catalogue)."""
    merged: dict[str, dict[str, str]] = {}
    for package, pattern in UI_CATALOGUES:
        folder = resources.files(package)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if fnmatch(entry.name, pattern):
                for key, texts in _read(entry).items():
                    if isinstance(texts, Mapping):
                        merged[str(key)] = {
                            lang: str(texts[lang]) for lang in BUILTIN_LANGUAGES if lang in texts
                        }
    return merged


def load_catalogue(package: str, names: Iterable[str]) -> Catalogue:
    """The catalogue files ``names`` of ``package`` merged (a key may be defined only once) and checked."""
    folder = resources.files(package)
    merged: dict[str, object] = {}
    where = []
    for name in names:
        raw = _read(folder.joinpath(name))
        twice = sorted(set(raw) & set(merged))
        if twice:
            raise CatalogueError(f"{name}: keys defined twice: {twice}")
        merged.update(raw)
        where.append(name)
    return parse_catalogue(merged, " + ".join(where))
