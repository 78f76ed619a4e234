"""A person's data as JSON (everything) and the diary as CSV that spreadsheets cannot execute."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.models import Region
from ..plan.models import FUNCTION_ITEMS
from . import audit, queries, shares
from .records import DiaryRecord, FeedbackRecord, MeasureRecord, ProgressCallback
from .schema import (
    Account,
    AssessmentRow,
    CalendarFeed,
    DiaryRow,
    Exclusion,
    ExerciseFeedbackRow,
    MeasureResponse,
    Person,
    PlanRow,
    Practice,
    PracticeIntake,
    ReminderSend,
    ReminderSetting,
    WebSession,
)

EXPORT_FORMAT = "rueckenlotse-export"
# 2: adds account, sessions and practice_intakes (revision 0003). 3: adds access_log (revision 0005).
# 4: adds exercise_feedback (revision 0012) and reminders (revision 0013).
# 5: adds measures (the outcome measure responses), shares and plan_adjustments (revision 0014).
EXPORT_FORMAT_VERSION = 5

# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

REGIONS: tuple[str, ...] = tuple(r.value for r in Region)
DIARY_COLUMNS: tuple[str, ...] = (
    "id",
    "recorded_at",
    "max_pain",
    *(f"pain_{region}" for region in REGIONS),
    "pain_reach",
    *(f"function_{item}" for item in FUNCTION_ITEMS),
    "activity_minutes",
    "exercises",
    "warning_signs",
    "note",
)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _iso_or_none(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def person_section(row: Person) -> dict[str, Any]:
    return {"id": row.id, "display_name": row.display_name, "created_at": _iso(row.created_at)}


def assessment_section(rows: Iterable[AssessmentRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "created_at": _iso(r.created_at),
            "source": r.source,
            "knowledge_version": r.knowledge_version,
            "triage": r.triage,
            "case": r.case_json,
            "assessment": r.assessment_json,
        }
        for r in rows
    ]


def diary_section(rows: Iterable[DiaryRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "recorded_at": _iso(r.recorded_at),
            "created_at": _iso(r.created_at),
            "entry": r.entry_json,
        }
        for r in rows
    ]


def feedback_section(rows: Iterable[ExerciseFeedbackRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "recorded_at": _iso(r.recorded_at),
            "created_at": _iso(r.created_at),
            "exercise_id": r.exercise_id,
            "done": r.done,
            "rating": r.rating,
        }
        for r in rows
    ]


def measure_section(rows: Iterable[MeasureResponse]) -> list[dict[str, Any]]:
    """The outcome measures the person filled in: answers, score and the week each answers."""
    return [
        {
            "id": r.id,
            "measure_id": r.measure_id,
            "week": r.week,
            "recorded_at": _iso(r.recorded_at),
            "created_at": _iso(r.created_at),
            "answers": r.answers_json,
            "score": r.score,
            "knowledge_version": r.knowledge_version,
        }
        for r in rows
    ]


def plan_section(rows: Iterable[PlanRow]) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "assessment_id": r.assessment_id, "created_at": _iso(r.created_at), "plan": r.plan_json}
        for r in rows
    ]


def exclusion_section(rows: Iterable[Exclusion]) -> list[dict[str, Any]]:
    return [
        {"exercise_id": r.exercise_id, "reason": r.reason, "created_at": _iso(r.created_at)} for r in rows
    ]


# The account's data, never its secrets: no password hash, no TOTP secret, no session id (the hash of a
# session's token), no throttling keys. What stays is what a person may ask to see about themselves.


def account_section(session: Session, person_id: str) -> dict[str, Any] | None:
    account = session.scalar(select(Account).where(Account.person_id == person_id))
    if account is None:
        return None
    return {
        "email": account.email,
        "role": account.role,
        "created_at": _iso(account.created_at),
        "two_factor": account.totp_confirmed,
        "disabled": account.disabled,
    }


def session_section(session: Session, person_id: str) -> list[dict[str, Any]]:
    query = (
        select(WebSession)
        .join(Account, Account.id == WebSession.account_id)
        .where(Account.person_id == person_id)
        .order_by(WebSession.created_at, WebSession.expires_at)
    )
    return [
        {
            "created_at": _iso(r.created_at),
            "last_seen_at": _iso(r.last_seen_at),
            "expires_at": _iso(r.expires_at),
            "revoked_at": _iso_or_none(r.revoked_at),
            "two_factor_passed": r.totp_passed,
        }
        for r in session.scalars(query)
    ]


def intake_section(session: Session, person_id: str) -> list[dict[str, Any]]:
    query = (
        select(PracticeIntake, Practice.name)
        .join(Practice, Practice.id == PracticeIntake.practice_id)
        .where(PracticeIntake.person_id == person_id)
        .order_by(PracticeIntake.submitted_at, PracticeIntake.id)
    )
    return [
        {
            "id": intake.id,
            "practice": name,
            "assessment_id": intake.assessment_id,
            "submitted_at": _iso(intake.submitted_at),
            "triage": intake.triage,
            "reviewed_at": _iso_or_none(intake.reviewed_at),
        }
        for intake, name in session.execute(query)
    ]


def access_section(session: Session, person_id: str) -> list[dict[str, Any]]:
    """What others did with the record (a practice's team or API access, the system), from the audit
    trail: a practice by name, never a clinician's account or a token's id. The person's own downloads
    are left out: they would make every download differ from the one before (the access page shows them)."""
    return [
        {
            "at": _iso(e.at),
            "actor": e.actor_kind,
            "practice": e.practice_name,
            "action": e.action,
            "channel": e.channel,
        }
        for e in audit.events_of_person(session, person_id, limit=audit.MAX_EVENTS)
        if e.actor_kind != "patient"
    ]


def reminder_section(session: Session, person_id: str) -> dict[str, Any]:
    """The person's reminder choice, calendar addresses (when made and revoked, never the token or its
    hash) and the reminders sent."""
    choice = session.get(ReminderSetting, person_id)
    feeds = session.scalars(
        select(CalendarFeed).where(CalendarFeed.person_id == person_id).order_by(CalendarFeed.created_at)
    )
    sends = session.scalars(
        select(ReminderSend).where(ReminderSend.person_id == person_id).order_by(ReminderSend.due_at)
    )
    return {
        "settings": None
        if choice is None
        else {
            "times": [t for t in choice.times.split(",") if t],
            "weekdays": [int(d) for d in choice.weekdays],
            "email": choice.email,
            "lang": choice.lang,
            "updated_at": choice.updated_at.isoformat(),
        },
        "calendar_feeds": [
            {
                "lang": f.lang,
                "created_at": f.created_at.isoformat(),
                "revoked_at": None if f.revoked_at is None else f.revoked_at.isoformat(),
            }
            for f in feeds
        ],
        "sent": [
            {
                "kind": s.kind,
                "due_at": s.due_at.isoformat(),
                "sent_at": None if s.sent_at is None else s.sent_at.isoformat(),
            }
            for s in sends
        ],
    }


def export_person(session: Session, person: Person, progress: ProgressCallback) -> dict[str, Any]:
    """Every section of one person's export, read within the caller's (one) transaction."""
    person_id = person.id
    sections: list[tuple[str, Callable[[], Any]]] = [
        ("account", lambda: account_section(session, person_id)),
        ("assessments", lambda: assessment_section(queries.assessments_of(session, person_id))),
        ("diary", lambda: diary_section(queries.diary_of(session, person_id))),
        ("exercise_feedback", lambda: feedback_section(queries.feedback_of(session, person_id))),
        ("measures", lambda: measure_section(queries.measures_of(session, person_id))),
        ("plans", lambda: plan_section(queries.plans_of(session, person_id))),
        ("exclusions", lambda: exclusion_section(queries.exclusions_of(session, person_id))),
        ("practice_intakes", lambda: intake_section(session, person_id)),
        ("sessions", lambda: session_section(session, person_id)),
        ("access_log", lambda: access_section(session, person_id)),
        ("reminders", lambda: reminder_section(session, person_id)),
        ("shares", lambda: shares.share_section(session, person_id)),
        ("plan_adjustments", lambda: shares.adjustment_section(session, person_id)),
    ]
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "person": person_section(person),
    }
    total = len(sections) + 1
    progress(1, total)
    for done, (name, render) in enumerate(sections, start=2):
        data[name] = render()
        progress(done, total)
    return data


def neutralise_formula(cell: str) -> str:
    """Prefix a quote so a spreadsheet shows the text instead of evaluating it."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def _diary_row(record: DiaryRecord) -> list[str]:
    entry = record.entry
    pain = {str(region): value for region, value in entry.pain.items()}
    function = {str(item): value for item, value in entry.function.items()}
    cells: list[object] = [
        record.id,
        entry.recorded_at.isoformat(),
        entry.max_pain,
        *(pain.get(region, "") for region in REGIONS),
        entry.pain_reach or "",
        *(function.get(item, "") for item in FUNCTION_ITEMS),
        entry.activity_minutes,
        "; ".join(f"{e.exercise_id}:{e.felt}" for e in entry.exercises),
        "; ".join(entry.warning_signs),
        entry.note,
    ]
    return [neutralise_formula(str(cell)) for cell in cells]


