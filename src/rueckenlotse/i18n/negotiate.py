"""The reader's language from an HTTP Accept-Language header, negotiated by Babel."""

from __future__ import annotations

from babel.core import negotiate_locale

from .languages import DEFAULT_LANG, languages


def _preferred(header: str) -> list[str]:
    """The header's language tags, best first (q=0 dropped, ties kept in order)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            weighted.append((-weight, index, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(weighted)]


def accepted_language(header: str | None) -> str:
    """The best language of the language list for an Accept-Language header (``en-GB,en;q=0.9``); German
    when none fits."""
    if not header:
        return DEFAULT_LANG
    available = {lang.lower(): lang for lang in languages()}
    # Babel matches a tag exactly, through its aliases, or by its primary language (en_GB -> en).
    best = negotiate_locale(_preferred(header), list(available), sep="_")
    return available.get(best.lower(), DEFAULT_LANG) if best else DEFAULT_LANG
