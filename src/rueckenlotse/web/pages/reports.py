"""The report download routes of the web pages.

* ``POST /bericht``: from the result page, anyone: the signed intake state travels in the form (never in
  the URL), and the PDF is made from it. Nothing is stored.
* ``GET /mein-bereich/bericht/{kind}``: the signed-in patient's newest assessment; the clinician report
  also carries the diary chart, so a patient can hand it to a doctor.
* ``GET /praxis/eingang/{intake_id}/bericht``: a clinician's intake report of one of the practice's
  intakes (an intake of another practice is a 404, as on the detail page).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ... import assess
from ...core.errors import InvalidInput
from ...questionnaire import answers_to_case, missing_required
from ...services.followup import NoIntake, assessment_in, latest_of
from ...validation import validate_case
from ..deps import (
    NotAllowed,
    checked_form,
    path_for,
    person_of,
    see_other,
    signed_in_clinician,
    signed_in_patient,
    store_of,
)
from ..downloads import ReportKind, pdf_download, report_pdf
from ..i18n import request_lang
from ..render import PageError, web_of
from ..security.state import FIELD as STATE_FIELD
from .patient import HOME, display_name_of
from .practice import find_intake, record_access

router = APIRouter(include_in_schema=False)


def _kind(value: object) -> ReportKind:
    if value == "patient":
        return "patient"
    if value == "clinician":
        return "clinician"
    raise PageError(404, "404")


@router.post("/bericht")
async def report_from_result(request: Request) -> Response:
    form = await checked_form(request)
    lang = request_lang(request)
    kind = _kind(form.get("kind"))
    web = web_of(request)
    state = web.codec.loads(form.get(STATE_FIELD))
    if missing_required(state.answers):  # the page offers no download before every answer is in
        raise PageError(400, "400")
    try:
        case = validate_case(answers_to_case(state.answers), web.kb, lang)
    except InvalidInput:
        raise PageError(400, "400") from None
    content = await run_in_threadpool(report_pdf, kind, case, assess(case, lang=lang), lang=lang)
    return pdf_download(content, kind)


@router.get(HOME + "/bericht/{kind}")
async def report_of_patient(request: Request, kind: str) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    chosen = _kind(kind)
    store, person_id, lang = store_of(request), person_of(principal), request_lang(request)

    def make() -> bytes | None:  # reads and renders in a worker thread: the event loop never waits on them
        try:
            latest = latest_of(store, person_id)
        except NoIntake:
            return None
        label = display_name_of(request, principal)
        return report_pdf(
            chosen,
            latest.case,
            assessment_in(latest, lang),
            lang=lang,
            person_label=label,
            store=store,
            person_id=person_id,
        )

    content = await run_in_threadpool(make)
    if content is None:
        return see_other(path_for(request, "home"))
    return pdf_download(content, chosen)


@router.get("/praxis/eingang/{intake_id}/bericht")
async def report_of_intake(request: Request, intake_id: str) -> Response:
    try:
        principal = signed_in_clinician(request)
    except NotAllowed as e:
        return e.response
    detail = await run_in_threadpool(find_intake, request, principal, intake_id)
    intake = detail.intake
    await run_in_threadpool(
        record_access, request, principal, "read.intake_report", intake.practice_id, intake.person_id
    )
    # The name the person gave, else the reference both sides know, else the start of the random id.
    label = detail.person.display_name or detail.intake.reference or detail.intake.person_id[:8]
    content = await run_in_threadpool(
        lambda: report_pdf(
            "clinician", detail.case, detail.assessment, lang=request_lang(request), person_label=label
        )
    )
    return pdf_download(content, "clinician")