def diary_csv(records: Sequence[DiaryRecord]) -> str:
    """One line per entry, with a header; every cell is text that cannot start a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(DIARY_COLUMNS)
    for record in records:
        writer.writerow(_diary_row(record))
    return out.getvalue()


FEEDBACK_COLUMNS: tuple[str, ...] = ("id", "recorded_at", "exercise_id", "done", "rating")


def feedback_csv(records: Sequence[FeedbackRecord]) -> str:
    """The session's feedback, one line per row, with a header; cells that cannot start a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FEEDBACK_COLUMNS)
    for record in records:
        f = record.feedback
        cells = [
            record.id,
            f.recorded_at.isoformat(),
            f.exercise_id,
            "yes" if f.done else "no",
            f.rating or "",
        ]
        writer.writerow([neutralise_formula(str(cell)) for cell in cells])
    return out.getvalue()


MEASURE_COLUMNS: tuple[str, ...] = ("id", "measure_id", "week", "recorded_at", "score", "answers")


def _answers_cell(answers: dict[str, Any]) -> str:
    """The answers in one cell: ``item=value`` joined by "; " (a named activity as ``name=value``)."""
    parts: list[str] = []
    for key, value in answers.items():
        if isinstance(value, list):
            parts += [
                f"{row.get('name', '')}={row.get('value', '')}" for row in value if isinstance(row, dict)
            ]
        else:
            parts.append(f"{key}={'yes' if value is True else 'no' if value is False else value}")
    return "; ".join(parts)


def measures_csv(records: Sequence[MeasureRecord]) -> str:
    """The outcome measures, one line per response, with a header; cells that cannot start a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MEASURE_COLUMNS)
    for record in records:
        cells = [
            record.id,
            record.measure_id,
            "" if record.week is None else record.week,
            record.recorded_at.isoformat(),
            "" if record.score is None else f"{record.score:g}",
            _answers_cell(record.answers),
        ]
        writer.writerow([neutralise_formula(str(cell)) for cell in cells])
    return out.getvalue()
