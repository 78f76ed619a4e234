"""The patient's outcome measures: the questionnaires due now (``/mein-bereich/fragebogen``), and the course
of every measure with a chart, a table and "besser / gleich / schlechter" (``/mein-bereich/verlauf``).

Like every page of the patient's area, it serves only the signed-in patient's own person. Each due measure
has its own form with the CSRF token and an idempotency key (``diary_form.new_key``): a reload or a second
click saves once (post/redirect/get), and a form with errors is shown again with every answer kept and each
error beside its field. The chart is a separate SVG response (the CSP keeps SVG out of the page), with the
table as its accessible alternative.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...knowledge.measures import Measure, MeasureItem
from ...plan.followup_texts import render as followup_text
from ...plan.measures import (
    DueMeasure,
    default_measures,
    week_label,
)
from ...reports.measure_svg import measure_chart
from ...services import data_rights
from ...services.auth import Principal
from ...services.followup import NoIntake, report_for
from ...services.measures import (
    NotDue,
    due_for,
    measures_csv,
    next_due,
    responses_of,
    series_for,
)
from .. import diary_form, kept_forms
from ..deps import path_for, person_of, see_other, signed_in_patient, store_of
from ..i18n import request_lang
from ..measure_view import series_view
from ..render import Form, PageError, render, web_of
from .patient import HOME, display_name_of, local_date

router = APIRouter(include_in_schema=False)

MEASURES = HOME + "/fragebogen"
COURSE = HOME + "/verlauf"
CSV_FILE_NAME = "rueckenlotse-frageboegen.csv"
_MEASURE_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# ---- the questionnaires due now ----------------------------------------------------------------------
@router.api_route(MEASURES, methods=["GET", "HEAD"])
async def measures_page(request: Request) -> Response:
    """The measures due now; ``?gespeichert=<measure id>`` after saving (post/redirect/get), ``?entwurf=1``
    the form kept over a sign-in when it still needs a correction."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    saved = request.query_params.get("gespeichert") or ""
    return await run_in_threadpool(
        partial(_measures_get, request, principal, lang, saved=saved if _MEASURE_ID.match(saved) else None)
    )


def _measures_get(request: Request, principal: Principal, lang: str, *, saved: str | None) -> Response:
    kept = kept_forms.kept(request, kept_forms.MEASURES, person_of(principal))
    measure_id = kept.form.get("measure") if kept is not None else None
    if kept is None or measure_id not in default_measures().ids:
        return _measures(request, principal, lang, saved=saved)
    assert measure_id is not None
    return _measures(request, principal, lang, posted=(measure_id, kept.form), errors=kept.errors, kept=True)


@router.post(MEASURES)
async def measures_submit(request: Request) -> Response:
    """One measure's answers: saved once (its key), then 303 to the page; errors: 422 with the form kept.
    Posted after the session ended, they are kept and saved after signing in (``kept_forms``)."""
    posted = await kept_forms.posted(request, kept_forms.MEASURES)
    if isinstance(posted, Response):
        return posted
    try:
        outcome = await kept_forms.save(request, posted)
    except kept_forms.BadForm:
        raise PageError(400, "400") from None
    except NoIntake:
        name = display_name_of(request, posted.principal)
        return render(request, "patient_none.html", {"name": name}, lang=posted.lang)
    except NotDue:
        # Answered meanwhile (another tab) or no longer due: the page says what is open now.
        return see_other(path_for(request, "measures_page"))
    if isinstance(outcome, kept_forms.Refused):
        measure_id = posted.form.get("measure") or ""
        return await run_in_threadpool(
            partial(
                _measures,
                request,
                posted.principal,
                posted.lang,
                posted=(measure_id, posted.form),
                errors=outcome.errors,
            )
        )
    return await kept_forms.done(request, posted, outcome)


