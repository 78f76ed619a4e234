"""The practice's pages: the inbox, one intake with every answer, marking it reviewed; and the practice's
intake link (/p/<code>), which runs the normal intake and lets the patient send the result to the practice.

Every clinician page needs a clinician who has passed the second factor, and asks the policy
(``can_read_intake`` / ``can_review_intake``) for the practice before touching its data. An intake of
another practice is a 404, exactly like one that does not exist. The intake link puts nothing about the
person in a URL: the practice code (not health data) is the only variable part.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...core.errors import InvalidCase
from ...core.models import Case, Triage
from ...questionnaire import answers_to_case, effective_answers, missing_required, next_question
from ...services import data_rights
from ...services.auth import Principal, can_read_intake, can_review_intake, require
from ...services.followup import record_intake
from ...store.account_records import Forbidden, IntakeDetail, PracticeRecord
from ...store.errors import NotFound
from ...validation import validate_case
from ..deps import NotAllowed, checked_form, path_for, see_other, signed_in_clinician, store_of
from ..i18n import request_lang
from ..practice_view import PracticeView, format_time
from ..presenter import Presenter
from ..render import PageError, render, web_of
from ..security.session import practices_of
from ..security.state import FIELD as STATE_FIELD
from ..security.state import IntakeState
from .home import question_page

router = APIRouter(include_in_schema=False)

MAX_ID = 64
MAX_CODE = 64


def _view(request: Request, lang: str) -> PracticeView:
    web = web_of(request)
    return PracticeView(web.kb, web.texts, lang)


# ---- the inbox -------------------------------------------------------------------------------------
@router.get("/praxis")
def inbox(request: Request) -> Response:
    try:
        principal = signed_in_clinician(request)
    except NotAllowed as e:
        return e.response
    lang = request_lang(request)
    view = _view(request, lang)
    practices = practices_of(request)
    sections = []
    for practice_id in sorted(principal.practice_ids):
        _require(can_read_intake(principal, practice_id))
        rows = [view.row(row) for row in practices.inbox(practice_id)]  # in the inbox's order
        record_access(request, principal, "list.inbox", practice_id)
        sections.append((practices.practice(practice_id), rows))
    sections.sort(key=lambda section: (section[0].name, section[0].id))
    return render(request, "practice_inbox.html", {"sections": sections}, lang=lang)


def _require(allowed: bool) -> None:
    try:
        require(allowed)
    except Forbidden:
        raise PageError(404, "404") from None


def record_access(
    request: Request, principal: Principal, action: str, practice_id: str, person_id: str | None = None
) -> None:
    """The audit row of a clinician's access (one INSERT right after the read)."""
    store = store_of(request)
    actor = data_rights.actor_of(principal, "web")
    data_rights.record(store, actor, action, person_id=person_id, practice_id=practice_id)


def find_intake(request: Request, principal: Principal, intake_id: str) -> IntakeDetail:
    """The intake among the principal's practices; 404 for anything else (another practice's, too)."""
    if not intake_id or len(intake_id) > MAX_ID:
        raise PageError(404, "404")
    practices = practices_of(request)
    for practice_id in sorted(principal.practice_ids):
        _require(can_read_intake(principal, practice_id))
        try:
            return practices.intake_detail(practice_id, intake_id)
        except NotFound:
            continue
    raise PageError(404, "404")


# ---- one intake ------------------------------------------------------------------------------------
@router.get("/praxis/eingang/{intake_id}")
def intake_detail(request: Request, intake_id: str) -> Response:
    try:
        principal = signed_in_clinician(request)
    except NotAllowed as e:
        return e.response
    lang = request_lang(request)
    detail = find_intake(request, principal, intake_id)
    record_access(request, principal, "read.intake", detail.intake.practice_id, detail.intake.person_id)
    view = _view(request, lang)
    web = web_of(request)
    intake = detail.intake
    context = {
        "intake": intake,
        "r": Presenter(web.kb, lang).result(detail.assessment),
        "urgency": view.urgency(intake.triage),
        "submitted": format_time(intake.submitted_at, lang),
        "reviewed": format_time(intake.reviewed_at, lang) if intake.reviewed_at else None,
        "person": view.person(detail.person.id, detail.person.display_name),
        "signs": [label for f in _evidence(detail) if (label := view.sign_label(f)) is not None],
        "tables": view.answers(detail.case),
        "can_review": can_review_intake(principal, intake.practice_id),
    }
    return render(request, "practice_detail.html", context, lang=lang)


