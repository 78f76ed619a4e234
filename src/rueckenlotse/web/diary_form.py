"""The diary entry form: reading it (with its date and time), saving it once.

Its promises, made here so the diary page and the sign-in page keep them alike:

- Saved once: each rendered form carries a random idempotency key; a reload or a second click posts the
  same key and saves nothing new (``services.followup.AlreadySaved``). The page after saving is a GET
  (post/redirect/get); what the re-screen said is kept for an hour as a draft of kind ``outcome``, so
  the redirect's URL carries only the entry's id.
- Kept over the end of a session (``web.kept_forms``, alike for an entry's correction, the measures and
  the session's feedback): a form posted after the session ended is saved after signing in again, and
  the diary says "Ihr Eintrag von 14:32 wurde gespeichert".
- Dated: a date and time field (RUECKENLOTSE_TIME_ZONE, default now) allows back-dating within the
  episode: not before the intake, not in the future.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.errors import InvalidInput
from ..core.models import Triage
from ..i18n.formatting import format_day
from ..i18n.zone import local_zone
from ..services.followup import AlreadySaved, EntryResult, add_entry, edit_entry, intake_of
from ..store import Store
from ..store.audit import Actor
from ..store.records import DiaryRecord
from .render import Form, Web

ENTRY_KEY = "entry_key"
DATE = "entry_date"
TIME = "entry_time"
OUTCOME_TTL = dt.timedelta(hours=1)
# A little slack for a clock on the phone that runs ahead of the server's.
FUTURE_SLACK = dt.timedelta(minutes=5)
_KEY = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_ENTRY_ID = re.compile(r"^[0-9a-f]{32}$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")


# Entries are dated in local time (RUECKENLOTSE_TIME_ZONE): a diary day is the date where it was written.
DIARY_ZONE = local_zone()


def new_key() -> str:
    return secrets.token_urlsafe(32)


def form_key(form: Form, field: str = ENTRY_KEY) -> str | None:
    """The form's idempotency key (in ``field``), when it looks like one of ours."""
    key = form.get(field) or ""
    return key if _KEY.match(key) else None


def now_local() -> dt.datetime:
    return dt.datetime.now(DIARY_ZONE)


def default_fields(now: dt.datetime | None = None) -> dict[str, str]:
    """The date and time fields' values for a new form: now, where the diary lives."""
    moment = (now or now_local()).astimezone(DIARY_ZONE)
    return {DATE: moment.date().isoformat(), TIME: moment.strftime("%H:%M")}


# ---- reading ------------------------------------------------------------------------------------------
def read_entry(
    web: Web, form: Form, regions: Sequence[str], lang: str, *, earliest: dt.datetime, now: dt.datetime
) -> tuple[dict[str, Any], dict[str, str]]:
    """The entry as DiaryEntry's raw data, and field errors (numbers, the moment) in ``lang``."""
    texts = web.texts
    errors: dict[str, str] = {}
    pain: dict[str, int] = {}
    for region in regions:
        value = _whole_number(form.get(f"pain_{region}"))
        if value is None:
            errors[f"pain-{region}"] = texts.get("patient.diary.error.pain", lang)
        else:
            pain[region] = value
    minutes_text = (form.get("activity_minutes") or "").strip()
    minutes = _whole_number(minutes_text) if minutes_text else 0
    if minutes is None:
        errors["activity_minutes"] = texts.get("patient.diary.error.minutes", lang)
    recorded_at = _moment(web, form, lang, earliest=earliest, now=now, errors=errors)
    data: dict[str, Any] = {
        "recorded_at": recorded_at,
        "pain": pain,
        "activity_minutes": minutes or 0,
        "note": (form.get("note") or "").strip(),
        "warning_signs": list(dict.fromkeys(form.getlist("warning_signs"))),
        "examined_by_doctor": form.get("examined_by_doctor") == "yes",
    }
    reach = form.get("pain_reach") or ""
    if reach:
        data["pain_reach"] = reach
    return data, errors


