"""The practice's pages: the inbox (paged, filtered, searched), one intake with every answer and the
contact details left with it, marking it reviewed, as spam, or deleting it. The public intake link
(/p/<code>) is ``practice_link``.

Every clinician page needs a clinician who has passed the second factor, and asks the policy
(``can_read_intake`` / ``can_review_intake``) for the practice before touching its data. An intake of
another practice is a 404, exactly like one that does not exist. Every change is a POST with the CSRF
token, recorded in the audit trail in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...i18n.formatting import format_day
from ...services import data_rights, sharing
from ...services.auth import Principal, can_read_intake, can_review_intake, require
from ...store.account_records import Forbidden, IntakeDetail, PracticeRecord
from ...store.errors import NotFound
from ..deps import NotAllowed, checked_form, path_for, see_other, signed_in_clinician, store_of
from ..i18n import request_lang
from ..inbox_filter import PAGE_SIZE, STATES, read_query
from ..practice_view import TRIAGES, PracticeView, RowView, format_time, local_zone
from ..presenter import Presenter
from ..render import PageError, render, web_of
from ..security.session import practices_of

router = APIRouter(include_in_schema=False)

MAX_ID = 64
MAX_CODE = 64


def _view(request: Request, lang: str) -> PracticeView:
    web = web_of(request)
    return PracticeView(web.kb, web.texts, lang)


# ---- the inbox -------------------------------------------------------------------------------------
@router.get("/praxis")
def inbox(request: Request) -> Response:
    """The practice's intakes, PAGE_SIZE a page: open ones by default, emergencies first; filters by
    state, urgency and arrival date, and a search by name or reference (a GET form: bookmarkable)."""
    try:
        principal = signed_in_clinician(request)
    except NotAllowed as e:
        return e.response
    lang = request_lang(request)
    view = _view(request, lang)
    query = read_query(request.query_params, local_zone())
    practices = practices_of(request)
    sections = []
    for practice_id in sorted(principal.practice_ids):
        _require(can_read_intake(principal, practice_id))
        total = practices.count_inbox(practice_id, query.where)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(query.page, pages)
        found = practices.inbox(
            practice_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, where=query.where
        )
        rows = [view.row(row) for row in found]  # in the inbox's order
        record_access(request, principal, "list.inbox", practice_id)
        sections.append(InboxSection(practices.practice(practice_id), rows, total, page, pages))
    sections.sort(key=lambda section: (section.practice.name, section.practice.id))
    texts = web_of(request).texts
    context = {
        "sections": sections,
        "query": query,
        "errors": {k: texts.get(v, lang) for k, v in query.errors.items()},
        "triages": [(triage, view.urgency(triage)) for triage in TRIAGES],
        "states": list(STATES),
    }
    return render(request, "practice_inbox.html", context, lang=lang, status=400 if query.errors else 200)


@dataclass(frozen=True)
class InboxSection:
    practice: PracticeRecord
    rows: list[RowView]
    total: int
    page: int
    pages: int


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
    return _detail_page(request, principal, intake_id)


def _birth_date(detail: IntakeDetail, lang: str) -> str | None:
    born = detail.contact.birth_date if detail.contact is not None else None
    return format_day(dt.date.fromisoformat(born), lang) if born else None


def _detail_page(
    request: Request, principal: Principal, intake_id: str, *, delete_error: str | None = None
) -> Response:
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
        "person": view.person(detail.person.id, detail.person.display_name, intake.reference),
        "contact": detail.contact,
        "birth_date": _birth_date(detail, lang),
        "spam": intake.spam_at is not None,
        "delete_error": delete_error,
        "signs": [label for f in _evidence(detail) if (label := view.sign_label(f)) is not None],
        "tables": view.answers(detail.case),
        "can_review": can_review_intake(principal, intake.practice_id),
        # The person shares their course with this practice (issue #18): a link to it.
        "course_shared": sharing.has_active_share(store_of(request), intake.person_id, intake.practice_id),
    }
    return render(request, "practice_detail.html", context, lang=lang, status=400 if delete_error else 200)


def _evidence(detail: IntakeDetail) -> list[str]:
    return list(dict.fromkeys(sign for flag in detail.assessment.red_flags for sign in flag.evidence))


async def _clinician_acting_on(request: Request, intake_id: str) -> tuple[Principal, IntakeDetail] | Response:
    """The signed-in clinician and the intake they act on, once the policy allows acting on it; the sign-in
    page (or the second factor's) for anyone else; 404 for an intake not theirs."""
    try:
        principal = await run_in_threadpool(signed_in_clinician, request)
    except NotAllowed as e:
        return e.response
    detail = await run_in_threadpool(find_intake, request, principal, intake_id)
    _require(can_review_intake(principal, detail.intake.practice_id))
    return principal, detail


@router.post("/praxis/eingang/{intake_id}/gesehen")
async def mark_intake_reviewed(request: Request, intake_id: str) -> Response:
    await checked_form(request)
    acting = await _clinician_acting_on(request, intake_id)
    if isinstance(acting, Response):
        return acting
    principal, detail = acting
    practice_id = detail.intake.practice_id
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


@router.post("/praxis/eingang/{intake_id}/spam")
async def mark_intake_spam(request: Request, intake_id: str) -> Response:
    """Out of the open inbox (listed under "Spam"); kept until deleted or purged."""
    await checked_form(request)
    acting = await _clinician_acting_on(request, intake_id)
    if isinstance(acting, Response):
        return acting
    principal, detail = acting
    practice_id = detail.intake.practice_id
    actor = data_rights.actor_of(principal, "web")
    try:
        await run_in_threadpool(practices_of(request).mark_spam, practice_id, detail.intake.id, actor)
    except NotFound:
        raise PageError(404, "404") from None
    return see_other(path_for(request, "inbox"))


@router.post("/praxis/eingang/{intake_id}/loeschen")
async def delete_intake(request: Request, intake_id: str) -> Response:
    """Delete for good, after the box is ticked: the intake, and the person made only for it."""
    form = await checked_form(request)
    acting = await _clinician_acting_on(request, intake_id)
    if isinstance(acting, Response):
        return acting
    principal, detail = acting
    practice_id = detail.intake.practice_id
    if form.get("bestaetigt") != "ja":
        message = web_of(request).texts.get("practice.detail.delete_needs_confirm", request_lang(request))
        return await run_in_threadpool(
            lambda: _detail_page(request, principal, intake_id, delete_error=message)
        )
    actor = data_rights.actor_of(principal, "web")
    try:
        await run_in_threadpool(practices_of(request).delete_intake, practice_id, detail.intake.id, actor)
    except NotFound:
        raise PageError(404, "404") from None
    return see_other(path_for(request, "inbox"))
