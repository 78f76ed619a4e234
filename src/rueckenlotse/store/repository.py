"""The Store: every read and write of a person's data, on SQLite or PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from pydantic import ValidationError
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ..core.kb import KnowledgeBase
from ..core.models import Assessment, Case
from ..plan.models import DiaryEntry, ExerciseFeedback
from ..storage import READ_ONLY, StorageUnavailable, folder_problem
from ..validation import validate_model
from . import backup as backups
from . import backup_pg as backups_pg
from . import checkpoints, drafts, erasing, escalations, exporting, integrity
from .backup_manifest import Manifest
from .checkpoints import Checkpoint, DiaryTail
from .drafts import Draft
from .engine import (
    BEGIN_OPTION,
    is_sqlite,
    make_engine,
    postgres_where,
    sqlite_companions,
    sqlite_file,
    storage_problem,
)
from .errors import NotFound, StoreError
from .migrate import migrate
from .queries import assessments_of, diary_of, exclusions_of, feedback_of, person_row, plans_of
from .records import (
    AssessmentRecord,
    DiaryRecord,
    ExclusionRecord,
    FeedbackRecord,
    PersonRecord,
    PlanRecord,
    ProgressCallback,
)
from .schema import (
    ASSESSMENT_SOURCES,
    AssessmentRow,
    DiaryRow,
    Exclusion,
    ExerciseFeedbackRow,
    Person,
    PlanRow,
)

EXERCISE_ID = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_DISPLAY_NAME = 200
MAX_REASON = 500

# The unit of work open in this thread or task, if any: a store call made inside ``Store.atomic()`` joins
# it instead of committing on its own, so a service's several writes land together or not at all.
_OPEN_UNIT: ContextVar[tuple[Store, Session] | None] = ContextVar("rueckenlotse_open_unit", default=None)


class InvalidValue(StoreError, ValueError):
    """An argument the store refuses before touching the database."""


def _no_progress(done: int, total: int) -> None:
    """Default callback: progress is optional."""


class Store:
    """A person's data in one database. Build it with ``Store.open(url)``; close it (or use ``with``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        writer = engine.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})
        self._write_sessions = sessionmaker(writer, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | URL, *, upgrade: bool = True) -> Store:
        """Connect and bring the schema to the newest revision (creating the tables on first use)."""
        engine = make_engine(url)
        try:
            if upgrade:
                migrate(engine)
            else:
                engine.connect().close()
        except DBAPIError as e:
            engine.dispose()
            # A full or read-only disk is no damage: its own message, never "unreachable or damaged".
            raise storage_problem(e, engine.url) or _unreachable(e) from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self._engine.url)

    def ping(self) -> None:
        """One round trip to the database (the health check); raises when it cannot be reached."""
        with self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def write_problem(self) -> StorageUnavailable | None:
        """Why a write would fail now, or None: for the health check, which must not change the data.

        SQLite: the data folder is read-only, has less than storage.MIN_FREE_BYTES free, or the database
        file, its companions or the folder are not writable for us (storage.folder_problem: a statvfs,
        access checks and a small probe file written and removed beside the database).
        PostgreSQL: the server takes no writes (a standby, or default_transaction_read_only); its disk
        space is the server's to watch.
        """
        if self.is_sqlite:
            path = sqlite_file(self._engine.url)
            return None if path is None else folder_problem(path.parent, path, *sqlite_companions(path))
        with self._engine.connect() as connection:
            read_only = connection.execute(text("SELECT current_setting('transaction_read_only')")).scalar()
        if read_only != "on":
            return None
        return StorageUnavailable(READ_ONLY, postgres_where(self._engine.url))

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One session in one transaction: committed on success, rolled back on any error.

        ``write`` (the default): the transaction may write. On SQLite it then begins IMMEDIATE, taking the
        write lock first: a reader that later wants to write cannot be refused at once ("database is
        locked") because another process wrote in between; waiting for the lock honours the busy timeout
        instead. Only a transaction that surely only reads passes ``write=False`` (a plain BEGIN, which
        runs beside writers in WAL mode): a forgotten flag then costs a little concurrency, never a
        failed write.

        Inside ``atomic()`` it joins the open unit of work: the commit (or rollback) is the unit's.
        For the store's own repositories (accounts, practices); interfaces call their methods instead.
        """
        open_unit = _OPEN_UNIT.get()
        if open_unit is not None and open_unit[0] is self:
            yield open_unit[1]
            return
        sessions = self._write_sessions if write else self._sessions
        try:
            with sessions() as session, session.begin():
                token = _OPEN_UNIT.set((self, session))
                try:
                    yield session
                finally:
                    _OPEN_UNIT.reset(token)
        except DBAPIError as e:
            # A full or read-only disk (SQLite rolled the transaction back): its own typed error, which
            # the command line words and the web answers with 503. Any other database error stays as it is.
            problem = storage_problem(e, self._engine.url)
            if problem is None:
                raise
            raise problem from e

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A unit of work for a service: every store call inside commits together, or none does.

        Nested units join the outermost one. Records returned inside carry the values flushed so far
        (ids, timestamps); they become durable only when the block ends without an error.
        """
        with self.transaction():
            yield

    # --- persons --------------------------------------------------------------------------------------

    def create_person(self, display_name: str | None = None) -> PersonRecord:
        """A new pseudonymous person; the display name is optional and only for the person's own use."""
        name = clean_display_name(display_name)
        with self.transaction() as session:
            person = Person(display_name=name)
            session.add(person)
            session.flush()
            return PersonRecord.from_row(person)

    def name_person_if_unnamed(self, person_id: str, display_name: str | None) -> bool:
        """Give the person this name if they have none yet (a signed-in patient's name left with an intake
        they send to a practice); True when it was set. A name they have stays."""
        name = clean_display_name(display_name)
        if name is None:
            return False
        with self.transaction() as session:
            person = person_row(session, person_id)
            if person.display_name:
                return False
            person.display_name = name
            return True

    def lock_person(self, person_id: str) -> None:
        """Hold the person's row until the unit of work ends, so that two writers of one person's record
        (a diary entry and its re-screen) take turns. PostgreSQL: ``FOR UPDATE``; SQLite needs nothing,
        since a writing transaction there holds the one write lock from its start."""
        with self.transaction() as session:
            query = select(Person.id).where(Person.id == person_id).with_for_update()
            if session.scalar(query) is None:
                raise NotFound("person", person_id)

    def get_person(self, person_id: str) -> PersonRecord:
        with self.transaction(write=False) as session:
            return PersonRecord.from_row(person_row(session, person_id))

    def list_persons(self) -> list[PersonRecord]:
        with self.transaction(write=False) as session:
            rows = session.scalars(select(Person).order_by(Person.created_at, Person.id))
            return [PersonRecord.from_row(row) for row in rows]

    # --- assessments ----------------------------------------------------------------------------------

    def add_assessment(
        self,
        person_id: str,
        case: Case,
        assessment: Assessment,
        source: str = "intake",
        *,
        assessed_at: datetime | None = None,
    ) -> AssessmentRecord:
        """Keep a Case with its Assessment; the knowledge version is taken from the Assessment.

        ``assessed_at`` is the moment the answers describe (default: now); a diary kept on paper and
        typed in later needs the intake's real date, because the 4/6/12-week checks count from it.
        """
        if assessed_at is not None and (assessed_at.tzinfo is None or assessed_at.utcoffset() is None):
            raise InvalidValue("moment_without_zone")
        if source not in ASSESSMENT_SOURCES:
            raise InvalidValue("unknown_source", source=source)
        with self.transaction() as session:
            person_row(session, person_id)
            row = AssessmentRow(
                person_id=person_id,
                source=source,
                knowledge_version=assessment.knowledge_version,
                # Absent means "not answered"; Case rejects explicit nulls, so they are left out.
                case_json=case.model_dump(mode="json", exclude_none=True),
                assessment_json=assessment.model_dump(mode="json"),
                triage=assessment.triage.value,
            )
            if assessed_at is not None:
                row.created_at = assessed_at
            session.add(row)
            session.flush()
            return AssessmentRecord.from_row(row)

    def latest_assessment(self, person_id: str, *, source: str | None = None) -> AssessmentRecord | None:
        """The person's newest assessment (of ``source`` only, when given), without reading the others."""
        with self.transaction(write=False) as session:
            person_row(session, person_id)
            query = select(AssessmentRow).where(AssessmentRow.person_id == person_id)
            if source is not None:
                query = query.where(AssessmentRow.source == source)
            query = query.order_by(AssessmentRow.created_at.desc(), AssessmentRow.id.desc()).limit(1)
            row = session.scalars(query).first()
            return AssessmentRecord.from_row(row) if row is not None else None

    def list_assessments(self, person_id: str) -> list[AssessmentRecord]:
        """Oldest first."""
        with self.transaction(write=False) as session:
            person_row(session, person_id)
            return [AssessmentRecord.from_row(row) for row in assessments_of(session, person_id)]

    # --- diary ----------------------------------------------------------------------------------------

    def add_diary_entry(
        self,
        person_id: str,
        entry: DiaryEntry | Mapping[str, Any],
        *,
        kb: KnowledgeBase | None = None,
        lang: str = "de",
        idempotency_key: str | None = None,
    ) -> str:
        """Validate (raw data or a DiaryEntry alike), write, commit, and only then return the new id.

        Invalid input raises ``InvalidInput`` with field errors in ``lang`` and writes nothing. The
        ``idempotency_key`` (the form's) is unique per person: callers look it up first
        (``diary_entry_by_key``) under ``lock_person``, so a form posted twice saves one entry.
        """
        valid = _validated_entry(entry, kb, lang)
        with self.transaction() as session:
            person_row(session, person_id)
            row = DiaryRow(
                person_id=person_id,
                recorded_at=valid.recorded_at,
                entry_json=valid.model_dump(mode="json"),
                max_pain=valid.max_pain,
                idempotency_key=idempotency_key,
            )
            session.add(row)
            session.flush()
            entry_id = row.id
            # The re-screening checkpoint described the diary without this entry; the caller that
            # re-screened it keeps a new one (services.followup.add_entry).
            checkpoints.drop(session, person_id)
        return entry_id

    def replace_diary_entry(
        self,
        person_id: str,
        entry_id: str,
        entry: DiaryEntry | Mapping[str, Any],
        *,
        kb: KnowledgeBase | None = None,
        lang: str = "de",
    ) -> bool:
        """Write the corrected entry over the person's entry ``entry_id``; False when the person has no
        such entry. The checkpoint is dropped: the next re-screen replays the diary with the correction."""
        valid = _validated_entry(entry, kb, lang)
        with self.transaction() as session:
            row = session.get(DiaryRow, entry_id)
            if row is None or row.person_id != person_id:
                return False
            row.recorded_at = valid.recorded_at
            row.entry_json = valid.model_dump(mode="json")
            row.max_pain = valid.max_pain
            checkpoints.drop(session, person_id)
        return True

    def delete_diary_entry(self, person_id: str, entry_id: str) -> bool:
        """Delete the person's entry ``entry_id`` (and the checkpoint, which described the diary with it);
        False when the person has no such entry. Assessments it escalated to stay: they are history."""
        with self.transaction() as session:
            row = session.get(DiaryRow, entry_id)
            if row is None or row.person_id != person_id:
                return False
            checkpoints.drop(session, person_id)
            session.delete(row)
        return True

    def diary_entry_by_key(self, person_id: str, idempotency_key: str) -> str | None:
        """The id of the person's entry saved from the form with this key, if there is one."""
        with self.transaction(write=False) as session:
            query = select(DiaryRow.id).where(
                DiaryRow.person_id == person_id, DiaryRow.idempotency_key == idempotency_key
            )
            return session.scalar(query)

    # --- exercise feedback (the session's "erledigt" and ratings; part of the diary) --------------------

    def add_feedback(
        self, person_id: str, feedback: ExerciseFeedback, *, idempotency_key: str | None = None
    ) -> str:
        """Keep one exercise done and/or rated; returns the new id. The ``idempotency_key`` (the form's) is
        unique per person: callers look it up first (``feedback_by_key``) under ``lock_person``."""
        valid = ExerciseFeedback.model_validate(feedback.model_dump(), strict=True)
        with self.transaction() as session:
            person_row(session, person_id)
            row = ExerciseFeedbackRow(
                person_id=person_id,
                recorded_at=valid.recorded_at,
                exercise_id=valid.exercise_id,
                done=valid.done,
                rating=valid.rating,
                idempotency_key=idempotency_key,
            )
            session.add(row)
            session.flush()
            return row.id

    def feedback_by_key(self, person_id: str, idempotency_key: str) -> str | None:
        """The id of the person's feedback saved from the form with this key, if there is one."""
        with self.transaction(write=False) as session:
            query = select(ExerciseFeedbackRow.id).where(
                ExerciseFeedbackRow.person_id == person_id,
                ExerciseFeedbackRow.idempotency_key == idempotency_key,
            )
            return session.scalar(query)

    def list_feedback(self, person_id: str) -> list[FeedbackRecord]:
        """Oldest first (by the moment it is about, then as written)."""
        with self.transaction(write=False) as session:
            person_row(session, person_id)
            return [FeedbackRecord.from_row(row) for row in feedback_of(session, person_id)]

    def feedback_csv(self, person_id: str) -> str:
        """The session's feedback as CSV (header, one line per row), cells safe for spreadsheets."""
        return exporting.feedback_csv(self.list_feedback(person_id))

    # --- form drafts (short-lived, found by a token's hash) -------------------------------------------

    def put_draft(
        self,
        token: str,
        kind: str,
        payload: dict[str, Any],
        *,
        ttl: timedelta,
        person_id: str | None = None,
    ) -> None:
        now = datetime.now(UTC)
        with self.transaction() as session:
            drafts.put(session, token, kind, payload, now=now, expires_at=now + ttl, person_id=person_id)

    def get_draft(self, token: str | None, kind: str) -> Draft | None:
        with self.transaction(write=False) as session:
            return drafts.get(session, token, kind, now=datetime.now(UTC))

    def drop_draft(self, token: str | None) -> None:
        with self.transaction() as session:
            drafts.drop(session, token)

    def list_diary(self, person_id: str) -> list[DiaryRecord]:
        """Ordered by the time the entry is about, then as written (``schema.DIARY_ORDER``)."""
        with self.transaction(write=False) as session:
            person_row(session, person_id)
            return [DiaryRecord.from_row(row) for row in diary_of(session, person_id)]

    def diary_tail(self, person_id: str) -> DiaryTail:
        """How many entries the person's diary has, and its latest one."""
        with self.transaction(write=False) as session:
            person_row(session, person_id)
            return checkpoints.tail_of(session, person_id)

    def diary_checkpoint(self, person_id: str) -> tuple[Checkpoint | None, DiaryTail]:
        """The re-screening checkpoint (None if there is none or it cannot be read) with the diary's tail,
        read together: whether the checkpoint still describes the diary is judged on the pair."""
        with self.transaction(write=False) as session:
            person_row(session, person_id)
            return checkpoints.checkpoint_of(session, person_id), checkpoints.tail_of(session, person_id)

    def save_diary_checkpoint(self, person_id: str, checkpoint: Checkpoint) -> None:
        with self.transaction() as session:
            person_row(session, person_id)
            checkpoints.save(session, person_id, checkpoint)

    def get_diary_entry(self, entry_id: str) -> DiaryRecord:
        with self.transaction(write=False) as session:
            row = session.get(DiaryRow, entry_id)
            if row is None:
                raise NotFound("diary_entry", entry_id)
            return DiaryRecord.from_row(row)

    # --- plans ----------------------------------------------------------------------------------------

    def save_plan(self, person_id: str, assessment_id: str, plan: Mapping[str, Any]) -> str:
        """Keep a plan made from one of this person's assessments; returns its id."""
        document = _json_document(plan)
        with self.transaction() as session:
            person_row(session, person_id)
            owner = session.scalar(select(AssessmentRow.person_id).where(AssessmentRow.id == assessment_id))
            if owner != person_id:
                raise NotFound("assessment", assessment_id)
            row = PlanRow(person_id=person_id, assessment_id=assessment_id, plan_json=document)
            session.add(row)
            session.flush()
            plan_id = row.id
        return plan_id

    def latest_plan(self, person_id: str) -> PlanRecord | None:
        with self.transaction(write=False) as session:
            person_row(session, person_id)
            query = (
                select(PlanRow)
                .where(PlanRow.person_id == person_id)
                .order_by(PlanRow.created_at.desc(), PlanRow.id.desc())
                .limit(1)
            )
            row = session.scalars(query).first()
            return PlanRecord.from_row(row) if row is not None else None

    def list_plans(self, person_id: str) -> list[PlanRecord]:
        """Oldest first."""
        with self.transaction(write=False) as session:
            person_row(session, person_id)
            return [PlanRecord.from_row(row) for row in plans_of(session, person_id)]

    # --- exclusions -----------------------------------------------------------------------------------

    def add_exclusion(self, person_id: str, exercise_id: str, reason: str | None = None) -> ExclusionRecord:
        """Mark an exercise as one this person cannot do; adding it again updates the reason."""
        _check_exclusion(exercise_id, reason)
        with self.transaction() as session:
            person_row(session, person_id)
            row = session.get(Exclusion, (person_id, exercise_id))
            if row is None:
                row = Exclusion(person_id=person_id, exercise_id=exercise_id)
                session.add(row)
            row.reason = reason
            session.flush()
            return ExclusionRecord.from_row(row)

    def remove_exclusion(self, person_id: str, exercise_id: str) -> bool:
        """True if the exclusion existed."""
        with self.transaction() as session:
            person_row(session, person_id)
            query = delete(Exclusion).where(
                Exclusion.person_id == person_id, Exclusion.exercise_id == exercise_id
            )
            return _rowcount(session, query) > 0

    def list_exclusions(self, person_id: str) -> list[ExclusionRecord]:
        with self.transaction(write=False) as session:
            person_row(session, person_id)
            return [ExclusionRecord.from_row(row) for row in exclusions_of(session, person_id)]

    # --- export and erase -----------------------------------------------------------------------------

    def export_person(self, person_id: str, progress: ProgressCallback = _no_progress) -> dict[str, Any]:
        """Everything stored about one person, JSON-serialisable, read in one consistent transaction."""
        with self.transaction(write=False) as session:
            return exporting.export_person(session, person_row(session, person_id), progress)

    def diary_csv(self, person_id: str) -> str:
        """The diary as CSV (header, one line per entry); no cell can start a spreadsheet formula."""
        return exporting.diary_csv(self.list_diary(person_id))

    def erase_person(self, person_id: str) -> dict[str, int]:
        """Delete every row of this person in one transaction (with their account, its sessions and the
        intakes they submitted), then verify that none is left anywhere in the live database.

        Returns the number of deleted rows per table (tables without any are left out). Raises StoreError
        if verification finds any.
        """
        with self.transaction() as session:
            person_row(session, person_id)
            counts = erasing.erase(session, person_id)
        remaining = self.rows_of_person(person_id)
        if any(remaining.values()):
            left = ", ".join(f"{name}: {n}" for name, n in remaining.items() if n)
            raise StoreError("erase_incomplete", left=left)
        self._forget_deleted_pages()
        return counts

    def rows_of_person(self, person_id: str) -> dict[str, int]:
        """Rows per table.column(s) that belong to this person, found by looking at the live database itself
        and following its foreign keys from persons transitively (a session through its account), not only
        at our own schema."""
        with self._engine.connect() as connection:
            return erasing.person_row_counts(connection, person_id)

    def _forget_deleted_pages(self) -> None:
        # With secure_delete the freed pages are zeroed; the checkpoint also clears them out of the WAL.
        if self.is_sqlite:
            with self._engine.connect() as connection:
                raw = connection.connection.driver_connection
                assert raw is not None
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # --- integrity, backup, restore -------------------------------------------------------------------

    def integrity_check(self) -> list[str]:
        """Problems found (empty when all is well): engine checks, dangling references, invalid documents,
        and warning signs stored without their escalation."""
        with self.transaction(write=False) as session:
            connection = session.connection()
            problems = integrity.sqlite_checks(connection) if self.is_sqlite else []
            problems += integrity.orphan_checks(connection)
            problems += integrity.document_checks(session)
            problems += escalations.escalation_checks(session)
            return problems

    def backup(self, path: str | Path, key: bytes, progress: ProgressCallback = _no_progress) -> Manifest:
        """Write a complete, consistent copy to ``path`` (a SQLite file, or a pg_dump custom archive) and
        its manifest, signed with ``key``, beside it (``path.manifest.json``)."""
        if self.is_sqlite:
            return backups.sqlite_backup(self._engine, Path(path), key, progress)
        return backups_pg.pg_backup(self._engine, Path(path), key, progress)

    def restore(
        self, path: str | Path, key: bytes, progress: ProgressCallback = _no_progress
    ) -> dict[str, int]:
        """Replace the whole database by a backup signed with ``key``, after checking it completely in a
        private copy (signature, manifest, schema, integrity, documents); a backup that fails any check
        changes nothing. Everyone signs in again. Returns the rows per table now in the database."""
        if self.is_sqlite:
            return backups.sqlite_restore(self._engine, Path(path), key, progress)
        return backups_pg.pg_restore(self._engine, Path(path), key, progress)


# --- helpers ------------------------------------------------------------------------------------------


def clean_display_name(display_name: str | None) -> str | None:
    """Trimmed; blank means none; too long is refused."""
    name = (display_name or "").strip() or None
    if name is not None and len(name) > MAX_DISPLAY_NAME:
        raise InvalidValue("display_name_too_long", limit=MAX_DISPLAY_NAME)
    return name


def _rowcount(session: Session, statement: Any) -> int:
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0))


