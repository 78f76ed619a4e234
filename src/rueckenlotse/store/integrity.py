"""Integrity checks: the engine's own, dangling references, and every stored document against its model."""

from __future__ import annotations

from sqlalchemy import Connection, ForeignKeyConstraint, and_, exists, func, select
from sqlalchemy.orm import Session

from ..core.models import Assessment, Case
from ..plan.models import DiaryEntry
from .records import parse_stored
from .schema import TRIAGE_RANK, AssessmentRow, DiaryRow, PracticeIntake, metadata

# Read documents in chunks: a long diary must not be held in memory all at once.
CHUNK = 500


def sqlite_checks(connection: Connection) -> list[str]:
    problems = [
        f"integrity_check: {row[0]}"
        for row in connection.exec_driver_sql("PRAGMA integrity_check").fetchall()
        if row[0] != "ok"
    ]
    problems += [
        f"foreign_key_check: {row[0]} rowid {row[1]} → {row[2]}"
        for row in connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    ]
    return problems


def _dangling(connection: Connection, fk: ForeignKeyConstraint) -> int:
    child = fk.table
    # element.column is the referenced (parent) column, element.parent the referencing one.
    matches = and_(*(element.column == element.parent for element in fk.elements))
    present = and_(*(column.isnot(None) for column in fk.columns))
    query = select(func.count()).select_from(child).where(present, ~exists().where(matches))
    return int(connection.scalar(query) or 0)


def orphan_checks(connection: Connection) -> list[str]:
    """Rows whose reference points nowhere (possible on PostgreSQL only through manual edits or bugs)."""
    problems = []
    for table in metadata.sorted_tables:
        for fk in sorted(table.foreign_key_constraints, key=lambda c: str(c.name)):
            count = _dangling(connection, fk)
            if count:
                problems.append(f"{table.name}: {count} row(s) with dangling {fk.name}")
    return problems


def document_checks(session: Session) -> list[str]:
    """Every stored document still parses as its model and agrees with the columns copied from it."""
    problems = []
    diary = session.scalars(select(DiaryRow).execution_options(yield_per=CHUNK))
    for row in diary:
        try:
            entry = parse_stored(DiaryEntry, row.entry_json)
        except ValueError as e:
            problems.append(f"diary_entries {row.id}: invalid entry ({e.__class__.__name__})")
            continue
        if entry.max_pain != row.max_pain or entry.recorded_at != row.recorded_at:
            problems.append(f"diary_entries {row.id}: columns disagree with the entry")
    assessments = session.scalars(select(AssessmentRow).execution_options(yield_per=CHUNK))
    for a in assessments:
        try:
            parse_stored(Case, a.case_json)
            result = parse_stored(Assessment, a.assessment_json)
        except ValueError as e:
            problems.append(f"assessments {a.id}: invalid document ({e.__class__.__name__})")
            continue
        if result.triage.value != a.triage or result.knowledge_version != a.knowledge_version:
            problems.append(f"assessments {a.id}: columns disagree with the assessment")
    return problems + intake_checks(session)


def intake_checks(session: Session) -> list[str]:
    """The inbox sorts by the triage copied into each intake: it must still be its assessment's."""
    query = select(
        PracticeIntake.id, PracticeIntake.triage, PracticeIntake.triage_rank, AssessmentRow.triage
    ).join(AssessmentRow, AssessmentRow.id == PracticeIntake.assessment_id)
    return [
        f"practice_intakes {intake_id}: triage disagrees with its assessment"
        for intake_id, triage, rank, original in session.execute(query.execution_options(yield_per=CHUNK))
        if triage != original or TRIAGE_RANK.get(triage) != rank
    ]
