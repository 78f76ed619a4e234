"""A patient's own data over the API: who am I, the person, assessments, diary entries and the plan.

Every route asks the policy (``can_read_person`` / ``can_write_person``) first. Another person's id
answers 404 exactly like an id that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from ...core.models import Assessment, Case, Triage
from ...i18n.local_text import LocalText
from ...knowledge.loader import default_knowledge
from ...plan.models import DiaryEntry
from ...plan.plan_model import Plan
from ...services import data_rights
from ...services.auth import Principal, Role, can_read_person, can_write_person
from ...services.followup import EntryResult, NoIntake, add_entry, current_plan
from ...store.errors import NotFound
from ...store.repository import Store
from ...validation import parse_model_json
from ..deps import store_of
from .auth import SignedIn
from .body import parse_guarded, read_json_text
from .lang import Lang, language
from .problems import ApiProblem, ProblemRoute, problem_responses
from .schema import ResponseModel, inline_schema, with_case

router = APIRouter(route_class=ProblemRoute, tags=["persons"])

NO_STORE = {"Cache-Control": "no-store"}
MAX_ID = 64
PersonId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_ID,
        description="Die Personen-Id (siehe GET /me). / The person's id (see GET /me).",
    ),
]


class Me(ResponseModel):
    """The signed-in principal: a patient with their person id, a clinician or a practice token."""

    role: Role = Field(description="patient, clinician or api_token.")
    person_id: str | None = Field(description="The patient's own person id; null for practices.")
    practice_ids: list[str] = Field(description="The practices whose intakes this sign-in may read.")


class PersonOut(ResponseModel):
    id: str
    display_name: str | None = Field(description="The name the person chose; may be null.")
    created_at: datetime


class AssessmentOut(ResponseModel):
    id: str
    created_at: datetime
    source: str = Field(description="intake, diary_rescreen, …")
    knowledge_version: str
    case: Case
    assessment: Assessment


class DiaryEntryOut(ResponseModel):
    id: str
    created_at: datetime
    entry: DiaryEntry


class EscalationOut(ResponseModel):
    kind: str
    due_week: int
    on: date
    title: str
    reason: str


class EntryCreated(ResponseModel):
    """The stored entry and what its re-screening found."""

    id: str
    triage: Triage = Field(description="The urgency as it stands with this entry.")
    previous_triage: Triage
    escalated: bool = Field(description="True when the entry raised the urgency (a new assessment).")
    new_signs: list[str] = Field(description="Warning signs new in this entry.")
    reasons: list[str] = Field(description="Why the urgency changed, in the requested language.")
    escalations: list[EscalationOut] = Field(description="Follow-up checkpoints due with this entry.")
    standing_red_flags: list[str] = Field(
        default=[],
        description="Red flags (condition ids) of the episode that stand until a doctor has examined them; "
        "answer with examined_by_doctor in a later entry.",
    )
    held: list[str] = Field(
        default=[], description="Red flags that stand only because no doctor examined them."
    )
    examined: list[str] = Field(default=[], description="Red flags this entry's examination answer cleared.")


def _store(request: Request) -> Store:
    store = store_of(request)
    assert isinstance(store, Store)
    return store


def _readable(principal: Principal, person_id: str) -> None:
    if not can_read_person(principal, person_id):
        raise ApiProblem("not-found")


def _writable(principal: Principal, person_id: str) -> None:
    if not can_write_person(principal, person_id):
        raise ApiProblem("not-found")


@router.get(
    "/me",
    operation_id="getMe",
    summary="Wer bin ich? / Who am I?",
    description="Die Anmeldung dieser Anfrage: Rolle, eigene Personen-Id, lesbare Praxen.\n\n"
    "The sign-in of this request: role, own person id, readable practices.",
    response_model=Me,
    responses=problem_responses(401),
)
def get_me(principal: SignedIn) -> JSONResponse:
    me = Me(role=principal.role, person_id=principal.person_id, practice_ids=sorted(principal.practice_ids))
    return JSONResponse(me.model_dump(mode="json"), headers=NO_STORE)


@router.get(
    "/persons/{person_id}",
    operation_id="getPerson",
    summary="Die eigene Person / One's own person",
    description="Nur die eigene Person (Patientenkonto). / Only one's own person (patient account).",
    response_model=PersonOut,
    responses=problem_responses(401, 404, 422),
)
def get_person(person_id: PersonId, principal: SignedIn, request: Request) -> JSONResponse:
    _readable(principal, person_id)
    try:
        person = _store(request).get_person(person_id)
    except NotFound:
        raise ApiProblem("not-found") from None
    out = PersonOut(id=person.id, display_name=person.display_name, created_at=person.created_at)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


@router.get(
    "/persons/{person_id}/assessments",
    operation_id="listAssessments",
    summary="Gespeicherte Einschätzungen / Saved assessments",
    description="Alle gespeicherten Einschätzungen der eigenen Person, älteste zuerst (die Texte in der "
    "Sprache, in der sie entstanden).\n\nEvery saved assessment of one's own person, oldest first (texts in "
    "the language they were made in).",
    response_model=list[AssessmentOut],
    responses=problem_responses(401, 404, 422),
)
def list_assessments(person_id: PersonId, principal: SignedIn, request: Request) -> JSONResponse:
    _readable(principal, person_id)
    records = _store(request).list_assessments(person_id)
    out = [
        with_case(
            AssessmentOut(
                id=r.id,
                created_at=r.created_at,
                source=r.source,
                knowledge_version=r.knowledge_version,
                case=r.case,
                assessment=r.assessment,
            ),
            r.case,
        )
        for r in records
    ]
    return JSONResponse(out, headers=NO_STORE)


@router.get(
    "/persons/{person_id}/diary",
    operation_id="listDiaryEntries",
    summary="Tagebuch / Diary",
    description="Alle Tagebucheinträge der eigenen Person, nach Zeitpunkt.\n\n"
    "Every diary entry of one's own person, by time.",
    response_model=list[DiaryEntryOut],
    responses=problem_responses(401, 404, 422),
)
def list_diary(person_id: PersonId, principal: SignedIn, request: Request) -> JSONResponse:
    _readable(principal, person_id)
    out = [
        DiaryEntryOut(id=r.id, created_at=r.created_at, entry=r.entry).model_dump(mode="json")
        for r in _store(request).list_diary(person_id)
    ]
    return JSONResponse(out, headers=NO_STORE)


_DIARY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Ein Tagebucheintrag: Zeitpunkt mit Zeitzone, Schmerz 0–10 je Bereich, optional "
        "Funktion, Aktivität, Übungen, Notiz und Warnzeichen. / A diary entry: time with time zone, pain "
        "0–10 per area, optionally function, activity, exercises, a note and warning signs.",
        "content": {"application/json": {"schema": inline_schema(DiaryEntry)}},
    }
}


def _add(store: Store, person_id: str, text: str, lang: Lang) -> EntryResult:
    entry = parse_guarded(lambda: parse_model_json(DiaryEntry, text, default_knowledge(), lang), lang)
    try:
        return add_entry(store, person_id, entry, lang=lang)
    except NoIntake:
        raise ApiProblem("no-intake") from None


def _in(text: LocalText, lang: Lang) -> str:
    return text.get(lang)


def _created(result: EntryResult, lang: Lang) -> EntryCreated:
    rescreen = result.rescreen
    return EntryCreated(
        id=result.entry_id,
        triage=rescreen.assessment.triage,
        previous_triage=rescreen.previous_triage,
        escalated=rescreen.escalated,
        new_signs=list(rescreen.new_signs),
        reasons=[_in(reason, lang) for reason in rescreen.reasons],
        standing_red_flags=[f.condition for f in rescreen.standing],
        held=list(rescreen.held),
        examined=list(rescreen.examined),
        escalations=[
            EscalationOut(
                kind=e.kind,
                due_week=e.due_week,
                on=e.on,
                title=_in(e.title, lang),
                reason=_in(e.reason, lang),
            )
            for e in result.new_escalations
        ],
    )


@router.post(
    "/persons/{person_id}/diary",
    operation_id="addDiaryEntry",
    status_code=201,
    summary="Tagebucheintrag hinzufügen / Add a diary entry",
    description="Speichert einen Eintrag und prüft ihn sofort auf Warnzeichen (wie die Seite Tagebuch). "
    "Steigt die Dringlichkeit, entsteht eine neue Einschätzung. Ungültige Angaben: 422 je Feld, nichts "
    "gespeichert.\n\nStores an entry and re-screens it at once for warning signs (as the diary page does). "
    "When the urgency rises, a new assessment is stored. Invalid input: 422 per field, nothing stored.",
    response_model=EntryCreated,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
    openapi_extra=_DIARY_BODY,
)
async def add_diary_entry(
    person_id: PersonId, principal: SignedIn, request: Request, lang: Annotated[Lang, Depends(language)]
) -> JSONResponse:
    _writable(principal, person_id)
    text = await read_json_text(request, lang)
    result = await run_in_threadpool(_add, _store(request), person_id, text, lang)
    created = _created(result, lang)
    return JSONResponse(created.model_dump(mode="json"), status_code=201, headers=NO_STORE)


@router.get(
    "/persons/{person_id}/plan",
    operation_id="getPlan",
    summary="Der Plan von heute / Today's plan",
    description="Der Selbsthilfeplan, wie er heute steht: Stufe aus dem Tagebuch, ausgeschlossene Übungen, "
    "neueste Einschätzung.\n\nThe self-management plan as it stands today: level from the diary, excluded "
    "exercises, newest assessment.",
    response_model=Plan,
    responses=problem_responses(401, 404, 409, 422),
)
def get_plan(
    person_id: PersonId, principal: SignedIn, request: Request, lang: Annotated[Lang, Depends(language)]
) -> JSONResponse:
    _readable(principal, person_id)
    try:
        plan = current_plan(_store(request), person_id, lang=lang)
    except NoIntake:
        raise ApiProblem("no-intake") from None
    return JSONResponse(plan.model_dump(mode="json"), headers=NO_STORE)


class AccessOut(ResponseModel):
    """One access to the person's record: who (a practice's team or API access, the system, oneself),
    when and what; never a clinician's name or address, never anything of the record itself."""

    at: datetime
    actor: str = Field(description="patient (oneself), clinician (a practice's team), api_token, system.")
    practice_id: str | None = Field(description="The practice that acted, if any.")
    practice_name: str | None = Field(description="Its name, if the practice still exists.")
    action: str = Field(
        description="read.intake, read.intake_report, review.intake, export, purge.intake; "
        "from the command line read.report, read.diary, read.plan, read.chart; a shared course: "
        "share.grant, share.revoke, read.course, adjust.plan, undo.plan_adjustment."
    )
    channel: str = Field(description="web, api or cli.")