def _validated_entry(
    entry: DiaryEntry | Mapping[str, Any], kb: KnowledgeBase | None, lang: str
) -> DiaryEntry:
    """Validate again even a DiaryEntry: one built with model_construct() skipped every check."""
    data = entry.model_dump() if isinstance(entry, DiaryEntry) else entry
    if isinstance(data, Mapping):
        try:
            return DiaryEntry.model_validate(dict(data), strict=True)
        except ValidationError:
            pass  # fall through for field errors in the user's language
    if kb is None:
        from ..knowledge import default_knowledge  # loaded only when there is an error to explain

        kb = default_knowledge()
    return validate_model(DiaryEntry, data, kb, lang)


def _json_document(value: Mapping[str, Any]) -> dict[str, Any]:
    """The value exactly as it will read back from the database (tuples become lists and so on)."""
    try:
        document = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as e:
        raise InvalidValue("plan_not_json", detail=str(e)) from None
    assert isinstance(document, dict)
    return document


def _check_exclusion(exercise_id: str, reason: str | None) -> None:
    if not EXERCISE_ID.match(exercise_id):
        raise InvalidValue("exercise_id_invalid", exercise_id=exercise_id)
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidValue("reason_too_long", limit=MAX_REASON)


def _unreachable(error: DBAPIError) -> StoreError:
    detail = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    return StoreError("database_unreachable", detail=detail)
