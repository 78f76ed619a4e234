"""The patient's pages: start, the question flow, the emergency stop, the result, the language switch.

The answers travel in a signed hidden field (see security/state.py) with every POST; nothing about a
person is kept in the process or put in a URL. Every POST checks the CSRF token first, then answers with
a redirect to ``/intake/schritt/<n>`` (post/redirect/get): the page it leads to is kept, with the signed
state, in a short-lived draft in the database (``web.intake_drafts``), so Back and reload are plain GETs
and any app server can serve them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ... import assess
from ...core.models import Assessment, Triage
from ...questionnaire import (
    Question,
    answers_to_case,
    is_answered,
    load_questionnaire,
    missing_required,
    next_question,
    previous_question,
    provisional_case,
    record_answer,
    unsure_notes,
)
from .. import intake_drafts as drafts
from ..deps import checked_form, path_for, see_other, store_of
from ..i18n import request_lang, valid_lang
from ..intake import (
    FIELD,
    FormAnswerError,
    following_question,
    is_reachable,
    question_view,
    read_answer,
    submitted_selection,
)
from ..intake_drafts import Step
from ..presenter import Presenter
from ..render import Form, PageError, render, set_lang_cookie, web_of
from ..security.state import FIELD as STATE_FIELD
from ..security.state import BadState, IntakeState
from .info import INFO_PATHS

router = APIRouter(include_in_schema=False)

VIEWS = frozenset({"question", "emergency", "result"})


@router.api_route("/", methods=["GET", "HEAD"])
async def start(request: Request) -> Response:
    lang = request_lang(request)
    return render(request, "start.html", {}, lang=lang, remember_lang="lang" in request.query_params)


@router.api_route("/intake", methods=["GET", "HEAD"])
async def intake_start(request: Request) -> Response:
    """A fresh start: the first question, no answers."""
    lang = request_lang(request)
    state = IntakeState()
    first = next_question(state.answers)
    assert first is not None  # the questionnaire is never empty (checked at load)
    return question_page(request, state, first, lang, remember_lang="lang" in request.query_params)


@router.post("/intake")
async def intake_step(request: Request) -> Response:
    """Every answer, "Zurück" and language switch: the next page is kept with the interview's draft and
    the browser is sent to it (post/redirect/get), so Back and reload never post again."""
    form = await checked_form(request)
    state = web_of(request).codec.loads(form.get(STATE_FIELD))
    switched = valid_lang(form.get("lang"))
    lang = switched or request_lang(request)
    current = _current_question(form, state)
    view = form.get("view", "question")
    if view not in VIEWS:
        raise BadState
    action = form.get("action", "next")
    if switched is not None:
        step = Step(state, current.id if current is not None else "", view)
    elif action == "back":
        step = _go_back(request, form, state, current, view, lang)
    elif action == "continue":
        step = _show_or_finish(state, current)
    elif current is None or view != "question":
        raise PageError(400, "400")
    else:
        step = _answer(request, form, state, current, lang)
    return await _go_to(request, step, switched)


@router.post("/result")
async def result(request: Request) -> Response:
    form = await checked_form(request)
    state = web_of(request).codec.loads(form.get(STATE_FIELD))
    return await _go_to(request, Step(state, "", "result"), None)


@router.api_route("/intake/schritt/{number}", methods=["GET", "HEAD"])
async def intake_page(request: Request, number: str) -> Response:
    """One page of the interview, as kept by the POST that led here; Back shows the page before."""
    lang = request_lang(request)
    kept = await run_in_threadpool(drafts.load, request, number)
    if kept is None:  # the draft expired (or the cookie is gone): start again rather than fail
        return see_other(path_for(request, "intake_start"))
    if isinstance(kept, int):  # a page number this interview does not have (any more): its latest
        return see_other(path_for(request, "intake_page", number=str(kept)))
    state, step = kept
    return _show(request, step, state, lang)


async def _go_to(request: Request, step: Step, switched: str | None) -> Response:
    token, number = await run_in_threadpool(drafts.remember, request, step)
    response = see_other(path_for(request, "intake_page", number=str(number)))
    drafts.set_cookie(request, response, token)
    if switched is not None:
        set_lang_cookie(request, response, switched)
    return response


@router.post("/lang")
async def switch_language(request: Request) -> Response:
    form = await checked_form(request)
    lang = valid_lang(form.get("lang"))
    if lang is None:
        raise PageError(400, "400")
    response = see_other(_safe_next(form.get("next")))
    set_lang_cookie(request, response, lang)
    return response


@router.api_route("/healthz", methods=["GET", "HEAD"])
def healthz(request: Request) -> Response:
    """For load balancers: 200 when this process can reach the database and could write to it.

    Honest about a full or read-only disk (503 with reason ``storage_full``, ``storage_read_only`` or
    ``storage_no_permission``) without touching the database's data: Store.write_problem looks at the data
    folder (a statvfs, access checks, one small file written and removed). A plain ``def``: FastAPI runs it
    in its thread pool, so neither the round trip to the database nor the file system blocks the event
    loop.
    """
    store = store_of(request)
    try:
        store.ping()
        problem = store.write_problem()
    except Exception:
        return JSONResponse({"status": "unavailable", "reason": "unreachable"}, status_code=503)
    if problem is not None:
        return JSONResponse({"status": "unavailable", "reason": problem.code}, status_code=503)
    return JSONResponse({"status": "ok"})


# ---- helpers -------------------------------------------------------------------------------------
# Pages the language switch may return to: plain GET pages of this site, never an open redirect.
RETURNABLE_PATHS = frozenset(
    {"/", "/intake", "/anmelden", "/registrieren", "/mein-bereich", "/mein-bereich/plan",
     "/mein-bereich/tagebuch", "/praxis"}
)  # fmt: skip
_RETURNABLE_DETAIL = re.compile(r"^(/praxis/eingang/[A-Za-z0-9_-]{1,64}|/lesen/[a-z0-9_]{1,64})$")


def _safe_next(value: object) -> str:
    """Back to the page the switch was on when it is one of ours; else the start page."""
    if isinstance(value, str) and (
        value in RETURNABLE_PATHS or value in INFO_PATHS or _RETURNABLE_DETAIL.match(value)
    ):
        return value
    return "/"


def _current_question(form: Form, state: IntakeState) -> Question | None:
    """The question the page was about; "" (end of the flow) is None. Ids not reachable are refused."""
    question_id = form.get("question", "")
    if question_id == "":
        return None
    if question_id is None or not is_reachable(question_id, state.answers):
        raise BadState
    return load_questionnaire().get(question_id)


def _show(request: Request, step: Step, state: IntakeState, lang: str) -> Response:
    """The page a step names, drawn from the interview's latest state (answers given after it stay filled
    in, as with the "Zurück" button)."""
    questionnaire = load_questionnaire()
    current = questionnaire.get(step.question_id) if step.question_id else None
    if current is not None and not is_reachable(current.id, state.answers):
        current = next_question(state.answers)  # an answer changed since: the flow's question instead
        step = Step(state, current.id if current is not None else "", "question")
    if step.view == "emergency":
        assessment = _assess(state.answers, lang)
        if assessment.triage is Triage.emergency:
            return _emergency_page(request, state, current, assessment, lang)
    if step.view == "result" or current is None:
        return _result_page(request, state, lang)
    submitted = (set(step.submitted[0]), step.submitted[1]) if step.submitted is not None else None
    status = 422 if step.error else 200
    return question_page(request, state, current, lang, submitted=submitted, error=step.error, status=status)


def _go_back(
    request: Request, form: Form, state: IntakeState, current: Question | None, view: object, lang: str
) -> Step:
    if view == "question" and current is not None:
        state = _keep_if_valid(request, form, state, current, lang)  # going back never loses what was typed
    target = previous_question(state.answers, current.id if current is not None else None)
    if target is None:
        target = current or next_question(state.answers)
    return _show_or_finish(state, target)


def _keep_if_valid(
    request: Request, form: Form, state: IntakeState, question: Question, lang: str
) -> IntakeState:
    try:
        value = read_answer(question, form.getlist(FIELD), lang, web_of(request).texts)
    except FormAnswerError:
        return state
    return replace(state, answers=record_answer(state.answers, question, value))


def _answer(request: Request, form: Form, state: IntakeState, question: Question, lang: str) -> Step:
    """Record the answer, check for an emergency, and name what comes next."""
    values = form.getlist(FIELD)
    try:
        value = read_answer(question, values, lang, web_of(request).texts)
    except FormAnswerError as e:
        chosen, text = submitted_selection(question, values)
        return Step(state, question.id, "question", error=str(e), submitted=(sorted(chosen), text))
    answers = record_answer(state.answers, question, value)
    following = following_question(answers, question)
    if question.defer_check and following is not None and not is_answered(following, answers):
        # The follow-up can lift this answer's warning (an injury a doctor has examined): check after it.
        return _show_or_finish(replace(state, answers=answers), following)
    assessment = _assess(answers, lang)
    state, alarm = _after_check(state, answers, assessment)
    if alarm:
        return Step(state, following.id if following is not None else "", "emergency")
    return _show_or_finish(state, following)


def _after_check(
    state: IntakeState, answers: Mapping[str, Any], assessment: Assessment
) -> tuple[IntakeState, bool]:
    """The new state, and whether to stop for the emergency page (only for warning signs not shown yet)."""
    if assessment.triage is not Triage.emergency:
        return replace(state, answers=answers, warned=frozenset()), False
    flags = frozenset(flag.id for flag in assessment.red_flags) or frozenset({"emergency"})
    return replace(state, answers=answers, warned=flags), bool(flags - state.warned)


def _assess(answers: Mapping[str, Any], lang: str) -> Assessment:
    return assess(provisional_case(answers), lang=lang)


def _show_or_finish(state: IntakeState, question: Question | None) -> Step:
    if question is None:
        return Step(state, "", "result")
    return Step(state, question.id, "question")


def question_page(
    request: Request,
    state: IntakeState,
    question: Question,
    lang: str,
    *,
    submitted: tuple[set[str], str] | None = None,
    error: str | None = None,
    status: int = 200,
    remember_lang: bool = False,
) -> Response:
    web = web_of(request)
    view = question_view(question, state.answers, lang, web.texts, submitted=submitted, error=error)
    context = {
        "q": view,
        "state": web.codec.dumps(state),
        "question_id": question.id,
        "view": "question",
        "emergency_call": _standing_emergency(request, state, lang),
    }
    return render(request, "question.html", context, lang=lang, status=status, remember_lang=remember_lang)


def _standing_emergency(request: Request, state: IntakeState, lang: str) -> str | None:
    """The 112 banner's text while an emergency sign stands: once the emergency page was shown (``warned``)
    and the person chose to answer more questions, every later question keeps the banner, until an answer
    is changed so that the signs no longer point to an emergency. Derived from the answers, not stored.
    None: no banner."""
    if not state.warned:
        return None
    assessment = _assess(state.answers, lang)
    if assessment.triage is not Triage.emergency:
        return None
    return Presenter(web_of(request).kb, lang).call_text(assessment) or ""


def _emergency_page(
    request: Request,
    state: IntakeState,
    following: Question | None,
    assessment: Assessment,
    lang: str,
    *,
    remember: bool = False,
) -> Response:
    web = web_of(request)
    presenter = Presenter(web.kb, lang)
    context = {
        "call_text": presenter.call_text(assessment),
        "conditions": presenter.red_flag_conditions(assessment),
        "unsure": unsure_notes(state.answers, lang),
        "state": web.codec.dumps(state),
        "question_id": following.id if following is not None else "",
        "view": "emergency",
    }
    return render(request, "emergency.html", context, lang=lang, remember_lang=remember)


def _result_page(request: Request, state: IntakeState, lang: str, *, remember: bool = False) -> Response:
    web = web_of(request)
    missing = missing_required(state.answers)
    case = provisional_case(state.answers) if missing else answers_to_case(state.answers)
    result_view = Presenter(web.kb, lang, for_patient=True).result(assess(case, lang=lang))
    incomplete = None
    if missing:
        names = ", ".join(web.texts.get(f"result.field.{name}", lang) for name in missing)
        incomplete = web.texts.get("result.incomplete", lang, fields=names)
    context = {
        "r": result_view,
        "incomplete": incomplete,
        # answers given as "not sure" were counted as present: the page says so beside the reasons
        "unsure": unsure_notes(state.answers, lang),
        "state": web.codec.dumps(state),
        "question_id": "",
        "view": "result",
        # Started from a practice's link (/p/<code>): the page offers to send the result there.
        "practice_code": state.practice_code,
        "complete": not missing,
    }
    return render(request, "result.html", context, lang=lang, remember_lang=remember)