def _evidence(detail: IntakeDetail) -> list[str]:
    return list(dict.fromkeys(sign for flag in detail.assessment.red_flags for sign in flag.evidence))


@router.post("/praxis/eingang/{intake_id}/gesehen")
async def mark_intake_reviewed(request: Request, intake_id: str) -> Response:
    await checked_form(request)
    try:
        principal = await run_in_threadpool(signed_in_clinician, request)
    except NotAllowed as e:
        return e.response
    detail = await run_in_threadpool(find_intake, request, principal, intake_id)
    practice_id = detail.intake.practice_id
    _require(can_review_intake(principal, practice_id))
    assert principal.account_id is not None  # a clinician always has an account
    try:
        await run_in_threadpool(
            practices_of(request).mark_reviewed, practice_id, detail.intake.id, principal.account_id
        )
    except (Forbidden, NotFound):
        raise PageError(404, "404") from None
    intake = detail.intake
    await run_in_threadpool(record_access, request, principal, "review.intake", practice_id, intake.person_id)
    return see_other(path_for(request, "intake_detail", intake_id=intake.id))


# ---- the practice's intake link --------------------------------------------------------------------
def _practice_for(request: Request, code: str) -> PracticeRecord:
    practice = practices_of(request).practice_by_code(code) if len(code) <= MAX_CODE else None
    if practice is None:
        raise PageError(404, "practice_code")
    return practice


@router.get("/p/{code}")
def practice_link(request: Request, code: str) -> Response:
    """The normal intake, with the practice's code carried in the signed state."""
    practice = _practice_for(request, code)
    lang = request_lang(request)
    state = IntakeState(practice_code=practice.intake_code, nonce=secrets.token_urlsafe(16))
    first = next_question(state.answers)
    assert first is not None  # the questionnaire is never empty (checked at load)
    return question_page(request, state, first, lang, remember_lang="lang" in request.query_params)


@router.post("/p/{code}/senden")
async def send_to_practice(request: Request, code: str) -> Response:
    form = await checked_form(request)
    lang = request_lang(request)
    state = web_of(request).codec.loads(form.get(STATE_FIELD))
    practice = await run_in_threadpool(_practice_for, request, code)
    if state.practice_code != practice.intake_code:
        raise PageError(400, "400")
    if missing_required(state.answers):
        raise PageError(400, "practice_incomplete")
    try:
        case = validate_case(answers_to_case(state.answers), web_of(request).kb, lang)
    except InvalidCase:
        raise PageError(400, "practice_incomplete") from None
    key = submission_key(practice, state)
    triage = await run_in_threadpool(_submit, request, practice, case, key, lang)
    context = {"practice_name": practice.name, "emergency": triage is Triage.emergency}
    return render(request, "practice_sent.html", context, lang=lang)


def submission_key(practice: PracticeRecord, state: IntakeState) -> str | None:
    """Names one result of one intake: a double click, a reload or back-and-send again gives the same key,
    other answers give another. The intake's random nonce keeps two people with the same answers apart.
    None for states written before the nonce existed (those are sent as before, without the check)."""
    if state.nonce is None:
        return None
    # Only the answers that count: one left over from a branch the person went back out of changes nothing.
    answers = json.dumps(effective_answers(state.answers), sort_keys=True, separators=(",", ":"))
    text = "\x00".join(("rueckenlotse.practice-send.v1", practice.id, state.nonce, answers))
    return hashlib.sha256(text.encode()).hexdigest()


def _submit(request: Request, practice: PracticeRecord, case: Case, key: str | None, lang: str) -> Triage:
    """A new pseudonymous person with this intake, attached to the practice; nothing new when this
    result was sent before (the first send's intake stands)."""
    practices = practices_of(request)
    if key is not None and (sent := practices.intake_by_submission(practice.id, key)) is not None:
        return Triage(sent.triage)
    store = store_of(request)
    person = store.create_person()
    result = record_intake(store, person.id, case, lang=lang)
    intake = practices.submit_intake(practice.id, person.id, result.record.id, submission_key=key)
    if intake.assessment_id != result.record.id:
        # Another process stored the same send a moment earlier: that intake stands, this copy goes.
        store.erase_person(person.id)
    return Triage(intake.triage)
