"""The inbox's filter form (a GET form: the filter is in the URL, never a name or health data beyond what the
clinician typed into the search) read into a ``store.practices.InboxFilter`` and a page number.

Dates are the practice's local days (Europe/Berlin): "until 5 December" includes all of that day. A value
that is not a date is an error beside its field, and the inbox is listed without that part of the filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from ..store.practices import InboxFilter, InboxState
from .practice_view import TRIAGES

PAGE_SIZE = 50
MAX_PAGE = 10_000
STATES: dict[str, InboxState] = {"offen": "open", "gesehen": "reviewed", "spam": "spam", "alle": "all"}
DEFAULT_STATE = "offen"
PARAMS = ("zustand", "dringlichkeit", "von", "bis", "suche")
MAX_SEARCH = 100


@dataclass(frozen=True)
class InboxQuery:
    values: Mapping[str, str]  # as typed, to fill the form again
    where: InboxFilter
    page: int
    errors: Mapping[str, str] = field(default_factory=dict)  # field -> text key

    def link(self, page: int) -> str:
        """The query string of another page of this filter."""
        kept = {k: v for k, v in self.values.items() if v}
        return "?" + urlencode({**kept, "seite": str(page)})


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _start_of(day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone or dt.UTC)


def read_query(params: Mapping[str, str], zone: dt.tzinfo | None) -> InboxQuery:
    values = {name: " ".join(str(params.get(name, "")).split())[:MAX_SEARCH] for name in PARAMS}
    errors: dict[str, str] = {}
    state = values["zustand"] if values["zustand"] in STATES else DEFAULT_STATE
    values["zustand"] = state
    triage = values["dringlichkeit"] if values["dringlichkeit"] in TRIAGES else None
    values["dringlichkeit"] = triage or ""
    since = _day(values["von"]) if values["von"] else None
    until = _day(values["bis"]) if values["bis"] else None
    if values["von"] and since is None:
        errors["von"] = "practice.filter.error.date"
    if values["bis"] and until is None:
        errors["bis"] = "practice.filter.error.date"
    if since is not None and until is not None and until < since:
        errors["bis"] = "practice.filter.error.order"
        until = None
    try:
        page = min(MAX_PAGE, max(1, int(str(params.get("seite", "1")))))
    except ValueError:
        page = 1
    where = InboxFilter(
        state=STATES[state],
        triage=triage,
        since=_start_of(since, zone) if since else None,
        before=_start_of(until + dt.timedelta(days=1), zone) if until else None,
        search=values["suche"] or None,
    )
    return InboxQuery(values, where, page, errors)
