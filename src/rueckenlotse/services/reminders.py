"""Reminder mails: at the person's chosen exercise times, and on the plan's check dates.

The web app runs :func:`send_due_reminders` every RUECKENLOTSE_REMINDER_SECONDS, in the thread pool (it
reads the database and talks to the mail server). Only people who asked for reminder mails and confirmed
their address get any, and nobody while the plan has a red flag: then the plan holds no exercises at all.

Each app process runs it; a reminder is claimed in the database first (``Reminders.claim``, a row unique
per person, kind and moment) and only the run whose claim went through sends it, after the claim is
committed. A run looks back at most ``GRACE``, and only at the latest moment that fell due: after the server
was down, it sends at most that one reminder, never the missed ones one after the other.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from ..i18n.zone import local_zone
from ..store import Store
from ..store.reminders import Recipient, ReminderChoice, Reminders
from .calendar import check_days, parse_time, session_days
from .followup import NoIntake, current_plan
from .mail import Mailer

log = logging.getLogger(__name__)

# How late a reminder may still go out (the app was busy or down at its moment).
GRACE = dt.timedelta(hours=2)
SESSION = "session"
CHECK = "check"
# The pages the mails link to (the web app's paths; the mail builds absolute links from PUBLIC_URL).
TODAY_PATH = "/mein-bereich/heute"
PLAN_PATH = "/mein-bereich/plan"
SETTINGS_PATH = "/mein-bereich/erinnerungen"


@dataclass(frozen=True)
class Due:
    kind: str
    at: dt.datetime  # aware, in the local zone
    time: str  # "HH:MM", as chosen


def due_now(choice: ReminderChoice, now: dt.datetime, zone: dt.tzinfo) -> list[Due]:
    """What may be due at ``now`` from the choice alone (the plan decides later whether it really is): the
    latest session moment of the last ``GRACE`` (on a chosen weekday), and the day's first chosen time for a
    check date. Nothing before the choice was made or last changed."""
    clock = sorted((t, text) for text in choice.times if (t := parse_time(text)) is not None)
    if not clock:
        return []
    local = now.astimezone(zone)
    earliest = max(now - GRACE, choice.updated_at)
    found: list[Due] = []
    sessions = [
        Due(SESSION, moment, text)
        for day in (local.date() - dt.timedelta(days=1), local.date())
        if not choice.weekdays or day.isoweekday() in choice.weekdays
        for time, text in clock
        if earliest <= (moment := dt.datetime.combine(day, time, tzinfo=zone)) <= now
    ]
    if sessions:
        found.append(max(sessions, key=lambda d: d.at))
    first_time, first_text = clock[0]
    check = dt.datetime.combine(local.date(), first_time, tzinfo=zone)
    if earliest <= check <= now:
        found.append(Due(CHECK, check, first_text))
    return found


def send_due_reminders(store: Store, mailer: Mailer, *, now: dt.datetime | None = None) -> int:
    """Send the reminders due now (each once, whatever runs at the same time); how many were sent."""
    if not mailer.available:
        return 0
    now = now or dt.datetime.now(dt.UTC)
    zone = local_zone()
    reminders = Reminders(store)
    sent = 0
    for recipient in reminders.recipients():
        try:
            sent += _remind(store, reminders, mailer, recipient, now, zone)
        except NoIntake:
            continue
    return sent


def _remind(
    store: Store,
    reminders: Reminders,
    mailer: Mailer,
    recipient: Recipient,
    now: dt.datetime,
    zone: dt.tzinfo,
) -> int:
    person_id, choice = recipient.person_id, recipient.choice
    due = [d for d in due_now(choice, now, zone) if not reminders.claimed(person_id, d.kind, d.at)]
    if not due:
        return 0  # the common case: nothing due, no plan built
    plan = current_plan(store, person_id, today=now.astimezone(zone).date(), lang=choice.lang)
    if plan.red_flag:
        return 0  # no reminder to exercise while a red flag stands (the plan holds no exercises)
    days = session_days(plan)
    checks = check_days(plan)
    sent = 0
    for item in due:
        day = item.at.date()
        if item.kind == SESSION and (days is None or not days[0] <= day <= days[1]):
            continue
        if item.kind == CHECK and day not in checks:
            continue
        send_id = reminders.claim(person_id, item.kind, item.at, now)
        if send_id is None:
            continue  # another process (or thread) claimed it and sends it
        kind = "reminder" if item.kind == SESSION else "check_reminder"
        message = mailer.compose(
            kind,
            choice.lang,
            recipient.address,
            time=item.time,
            link=mailer.link(TODAY_PATH if item.kind == SESSION else PLAN_PATH),
            settings_link=mailer.link(SETTINGS_PATH),
        )
        if mailer.send(message):
            reminders.mark_sent(send_id, now)
            sent += 1
    return sent
