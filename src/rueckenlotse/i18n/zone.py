"""The one local time zone of every page and document that prints a time (RUECKENLOTSE_TIME_ZONE).

Times are stored in UTC; a person reads them in the zone where the tool is used (Europe/Berlin unless the
deployer says otherwise). Like the language folder, the variable is read here, not through Settings: the
reports and the CLI print times without building Settings. Settings declares it too, so that it is
documented and a misspelt zone stops ``serve`` at start.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIME_ZONE_ENV = "RUECKENLOTSE_TIME_ZONE"
DEFAULT_TIME_ZONE = "Europe/Berlin"


class UnknownTimeZone(ValueError):
    """The zone named in RUECKENLOTSE_TIME_ZONE does not exist (a typo must not print times in UTC)."""


def zone_named(name: str) -> dt.tzinfo:
    """The zone of an IANA name ("Europe/Berlin", "UTC"); the default falls back to UTC on a system
    without time-zone data (a few hours off at most), any other unknown name is an error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == DEFAULT_TIME_ZONE:
            return dt.UTC
        raise UnknownTimeZone(f"{TIME_ZONE_ENV}: unknown time zone {name!r}") from None


@cache
def local_zone() -> dt.tzinfo:
    """The deployment's zone (read once per process; tests clear the cache after changing it)."""
    return zone_named(os.environ.get(TIME_ZONE_ENV, "").strip() or DEFAULT_TIME_ZONE)


def local_moment(moment: dt.datetime) -> dt.datetime:
    """A stored moment in the local zone; a moment without zone is taken as UTC (as the store keeps it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(local_zone())


def local_now() -> dt.datetime:
    return dt.datetime.now(local_zone())


def local_today() -> dt.date:
    """Today where the person is: a diary day or a plan's day starts at local midnight, not UTC's."""
    return local_now().date()
