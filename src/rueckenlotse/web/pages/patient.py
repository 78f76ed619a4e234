"""The patient's own area: registration, saving an assessment, Mein Bereich, the plan and the diary.

Every page here belongs to the signed-in patient: the person is always the principal's own
(``principal.person_id``), never one named in a URL or a form. Anonymous visitors are sent to sign in.
Every POST checks the CSRF token first; personal pages are never cached (the middleware sets no-store).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...core.models import Case, Triage
from ...i18n.formatting import format_day
from ...plan.followup_texts import render as followup_text
from ...plan.library import default_library
from ...services.auth import Principal, Role, check_password
from ...services.followup import (
    NoIntake,
    current_plan,
    record_intake,
)
from ...services.measures import due_for
from ...store import Store, throttling
from ...store.account_records import Throttled
from ...store.accounts import EmailTaken, ReceiptUnusable, checked_email
from ...store.repository import InvalidValue, clean_display_name
from .. import receipt_claim
from ..course_view import plan_notes
from ..deps import (
    checked_form,
    client_of,
    path_for,
    pending_case,
    person_of,
    see_other,
    signed_in_patient,
    store_of,
    throttled_page,
)
from ..i18n import request_lang
from ..render import PageError, render, web_of
from ..security.hashing import run_hashing
from ..security.session import accounts_of, principal_of, session_token, set_session_cookie
from ..security.state import FIELD as STATE_FIELD
from ..session_notes import adjustment_notes, next_week_of
from .account import mail_available, registered_by_mail, unverified_address

router = APIRouter(include_in_schema=False)

HOME = "/mein-bereich"
MAX_FIELD_CHARS = 2000  # e-mail, name: far longer than any real one; the password has its own limit
MAX_EXERCISE_ID = 64  # the exclusions' column
EXCLUDED_ANCHOR = "ausgeschlossen"  # the plan page's list of excluded exercises


def display_name_of(request: Request, principal: Principal) -> str | None:
    return store_of(request).get_person(person_of(principal)).display_name


# ---- registration and saving ------------------------------------------------------------------------
@router.api_route("/registrieren", methods=["GET", "HEAD"])
async def register_page(request: Request) -> Response:
    lang = request_lang(request)
    if principal_of(request).role is Role.patient:
        return see_other(path_for(request, "home"))
    return register_form(request, lang)


def register_form(
    request: Request,
    lang: str,
    *,
    state: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saving: bool = False,
    claim: receipt_claim.Claim | None = None,
    claim_taken: bool = False,
) -> Response:
    """The registration form; with ``claim``, for making a sent intake the account's first record (its
    receipt token in a hidden field); ``claim_taken``: the receipt can no longer be claimed (say so)."""
    context = {
        "state": state,
        "values": values or {},
        "errors": errors or {},
        "saving": saving,
        "claim": claim,
        "claim_taken": claim_taken,
    }
    status = 422 if errors else 200
    return render(request, "patient_register.html", context, lang=lang, status=status)


@router.post("/registrieren")
async def register(request: Request) -> Response:
    form = await checked_form(request)
    if (await run_in_threadpool(principal_of, request)).role is Role.patient:
        return see_other(path_for(request, "home"))  # already signed in: no second account by accident
    lang = request_lang(request)
    try:
        await run_in_threadpool(_registration_slot, request, take=False)
    except Throttled as e:
        return _throttled(request, e, lang)
    values = {name: (form.get(name) or "")[:MAX_FIELD_CHARS] for name in ("email", "display_name")}
    password, repeat = form.get("password") or "", form.get("password_repeat") or ""
    errors = _registration_errors(request, values, password, repeat, lang)
    token = (form.get(receipt_claim.FIELD) or "")[: receipt_claim.TOKEN_LENGTH + 1]
    claim = await run_in_threadpool(receipt_claim.claim_of, request, token) if token else None
    if token and claim is None:
        # Claimed meanwhile (or never a receipt): say so; the form, sent again, makes a plain account.
        errors[receipt_claim.FIELD] = InvalidValue("receipt_unusable").message(lang)
    # A sent intake becomes the record; an assessment brought along from the result page does not
    # travel with a receipt (the receipt page has none to bring).
    saved = None if token else pending_case(request, form.get(STATE_FIELD), lang)
    if not errors and mail_available(request):
        try:
            await run_in_threadpool(_registration_slot, request, take=True)
            return await registered_by_mail(
                request, values, password, saved[0] if saved else "", lang, claim=claim
            )
        except Throttled as e:
            return _throttled(request, e, lang)
        except ReceiptUnusable as e:
            errors[receipt_claim.FIELD] = e.message(lang)
            return register_form(request, lang, values=values, errors=errors)
    account = None
    if not errors:
        try:
            await run_in_threadpool(_registration_slot, request, take=True)
            # Argon2 takes a while on purpose: in the thread pool, never on the event loop (which would
            # stall every other request, the health check too, for as long).
            account, _ = await run_hashing(
                accounts_of(request).register_patient,
                values["email"],
                password,
                values["display_name"],
                receipt_hash=claim.digest if claim else None,
            )
        except Throttled as e:
            return _throttled(request, e, lang)
        except EmailTaken:
            errors["email"] = web_of(request).texts.get("patient.register.error.email_taken", lang)
        except ReceiptUnusable as e:
            errors[receipt_claim.FIELD] = e.message(lang)
            claim = None
        except InvalidValue as e:
            errors["email"] = e.message(lang)
    if account is None:
        state = saved[0] if saved else ""
        return register_form(request, lang, state=state, values=values, errors=errors, claim=claim)
    assert account.person_id is not None
    if saved is not None:
        await run_in_threadpool(record_intake, store_of(request), account.person_id, saved[1], lang=lang)
    # Whoever was signed in on this browser before (a clinician, say) is signed out on the server too,
    # as the sign-in page does: the old cookie must not outlive the switch.
    old = session_token(request)
    if old:
        await run_in_threadpool(accounts_of(request).end_session, old)
    token = await run_in_threadpool(accounts_of(request).start_session, account.id)
    response = see_other(path_for(request, "home"))
    set_session_cookie(request, response, token)
    return response


def _registration_slot(request: Request, *, take: bool) -> None:
    """Raise Throttled when this client made too many accounts lately; ``take`` counts this attempt.

    Every attempt to make an account counts (a taken address too: it would otherwise allow probing for
    addresses); a form sent back with field errors does not."""
    policy = accounts_of(request).throttle
    key = throttling.registration_key(client_of(request))
    now = dt.datetime.now(dt.UTC)
    # Check and count in one locked step: parallel registrations cannot all pass a check made before any
    # of them was counted (the write transaction holds SQLite's write lock; PostgreSQL takes a key lock).
    with store_of(request).transaction() as session:
        throttling.lock(session, [key])
        throttling.check_every_attempt(session, key, policy.registrations_per_client, now, policy.window)
        if take:
            throttling.record(session, [key], now, success=True)


def _throttled(request: Request, error: Throttled, lang: str) -> Response:
    return throttled_page(request, error, lang, what="patient.register.throttled", back="/")


def _registration_errors(
    request: Request, values: dict[str, str], password: str, repeat: str, lang: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    texts = web_of(request).texts
    try:
        checked_email(values["email"])
    except InvalidValue as e:
        errors["email"] = e.message(lang)
    try:
        clean_display_name(values["display_name"])
    except InvalidValue as e:
        errors["display_name"] = e.message(lang)
    try:
        check_password(values["email"], password)
    except InvalidValue as e:
        errors["password"] = e.message(lang)
    if "password" not in errors and password != repeat:
        errors["password_repeat"] = texts.get("patient.register.error.repeat", lang)
    return errors


@router.post("/speichern")
async def save_assessment(request: Request) -> Response:
    """Save the anonymous intake on the result page: at once when signed in, else after registering or,
    with ``via=anmelden`` (the register page's "I have an account"), after signing in."""
    form = await checked_form(request)
    lang = request_lang(request)
    saved = pending_case(request, form.get(STATE_FIELD), lang)
    if saved is None:
        raise PageError(400, "400")
    principal = principal_of(request)
    if _save_for(request, principal, saved, lang):
        return see_other(path_for(request, "home"))
    if form.get("via") == "anmelden":
        context = {"email": "", "failed": False, "reason": None, "state": saved[0]}
        return render(request, "auth_login.html", context, lang=lang)
    return register_form(request, lang, state=saved[0], saving=True)


def _save_for(request: Request, principal: Principal, saved: tuple[str, Case] | None, lang: str) -> bool:
    """Keep the pending assessment for a fully signed-in patient; False (nothing kept) for anyone else."""
    if saved is None or principal.role is not Role.patient or not principal.signed_in:
        return False
    if principal.second_factor_pending or principal.person_id is None:
        return False
    record_intake(store_of(request), principal.person_id, saved[1], lang=lang)
    return True


# ---- Mein Bereich -----------------------------------------------------------------------------------
@router.api_route(HOME, methods=["GET", "HEAD"])
async def home(request: Request) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    store = store_of(request)
    assessments = store.list_assessments(person_of(principal))
    kb = web_of(request).kb
    rows = [
        {
            "date": local_date(a.created_at.date(), lang),
            "triage": a.assessment.triage.value,
            "title": kb.text(f"triage.{a.assessment.triage.value}.title", lang),
            "source": a.source,
        }
        for a in reversed(assessments)
    ]
    latest = assessments[-1] if assessments else None
    context: dict[str, Any] = {
        "name": display_name_of(request, principal),
        "rows": rows,
        "latest": rows[0] if rows else None,
        "latest_action": (kb.triage_action(latest.assessment, lang) if latest is not None else None),
        "emergency": latest is not None and latest.assessment.triage is Triage.emergency,
        "unverified": await run_in_threadpool(unverified_address, request, principal),
        "measures_due": await run_in_threadpool(_due_titles, store, person_of(principal), lang),
    }
    return render(request, "patient_home.html", context, lang=lang)


def _due_titles(store: Store, person_id: str, lang: str) -> list[str]:
    """The titles of the outcome measures due now (none without an intake)."""
    try:
        return [d.measure.title.get(lang) for d in due_for(store, person_id)]
    except NoIntake:
        return []


def local_date(day: dt.date, lang: str) -> str:
    return format_day(day, lang)


# ---- the plan ---------------------------------------------------------------------------------------
@router.api_route(HOME + "/plan", methods=["GET", "HEAD"])
async def plan_page(request: Request) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    return _plan_response(request, principal, request_lang(request))


def _plan_response(
    request: Request, principal: Principal, lang: str, *, errors: dict[str, str] | None = None
) -> Response:
    """The plan page; with ``errors`` (field → message) it answers 422 and shows them."""
    status = 422 if errors else 200
    name = display_name_of(request, principal)
    store = store_of(request)
    try:
        plan = current_plan(store, person_of(principal), lang=lang)
    except NoIntake:
        return render(request, "patient_none.html", {"name": name}, lang=lang, status=status)
    lib = default_library()
    kb = web_of(request).kb
    context: dict[str, Any] = {
        "name": name,
        "plan": plan,
        "lib": lib,
        "pt": lambda key, **values: lib.text(key, lang, **values),
        "triage_title": kb.text(f"triage.{plan.triage.value}.title", lang),
        "started": local_date(plan.start, lang),
        "review_on": local_date(plan.review_on, lang),
        "milestones": [(local_date(m.on, lang), m.text) for m in plan.milestones],
        "sign_labels": [followup_text(f"sign.{s}.label", lang) for s in plan.diary_warning_signs],
        **_follow_up_notes(plan, lang),
        "excluded": _excluded(store, person_of(principal), lang),
        "errors": errors or {},
        "notes": adjustment_notes(plan.exercises, web_of(request).texts, lang, next_week=False),
        "next_week": next_week_of(plan),
        "next_notes": adjustment_notes(next_week_of(plan), web_of(request).texts, lang, next_week=True),
    }
    # Changes of the practices the person shares their course with (issue #18).
    context["practice_notes"], context["practice_waiting"] = plan_notes(web_of(request).texts, plan, lang)
    return render(request, "patient_plan.html", context, lang=lang, status=status)


def _follow_up_notes(plan: Any, lang: str) -> dict[str, str | None]:
    """The contract-2 follow-up notes of the plan page: a red flag that stands until examined (with the
    diary's answer for it), too few entries to step up, a step back that asks to check the signs again."""
    standing = None
    if plan.standing_flags:
        since = min(f.since for f in plan.standing_flags)
        standing = followup_text(
            "red_flag.standing",
            lang,
            conditions=", ".join(f.label for f in plan.standing_flags),
            since=local_date(since, lang),
        )
    return {
        "standing_text": standing,
        "too_few_text": followup_text("plan.too_few_entries", lang, count=3)
        if plan.too_few_entries
        else None,
        "rescreen_text": followup_text("plan.rescreen_advised", lang) if plan.rescreen_advised else None,
    }


def _excluded(store: Store, person_id: str, lang: str) -> list[tuple[str, str]]:
    """(exercise id, title) of every exercise the person excluded; an id the library no longer knows is
    shown as it is, so it can still be taken back."""
    exercises = default_library().exercises
    return [
        (
            x.exercise_id,
            exercises[x.exercise_id].title.get(lang) if x.exercise_id in exercises else x.exercise_id,
        )
        for x in store.list_exclusions(person_id)
    ]


@router.post(HOME + "/plan/ausschliessen")
async def exclude_exercise(request: Request) -> Response:
    form = await checked_form(request)
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    exercise_id = form.get("exercise") or ""
    if exercise_id not in default_library().exercises:
        raise PageError(400, "400")
    store_of(request).add_exclusion(person_of(principal), exercise_id)
    return see_other(path_for(request, "plan_page") + "#uebungen")


@router.post(HOME + "/plan/einschliessen")
async def include_exercise(request: Request) -> Response:
    """Take an excluded exercise back into the plan (undoes "Diese Übung kann ich nicht machen")."""
    form = await checked_form(request)
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    exercise_id = (form.get("exercise") or "")[:MAX_EXERCISE_ID]
    store = store_of(request)
    person = person_of(principal)
    if not store.remove_exclusion(person, exercise_id) and exercise_id not in default_library().exercises:
        lang = request_lang(request)
        message = web_of(request).texts.get("patient.plan.error.include", lang)
        return _plan_response(request, principal, lang, errors={EXCLUDED_ANCHOR: message})
    # An exercise that is in the plan already (a second click): nothing to do, the plan shows it.
    return see_other(path_for(request, "plan_page") + "#uebungen")
