"""The patient's diary: the entry form with its re-screen, the days, the escalations, and the chart.

Like every page of the patient's area, it serves only the signed-in patient's own person
(``principal.person_id``); the chart is a separate SVG response, never inlined (the CSP forbids it).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...core.errors import InvalidInput
from ...core.models import Triage
from ...i18n.zone import local_zone
from ...plan.followup_texts import render as followup_text
from ...plan.models import OFFERED_WARNING_SIGNS, PAIN_REACH_ORDER
from ...services.auth import Principal
from ...services.followup import NoIntake, add_entry, intake_of, plot_for, report_for
from ..deps import checked_form, path_for, person_of, see_other, signed_in_patient, store_of
from ..i18n import request_lang
from ..render import Form, PageError, render, web_of
from .patient import HOME, display_name_of, local_date

router = APIRouter(include_in_schema=False)


def _local_zone() -> dt.tzinfo:
    """Entries are dated in local time (RUECKENLOTSE_TIME_ZONE): a diary day is the date where written."""
    return local_zone()


DIARY_ZONE = _local_zone()


@router.api_route(HOME + "/tagebuch", methods=["GET", "HEAD"])
async def diary_page(request: Request) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    return _diary(request, principal, request_lang(request))


@router.post(HOME + "/tagebuch")
async def diary_entry(request: Request) -> Response:
    form = await checked_form(request)
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    store = store_of(request)
    try:
        regions: list[str] = list(intake_of(store, person_of(principal)).case.regions)
    except NoIntake:
        return render(request, "patient_none.html", {"name": display_name_of(request, principal)}, lang=lang)
    data, errors = _entry_data(request, form, regions, lang)
    if not errors:
        try:
            result = add_entry(store, person_of(principal), data, lang=lang)
        except InvalidInput as e:
            errors = {_field_id(error.field): error.message for error in e.errors}
        else:
            return _diary(request, principal, lang, outcome=result)
    return _diary(request, principal, lang, form=form, errors=errors, status=422)


def _entry_data(
    request: Request, form: Form, regions: list[str], lang: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The entry as DiaryEntry's raw data; numbers that are not whole numbers are field errors here."""
    texts = web_of(request).texts
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
    data: dict[str, Any] = {
        "recorded_at": dt.datetime.now(DIARY_ZONE),
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


def _whole_number(text: str | None) -> int | None:
    value = (text or "").strip()
    if not value or len(value) > 6 or not value.lstrip("-").isdigit():
        return None
    return int(value)


def _field_id(field: str) -> str:
    """The input an InvalidInput field belongs to: pain.low_back -> pain-low_back, warning_signs[0] ->
    warning_signs."""
    head = field.split("[", 1)[0]
    return head.replace(".", "-") if head.startswith("pain.") else head.split(".", 1)[0]


def _diary(
    request: Request,
    principal: Principal,
    lang: str,
    *,
    outcome: Any = None,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
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
    for record in store.list_diary(person):
        if record.entry.note:
            notes.setdefault(record.entry.recorded_at.date(), []).append(record.entry.note)
    days = [
        {
            "date": local_date(d.day, lang),
            "max_pain": d.max_pain,
            "minutes": d.activity_minutes,
            "signs": [followup_text(f"sign.{s}.label", lang) for s in d.warning_signs],
            "notes": notes.get(d.day, []),
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
    context: dict[str, Any] = {
        "name": display_name_of(request, principal),
        "regions": [(r, kb.text(f"region.{r}.label", lang)) for r in intake.case.regions],
        "reaches": [(r, followup_text(f"reach.{r}.label", lang)) for r in PAIN_REACH_ORDER],
        "signs": [(s, followup_text(f"sign.{s}.label", lang)) for s in OFFERED_WARNING_SIGNS],
        "days": days,
        "escalations": escalations,
        "outcome": _outcome(request, outcome, lang),
        "form": form or Form([]),
        "errors": errors or {},
        "chart_summary": _chart_summary(report, lang),
        # A red flag of the episode stands until a doctor examined it: say so and offer the answer.
        "red_flag_text": report.red_flag_text.get(lang) if report.red_flag_text else None,
        "exam_label": followup_text("exam.label", lang),
        "red_flag_title": followup_text("red_flag.title", lang),
        "too_few": report.too_few.get(lang) if report.too_few else None,
    }
    return render(request, "patient_diary.html", context, lang=lang, status=status)


def _outcome(request: Request, result: Any, lang: str) -> dict[str, Any] | None:
    """What a new entry changed: the re-screen's verdict (112 first in an emergency) and new escalations."""
    if result is None:
        return None
    assessment = result.rescreen.assessment
    kb = web_of(request).kb
    call = next((r.text for r in assessment.recommendations if r.id == "call_emergency"), None)
    return {
        "escalated": result.rescreen.escalated,
        "emergency": result.rescreen.escalated and assessment.triage is Triage.emergency,
        "call_text": call,
        "title": kb.text(f"triage.{assessment.triage.value}.title", lang),
        "reasons": [reason.get(lang) for reason in result.rescreen.reasons],
        "escalations": [e.title.get(lang) + ": " + e.action.get(lang) for e in result.new_escalations],
    }


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


@router.api_route(HOME + "/tagebuch/verlauf.svg", methods=["GET", "HEAD"])
def diary_chart(request: Request) -> Response:
    """The diary chart as SVG, drawn for this request only; never cached, never inlined into a page."""
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    store = store_of(request)
    person = person_of(principal)
    try:
        if not store.list_diary(person):
            raise PageError(404, "404")
        with tempfile.TemporaryDirectory(prefix="rueckenlotse-chart-") as folder:
            path = Path(folder) / "diary.svg"
            plot_for(store, person, svg_path=path, lang=lang)
            svg = path.read_bytes()
    except NoIntake:
        raise PageError(404, "404") from None
    if b"<script" in svg.lower():  # matplotlib writes none; never serve one that has
        raise PageError(500, "500")
    headers = {"Cache-Control": "no-store", "Content-Disposition": "inline"}
    return Response(svg, media_type="image/svg+xml", headers=headers)
