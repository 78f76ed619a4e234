"""The practice's shared courses (issue #18): the list, one course, and changes to the person's plan.

* ``GET /praxis/verlauf``: the courses shared with the clinician's practices now (audited ``list.courses``).
* ``GET /praxis/verlauf/{intake_id}``: one course (audited ``read.course``). A course is addressed like an
  intake in the inbox: by the id of one of the practice's intakes of the person (the list links the newest),
  never by the person's id. An intake of another practice, an unknown id and a course not (or no longer)
  shared all answer the same 404.
* ``POST /praxis/verlauf/{intake_id}/anpassen``: one change (``kind``: exclude, add, level, note), with the
  form's key (a reload or a second click changes the plan once), 303 back to the course; a refused change
  shows the page again with the error at its field (422). Read, checked and saved by ``web.course_form``.
  Posted after the clinician's session ended, a signed form is kept and saved once after signing in again
  (``web.kept_forms``, kind ``course_adjust``); refused then, the course page shows it with its errors
  (``?entwurf=1``, 422).
* ``POST /praxis/verlauf/{intake_id}/zuruecknehmen``: undo one of the practice's changes, 303 back.

Clinicians only, past the second factor (``signed_in_clinician``), asking the policy for the practice
(``can_read_course`` / ``can_adjust_plan``); every POST checks the CSRF token first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...i18n.formatting import format_day
from ...services import data_rights, sharing
from ...services.auth import Principal, Role, can_read_course, require
from ...services.sharing import NotShared, SharedCourse
from ...store.account_records import Forbidden, PracticeRecord
from .. import course_form, kept_forms
from ..course_form import CHANGES_ANCHOR, BadChange
from ..course_view import FORMS, course_context
from ..deps import NotAllowed, checked_form, path_for, see_other, signed_in_clinician, store_of
from ..i18n import request_lang
from ..practice_view import PracticeView
from ..render import PageError, render, web_of
from ..security.session import practices_of, principal_of

router = APIRouter(include_in_schema=False)

MAX_ID = course_form.MAX_ID


def _view(request: Request, lang: str) -> PracticeView:
    web = web_of(request)
    return PracticeView(web.kb, web.texts, lang)


def _require(allowed: bool) -> None:
    try:
        require(allowed)
    except Forbidden:
        raise PageError(404, "404") from None


# ---- the list ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CourseRow:
    intake_id: str
    person: str
    since: str
    last_entry: str


@dataclass(frozen=True)
class CourseSection:
    practice: PracticeRecord
    rows: list[CourseRow]


@router.get("/praxis/verlauf")
def shared_courses(request: Request) -> Response:
    try:
        principal = signed_in_clinician(request)
    except NotAllowed as e:
        return e.response
    lang = request_lang(request)
    view = _view(request, lang)
    store = store_of(request)
    actor = data_rights.actor_of(principal, "web")
    sections = []
    for practice_id in sorted(principal.practice_ids):
        _require(can_read_course(principal, practice_id))
        rows = [
            CourseRow(
                c.intake_id,
                view.person(c.person_id, c.display_name, c.reference),
                format_day(c.granted_at.date(), lang),
                format_day(c.last_entry.date(), lang)
                if c.last_entry is not None
                else view.t("share.courses.no_entry"),
            )
            for c in sharing.shared_courses(store, actor, practice_id)
        ]
        sections.append(CourseSection(practices_of(request).practice(practice_id), rows))
    sections.sort(key=lambda s: (s.practice.name, s.practice.id))
    return render(request, "practice_courses.html", {"sections": sections}, lang=lang)


# ---- one course --------------------------------------------------------------------------------------
def find_course(
    request: Request, principal: Principal, intake_id: str, *, adjusting: bool = False
) -> SharedCourse:
    """The shared course an intake of one of the principal's practices leads to; 404 for anything else."""
    found = course_form.course_for(store_of(request), principal, intake_id, adjusting=adjusting)
    if found is None:
        raise PageError(404, "404")
    return found


