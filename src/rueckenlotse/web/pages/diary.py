"""The patient's diary: the entry form with its re-screen, the days, the escalations, and the chart.

Like every page of the patient's area, it serves only the signed-in patient's own person
(``principal.person_id``); the chart is a separate SVG response, never inlined (the CSP forbids it).
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...plan.followup_texts import render as followup_text
from ...plan.library import default_library
from ...plan.models import OFFERED_WARNING_SIGNS, PAIN_REACH_ORDER
from ...plan.trends import FollowUpReport
from ...reports.diary_svg import ChartText, diary_svg
from ...services import data_rights
from ...services.auth import Principal
from ...services.followup import NoIntake, NoSuchEntry, delete_entry, diary_csv, intake_of, report_for
from .. import diary_form, kept_forms
from ..deps import checked_form, path_for, person_of, see_other, signed_in_patient, store_of
from ..i18n import WebTexts, request_lang
from ..render import Form, PageError, render, web_of
from .patient import HOME, display_name_of, local_date

router = APIRouter(include_in_schema=False)


@router.api_route(HOME + "/tagebuch", methods=["GET", "HEAD"])
async def diary_page(request: Request) -> Response:
    """The diary; ``?gespeichert=<id>`` after saving (post/redirect/get) shows what the entry changed,
    ``?entwurf=1`` the form kept over a sign-in when it still needs a correction."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    return await run_in_threadpool(_diary_get, request, principal, lang)


def _diary_get(request: Request, principal: Principal, lang: str) -> Response:
    store, web, person = store_of(request), web_of(request), person_of(principal)
    outcome = diary_form.saved_outcome(web, store, person, request.query_params.get("gespeichert"), lang)
    kept = kept_forms.kept(request, kept_forms.DIARY, person)
    if kept is None:
        deleted = request.query_params.get("geloescht") == "1"
        return _diary(request, principal, lang, outcome=outcome, deleted=deleted)
    status = 422 if kept.errors else 200
    return _diary(request, principal, lang, form=kept.form, errors=kept.errors, status=status, kept=True)


@router.post(HOME + "/tagebuch")
async def diary_entry(request: Request) -> Response:
    """One entry: saved once (its key), then 303 to what it changed; errors: 422 with the form kept. Posted
    after the session ended, it is kept and saved after signing in (``kept_forms``)."""
    posted = await kept_forms.posted(request, kept_forms.DIARY)
    if isinstance(posted, Response):
        return posted
    try:
        outcome = await kept_forms.save(request, posted)
    except NoIntake:
        name = display_name_of(request, posted.principal)
        return render(request, "patient_none.html", {"name": name}, lang=posted.lang)
    if isinstance(outcome, kept_forms.Refused):
        return _diary(
            request, posted.principal, posted.lang, form=posted.form, errors=outcome.errors, status=422
        )
    # Post/redirect/get: a reload shows the saved entry again and never posts it a second time.
    return await kept_forms.done(request, posted, outcome)


def _diary(
    request: Request,
    principal: Principal,
    lang: str,
    *,
    outcome: dict[str, Any] | None = None,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    kept: bool = False,
    deleted: bool = False,
) -> Response:
    store = store_of(request)
    person = person_of(principal)
    try:
        intake = intake_of(store, person)
        report = report_for(store, person)
    except NoIntake:
        return render(request, "patient_none.html", {"name": display_name_of(request, principal)}, lang=lang)
    kb = web_of(request).kb
    notes: dict[dt.date, list[str]] = {}
    entries: dict[dt.date, list[dict[str, str]]] = {}
    for record in store.list_diary(person):
        if record.entry.note:
            notes.setdefault(record.entry.recorded_at.date(), []).append(record.entry.note)
        # Each entry of the day can be corrected or deleted: named by its time, where the diary lives.
        moment = record.entry.recorded_at.astimezone(diary_form.DIARY_ZONE)
        entries.setdefault(record.entry.recorded_at.date(), []).append(
            {"id": record.id, "time": moment.strftime("%H:%M")}
        )
    days = [
        {
            "date": local_date(d.day, lang),
            "max_pain": d.max_pain,
            "minutes": d.activity_minutes,
            "signs": [followup_text(f"sign.{s}.label", lang) for s in d.warning_signs],
            "notes": notes.get(d.day, []),
            "entries": entries.get(d.day, []),
        }
        for d in reversed(report.days)
    ]
    escalations = [
        {
            "date": local_date(e.on, lang),
            "title": e.title.get(lang),
            "reason": e.reason.get(lang),
            "action": e.action.get(lang),
        }
        for e in report.escalations
    ]
    entry_key = (form and diary_form.form_key(form)) or diary_form.new_key()
    context: dict[str, Any] = {
        "name": display_name_of(request, principal),
        "entry_owner": kept_forms.owner_token(web_of(request), kept_forms.DIARY, person, entry_key),
        "regions": [(r, kb.text(f"region.{r}.label", lang)) for r in intake.case.regions],
        "reaches": [(r, followup_text(f"reach.{r}.label", lang)) for r in PAIN_REACH_ORDER],
        "signs": [(s, followup_text(f"sign.{s}.label", lang)) for s in OFFERED_WARNING_SIGNS],
        "days": days,
        "escalations": escalations,
        "outcome": outcome,
        "form": form or Form(list(diary_form.default_fields().items())),
        # A new key for a new form; a form shown again with errors keeps its own (one entry per form).
        "entry_key": entry_key,
        "today": diary_form.now_local().date().isoformat(),
        "kept": kept,
        "deleted": deleted,
        "errors": errors or {},
        "chart_summary": _chart_summary(report, lang),
        # A red flag of the episode stands until a doctor examined it: say so and offer the answer.
        "red_flag_text": report.red_flag_text.get(lang) if report.red_flag_text else None,
        "exam_label": followup_text("exam.label", lang),
        "red_flag_title": followup_text("red_flag.title", lang),
        "too_few": report.too_few.get(lang) if report.too_few else None,
        "exercise_days": exercise_days(store, web_of(request).texts, person, lang),
    }
    return render(request, "patient_diary.html", context, lang=lang, status=status)