def _kept_names(request: Request, person: str, measure: Measure) -> list[str]:
    """The activities the person named the first time (PSFS): the same ones are rated again."""
    named = [item for item in measure.items if item.kind == "named_scale"]
    if not named:
        return []
    first = next((r for r in responses_of(store_of(request), person) if r.measure_id == measure.id), None)
    if first is None:
        return []
    rows = first.answers.get(named[0].id) or []
    return [str(row.get("name", "")) for row in rows if isinstance(row, dict)]


def _form_for(
    request: Request, person: str, due: DueMeasure, posted: tuple[str, Form] | None
) -> tuple[Form, bool]:
    """The form's values: as posted (shown again with errors), else the names kept from the first time."""
    measure = due.measure
    if posted is not None and posted[0] == measure.id:
        return posted[1], False
    pairs: list[tuple[str, str]] = []
    names = _kept_names(request, person, measure)
    for item in measure.items:
        if item.kind == "named_scale":
            pairs += [(f"{item.id}-{n}-name", name) for n, name in enumerate(names, start=1)]
    return Form(pairs), bool(names)


def _more_open(measure: Measure, form: Form, errors: dict[str, str]) -> bool:
    """Whether the activities beyond those offered hold a value or an error (their part opens)."""
    for item in measure.items:
        if item.repeat is None:
            continue
        for n in range(item.repeat.offered + 1, item.repeat.max + 1):
            fields = (f"{item.id}-{n}-name", f"{item.id}-{n}-value")
            if any(form.get(f) or f in errors for f in fields):
                return True
    return False


def _item_view(item: MeasureItem, lang: str) -> dict[str, Any]:
    texts: dict[str, Any] = {"text": item.text.get(lang), "help": item.help.get(lang) if item.help else None}
    if item.scale is not None:
        texts["values"] = list(range(item.scale.min, item.scale.max + 1))
        texts["scale_hint"] = {
            "min": item.scale.min,
            "max": item.scale.max,
            "min_label": item.scale.min_label.get(lang),
            "max_label": item.scale.max_label.get(lang),
        }
    if item.kind == "choice":
        texts["options"] = [(o.value, o.label.get(lang)) for o in item.options]
    if item.kind == "yes_no":
        catalogue = default_measures()
        texts["options"] = [
            ("yes", catalogue.text("answer.yes", lang)),
            ("no", catalogue.text("answer.no", lang)),
        ]
    if item.repeat is not None:
        texts["offered"], texts["max"] = item.repeat.offered, item.repeat.max
        texts["name_label"] = item.name_label.get(lang) if item.name_label else ""
    return {"id": item.id, "kind": item.kind, **texts}


def _error_labels(request: Request, measure: Measure, lang: str) -> dict[str, str]:
    """Short names of the fields for the error summary: "PEG, Frage 2", "PSFS, Tätigkeit 1"."""
    texts = web_of(request).texts
    short = measure.short.get(lang)
    labels: dict[str, str] = {}
    for number, item in enumerate(measure.items, start=1):
        if item.kind != "named_scale":
            labels[item.id] = texts.get("measures.question_label", lang, measure=short, number=number)
            continue
        assert item.repeat is not None
        for n in range(1, item.repeat.max + 1):
            legend = texts.get("measures.activity_label", lang, measure=short, number=n)
            labels[f"{item.id}-{n}-name"] = legend
            labels[f"{item.id}-{n}-value"] = legend
    return labels


