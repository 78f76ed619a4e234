"""Today's exercise session ("Übungen heute"): the current plan week's exercises with their dose, steps
and drawing, a timer (session.js, only an enhancement), and per exercise a form for "erledigt" and how
it went. The ratings change the plan per exercise (plan.builder); the page shows what they change next week.

Like every page of the patient's area it serves only the signed-in patient's own person. While a red flag
or a diary warning sign stands the page shows no exercise and no form, only the seek-care advice.
"""

from __future__ import annotations

import re
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
from ...services.followup import AlreadySaved, NoIntake
from ...services.sessions import (
    NotInSession,
    NotOffered,
    UnknownRating,
    feedback_csv,
    record_feedback,
    today_session,
)
from .. import diary_form
from ..deps import checked_form, path_for, person_of, see_other, signed_in_patient, store_of
from ..i18n import request_lang
from ..render import Form, PageError, render, web_of
from ..session_notes import adjustment_notes
from .patient import HOME, _follow_up_notes, display_name_of, local_date

router = APIRouter(include_in_schema=False)

SESSION = HOME + "/heute"
FEEDBACK_CSV_NAME = "rueckenlotse-uebungen.csv"
# The choices of the form (the plan's ratings); "take_next" comes only from the offer's own button.
FORM_RATINGS = ("too_easy", "fits", "too_hard", "pain_after")
REST_SECONDS = 30  # the rest timer between two rounds of an exercise given in repetitions
_EXERCISE = re.compile(r"^[a-z0-9_]{1,64}$")


def anchor(exercise_id: str) -> str:
    return "uebung-" + exercise_id


@router.api_route(SESSION, methods=["GET", "HEAD"])
async def session_page(request: Request) -> Response:
    """Today's exercises; ``?gespeichert=<exercise id>`` after saving shows what was saved."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    saved = request.query_params.get("gespeichert") or ""
    return await run_in_threadpool(
        _session, request, principal, lang, saved=saved if _EXERCISE.match(saved) else None
    )


@router.post(SESSION)
async def session_feedback(request: Request) -> Response:
    """One exercise done and/or rated; 303 back to it. A form posted twice (its key) saves once."""
    form = await checked_form(request)
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    exercise_id = form.get("exercise") or ""
    key = diary_form.form_key(form)
    if not _EXERCISE.match(exercise_id) or key is None:
        raise PageError(400, "400")
    rating = form.get("rating") or None
    done = form.get("done") == "1"
    texts = web_of(request).texts
    field = "rating-" + exercise_id
    if rating is not None and rating not in (*FORM_RATINGS, "take_next"):
        errors = {field: texts.get("session.error.rating", lang)}
        return await run_in_threadpool(_session, request, principal, lang, errors=errors, form=form)
    if rating is None and not done:
        errors = {field: texts.get("session.error.empty", lang)}
        return await run_in_threadpool(_session, request, principal, lang, errors=errors, form=form)
    store, person = store_of(request), person_of(principal)
    try:
        await run_in_threadpool(
            partial(
                record_feedback, store, person, exercise_id, done=done, rating=rating, idempotency_key=key
            )
        )
    except AlreadySaved:
        pass  # a reload or a second click: the first post saved it
    except NoIntake:
        return render(request, "patient_none.html", {"name": display_name_of(request, principal)}, lang=lang)
    except NotInSession:
        raise PageError(400, "400") from None
    except NotOffered:
        errors = {field: texts.get("session.error.not_offered", lang)}
        return await run_in_threadpool(_session, request, principal, lang, errors=errors)
    except UnknownRating:  # pragma: no cover - refused above already
        raise PageError(400, "400") from None
    return see_other(path_for(request, "session_page") + f"?gespeichert={exercise_id}#{anchor(exercise_id)}")


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
        "keys": {item.id: diary_form.new_key() for item in plan.exercises},
        "ratings": FORM_RATINGS,
        "posted": posted,
        "posted_rating": form.get("rating") if form is not None else None,
        "posted_done": form is not None and form.get("done") == "1",
        "rest_seconds": REST_SECONDS,
        "errors": errors or {},
        "error_labels": {"rating-" + i: t for i, t in titles.items()},
    }
    return render(request, "patient_session.html", context, lang=lang, status=status)