def exercise_days(store: Any, texts: Any, person_id: str, lang: str) -> list[tuple[str, list[str]]]:
    """The session's feedback per day (newest day first): "Titel: erledigt, zu schwer" per row."""
    lib = default_library().exercises
    days: dict[dt.date, list[str]] = {}
    for record in store.list_feedback(person_id):
        f = record.feedback
        parts = [texts.get("session.done_label", lang)] if f.done else []
        if f.rating == "take_next":
            parts.append(texts.get("session.take_next", lang))
        elif f.rating is not None:
            parts.append(texts.get(f"session.rating.{f.rating}", lang))
        title = lib[f.exercise_id].title.get(lang) if f.exercise_id in lib else f.exercise_id
        days.setdefault(f.recorded_at.date(), []).append(f"{title}: {', '.join(parts)}")
    return [(local_date(day, lang), lines) for day, lines in sorted(days.items(), reverse=True)]


def _chart_summary(report: Any, lang: str) -> dict[str, Any] | None:
    if not report.days:
        return None
    first, last = report.days[0], report.days[-1]
    return {
        "first_date": local_date(first.day, lang),
        "first_pain": first.max_pain,
        "last_date": local_date(last.day, lang),
        "last_pain": last.max_pain,
        "count": len(report.days),
    }


ENTRY = HOME + "/tagebuch/eintrag/{entry_id}"
CSV_FILE_NAME = "rueckenlotse-tagebuch.csv"


@router.api_route(ENTRY, methods=["GET", "HEAD"])
async def diary_entry_page(request: Request, entry_id: str) -> Response:
    """One entry to correct or delete; 404 for an id that is not one of the patient's own entries;
    ``?entwurf=1`` the correction kept over a sign-in when it still needs a correction."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    return await run_in_threadpool(_entry_get, request, principal, entry_id, lang)


def _entry_get(request: Request, principal: Principal, entry_id: str, lang: str) -> Response:
    person = person_of(principal)
    record = diary_form.entry_of(store_of(request), person, entry_id)
    if record is None:
        raise PageError(404, "404")
    kept = kept_forms.kept(request, kept_forms.DIARY_EDIT, person)
    if kept is None:
        return _entry_page(request, principal, record, lang, diary_form.form_of(record), {})
    return _entry_page(request, principal, record, lang, kept.form, kept.errors, kept=True)


@router.post(ENTRY)
async def diary_entry_edit(request: Request, entry_id: str) -> Response:
    """The correction: saved (the same correction again changes nothing), then 303 to the diary; errors:
    422 with the form kept. Posted after the session ended, it is kept and saved after signing in
    (``kept_forms``); only for this entry, which its signed owner field names."""
    posted = await kept_forms.posted(request, kept_forms.DIARY_EDIT)
    if isinstance(posted, Response):
        return posted
    try:
        outcome = await kept_forms.save(request, posted)
    except (NoSuchEntry, NoIntake):
        raise PageError(404, "404") from None
    if isinstance(outcome, kept_forms.Refused):
        return await run_in_threadpool(_refused_edit, request, posted, entry_id, outcome.errors)
    return await kept_forms.done(request, posted, outcome)


def _refused_edit(
    request: Request, posted: kept_forms.Posted, entry_id: str, errors: dict[str, str]
) -> Response:
    record = diary_form.entry_of(store_of(request), posted.person, entry_id)
    if record is None:  # deleted in the instant between: as for any entry that is gone
        raise PageError(404, "404")
    return _entry_page(request, posted.principal, record, posted.lang, posted.form, errors)


@router.post(ENTRY + "/loeschen")
async def diary_entry_delete(request: Request, entry_id: str) -> Response:
    await checked_form(request)
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    store, person = store_of(request), person_of(principal)
    actor = data_rights.actor_of(principal, "web")
    try:
        await run_in_threadpool(partial(delete_entry, store, person, entry_id, actor=actor))
    except NoSuchEntry:
        raise PageError(404, "404") from None
    return see_other(path_for(request, "diary_page") + "?geloescht=1")


@router.get(HOME + "/tagebuch/tagebuch.csv")
async def diary_csv_export(request: Request) -> Response:
    """The diary as CSV beside the JSON export of all data; an attachment nobody caches."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    actor = data_rights.actor_of(principal, "web")
    text = await run_in_threadpool(partial(diary_csv, store_of(request), person_of(principal), actor=actor))
    headers = {"Content-Disposition": f'attachment; filename="{CSV_FILE_NAME}"', "Cache-Control": "no-store"}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


