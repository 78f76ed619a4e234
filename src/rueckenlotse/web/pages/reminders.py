"""Reminders: the person's exercise times, e-mail reminders, and the plan in their calendar.

``/mein-bereich/erinnerungen`` keeps one or two local times of day (RUECKENLOTSE_TIME_ZONE), optionally
weekdays, and whether to send reminder mails (offered only where mail can be sent and the address is
confirmed). The calendar comes as a download (signed in) and as a private feed ``/kalender/<token>.ics``
for a phone calendar to subscribe to, without a session: the token is long and random, only its hash is
kept, a new one replaces the old, and a revoked or unknown one answers 404.

The calendar's texts are generic (``services.calendar``); while the plan has a red flag it holds no
exercise at all. The new feed address is shown once, right after it was made: the POST keeps it in a
short-lived draft under the form's own key and redirects to the page with that key, so a reload or a
second click shows the same address instead of making another.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...i18n.formatting import format_day
from ...i18n.zone import local_zone
from ...plan.plan_model import Plan
from ...services.auth import Principal
from ...services.calendar import (
    CalendarLinks,
    CalendarTexts,
    empty_calendar,
    owner_key,
    parse_time,
    plan_calendar,
)
from ...services.followup import NoIntake, current_plan
from ...store.reminders import ReminderChoice, Reminders
from ..deps import checked_form, path_for, person_of, see_other, signed_in_patient, store_of
from ..i18n import request_lang
from ..render import PageError, render, web_of
from ..security.session import accounts_of
from .account import mail_available

router = APIRouter(include_in_schema=False)

PAGE = "/mein-bereich/erinnerungen"
WEEKDAYS = tuple(range(1, 8))
MAX_KEY = 64
NEW_FEED_MINUTES = 15  # how long the page shows a new calendar address after it was made
FEED_MEDIA_TYPE = "text/calendar; charset=utf-8"
FEED_CACHE = "private, no-store"


def reminders_of(request: Request) -> Reminders:
    return Reminders(store_of(request))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today() -> dt.date:
    return _now().astimezone(local_zone()).date()


def _plan_or_none(request: Request, person_id: str, lang: str) -> Plan | None:
    try:
        return current_plan(store_of(request), person_id, today=_today(), lang=lang)
    except NoIntake:
        return None


def _email_offer(request: Request, principal: Principal) -> str:
    """ "ok" when reminder mails can be chosen, else why not: "no_mail" or "unverified"."""
    if not mail_available(request):
        return "no_mail"
    if principal.account_id is None or not accounts_of(request).account(principal.account_id).email_verified:
        return "unverified"
    return "ok"


def _base_url(request: Request) -> str:
    configured = web_of(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


# ---- the page ----------------------------------------------------------------------------------------
@router.api_route(PAGE, methods=["GET", "HEAD"])
async def reminders_page(request: Request) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    return await run_in_threadpool(_page, request, principal, lang, None, None)


def _page(
    request: Request,
    principal: Principal,
    lang: str,
    values: dict[str, Any] | None,
    errors: dict[str, str] | None,
) -> Response:
    person_id = person_of(principal)
    reminders = reminders_of(request)
    choice = reminders.choice(person_id)
    if values is None:
        values = _values_of(choice)
    plan = _plan_or_none(request, person_id, lang)
    since, latest = reminders.feed_state(person_id)
    new_url = _new_feed_url(request, person_id) if since is not None else None
    zone = local_zone()
    context: dict[str, Any] = {
        "name": store_of(request).get_person(person_id).display_name,
        "values": values,
        "errors": errors or {},
        "weekdays": WEEKDAYS,
        "email_offer": _email_offer(request, principal),
        "zone": getattr(zone, "key", "UTC"),
        "red_flag": plan is not None and plan.red_flag,
        "no_plan": plan is None,
        "feed_since": format_day(since.astimezone(zone).date(), lang) if since is not None else None,
        "new_url": new_url,
        "feed_key": _feed_key(request, person_id, latest),
        "saved": request.query_params.get("gespeichert") == "1",
        "revoked": request.query_params.get("geloescht") == "1",
    }
    return render(request, "patient_reminders.html", context, lang=lang, status=422 if errors else 200)


def _feed_key(request: Request, person_id: str, latest: dt.datetime | None) -> str:
    """The key of the form that makes a calendar address: the same until an address is made (so the same
    form posted twice makes one), unguessable without the app's secret (it names the draft that shows the
    new address)."""
    state = f"calendar-form:{person_id}:{latest.isoformat() if latest else '-'}".encode()
    mac = hmac.new(web_of(request).csrf.secret, state, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _values_of(choice: ReminderChoice | None) -> dict[str, Any]:
    if choice is None:
        return {"time1": "", "time2": "", "weekdays": set(), "email": False}
    times = list(choice.times) + ["", ""]
    return {"time1": times[0], "time2": times[1], "weekdays": set(choice.weekdays), "email": choice.email}


def _new_feed_url(request: Request, person_id: str) -> str | None:
    """The calendar address made a moment ago on this page (``?neu=<form key>``), while it still works."""
    key = request.query_params.get("neu", "")[:MAX_KEY]
    if not key:
        return None
    draft = store_of(request).get_draft(key, "calendar")
    if draft is None or draft.person_id != person_id:
        return None
    token = str(draft.payload.get("token", ""))
    owner = reminders_of(request).feed_owner(token)
    if owner is None or owner[0] != person_id:
        return None
    return _base_url(request) + path_for(request, "calendar_feed", token=token)


# ---- saving the choice -------------------------------------------------------------------------------
@router.post(PAGE)
async def save_reminders(request: Request) -> Response:
    form = await checked_form(request)
    principal = await run_in_threadpool(signed_in_patient, request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    texts = web_of(request).texts
    time1 = (form.get("time1") or "").strip()[:10]
    time2 = (form.get("time2") or "").strip()[:10]
    days = form.getlist("weekdays")
    wants_mail = form.get("email") == "yes"
    errors: dict[str, str] = {}
    if not time1:
        errors["time1"] = texts.get("reminders.error.time1_missing", lang)
    elif parse_time(time1) is None:
        errors["time1"] = texts.get("reminders.error.time_format", lang)
    if time2 and parse_time(time2) is None:
        errors["time2"] = texts.get("reminders.error.time_format", lang)
    elif time2 and time2 == time1:
        errors["time2"] = texts.get("reminders.error.time_same", lang)
    if any(d not in {str(n) for n in WEEKDAYS} for d in days):
        errors["weekdays"] = texts.get("reminders.error.weekdays", lang)
    if errors:
        values = {
            "time1": time1,
            "time2": time2,
            "weekdays": {int(d) for d in days if d in {str(n) for n in WEEKDAYS}},
            "email": wants_mail,
        }
        return await run_in_threadpool(_page, request, principal, lang, values, errors)
    offer = await run_in_threadpool(_email_offer, request, principal)
    await run_in_threadpool(
        reminders_of(request).save_choice,
        person_of(principal),
        tuple(t for t in (time1, time2) if t),
        frozenset(int(d) for d in days),
        email=wants_mail and offer == "ok",
        lang=lang,
        now=_now(),
    )
    return see_other(path_for(request, "reminders_page") + "?gespeichert=1")


# ---- the calendar address ----------------------------------------------------------------------------
@router.post(PAGE + "/kalender-adresse")
async def create_feed(request: Request) -> Response:
    form = await checked_form(request)
    principal = await run_in_threadpool(signed_in_patient, request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    key = (form.get("key") or "")[:MAX_KEY]
    if len(key) < 32:
        raise PageError(400, "400")
    await run_in_threadpool(_create_feed, request, person_of(principal), key, request_lang(request))
    return see_other(path_for(request, "reminders_page") + "?neu=" + key + "#kalender")


def _create_feed(request: Request, person_id: str, key: str, lang: str) -> None:
    """A new calendar address, unless this form (its key) made one already: then that one stays."""
    store = store_of(request)
    earlier = store.get_draft(key, "calendar")
    if earlier is not None and earlier.person_id == person_id:
        return
    token = reminders_of(request).new_feed(person_id, lang, _now())
    ttl = dt.timedelta(minutes=NEW_FEED_MINUTES)
    store.put_draft(key, "calendar", {"token": token}, ttl=ttl, person_id=person_id)


@router.post(PAGE + "/kalender-adresse/loeschen")
async def revoke_feed(request: Request) -> Response:
    await checked_form(request)
    principal = await run_in_threadpool(signed_in_patient, request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    await run_in_threadpool(reminders_of(request).revoke_feeds, person_of(principal), _now())
    return see_other(path_for(request, "reminders_page") + "?geloescht=1#kalender")


# ---- the calendar itself -----------------------------------------------------------------------------
@router.get(PAGE + "/kalender.ics")
async def calendar_download(request: Request) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    body = await run_in_threadpool(_calendar, request, person_of(principal), lang)
    response = Response(body, media_type=FEED_MEDIA_TYPE)
    response.headers["Content-Disposition"] = 'attachment; filename="rueckenlotse.ics"'
    return response


@router.get("/kalender/{token}.ics")
async def calendar_feed(request: Request, token: str) -> Response:
    """The private feed: no session, no cookie; the token alone. Unknown or revoked: 404."""
    owner = await run_in_threadpool(reminders_of(request).feed_owner, token)
    if owner is None:
        return Response("Not Found", status_code=404, media_type="text/plain; charset=utf-8")
    person_id, lang = owner
    body = await run_in_threadpool(_calendar, request, person_id, lang)
    response = Response(body, media_type=FEED_MEDIA_TYPE)
    response.headers["Cache-Control"] = FEED_CACHE
    return response


def _calendar(request: Request, person_id: str, lang: str) -> bytes:
    """The calendar of the person's plan as it stands today (empty of events without a plan)."""
    choice = reminders_of(request).choice(person_id)
    plan = _plan_or_none(request, person_id, lang)
    base = _base_url(request)
    links = CalendarLinks(today=base + "/mein-bereich/heute", plan=base + path_for(request, "plan_page"))
    texts = web_of(request).texts

    def text(key: str) -> str:
        return texts.get(f"reminders.ics.{key}", lang)

    labels = CalendarTexts(
        name=text("name"),
        session=text("session"),
        session_description=text("session_description"),
        check=text("check"),
        check_description=text("check_description"),
        review=text("review"),
        review_description=text("review_description"),
        seek_care=text("seek_care"),
        seek_care_description=text("seek_care_description"),
    )
    if plan is None:
        return empty_calendar(labels.name, owner_key(person_id), local_zone(), _today())
    return plan_calendar(
        plan,
        choice.times if choice is not None else (),
        choice.weekdays if choice is not None else frozenset(),
        person_key=owner_key(person_id),
        texts=labels,
        links=links,
        stamp=_stamp(plan, choice),
        zone=local_zone(),
    )


def _stamp(plan: Plan, choice: ReminderChoice | None) -> dt.datetime:
    """When the calendar's content last changed: the later of the choice and the plan's start."""
    started = dt.datetime.combine(plan.start, dt.time(), tzinfo=dt.UTC)
    return max(started, choice.updated_at) if choice is not None else started