def _course_page(
    request: Request,
    principal: Principal,
    found: SharedCourse,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    kept_key: str | None = None,
) -> Response:
    """The course page; with ``errors`` (422) a refused change form showing ``values``; with ``kept_key``
    that form is one kept over the end of the session: it says so, and keeps its key (one save for it)."""
    lang = request_lang(request)
    actor = data_rights.actor_of(principal, "web")
    try:
        course = sharing.read_course(store_of(request), actor, found.practice_id, found.person_id, lang=lang)
    except NotShared:  # revoked between finding and reading
        raise PageError(404, "404") from None
    practice = practices_of(request).practice(found.practice_id)
    context: dict[str, Any] = course_context(
        _view(request, lang), course, practice, errors=errors, values=values
    )
    if kept_key is not None and values is not None:
        context["form_keys"][values["kind"]] = kept_key
    context["kept_change"] = kept_key is not None
    context["owners"] = _owners(request, principal, context["intake_id"], context["form_keys"])
    return render(request, "practice_course.html", context, lang=lang, status=422 if errors else 200)


def _owners(request: Request, principal: Principal, intake_id: str, keys: dict[str, str]) -> dict[str, str]:
    """Each change form's signed owner (this clinician, its key, the intake its URL names), so that a form
    posted after the session ended is kept for them (``kept_forms.COURSE_ADJUST``)."""
    web, account = web_of(request), principal.account_id or ""
    return {
        form: kept_forms.owner_token(web, kept_forms.COURSE_ADJUST, account, key, intake_id=intake_id)
        for form, key in keys.items()
    }


@router.get("/praxis/verlauf/{intake_id}")
def practice_course_page(request: Request, intake_id: str) -> Response:
    try:
        principal = signed_in_clinician(request)
    except NotAllowed as e:
        return e.response
    found = find_course(request, principal, intake_id)
    # A change kept over the end of the session and refused after signing in: shown with its errors.
    kept = kept_forms.kept(request, kept_forms.COURSE_ADJUST, principal.account_id or "")
    key = kept.form.get(course_form.FORM_KEY) if kept is not None else None
    if kept is not None and kept.errors and kept.form.get("kind") in FORMS and key:
        values = course_form.values_of(kept.form)
        return _course_page(request, principal, found, errors=kept.errors, values=values, kept_key=key)
    return _course_page(request, principal, found)


async def _acting_on(request: Request, intake_id: str) -> tuple[Principal, SharedCourse] | Response:
    try:
        principal = await run_in_threadpool(signed_in_clinician, request)
    except NotAllowed as e:
        return e.response
    found = await run_in_threadpool(lambda: find_course(request, principal, intake_id, adjusting=True))
    return principal, found


@router.post("/praxis/verlauf/{intake_id}/anpassen")
async def adjust_plan(request: Request, intake_id: str) -> Response:
    form = await checked_form(request)
    lang = request_lang(request)
    if principal_of(request).role is Role.anonymous:  # the session ended: kept when signed
        return await kept_forms.sign_in_keeping(request, kept_forms.COURSE_ADJUST, form, lang)
    acting = await _acting_on(request, intake_id)
    if isinstance(acting, Response):
        return acting
    principal, found = acting
    web, store = web_of(request), store_of(request)
    try:
        errors = await run_in_threadpool(course_form.save_change, web, store, principal, found, form, lang)
    except NotShared:
        raise PageError(404, "404") from None
    except BadChange:
        raise PageError(400, "400") from None
    if errors is not None:
        values = course_form.values_of(form)
        return await run_in_threadpool(
            lambda: _course_page(request, principal, found, errors=errors, values=values)
        )
    response = see_other(
        path_for(request, "practice_course_page", intake_id=intake_id) + f"#{CHANGES_ANCHOR}"
    )
    return await kept_forms.finished(request, kept_forms.COURSE_ADJUST, response)


@router.post("/praxis/verlauf/{intake_id}/zuruecknehmen")
async def undo_adjustment(request: Request, intake_id: str) -> Response:
    form = await checked_form(request)
    acting = await _acting_on(request, intake_id)
    if isinstance(acting, Response):
        return acting
    principal, found = acting
    adjustment_id = (form.get("adjustment") or "")[:MAX_ID]
    actor = data_rights.actor_of(principal, "web")
    try:
        await run_in_threadpool(
            sharing.undo, store_of(request), actor, found.practice_id, found.person_id, adjustment_id
        )
    except NotShared:
        raise PageError(404, "404") from None
    return see_other(path_for(request, "practice_course_page", intake_id=intake_id) + f"#{CHANGES_ANCHOR}")