def _entry_page(
    request: Request,
    principal: Principal,
    record: Any,
    lang: str,
    form: Form,
    errors: dict[str, str],
    *,
    kept: bool = False,
) -> Response:
    store, person = store_of(request), person_of(principal)
    try:
        intake = intake_of(store, person)
    except NoIntake:
        raise PageError(404, "404") from None
    kb = web_of(request).kb
    report = report_for(store, person)
    moment = record.entry.recorded_at.astimezone(diary_form.DIARY_ZONE)
    # A new key for a new form; a form shown again with errors keeps its own.
    entry_key = diary_form.form_key(form) or diary_form.new_key()
    owner = kept_forms.owner_token(
        web_of(request), kept_forms.DIARY_EDIT, person, entry_key, entry_id=record.id
    )
    context: dict[str, Any] = {
        "name": display_name_of(request, principal),
        "entry_id": record.id,
        "entry_key": entry_key,
        "entry_owner": owner,
        "kept": kept,
        "when": local_date(moment.date(), lang) + ", " + moment.strftime("%H:%M"),
        "regions": [(r, kb.text(f"region.{r}.label", lang)) for r in intake.case.regions],
        "reaches": [(r, followup_text(f"reach.{r}.label", lang)) for r in PAIN_REACH_ORDER],
        "signs": [(s, followup_text(f"sign.{s}.label", lang)) for s in OFFERED_WARNING_SIGNS],
        "form": form,
        "errors": errors,
        "today": diary_form.now_local().date().isoformat(),
        "red_flag_text": report.red_flag_text.get(lang) if report.red_flag_text else None,
        "exam_label": followup_text("exam.label", lang),
    }
    return render(request, "patient_diary_entry.html", context, lang=lang, status=422 if errors else 200)


@router.api_route(HOME + "/tagebuch/verlauf.svg", methods=["GET", "HEAD"])
def diary_chart(request: Request) -> Response:
    """The diary chart as SVG (``reports.diary_svg``), drawn for this request only; never cached. A plain
    ``def``: FastAPI runs it in its thread pool, so the database reads never block the event loop."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    try:
        report = report_for(store_of(request), person_of(principal))
    except NoIntake:
        raise PageError(404, "404") from None
    if not report.days:
        raise PageError(404, "404")
    svg = chart_svg(web_of(request).texts, report, lang)
    headers = {"Cache-Control": "no-store", "Content-Disposition": "inline"}
    return Response(svg.encode("utf-8"), media_type="image/svg+xml", headers=headers)


def chart_svg(texts: WebTexts, report: FollowUpReport, lang: str) -> str:
    """The chart of this report in ``lang``: its words from the web's texts, the days named by date."""
    summary = _chart_summary(report, lang)
    assert summary is not None  # the caller checked that the diary has days
    first, last = report.days[0].day, report.days[-1].day
    chart_text = ChartText(
        title=texts.get("patient.diary.chart", lang),
        pain=texts.get("patient.diary.chart_pain", lang),
        activity=texts.get("patient.diary.chart_activity", lang),
        description=texts.get("patient.diary.chart_summary", lang, **summary),
    )
    labels = {first: local_date(first, lang), last: local_date(last, lang)}
    return diary_svg(report.days, [e.on for e in report.escalations], chart_text, labels)