def _measures(
    request: Request,
    principal: Principal,
    lang: str,
    *,
    saved: str | None = None,
    posted: tuple[str, Form] | None = None,
    errors: dict[str, str] | None = None,
    kept: bool = False,
) -> Response:
    store, person = store_of(request), person_of(principal)
    name = display_name_of(request, principal)
    status = 422 if errors else 200
    try:
        due = due_for(store, person)
        upcoming = next_due(store, person)
        report = report_for(store, person)
    except NoIntake:
        return render(request, "patient_none.html", {"name": name}, lang=lang, status=status)
    catalogue = default_measures()
    forms = []
    for item in due:
        form, kept_names = _form_for(request, person, item, posted)
        is_posted = posted is not None and posted[0] == item.measure.id
        # A new key for a new form; a form shown again with errors keeps its own (one save per form).
        key = (diary_form.form_key(form) if is_posted else None) or diary_form.new_key()
        forms.append(
            {
                "id": item.measure.id,
                "title": item.measure.title.get(lang),
                "intro": item.measure.intro.get(lang),
                "licence": item.measure.licence_note.get(lang),
                "week": item.week,
                "when": web_of(request).texts.get(
                    "measures.due_since",
                    lang,
                    week=week_label(catalogue, item.week, lang),
                    date=local_date(item.since, lang),
                ),
                "items": [_item_view(i, lang) for i in item.measure.items],
                "form": form,
                "kept_names": kept_names,
                "key": key,
                "owner": kept_forms.owner_token(web_of(request), kept_forms.MEASURES, person, key),
                "errors": errors if is_posted and errors else {},
                "more_open": _more_open(item.measure, form, errors if is_posted and errors else {}),
            }
        )
    posted_measure = catalogue.get(posted[0]) if posted is not None else None
    context: dict[str, Any] = {
        "name": name,
        "forms": forms,
        "saved_title": catalogue.get(saved).title.get(lang) if saved in catalogue.ids else None,
        "next_date": local_date(upcoming, lang) if upcoming and not due else None,
        "errors": errors or {},
        "kept": kept,
        "error_labels": _error_labels(request, posted_measure, lang) if posted_measure else {},
        "red_flag_text": report.red_flag_text.get(lang) if report.red_flag_text else None,
        "red_flag_title": followup_text("red_flag.title", lang),
    }
    return render(request, "patient_measures.html", context, lang=lang, status=status)


# ---- the course -------------------------------------------------------------------------------------------
@router.api_route(COURSE, methods=["GET", "HEAD"])
async def course_page(request: Request) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    return await run_in_threadpool(_course, request, principal, lang)


def _course(request: Request, principal: Principal, lang: str) -> Response:
    store, person = store_of(request), person_of(principal)
    name = display_name_of(request, principal)
    try:
        series = series_for(store, person)
        due = due_for(store, person)
    except NoIntake:
        return render(request, "patient_none.html", {"name": name}, lang=lang)
    context: dict[str, Any] = {
        "name": name,
        "series": [series_view(web_of(request).texts, s, lang, reader="patient") for s in series],
        "due": bool(due),
    }
    return render(request, "patient_course.html", context, lang=lang)


@router.api_route(COURSE + "/{measure_id}.svg", methods=["GET", "HEAD"])
def course_chart(request: Request, measure_id: str) -> Response:
    """One measure's chart as SVG (``reports.measure_svg``), drawn for this request only; never cached. A
    plain ``def``: FastAPI runs it in its thread pool, so the database reads never block the event loop."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    if not _MEASURE_ID.match(measure_id):
        raise PageError(404, "404")
    try:
        series = series_for(store_of(request), person_of(principal))
    except NoIntake:
        raise PageError(404, "404") from None
    found = next((s for s in series if s.measure.id == measure_id), None)
    if found is None:
        raise PageError(404, "404")
    svg = measure_chart(found, lang)
    headers = {"Cache-Control": "no-store", "Content-Disposition": "inline"}
    return Response(svg.encode("utf-8"), media_type="image/svg+xml", headers=headers)


@router.get(COURSE + "/frageboegen.csv")
async def measures_csv_export(request: Request) -> Response:
    """The measures as CSV beside the diary's; an attachment nobody caches."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    actor = data_rights.actor_of(principal, "web")
    text = await run_in_threadpool(
        partial(measures_csv, store_of(request), person_of(principal), actor=actor)
    )
    headers = {"Content-Disposition": f'attachment; filename="{CSV_FILE_NAME}"', "Cache-Control": "no-store"}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
