"""The plan as an iCalendar file (RFC 5545, through ``icalendar``): the daily exercise sessions at the times
the person chose, and the plan's check dates and review date as all-day events.

A calendar on a phone syncs to its provider, so every text here stays generic ("Rückenlotse: Übungen"):
no diagnosis, no pain values, no exercise names; each event links back to the app instead. While the plan
has a red flag there is no exercise event at all, only the date to have it examined.

Every event has a UID made from what it is and when (and a hash of the person, not their id), so a calendar
that reads the feed again, or a second import of the download, updates events instead of doubling them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from icalendar import Alarm, Calendar, Event, Timezone
from icalendar.enums import TRANSP

from ..plan.plan_model import Plan

PRODID = "-//Rückenlotse//Erinnerungen//DE"
SESSION_MINUTES = 30
UID_DOMAIN = "rueckenlotse"


@dataclass(frozen=True)
class CalendarTexts:
    """The generic event texts in the person's language (``check`` has a ``{weeks}`` placeholder)."""

    name: str
    session: str
    session_description: str
    check: str
    check_description: str
    review: str
    review_description: str
    seek_care: str
    seek_care_description: str


@dataclass(frozen=True)
class CalendarLinks:
    today: str
    plan: str


def owner_key(person_id: str) -> str:
    """What the UIDs carry instead of the person id (which would be the same in every calendar it reaches)."""
    return hashlib.sha256(b"rueckenlotse-calendar:" + person_id.encode()).hexdigest()[:24]


def parse_time(text: str) -> dt.time | None:
    """ "HH:MM" (24 hours, two digits each), else None."""
    if len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        return None
    hour, minute = int(text[:2]), int(text[3:])
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def session_days(plan: Plan) -> tuple[dt.date, dt.date] | None:
    """The first and last day that still has exercise sessions (from today to the plan's last week); None
    while there is a red flag (no sessions at all) or when the plan is over."""
    if plan.red_flag or not plan.weeks:
        return None
    first = max(plan.today, plan.weeks[0].starts)
    last = plan.weeks[-1].ends
    return (first, last) if first <= last else None


def check_days(plan: Plan) -> set[dt.date]:
    """The days to check how things go (the 4/6/12-week checks and the review date); none with a red flag
    (then the one date is to have it examined)."""
    if plan.red_flag:
        return set()
    return {m.on for m in plan.milestones} | {plan.review_on}


def session_moments(
    plan: Plan, times: tuple[str, ...], weekdays: frozenset[int], zone: dt.tzinfo
) -> Iterator[dt.datetime]:
    """Every session of the plan's remaining days at the chosen local times (on the chosen weekdays)."""
    days = session_days(plan)
    if days is None:
        return
    clock = sorted(t for t in (parse_time(text) for text in times) if t is not None)
    day = days[0]
    while day <= days[1]:
        if not weekdays or day.isoweekday() in weekdays:
            for time in clock:
                yield dt.datetime.combine(day, time, tzinfo=zone)
        day += dt.timedelta(days=1)


def plan_calendar(
    plan: Plan,
    times: tuple[str, ...],
    weekdays: frozenset[int],
    *,
    person_key: str,
    texts: CalendarTexts,
    links: CalendarLinks,
    stamp: dt.datetime,
    zone: dt.tzinfo,
) -> bytes:
    """The calendar file (UTF-8, CRLF lines) of this plan and choice. ``stamp`` (every event's DTSTAMP) is
    when what the events say last changed (the choice, the plan), so the same calendar read twice is the
    same file."""
    calendar = Calendar.new(
        prodid=PRODID,
        name=texts.name,
        uid=f"calendar-{person_key}@{UID_DOMAIN}",
        refresh_interval=dt.timedelta(hours=12),
    )
    calendar.add("calscale", "GREGORIAN")
    stamp = stamp.astimezone(dt.UTC).replace(microsecond=0)
    for moment in session_moments(plan, times, weekdays, zone):
        event = Event.new(
            uid=f"session-{moment:%Y%m%dT%H%M}-{person_key}@{UID_DOMAIN}",
            stamp=stamp,
            start=moment,
            end=moment + dt.timedelta(minutes=SESSION_MINUTES),
            summary=texts.session,
            description=f"{texts.session_description}\n{links.today}",
            url=links.today,
        )
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", texts.session)
        alarm.add("trigger", dt.timedelta(0))
        event.add_component(alarm)
        calendar.add_component(event)
    if plan.red_flag:
        day = max(plan.review_on, plan.today)
        calendar.add_component(
            _all_day("seek-care", day, person_key, stamp, texts.seek_care, texts.seek_care_description, links)
        )
    else:
        for milestone in plan.milestones:
            if milestone.on >= plan.today:
                summary = texts.check.format(weeks=milestone.week)
                calendar.add_component(
                    _all_day(
                        f"check-{milestone.week}",
                        milestone.on,
                        person_key,
                        stamp,
                        summary,
                        texts.check_description,
                        links,
                    )
                )
        if plan.review_on >= plan.today:
            calendar.add_component(
                _all_day(
                    "review", plan.review_on, person_key, stamp, texts.review, texts.review_description, links
                )
            )
    _add_zones(calendar, zone, plan.today)
    return bytes(calendar.to_ical())


def _add_zones(calendar: Calendar, zone: dt.tzinfo, today: dt.date) -> None:
    """The VTIMEZONE of every zone used; the local one at least: a calendar needs one component to be valid
    (RFC 5545), even while it has no event (no plan yet, or the plan is over)."""
    first = today - dt.timedelta(days=1)
    calendar.add_missing_timezones(first_date=first)
    if not calendar.subcomponents:
        calendar.add_component(Timezone.from_tzinfo(zone, first_date=first))


def empty_calendar(name: str, person_key: str, zone: dt.tzinfo, today: dt.date) -> bytes:
    """A calendar without events (a person without a plan yet)."""
    calendar = Calendar.new(prodid=PRODID, name=name, uid=f"calendar-{person_key}@{UID_DOMAIN}")
    _add_zones(calendar, zone, today)
    return bytes(calendar.to_ical())


def _all_day(
    kind: str,
    day: dt.date,
    person_key: str,
    stamp: dt.datetime,
    summary: str,
    description: str,
    links: CalendarLinks,
) -> Event:
    return Event.new(
        uid=f"{kind}-{day:%Y%m%d}-{person_key}@{UID_DOMAIN}",
        stamp=stamp,
        start=day,
        end=day + dt.timedelta(days=1),
        summary=summary,
        description=f"{description}\n{links.plan}",
        url=links.plan,
        transparency=TRANSP.TRANSPARENT,
    )
