"""Practices: members, the intake code, submitted intakes (inbox, detail, review) and API tokens.

Every method that reads or changes intakes takes the practice id and filters by it in the query itself:
an intake of another practice is NotFound, exactly like one that does not exist (no BOLA, no hint).
Deciding *which* practice ids the caller may act for is the caller's part
(``rueckenlotse.services.auth.can_read_intake``); ``mark_reviewed`` also checks membership itself.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.models import Assessment, Case, RedFlag
from . import audit, erasing
from .account_records import (
    AccountRecord,
    ApiTokenRecord,
    Forbidden,
    InboxRow,
    IntakeContact,
    IntakeDetail,
    IntakeRecord,
    PracticeRecord,
    intake_not_found,
)
from .accounts import account_not_found, aware, practice_not_found
from .engine import BEGIN_OPTION
from .errors import NotFound, Term, person_not_found
from .records import PersonRecord, parse_stored
from .repository import InvalidValue, Store
from .schema import (
    DIGEST_LENGTH,
    TRIAGE_RANK,
    Account,
    ApiToken,
    AssessmentRow,
    DiaryRow,
    Exclusion,
    Person,
    Practice,
    PracticeIntake,
    PracticeMember,
)
from .sealing import Sealer

# Lower-case letters and digits without the look-alikes (0/o, 1/l/i): readable aloud and typeable.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 20  # 31^20 ≈ 2^99: not guessable, even by trying codes for years
API_TOKEN_PREFIX = "rlp_"  # lets secret scanners recognise a leaked token
MAX_PRACTICE_NAME = 200
MAX_TOKEN_NAME = 100
# An API token works for a year unless made for less; at most five years.
API_TOKEN_LIFETIME = timedelta(days=365)
MAX_API_TOKEN_LIFETIME = timedelta(days=5 * 365)
DEFAULT_INBOX_LIMIT = 500
REFERENCE_CHARS = 8  # 31^8 ≈ 8·10^11 per practice: never the same twice in practice, short to read aloud
MAX_SEARCH = 100
InboxState = Literal["open", "reviewed", "spam", "all"]


@dataclass(frozen=True)
class InboxFilter:
    """Which intakes an inbox page lists. ``open`` leaves out reviewed and spam; ``all`` leaves out spam;
    dates are aware moments (the caller turns the practice's local days into them); ``search`` matches
    the reference (with or without the hyphen) or a part of the name."""

    state: InboxState = "all"
    triage: str | None = None
    since: datetime | None = None
    before: datetime | None = None
    search: str | None = None


def new_reference() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(REFERENCE_CHARS)).upper()
    return f"{raw[:4]}-{raw[4:]}"


def normalise_reference(text: str) -> str | None:
    """A typed reference as stored ("k7mp 4qxa" -> "K7MP-4QXA"), or None if it cannot be one."""
    raw = normalise_code(text).upper()
    if len(raw) != REFERENCE_CHARS or any(ch.lower() not in CODE_ALPHABET for ch in raw):
        return None
    return f"{raw[:4]}-{raw[4:]}"


def contact_place(intake_id: str) -> str:
    """The sealed contact details open only in their own row (``store.sealing``)."""
    return f"practice_intakes.contact_sealed/{intake_id}"


@dataclass(frozen=True)
class PurgeCounts:
    """What a retention purge removed (or, with dry_run, would remove)."""

    intakes: int  # reviewed intakes past the retention time
    persons: int  # pseudonymous persons (no account) erased with their last intake
    kept_patients: int  # intakes of persons who stay (an account, a diary…): only the intake goes


def new_intake_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """What people type or paste: case, spaces and hyphens (e.g. from a printed ``abcd-efgh-…``) ignored."""
    return "".join(ch for ch in code.lower() if ch not in " -\t\r\n")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _name(value: str, limit: int, what: str) -> str:
    name = value.strip()
    if not name or len(name) > limit:
        raise InvalidValue("name_length", what=Term(f"domain.what.{what}"), limit=limit)
    return name


class Practices:
    """Practices and what is submitted to them, on one Store."""

    def __init__(self, store: Store, *, sealer: Sealer | None = None) -> None:
        self._store = store
        self._sealer = sealer

    # --- practices and members ------------------------------------------------------------------------

    def create_practice(self, name: str) -> PracticeRecord:
        clean = _name(name, MAX_PRACTICE_NAME, "practice_name")
        with self._store.transaction() as session:
            practice = Practice(name=clean, intake_code=new_intake_code())
            session.add(practice)
            session.flush()
            return PracticeRecord.from_row(practice)

    def practice(self, practice_id: str) -> PracticeRecord:
        with self._store.transaction(write=False) as session:
            return PracticeRecord.from_row(_practice(session, practice_id))

    def practice_by_code(self, code: str) -> PracticeRecord | None:
        """The practice of an intake link or typed code, or None."""
        normal = normalise_code(code)
        if len(normal) != CODE_LENGTH:
            return None
        with self._store.transaction(write=False) as session:
            row = session.scalar(select(Practice).where(Practice.intake_code == normal))
            return PracticeRecord.from_row(row) if row is not None else None

    def rotate_intake_code(self, practice_id: str) -> PracticeRecord:
        """A new intake code (the old link stops working), e.g. after it was shared too widely."""
        with self._store.transaction() as session:
            practice = _practice(session, practice_id)
            practice.intake_code = new_intake_code()
            session.flush()
            return PracticeRecord.from_row(practice)

    def add_member(self, practice_id: str, account_id: str) -> None:
        """Make a clinician account a member (again is fine); patient accounts cannot be members."""
        with self._store.transaction() as session:
            _practice(session, practice_id)
            account = session.get(Account, account_id)
            if account is None:
                raise account_not_found(account_id)
            if account.role != "clinician":
                raise InvalidValue("not_clinician_account")
            if session.get(PracticeMember, (practice_id, account_id)) is None:
                session.add(PracticeMember(practice_id=practice_id, account_id=account_id))

    def remove_member(self, practice_id: str, account_id: str) -> bool:
        """True if the account was a member. Its sessions lose the practice with their next request."""
        with self._store.transaction() as session:
            member = session.get(PracticeMember, (practice_id, account_id))
            if member is None:
                return False
            session.delete(member)
            return True

    def members(self, practice_id: str) -> list[AccountRecord]:
        with self._store.transaction(write=False) as session:
            _practice(session, practice_id)
            query = (
                select(Account)
                .join(PracticeMember, PracticeMember.account_id == Account.id)
                .where(PracticeMember.practice_id == practice_id)
                .order_by(Account.email)
            )
            return [AccountRecord.from_row(row) for row in session.scalars(query)]

    def practices_of(self, account_id: str) -> list[PracticeRecord]:
        with self._store.transaction(write=False) as session:
            query = (
                select(Practice)
                .join(PracticeMember, PracticeMember.practice_id == Practice.id)
                .where(PracticeMember.account_id == account_id)
                .order_by(Practice.name, Practice.id)
            )
            return [PracticeRecord.from_row(row) for row in session.scalars(query)]

    # --- intakes --------------------------------------------------------------------------------------

    def submit_intake(
        self,
        practice_id: str,
        person_id: str,
        assessment_id: str,
        *,
        submission_key: str | None = None,
        receipt_hash: str | None = None,
        contact: IntakeContact | None = None,
        now: datetime | None = None,
    ) -> IntakeRecord:
        """Attach one of the person's assessments to the practice (submitting it again returns the first).

        ``submission_key`` names what the browser sent (one result of one intake): when the practice has
        an intake with this key already, that intake is returned and nothing is added, even if it holds
        another assessment. The caller sees this by ``assessment_id`` and drops its own copy. The unique
        index decides between concurrent requests, so this holds across processes.

        The caller must have established that the acting user may share this person's data: the person
        was just created for an anonymous intake link, or it is the signed-in patient's own person.

        A new intake gets a reference code; ``receipt_hash`` (a digest of the person's receipt token) and
        ``contact`` (phone, e-mail, date of birth: sealed, so this needs a sealer) are kept with it.
        """
        for digest in (submission_key, receipt_hash):
            if digest is not None and len(digest) != DIGEST_LENGTH:
                raise InvalidValue("submission_key_invalid")
        moment = aware(now)
        try:
            with _writing(self._store) as session:
                new = _new_intake(session, practice_id, person_id, assessment_id, moment, submission_key)
                if new.reference is None:  # a new row (an existing one keeps what it has)
                    new.reference = new_reference()
                    new.receipt_hash = receipt_hash
                    new.contact_sealed = self._seal_contact(new.id, contact)
                    session.flush()
                return IntakeRecord.from_row(new)
        except IntegrityError:
            # The same assessment or result submitted twice at the same moment: the other row stands.
            with self._store.transaction() as session:
                existing = _existing_intake(session, practice_id, assessment_id, submission_key)
                if existing is None:
                    raise NotFound("assessment", assessment_id) from None
                return IntakeRecord.from_row(existing)

    def intake_by_submission(self, practice_id: str, submission_key: str) -> IntakeRecord | None:
        """The practice's intake sent under this key, or None."""
        with self._store.transaction(write=False) as session:
            row = _existing_intake(session, practice_id, None, submission_key)
            return IntakeRecord.from_row(row) if row is not None else None

    def _seal_contact(self, intake_id: str, contact: IntakeContact | None) -> str | None:
        if contact is None:
            return None
        rest = {k: v for k, v in asdict(contact).items() if k != "name" and v}
        if not rest:
            return None
        if self._sealer is None:
            raise RuntimeError("Practices needs a sealer to keep contact details")
        text = json.dumps(rest, sort_keys=True, separators=(",", ":"))
        return self._sealer.seal(text, contact_place(intake_id))

    def _open_contact(self, row: PracticeIntake, name: str | None) -> IntakeContact | None:
        values: dict[str, str] = {}
        if row.contact_sealed is not None:
            if self._sealer is None:
                raise RuntimeError("Practices needs a sealer to open contact details")
            values = json.loads(self._sealer.open(row.contact_sealed, contact_place(row.id)))
        contact = IntakeContact(name=name, **{k: v for k, v in values.items() if k != "name"})
        return None if contact.empty else contact

    def inbox(
        self,
        practice_id: str,
        *,
        only_open: bool = False,
        limit: int = DEFAULT_INBOX_LIMIT,
        offset: int = 0,
        where: InboxFilter | None = None,
    ) -> list[InboxRow]:
        """The practice's intakes, most urgent first, then newest first; with the warning signs.
        ``where`` narrows them (see ``InboxFilter``); without it, every intake but those marked spam."""
        query = (
            select(PracticeIntake, Person.display_name, AssessmentRow.assessment_json)
            .join(Person, Person.id == PracticeIntake.person_id)
            .join(AssessmentRow, AssessmentRow.id == PracticeIntake.assessment_id)
            .where(PracticeIntake.practice_id == practice_id)
            .order_by(
                PracticeIntake.triage_rank.desc(),
                PracticeIntake.submitted_at.desc(),
                PracticeIntake.id,
            )
            .limit(max(0, limit))
            .offset(max(0, offset))
        )
        if only_open:
            query = query.where(PracticeIntake.reviewed_at.is_(None))
        query = query.where(*_conditions(where or InboxFilter()))
        with self._store.transaction(write=False) as session:
            return [
                InboxRow(IntakeRecord.from_row(intake), name, _red_flags(document))
                for intake, name, document in session.execute(query)
            ]

    def count_inbox(self, practice_id: str, where: InboxFilter) -> int:
        """How many intakes ``inbox`` lists with this filter (for paging)."""
        query = (
            select(func.count())
            .select_from(PracticeIntake)
            .join(Person, Person.id == PracticeIntake.person_id)
            .where(PracticeIntake.practice_id == practice_id, *_conditions(where))
        )
        with self._store.transaction(write=False) as session:
            return int(session.scalar(query) or 0)

    def receipt(self, receipt_hash: str) -> tuple[PracticeRecord, IntakeDetail] | None:
        """The practice and intake a person's receipt names (their own result), or None."""
        if len(receipt_hash) != DIGEST_LENGTH:
            return None
        with self._store.transaction(write=False) as session:
            row = session.scalar(select(PracticeIntake).where(PracticeIntake.receipt_hash == receipt_hash))
            if row is None:
                return None
            practice = _practice(session, row.practice_id)
            return PracticeRecord.from_row(practice), self._detail(session, row)

    def mark_spam(
        self, practice_id: str, intake_id: str, actor: audit.Actor, *, now: datetime | None = None
    ) -> IntakeRecord:
        """Mark an intake of this practice as spam (out of the open inbox), recorded in the audit trail."""
        moment = aware(now)
        with self._store.transaction() as session:
            intake = _intake(session, practice_id, intake_id)
            if intake.spam_at is None:
                intake.spam_at = moment
            audit.record(
                session, actor, "spam.intake", person_id=intake.person_id, practice_id=practice_id, now=moment
            )
            session.flush()
            return IntakeRecord.from_row(intake)

    def delete_intake(
        self, practice_id: str, intake_id: str, actor: audit.Actor, *, now: datetime | None = None
    ) -> None:
        """Delete an intake of this practice now, as the retention purge would: a person made only for
        it is erased with it (contact details too); recorded in the audit trail."""
        moment = aware(now)
        with _writing(self._store) as session:
            intake = _intake(session, practice_id, intake_id)
            old = [(intake.id, intake.practice_id, intake.person_id, intake.assessment_id)]
            erased = _persons_to_erase(session, old)
            kept = None if intake.person_id in erased else intake.person_id
            audit.record(session, actor, "delete.intake", person_id=kept, practice_id=practice_id, now=moment)
            session.execute(delete(PracticeIntake).where(PracticeIntake.id == intake.id))
            for person_id in sorted(erased):
                erasing.erase(session, person_id)

    def intake_detail(self, practice_id: str, intake_id: str) -> IntakeDetail:
        """One intake with all answers; NotFound unless it was submitted to this practice."""
        with self._store.transaction(write=False) as session:
            return self._detail(session, _intake(session, practice_id, intake_id))

    def _detail(self, session: Session, intake: PracticeIntake) -> IntakeDetail:
        assessment = session.get(AssessmentRow, intake.assessment_id)
        person = session.get(Person, intake.person_id)
        if assessment is None or person is None:  # the foreign keys make this impossible
            raise intake_not_found(intake.id)
        return IntakeDetail(
            intake=IntakeRecord.from_row(intake),
            person=PersonRecord.from_row(person),
            case=parse_stored(Case, assessment.case_json),
            assessment=parse_stored(Assessment, assessment.assessment_json),
            knowledge_version=assessment.knowledge_version,
            contact=self._open_contact(intake, person.display_name),
        )

    def mark_reviewed(
        self, practice_id: str, intake_id: str, account_id: str, *, now: datetime | None = None
    ) -> IntakeRecord:
        """Mark an intake of this practice as reviewed by a member; the first review's time is kept.

        Forbidden unless the account is a clinician of this practice; NotFound for another practice's
        intake."""
        moment = aware(now)
        with self._store.transaction() as session:
            if session.get(PracticeMember, (practice_id, account_id)) is None:
                raise Forbidden()
            intake = _intake(session, practice_id, intake_id)
            if intake.reviewed_at is None:
                intake.reviewed_at = moment
                intake.reviewed_by = account_id
            session.flush()
            return IntakeRecord.from_row(intake)

    def api_token_id(self, raw: str) -> str | None:
        """The id of a live token (for the audit trail: which token read what), or None."""
        if not raw.startswith(API_TOKEN_PREFIX) or len(raw) > 128:
            return None
        query = select(ApiToken.id).where(
            ApiToken.token_hash == token_digest(raw), ApiToken.revoked_at.is_(None)
        )
        with self._store.transaction(write=False) as session:
            return session.scalar(query)

    # --- retention ------------------------------------------------------------------------------------

    def purge_reviewed(
        self, reviewed_before: datetime, *, dry_run: bool = False, now: datetime | None = None
    ) -> PurgeCounts:
        """Remove intakes that were reviewed before ``reviewed_before``, in one transaction.

        A person made only for practice intakes (no account) is erased with their last intake: nothing of
        them is left. A patient account's person loses only the intake (the practice's link to the
        assessment); the account's own assessments, diary and plan stay. Each removed intake is recorded
        in the audit trail as done by the system (with the person id only where the person stays).
        """
        cutoff, moment = aware(reviewed_before), aware(now)
        with _writing(self._store) as session:
            query = select(
                PracticeIntake.id,
                PracticeIntake.practice_id,
                PracticeIntake.person_id,
                PracticeIntake.assessment_id,
            ).where(PracticeIntake.reviewed_at.is_not(None), PracticeIntake.reviewed_at < cutoff)
            old = [(i, pr, pe, a) for i, pr, pe, a in session.execute(query)]
            doomed = [intake_id for intake_id, *_ in old]
            erased = _persons_to_erase(session, old)
            counts = PurgeCounts(len(old), len(erased), sum(1 for _, _, p, _ in old if p not in erased))
            if dry_run:  # nothing written: the transaction commits no change
                return counts
            for _, practice_id, person_id, _ in old:
                kept = None if person_id in erased else person_id
                audit.record(
                    session,
                    audit.SYSTEM_CLI,
                    "purge.intake",
                    person_id=kept,
                    practice_id=practice_id,
                    now=moment,
                )
            session.execute(delete(PracticeIntake).where(PracticeIntake.id.in_(doomed)))
            for person_id in sorted(erased):
                erasing.erase(session, person_id)
            return counts

    # --- API tokens -----------------------------------------------------------------------------------

    def create_api_token(
        self,
        practice_id: str,
        name: str,
        *,
        now: datetime | None = None,
        lifetime: timedelta = API_TOKEN_LIFETIME,
    ) -> tuple[ApiTokenRecord, str]:
        """A new token for the practice's API clients: the record and the raw token, shown only now.
        It is refused once ``lifetime`` has passed (a forgotten token must not work for ever)."""
        clean = _name(name, MAX_TOKEN_NAME, "token_name")
        moment = aware(now)
        if lifetime <= timedelta(0) or lifetime > MAX_API_TOKEN_LIFETIME:
            raise InvalidValue("token_lifetime", max_days=MAX_API_TOKEN_LIFETIME.days)
        raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._store.transaction() as session:
            _practice(session, practice_id)
            row = ApiToken(
                practice_id=practice_id,
                token_hash=token_digest(raw),
                name=clean,
                created_at=moment,
                expires_at=moment + lifetime,
            )
            session.add(row)
            session.flush()
            return ApiTokenRecord.from_row(row), raw

    def practice_for_token(self, raw: str, *, now: datetime | None = None) -> PracticeRecord | None:
        """The practice a live (not revoked, not expired) token belongs to, or None."""
        if not raw.startswith(API_TOKEN_PREFIX) or len(raw) > 128:
            return None
        moment = aware(now)
        query = (
            select(Practice)
            .join(ApiToken, ApiToken.practice_id == Practice.id)
            .where(
                ApiToken.token_hash == token_digest(raw),
                ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > moment),
            )
        )
        with self._store.transaction(write=False) as session:
            row = session.scalar(query)
            return PracticeRecord.from_row(row) if row is not None else None

    def api_tokens(self, practice_id: str) -> list[ApiTokenRecord]:
        with self._store.transaction(write=False) as session:
            query = select(ApiToken).where(ApiToken.practice_id == practice_id)
            return [ApiTokenRecord.from_row(r) for r in session.scalars(query.order_by(ApiToken.created_at))]

    def revoke_api_token(self, practice_id: str, token_id: str, *, now: datetime | None = None) -> bool:
        """True if a live token of this practice was revoked (another practice's token is left alone)."""
        moment = aware(now)
        query = (
            update(ApiToken)
            .where(
                ApiToken.id == token_id, ApiToken.practice_id == practice_id, ApiToken.revoked_at.is_(None)
            )
            .values(revoked_at=moment)
        )
        with self._store.transaction() as session:
            return int(getattr(session.execute(query), "rowcount", 0)) > 0


# --- helpers ------------------------------------------------------------------------------------------


@contextmanager
def _writing(store: Store) -> Iterator[Session]:
    """A transaction that reads, then writes. On SQLite it takes the write lock at BEGIN: a deferred one
    that read before another writer committed fails with "database is locked" at its first write (the
    busy timeout cannot help a stale snapshot). PostgreSQL needs nothing extra."""
    if not store.is_sqlite:
        with store.transaction() as session:
            yield session
        return
    engine = store.engine.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def _persons_to_erase(session: Session, old: list[tuple[str, str, str, str]]) -> set[str]:
    """Persons that exist only for these intakes: no account, no diary, no exclusion, no other intake,
    and no assessment besides the intakes' own. Anyone else (a patient account, a person kept with the
    terminal program) keeps their data; only the practice's intake goes."""
    persons = {person for _, _, person, _ in old}
    if not persons:
        return set()
    doomed = [intake_id for intake_id, *_ in old]
    assessments = [assessment for *_, assessment in old]
    keep: set[str] = set()
    for query in (
        select(Account.person_id).where(Account.person_id.in_(persons)),
        select(DiaryRow.person_id).where(DiaryRow.person_id.in_(persons)),
        select(Exclusion.person_id).where(Exclusion.person_id.in_(persons)),
        select(PracticeIntake.person_id).where(
            PracticeIntake.person_id.in_(persons), PracticeIntake.id.not_in(doomed)
        ),
        select(AssessmentRow.person_id).where(
            AssessmentRow.person_id.in_(persons), AssessmentRow.id.not_in(assessments)
        ),
    ):
        keep.update(p for p in session.scalars(query) if p is not None)
    return persons - keep


def _practice(session: Session, practice_id: str) -> Practice:
    practice = session.get(Practice, practice_id)
    if practice is None:
        raise practice_not_found(practice_id)
    return practice


def _intake(session: Session, practice_id: str, intake_id: str) -> PracticeIntake:
    # Both ids in one query: there is no moment at which another practice's row is in hand.
    query = select(PracticeIntake).where(
        PracticeIntake.id == intake_id, PracticeIntake.practice_id == practice_id
    )
    intake = session.scalar(query)
    if intake is None:
        raise intake_not_found(intake_id)
    return intake


def _new_intake(
    session: Session,
    practice_id: str,
    person_id: str,
    assessment_id: str,
    now: datetime,
    submission_key: str | None,
) -> PracticeIntake:
    _practice(session, practice_id)
    if session.get(Person, person_id) is None:
        raise person_not_found(person_id)
    assessment = session.get(AssessmentRow, assessment_id)
    if assessment is None or assessment.person_id != person_id:
        raise NotFound("assessment", assessment_id)
    existing = _existing_intake(session, practice_id, assessment_id, submission_key)
    if existing is not None:
        return existing
    intake = PracticeIntake(
        practice_id=practice_id,
        person_id=person_id,
        assessment_id=assessment_id,
        submitted_at=now,
        triage=assessment.triage,
        triage_rank=TRIAGE_RANK[assessment.triage],
        submission_key=submission_key,
    )
    session.add(intake)
    session.flush()
    return intake


def _existing_intake(
    session: Session, practice_id: str, assessment_id: str | None, submission_key: str | None
) -> PracticeIntake | None:
    """The practice's intake of this assessment or under this key (a key match comes first)."""
    same = []
    if submission_key is not None:
        same.append(PracticeIntake.submission_key == submission_key)
    if assessment_id is not None:
        same.append(PracticeIntake.assessment_id == assessment_id)
    if not same:
        return None
    query = select(PracticeIntake).where(PracticeIntake.practice_id == practice_id, or_(*same))
    rows = list(session.scalars(query))
    by_key = [row for row in rows if submission_key is not None and row.submission_key == submission_key]
    first = by_key or rows
    return first[0] if first else None


def _conditions(where: InboxFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.state == "spam":
        conditions.append(PracticeIntake.spam_at.is_not(None))
    else:
        conditions.append(PracticeIntake.spam_at.is_(None))
    if where.state == "open":
        conditions.append(PracticeIntake.reviewed_at.is_(None))
    elif where.state == "reviewed":
        conditions.append(PracticeIntake.reviewed_at.is_not(None))
    if where.triage is not None:
        conditions.append(PracticeIntake.triage == where.triage)
    if where.since is not None:
        conditions.append(PracticeIntake.submitted_at >= where.since)
    if where.before is not None:
        conditions.append(PracticeIntake.submitted_at < where.before)
    search = (where.search or "").strip()[:MAX_SEARCH]
    if search:
        reference = normalise_reference(search)
        # A part of the name, case-insensitive; LIKE's wildcards in what was typed are taken literally.
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        by_name = func.lower(Person.display_name).like(f"%{escaped}%", escape="\\")
        conditions.append(or_(by_name, PracticeIntake.reference == reference) if reference else by_name)
    return conditions


def _red_flags(document: dict[str, Any]) -> tuple[RedFlag, ...]:
    # Only the red flags are parsed, not the whole Assessment: the inbox may list hundreds of rows.
    return tuple(RedFlag.model_validate(flag) for flag in document.get("red_flags", []))