def _moment(
    web: Web, form: Form, lang: str, *, earliest: dt.datetime, now: dt.datetime, errors: dict[str, str]
) -> dt.datetime:
    """The moment the entry is about; a form without the fields (an older page) means now."""
    date_text, time_text = (form.get(DATE) or "").strip(), (form.get(TIME) or "").strip()
    if form.get(DATE) is None and form.get(TIME) is None:
        return now.astimezone(DIARY_ZONE)
    day, time = _parse_date(date_text), _parse_time(time_text)
    if day is None:
        errors[DATE] = web.texts.get("patient.diary.error.date", lang)
    if time is None:
        errors[TIME] = web.texts.get("patient.diary.error.time", lang)
    if day is None or time is None:
        return now.astimezone(DIARY_ZONE)
    moment = dt.datetime.combine(day, time, tzinfo=DIARY_ZONE)
    if moment > now + FUTURE_SLACK:
        errors[DATE] = web.texts.get("patient.diary.error.future", lang)
    elif moment < earliest.replace(second=0, microsecond=0):
        start = format_day(earliest.astimezone(DIARY_ZONE).date(), lang)
        errors[DATE] = web.texts.get("patient.diary.error.before_intake", lang, date=start)
    return moment


def _parse_date(text: str) -> dt.date | None:
    german = _GERMAN_DATE.match(text)
    try:
        if german:
            return dt.date(int(german[3]), int(german[2]), int(german[1]))
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _parse_time(text: str) -> dt.time | None:
    found = _TIME.match(text)
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return dt.time(int(found[1]), int(found[2]))


def _whole_number(text: str | None) -> int | None:
    value = (text or "").strip()
    if not value or len(value) > 6 or not value.lstrip("-").isdigit():
        return None
    return int(value)


def field_id(field: str) -> str:
    """The input an InvalidInput field belongs to: pain.low_back -> pain-low_back, warning_signs[0] ->
    warning_signs, recorded_at -> entry_date."""
    head = field.split("[", 1)[0]
    if head.startswith("pain."):
        return head.replace(".", "-")
    head = head.split(".", 1)[0]
    return DATE if head == "recorded_at" else head


# ---- saving ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Saved:
    entry_id: str


@dataclass(frozen=True)
class Refused:
    errors: dict[str, str]


def save(
    web: Web, store: Store, person_id: str, form: Form, lang: str, *, resumed: bool = False
) -> Saved | Refused:
    """Save the posted entry once (its key), and keep what the re-screen said for the page after.

    Raises NoIntake without an intake to read the diary against.
    """
    intake = intake_of(store, person_id)
    regions = list(intake.case.regions)
    data, errors = read_entry(web, form, regions, lang, earliest=intake.created_at, now=now_local())
    if errors:
        return Refused(errors)
    try:
        result = add_entry(store, person_id, data, lang=lang, idempotency_key=form_key(form))
    except AlreadySaved as e:
        return Saved(e.entry_id)
    except InvalidInput as e:
        return Refused({field_id(error.field): error.message for error in e.errors})
    outcome = outcome_of(web, result, lang) | {"resumed": resumed}
    store.put_draft(
        _outcome_token(person_id, result.entry_id), "outcome", outcome, ttl=OUTCOME_TTL, person_id=person_id
    )
    return Saved(result.entry_id)


def outcome_of(web: Web, result: EntryResult, lang: str) -> dict[str, Any]:
    """What a new entry changed: the re-screen's verdict (112 first in an emergency) and new escalations."""
    assessment = result.rescreen.assessment
    call = next((r.text for r in assessment.recommendations if r.id == "call_emergency"), None)
    return {
        "escalated": result.rescreen.escalated,
        "emergency": result.rescreen.escalated and assessment.triage is Triage.emergency,
        "call_text": call,
        "title": web.kb.text(f"triage.{assessment.triage.value}.title", lang),
        "reasons": [reason.get(lang) for reason in result.rescreen.reasons],
        "escalations": [e.title.get(lang) + ": " + e.action.get(lang) for e in result.new_escalations],
    }


