"""The one language list: German and English built in, more from the catalogue folder RUECKENLOTSE_LOCALE_DIR.

A language file ``<code>.yaml`` in that folder holds::

    fallback: en          # optional: the built-in language whose clinical texts stand in (default en)
    texts: {key: text}    # every UI text (web pages, reports, CLI, error messages): required, complete
    knowledge: {key: text}  # optional: texts of knowledge/data/texts.yaml; a missing one falls back

The code must be a locale Babel knows (``nl``, ``fr``, ``pt_BR``), so numbers and dates format correctly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BUILTIN_LANGUAGES: tuple[str, ...] = ("de", "en")
DEFAULT_LANG = "de"
LOCALE_DIR_ENV = "RUECKENLOTSE_LOCALE_DIR"
_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z][A-Za-z]{1,3})?$")


class LocaleError(ValueError):
    """A language file in the catalogue folder is malformed; the message names the file and key."""


@dataclass(frozen=True)
class AddedLanguage:
    """One language from the catalogue folder."""

    code: str
    fallback: str
    texts: Mapping[str, str]
    knowledge: Mapping[str, str]


def _locale_dir() -> str:
    return os.environ.get(LOCALE_DIR_ENV, "").strip()


def _texts(raw: object, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise LocaleError(f"{where}: must be a mapping of key -> text")
    bad = [str(k) for k, v in raw.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise LocaleError(f"{where}: empty or non-text entries: {sorted(bad)}")
    return {str(k): v for k, v in raw.items()}


def _read_language(path: Path) -> AddedLanguage:
    code = path.stem
    if not _CODE.match(code) or code in BUILTIN_LANGUAGES:
        raise LocaleError(f"{path.name}: {code!r} is not a new language code (like nl, fr, pt_BR)")
    import yaml  # only a deployment with added languages reads YAML here

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise LocaleError(f"{path.name}: cannot read: {e}") from e
    if not isinstance(raw, Mapping) or not isinstance(raw.get("texts"), Mapping):
        raise LocaleError(f"{path.name}: needs a mapping 'texts' (key -> text)")
    extra = sorted(set(raw) - {"fallback", "texts", "knowledge"})
    if extra:
        raise LocaleError(f"{path.name}: unknown sections {extra}")
    fallback = raw.get("fallback", "en")
    if fallback not in BUILTIN_LANGUAGES:
        raise LocaleError(f"{path.name}: fallback must be one of {BUILTIN_LANGUAGES}")
    return AddedLanguage(
        code=code,
        fallback=str(fallback),
        texts=_texts(raw["texts"], f"{path.name} texts"),
        knowledge=_texts(raw.get("knowledge"), f"{path.name} knowledge"),
    )


@cache
def _added(folder: str) -> tuple[AddedLanguage, ...]:
    if not folder:
        return ()
    directory = Path(folder)
    if not directory.is_dir():
        raise LocaleError(f"{LOCALE_DIR_ENV}={folder}: not a folder")
    return tuple(_read_language(p) for p in sorted(directory.glob("*.yaml")))


def added_languages() -> tuple[AddedLanguage, ...]:
    """The languages of the catalogue folder (read once per folder)."""
    return _added(_locale_dir())


def languages() -> tuple[str, ...]:
    """Every language the texts exist in: German, English, then those of the catalogue folder."""
    return BUILTIN_LANGUAGES + tuple(a.code for a in added_languages())


def is_language(value: object) -> bool:
    return isinstance(value, str) and value in languages()


def fallback_of(lang: str) -> str:
    """The built-in language whose clinical texts stand in for ``lang`` when it has none of its own."""
    if lang in BUILTIN_LANGUAGES:
        return lang
    for added in added_languages():
        if added.code == lang:
            return added.fallback
    raise ValueError(f"lang must be one of {languages()}, not {lang!r}")


def locale_texts(lang: str) -> Mapping[str, str]:
    """The UI texts of an added language (empty for German and English, whose texts live in the package)."""
    for added in added_languages():
        if added.code == lang:
            return added.texts
    return {}


def knowledge_texts() -> dict[str, dict[str, str]]:
    """key -> {lang: text} of the knowledge texts the catalogue folder translates."""
    merged: dict[str, dict[str, str]] = {}
    for added in added_languages():
        for key, text in added.knowledge.items():
            merged.setdefault(key, {})[added.code] = text
    return merged


def with_added_languages(texts: object) -> object:
    """The knowledge texts (key -> {de, en}) with every added language filled in: its own text from the
    catalogue folder, else its fallback's. Anything but a mapping is returned as it is (the knowledge
    validation reports it)."""
    added = added_languages()
    if not added or not isinstance(texts, Mapping):
        return texts
    completed: dict[object, object] = {}
    for key, entry in texts.items():
        if isinstance(entry, Mapping):
            entry = dict(entry)
            for language in added:
                own = language.knowledge.get(str(key))
                entry[language.code] = own if own is not None else entry.get(language.fallback)
        completed[key] = entry
    return completed


def check_language(lang: str) -> str:
    """``lang`` when it is in the language list; else a ValueError naming the list."""
    if lang not in languages():
        raise ValueError(f"lang must be one of {languages()}, not {lang!r}")
    return lang