@router.get(
    "/persons/{person_id}/access-log",
    operation_id="getAccessLog",
    summary="Wer hat zugegriffen? / Who accessed the record?",
    description="Zugriffe auf die eigene Person, neueste zuerst: Praxisteams und API-Zugänge von Praxen, "
    "Exporte, automatische Löschungen.\n\nAccesses to one's own person, newest first: practice teams and "
    "practices' API access, exports, automatic deletions.",
    response_model=list[AccessOut],
    responses=problem_responses(401, 404, 422),
)
def get_access_log(person_id: PersonId, principal: SignedIn, request: Request) -> JSONResponse:
    _readable(principal, person_id)
    out = [
        AccessOut(
            at=e.at,
            actor=e.actor_kind,
            practice_id=e.practice_id,
            practice_name=e.practice_name,
            action=e.action,
            channel=e.channel,
        ).model_dump(mode="json")
        for e in data_rights.access_log(_store(request), person_id)
    ]
    return JSONResponse(out, headers=NO_STORE)


@router.get(
    "/persons/{person_id}/export",
    operation_id="exportPerson",
    summary="Alle eigenen Daten / All of one's own data",
    description="Alles, was über die eigene Person gespeichert ist (wie `rueckenlotse store export`), als "
    "JSON-Anhang; der Export wird protokolliert.\n\nEverything stored about one's own person (as "
    "`rueckenlotse store export`), as a JSON attachment; the export is recorded in the access log.",
    responses=problem_responses(401, 404, 422),
)
def export_person(person_id: PersonId, principal: SignedIn, request: Request) -> JSONResponse:
    _readable(principal, person_id)
    actor = data_rights.actor_of(principal, "api")
    try:
        data = data_rights.export_person(_store(request), actor, person_id)
    except NotFound:
        raise ApiProblem("not-found") from None
    headers = {**NO_STORE, "Content-Disposition": 'attachment; filename="rueckenlotse-meine-daten.json"'}
    return JSONResponse(data, headers=headers)