def _outcome_token(person_id: str, entry_id: str) -> str:
    # Only ever looked up for the signed-in person: the token needs no secrecy, only to be one per entry.
    return f"outcome:{person_id}:{entry_id}"


def saved_outcome(
    web: Web, store: Store, person_id: str, entry_id: str | None, lang: str
) -> dict[str, Any] | None:
    """The page after saving: what the re-screen said (within the hour), the entry's time; None when the
    id is not one of this person's entries."""
    if not entry_id or not _ENTRY_ID.match(entry_id):
        return None
    record = next((r for r in store.list_diary(person_id) if r.id == entry_id), None)
    if record is None:
        return None
    draft = store.get_draft(_outcome_token(person_id, entry_id), "outcome")
    outcome: dict[str, Any] = (
        dict(draft.payload) if draft is not None and draft.person_id == person_id else {}
    )
    outcome.setdefault("escalated", False)
    outcome.setdefault("emergency", False)
    outcome.setdefault("reasons", [])
    outcome.setdefault("escalations", [])
    outcome.setdefault("resumed", False)
    outcome.setdefault("edited", False)
    outcome["entry_id"] = entry_id
    moment = record.recorded_at.astimezone(DIARY_ZONE)
    outcome["time"] = moment.strftime("%H:%M")
    outcome["date"] = format_day(moment.date(), lang)
    return outcome


# ---- correcting an entry --------------------------------------------------------------------------------
def form_of(record: DiaryRecord) -> Form:
    """The edit form filled in from a stored entry (its moment in the local zone)."""
    entry = record.entry
    moment = entry.recorded_at.astimezone(DIARY_ZONE)
    pairs = [(DATE, moment.date().isoformat()), (TIME, moment.strftime("%H:%M"))]
    pairs += [(f"pain_{region}", str(value)) for region, value in entry.pain.items()]
    pairs += [("activity_minutes", str(entry.activity_minutes)), ("note", entry.note)]
    pairs += [("warning_signs", sign) for sign in entry.warning_signs]
    if entry.pain_reach is not None:
        pairs.append(("pain_reach", entry.pain_reach))
    if entry.examined_by_doctor:
        pairs.append(("examined_by_doctor", "yes"))
    return Form(pairs)


def entry_of(store: Store, person_id: str, entry_id: str) -> DiaryRecord | None:
    if not _ENTRY_ID.match(entry_id):
        return None
    return next((r for r in store.list_diary(person_id) if r.id == entry_id), None)


def save_edit(
    web: Web,
    store: Store,
    person_id: str,
    record: DiaryRecord,
    form: Form,
    lang: str,
    *,
    actor: Actor,
    resumed: bool = False,
) -> Saved | Refused:
    """Correct the entry from the posted form; what the web form does not show (function items, exercise
    logs from the API or the command line) is kept as it was. ``resumed``: a correction kept over the end
    of a session, saved after signing in (the diary says so).

    Raises NoSuchEntry when the entry is deleted meanwhile, NoIntake without an intake."""
    intake = intake_of(store, person_id)
    data, errors = read_entry(
        web, form, list(intake.case.regions), lang, earliest=intake.created_at, now=now_local()
    )
    if errors:
        return Refused(errors)
    kept = record.entry.model_dump(mode="json", exclude={"pain_reach"})
    try:
        result = edit_entry(store, person_id, record.id, kept | data, actor=actor, lang=lang)
    except InvalidInput as e:
        return Refused({field_id(error.field): error.message for error in e.errors})
    outcome = outcome_of(web, result, lang) | {"resumed": resumed, "edited": True}
    store.put_draft(
        _outcome_token(person_id, record.id), "outcome", outcome, ttl=OUTCOME_TTL, person_id=person_id
    )
    return Saved(record.id)
