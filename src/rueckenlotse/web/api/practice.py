"""A practice's inbox over the API: its practices, intakes by urgency, one intake, marking it reviewed.

Readers are the practice's clinicians (session cookie, after the second factor) and its API tokens.
Another practice's id, or an intake of another practice, answers 404 exactly like one that does not
exist. Marking reviewed is a clinician's act: a token gets 403 (it is read-only).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from ...core.models import Assessment, Case, Triage
from ...services import data_rights
from ...services.auth import Principal, Role, can_read_intake, can_review_intake
from ...store.account_records import Forbidden, InboxRow, IntakeDetail
from ...store.errors import NotFound
from ...store.practices import DEFAULT_INBOX_LIMIT, Practices
from ..deps import store_of
from ..security.session import practices_of
from .auth import SignedIn
from .problems import ApiProblem, ProblemRoute, problem_responses
from .schema import ResponseModel, with_case

router = APIRouter(route_class=ProblemRoute, tags=["practice"])

NO_STORE = {"Cache-Control": "no-store"}
MAX_ID = 64
_ID = {"min_length": 1, "max_length": MAX_ID}
PracticeId = Annotated[str, Path(**_ID, description="Die Id der Praxis. / The practice's id.")]
IntakeId = Annotated[str, Path(**_ID, description="Die Id des Eingangs. / The intake's id.")]


class PracticeOut(ResponseModel):
    id: str
    name: str


class IntakeSummary(ResponseModel):
    """One line of the inbox."""

    id: str
    person_id: str = Field(description="Pseudonymous id of the person.")
    display_name: str | None = Field(description="The name the person chose, if any.")
    submitted_at: datetime
    triage: Triage
    reviewed_at: datetime | None
    warning_signs: list[str] = Field(description="Case fields that raised a red flag, e.g. saddle_numbness.")
    suspected_conditions: list[str] = Field(description="Serious conditions the warning signs point to.")


class IntakeOut(ResponseModel):
    """One intake with every answer and the assessment made from it."""

    id: str
    person_id: str
    display_name: str | None
    submitted_at: datetime
    reviewed_at: datetime | None
    knowledge_version: str
    case: Case
    assessment: Assessment


def _practices(request: Request) -> Practices:
    practices = practices_of(request)
    assert isinstance(practices, Practices)
    return practices


def _readable(principal: Principal, practice_id: str) -> None:
    if not can_read_intake(principal, practice_id):
        raise ApiProblem("not-found")


def _record(
    request: Request, principal: Principal, action: str, practice_id: str, person_id: str | None = None
) -> None:
    """The audit row of this access; a token is named by its id (looked up from the request's header)."""
    token_id = None
    if principal.role is Role.api_token:
        _, _, raw = request.headers.get("authorization", "").partition(" ")
        token_id = _practices(request).api_token_id(raw.strip())
    actor = data_rights.actor_of(principal, "api", token_id=token_id)
    store = store_of(request)
    data_rights.record(store, actor, action, person_id=person_id, practice_id=practice_id)


def _summary(row: InboxRow) -> IntakeSummary:
    intake = row.intake
    return IntakeSummary(
        id=intake.id,
        person_id=intake.person_id,
        display_name=row.display_name,
        submitted_at=intake.submitted_at,
        triage=Triage(intake.triage),
        reviewed_at=intake.reviewed_at,
        warning_signs=list(row.warning_signs),
        suspected_conditions=list(row.red_flag_conditions),
    )


def _detail(practices: Practices, practice_id: str, intake_id: str) -> IntakeDetail:
    try:
        return practices.intake_detail(practice_id, intake_id)
    except NotFound:
        raise ApiProblem("not-found") from None


@router.get(
    "/practices",
    operation_id="listPractices",
    summary="Lesbare Praxen / Readable practices",
    description="Die Praxen, deren Eingänge diese Anmeldung lesen darf (für Patientenkonten leer).\n\n"
    "The practices whose intakes this sign-in may read (empty for patient accounts).",
    response_model=list[PracticeOut],
    responses=problem_responses(401),
)
def list_practices(principal: SignedIn, request: Request) -> JSONResponse:
    practices = _practices(request)
    readable = [p for p in sorted(principal.practice_ids) if can_read_intake(principal, p)]
    out = [PracticeOut(id=p, name=practices.practice(p).name).model_dump(mode="json") for p in readable]
    return JSONResponse(out, headers=NO_STORE)


_LIMIT = Query(
    ge=1, le=DEFAULT_INBOX_LIMIT, description="Höchstens so viele Zeilen. / At most this many rows."
)
_OFFSET = Query(ge=0, le=1_000_000, description="So viele Zeilen überspringen. / Skip this many rows.")
_OPEN = Query(description="Nur noch nicht gesehene Eingänge. / Only intakes not yet reviewed.")


@router.get(
    "/practices/{practice_id}/intakes",
    operation_id="listIntakes",
    summary="Posteingang / Inbox",
    description="Die Eingänge der Praxis, dringlichste zuerst, dann neueste, mit den Warnzeichen.\n\n"
    "The practice's intakes, most urgent first, then newest, with the warning signs.",
    response_model=list[IntakeSummary],
    responses=problem_responses(401, 404, 422),
)
def list_intakes(
    practice_id: PracticeId,
    principal: SignedIn,
    request: Request,
    limit: Annotated[int, _LIMIT] = DEFAULT_INBOX_LIMIT,
    offset: Annotated[int, _OFFSET] = 0,
    only_open: Annotated[bool, _OPEN] = False,
) -> JSONResponse:
    _readable(principal, practice_id)
    rows = _practices(request).inbox(practice_id, only_open=only_open, limit=limit, offset=offset)
    _record(request, principal, "list.inbox", practice_id)
    out = [_summary(row).model_dump(mode="json") for row in rows]
    return JSONResponse(out, headers=NO_STORE)


@router.get(
    "/practices/{practice_id}/intakes/{intake_id}",
    operation_id="getIntake",
    summary="Ein Eingang mit allen Antworten / One intake with every answer",
    description="Alle Angaben (der Case) und die Einschätzung eines Eingangs der Praxis.\n\n"
    "Every answer (the Case) and the assessment of one of the practice's intakes.",
    response_model=IntakeOut,
    responses=problem_responses(401, 404, 422),
)
def get_intake(
    practice_id: PracticeId, intake_id: IntakeId, principal: SignedIn, request: Request
) -> JSONResponse:
    _readable(principal, practice_id)
    detail = _detail(_practices(request), practice_id, intake_id)
    intake = detail.intake
    _record(request, principal, "read.intake", practice_id, intake.person_id)
    out = IntakeOut(
        id=intake.id,
        person_id=intake.person_id,
        display_name=detail.person.display_name,
        submitted_at=intake.submitted_at,
        reviewed_at=intake.reviewed_at,
        knowledge_version=detail.knowledge_version,
        case=detail.case,
        assessment=detail.assessment,
    )
    return JSONResponse(with_case(out, detail.case), headers=NO_STORE)


@router.post(
    "/practices/{practice_id}/intakes/{intake_id}/review",
    operation_id="markIntakeReviewed",
    summary="Als gesehen markieren / Mark reviewed",
    description="Markiert einen Eingang als gesehen (nur Praxisteam mit Sitzung; der erste Zeitpunkt "
    "bleibt). API-Tokens dürfen das nicht (403).\n\nMarks an intake as reviewed (clinicians with a session "
    "only; the first time is kept). API tokens may not (403).",
    response_model=IntakeSummary,
    responses=problem_responses(401, 403, 404, 422),
)
def mark_reviewed(
    practice_id: PracticeId, intake_id: IntakeId, principal: SignedIn, request: Request
) -> JSONResponse:
    _readable(principal, practice_id)
    if principal.role is not Role.clinician or not can_review_intake(principal, practice_id):
        raise ApiProblem("forbidden")
    assert principal.account_id is not None  # a clinician's session always names its account
    practices = _practices(request)
    try:
        intake = practices.mark_reviewed(practice_id, intake_id, principal.account_id)
    except NotFound:
        raise ApiProblem("not-found") from None
    except Forbidden:  # removed from the practice since the session began
        raise ApiProblem("not-found") from None
    detail = _detail(practices, practice_id, intake.id)
    _record(request, principal, "review.intake", practice_id, intake.person_id)
    row = InboxRow(intake, detail.person.display_name, tuple(detail.assessment.red_flags))
    return JSONResponse(_summary(row).model_dump(mode="json"), headers=NO_STORE)
