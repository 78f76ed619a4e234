"""Numbers, dates and plurals in the reader's language, from Babel's locale data.

German and English keep the project's forms (``04.12.2026`` / ``2026-12-04``, ``04.12.2026, 08:30`` /
``2026-12-04 08:30``); an added language gets its locale's medium date and short time.
"""

from __future__ import annotations

import datetime as dt

from .languages import BUILTIN_LANGUAGES

# Babel is imported inside the functions: the command line's start-up (benchmarks/cli_startup.py) and
# `from rueckenlotse import assess` pay for its locale data only when a date or number is formatted.

# The project's own date patterns (Babel/CLDR pattern syntax) for the built-in languages.
_DAY = {"de": "dd.MM.yyyy", "en": "yyyy-MM-dd"}
_MOMENT = {"de": "dd.MM.yyyy, HH:mm", "en": "yyyy-MM-dd HH:mm"}


def decimal(text: str, lang: str) -> str:
    """A number already formatted with a '.' (``f"{x:.1f}"``) with the language's decimal sign (``3,5``)."""
    if "." not in text:
        return text
    from babel.numbers import get_decimal_symbol

    return text.replace(".", get_decimal_symbol(lang))


def format_day(day: dt.date, lang: str) -> str:
    """A calendar day: ``04.12.2026`` (de), ``2026-12-04`` (en), the locale's medium date otherwise."""
    from babel.dates import format_date

    return format_date(day, _DAY.get(lang, "medium"), locale=lang)


def format_moment(moment: dt.datetime, lang: str) -> str:
    """A date and time as shown (already in the reader's time zone): ``04.12.2026, 08:30`` (de),
    ``2026-12-04 08:30`` (en), the locale's medium date and short time otherwise."""
    from babel.dates import format_date, format_datetime, format_time

    # tzinfo=None: the moment is already local; Babel would otherwise convert it to UTC.
    local = moment.replace(tzinfo=None)
    pattern = _MOMENT.get(lang)
    if pattern is not None:
        return format_datetime(local, pattern, locale=lang)
    return f"{format_date(local, 'medium', locale=lang)} {format_time(local, 'short', locale=lang)}"


def plural_form(count: int, lang: str) -> str:
    """The CLDR plural category of ``count`` in ``lang`` ('one', 'other', …) to pick a catalogue text."""
    from babel import Locale

    return str(Locale.parse(lang).plural_form(count))


def is_builtin(lang: str) -> bool:
    return lang in BUILTIN_LANGUAGES
