"""The practice's shared courses (issue #18): the list, one course, and changes to the person's plan.

* ``GET /praxis/verlauf``: the courses shared with the clinician's practices now (audited ``list.courses``).
* ``GET /praxis/verlauf/{intake_id}``: one course (audited ``read.course``). A course is addressed like an
  intake in the inbox: by the id of one of the practice's intakes of the person (the list links the newest),
  never by the person's id. An intake of another practice, an unknown id and a course not (or no longer)
  shared all answer the same 404.
* ``POST /praxis/verlauf/{intake_id}/anpassen``: one change (``kind``: exclude, add, level, note), with the
  form's key (a reload or a second click changes the plan once), 303 back to the course; a refused change
  shows the page again with the error at its field (422).
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
from ...services.auth import Principal, can_adjust_plan, can_read_course, require
from ...services.sharing import ChangeRefused, NotShared, PlanChange, SharedCourse
from ...store.account_records import Forbidden, PracticeRecord
from ..course_view import FORMS, course_context
from ..deps import NotAllowed, checked_form, path_for, see_other, signed_in_clinician, store_of
from ..i18n import request_lang
from ..practice_view import PracticeView
from ..render import Form, PageError, render, web_of
from ..security.session import practices_of

router = APIRouter(include_in_schema=False)

MAX_ID = 64
CHANGES_ANCHOR = "anpassungen"
# The form fields a refused change is shown at (ChangeRefused.field → the form's input id).
FIELD_IDS = {
    "exclude": {"exercise": "exclude-exercise", "note": "exclude-note"},
    "add": {"exercise": "add-exercise", "note": "add-note"},
    "level": {"level": "level-1", "exercise": "level-1", "note": "level-note"},
    "note": {"note": "note-text"},
}


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
    if not intake_id or len(intake_id) > MAX_ID:
        raise PageError(404, "404")
    store = store_of(request)
    for practice_id in sorted(principal.practice_ids):
        _require(
            can_adjust_plan(principal, practice_id) if adjusting else can_read_course(principal, practice_id)
        )
        found = sharing.find_course(store, practice_id, intake_id)
        if found is not None:
            return found
    raise PageError(404, "404")


def _course_page(
    request: Request,
    principal: Principal,
    found: SharedCourse,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
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
    return render(request, "practice_course.html", context, lang=lang, status=422 if errors else 200)


@router.get("/praxis/verlauf/{intake_id}")
def practice_course_page(request: Request, intake_id: str) -> Response:
    try:
        principal = signed_in_clinician(request)
    except NotAllowed as e:
        return e.response
    return _course_page(request, principal, find_course(request, principal, intake_id))


async def _acting_on(request: Request, intake_id: str) -> tuple[Principal, SharedCourse] | Response:
    try:
        principal = await run_in_threadpool(signed_in_clinician, request)
    except NotAllowed as e:
        return e.response
    found = await run_in_threadpool(lambda: find_course(request, principal, intake_id, adjusting=True))
    return principal, found


def _change_of(form: Form) -> PlanChange:
    kind = form.get("kind") or ""
    if kind not in FORMS:
        raise PageError(400, "400")
    level_text = (form.get("level") or "").strip()
    level = int(level_text) if level_text.isdigit() and len(level_text) <= 2 else None
    return PlanChange(
        kind=kind,
        exercise_id=(form.get("exercise") or "")[:MAX_ID] or None,
        level=level,
        note=form.get("note"),
    )


@router.post("/praxis/verlauf/{intake_id}/anpassen")
async def adjust_plan(request: Request, intake_id: str) -> Response:
    form = await checked_form(request)
    acting = await _acting_on(request, intake_id)
    if isinstance(acting, Response):
        return acting
    principal, found = acting
    change = _change_of(form)
    actor = data_rights.actor_of(principal, "web")
    lang = request_lang(request)
    try:
        await run_in_threadpool(
            lambda: sharing.adjust(
                store_of(request),
                actor,
                found.practice_id,
                found.person_id,
                change,
                form_key=form.get("form_key"),
                lang=lang,
            )
        )
    except NotShared:
        raise PageError(404, "404") from None
    except ChangeRefused as refused:
        if refused.field == "kind":
            raise PageError(400, "400") from None
        field_id = FIELD_IDS[change.kind].get(refused.field, f"{change.kind}-note")
        errors = {field_id: web_of(request).texts.get(f"share.error.{refused.reason}", lang)}
        values = {
            "kind": change.kind,
            "exercise": change.exercise_id or "",
            "level": "" if change.level is None else str(change.level),
            "note": (form.get("note") or "")[:2000],
        }
        return await run_in_threadpool(
            lambda: _course_page(request, principal, found, errors=errors, values=values)
        )
    return see_other(path_for(request, "practice_course_page", intake_id=intake_id) + f"#{CHANGES_ANCHOR}")


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
