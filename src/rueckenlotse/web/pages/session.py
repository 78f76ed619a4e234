"""Today's exercise session ("Übungen heute"): the current plan week's exercises with their dose, steps
and drawing, a timer (session.js, only an enhancement), and per exercise a form for "erledigt" and how
it went. The ratings change the plan per exercise (plan.builder); the page shows what they change next week.

Like every page of the patient's area it serves only the signed-in patient's own person. While a red flag
or a diary warning sign stands the page shows no exercise and no form, only the seek-care advice.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...plan.followup_texts import render as followup_text
from ...plan.library import default_library
from ...services import data_rights
from ...services.auth import Principal
from ...services.followup import NoIntake
from ...services.sessions import (
    NotInSession,
    feedback_csv,
    today_session,
)
from .. import diary_form, kept_forms
from ..deps import path_for, person_of, see_other, signed_in_patient, store_of
from ..i18n import request_lang
from ..render import Form, PageError, render, web_of
from ..session_notes import adjustment_notes
from .patient import HOME, _follow_up_notes, display_name_of, local_date

router = APIRouter(include_in_schema=False)

SESSION = HOME + "/heute"
FEEDBACK_CSV_NAME = "rueckenlotse-uebungen.csv"
FORM_RATINGS = kept_forms.FORM_RATINGS
REST_SECONDS = 30  # the rest timer between two rounds of an exercise given in repetitions
_EXERCISE = kept_forms.EXERCISE
anchor = kept_forms.exercise_anchor


@router.api_route(SESSION, methods=["GET", "HEAD"])
async def session_page(request: Request) -> Response:
    """Today's exercises; ``?gespeichert=<exercise id>`` after saving shows what was saved, ``?entwurf=1``
    the form kept over a sign-in when it still needs a correction."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    saved = request.query_params.get("gespeichert") or ""
    return await run_in_threadpool(
        partial(_session_get, request, principal, lang, saved=saved if _EXERCISE.match(saved) else None)
    )


def _session_get(request: Request, principal: Principal, lang: str, *, saved: str | None) -> Response:
    kept = kept_forms.kept(request, kept_forms.SESSION, person_of(principal))
    if kept is None:
        return _session(request, principal, lang, saved=saved)
    return _session(request, principal, lang, errors=kept.errors, form=kept.form, kept=True)


@router.post(SESSION)
async def session_feedback(request: Request) -> Response:
    """One exercise done and/or rated; 303 back to it. A form posted twice (its key) saves once; posted
    after the session ended, it is kept and saved after signing in (``kept_forms``)."""
    posted = await kept_forms.posted(request, kept_forms.SESSION)
    if isinstance(posted, Response):
        return posted
    try:
        outcome = await kept_forms.save(request, posted)
    except (kept_forms.BadForm, NotInSession):
        raise PageError(400, "400") from None
    except NoIntake:
        name = display_name_of(request, posted.principal)
        return render(request, "patient_none.html", {"name": name}, lang=posted.lang)
    if isinstance(outcome, kept_forms.Refused):
        return await run_in_threadpool(
            partial(_session, request, posted.principal, posted.lang, errors=outcome.errors, form=posted.form)
        )
    return await kept_forms.done(request, posted, outcome)


@router.get(HOME + "/tagebuch/uebungen.csv")
async def feedback_csv_export(request: Request) -> Response:
    """The session's feedback as CSV (part of the diary); an attachment nobody caches."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    actor = data_rights.actor_of(principal, "web")
    text = await run_in_threadpool(
        partial(feedback_csv, store_of(request), person_of(principal), actor=actor)
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{FEEDBACK_CSV_NAME}"',
        "Cache-Control": "no-store",
    }
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


def _session(
    request: Request,
    principal: Principal,
    lang: str,
    *,
    saved: str | None = None,
    errors: dict[str, str] | None = None,
    form: Form | None = None,
    kept: bool = False,
) -> Response:
    store, person = store_of(request), person_of(principal)
    name = display_name_of(request, principal)
    status = 422 if errors else 200
    try:
        today = today_session(store, person, lang=lang)
    except NoIntake:
        return render(request, "patient_none.html", {"name": name}, lang=lang, status=status)
    plan, lib = today.plan, default_library()
    texts = web_of(request).texts
    status_lines: dict[str, str] = {}
    for item in plan.exercises:
        parts = [texts.get("session.done_label", lang)] if today.done.get(item.id) else []
        if item.id in today.ratings:
            parts.append(texts.get(f"session.rating.{today.ratings[item.id]}", lang))
        if parts:
            status_lines[item.id] = ", ".join(parts)
    titles = {item.id: item.title for item in plan.exercises}
    # Each exercise's two forms (feedback; taking the harder one) with a new key and its owner.
    web = web_of(request)
    keys = {item.id: diary_form.new_key() for item in plan.exercises}
    owners = {
        key: kept_forms.owner_token(web, kept_forms.SESSION, person, key)
        for base in keys.values()
        for key in (base, base + "x")
    }
    posted = form.get("exercise") if form is not None else None
    context: dict[str, Any] = {
        "name": name,
        "plan": plan,
        "lib": lib,
        "pt": lambda key, **values: lib.text(key, lang, **values),
        "today": local_date(today.today, lang),
        "sign_labels": [followup_text(f"sign.{s}.label", lang) for s in plan.diary_warning_signs],
        **_follow_up_notes(plan, lang),
        "status_lines": status_lines,
        "saved_title": titles.get(saved) if saved else None,
        "saved_id": saved,
        "notes": adjustment_notes(plan.exercises, texts, lang, next_week=False),
        "next_week": today.next_week,
        "next_notes": adjustment_notes(today.next_week, texts, lang, next_week=True),
        "keys": keys,
        "owners": owners,
        "kept": kept,
        "ratings": FORM_RATINGS,
        "posted": posted,
        "posted_rating": form.get("rating") if form is not None else None,
        "posted_done": form is not None and form.get("done") == "1",
        "rest_seconds": REST_SECONDS,
        "errors": errors or {},
        "error_labels": {"rating-" + i: t for i, t in titles.items()},
    }
    return render(request, "patient_session.html", context, lang=lang, status=status)
