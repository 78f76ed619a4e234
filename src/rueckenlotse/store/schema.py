"""The tables (head revision). Every change here needs a new migration in ``migrations/versions``;
``tests/store/test_migrations.py`` fails when the two disagree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names: Alembic's batch mode on SQLite (and any later drop) needs to name them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 32
ASSESSMENT_SOURCES = ("intake", "diary_rescreen")
ROLES = ("patient", "clinician")
ACCOUNT_TOKEN_PURPOSES = ("reset", "verify")
# A SHA-256 digest as hex: how tokens and throttling keys are kept (never the raw value).
DIGEST_LENGTH = 64
EMAIL_LENGTH = 254
# A sealed secret (``store.sealing``): a TOTP secret of 32 characters takes about 100; room for longer ones.
SEALED_LENGTH = 255
# A practice intake's reference code ("K7MP-4QXA") and its sealed contact details (about 300 characters
# of JSON at most, sealed: nonce, tag, base64 and prefix add about a half).
REFERENCE_LENGTH = 12
CONTACT_SEALED_LENGTH = 1024
# An idempotency key or a draft's token as written in a form (secrets.token_urlsafe(32) is 43 characters).
DRAFT_KEY_LENGTH = 64
# The inbox sorts by this (emergency first); kept beside the triage it is copied with.
TRIAGE_RANK: dict[str, int] = {"self_care": 0, "routine": 1, "soon": 2, "urgent": 3, "emergency": 4}


def new_id() -> str:
    """A random id (uuid4 as 32 hex digits): reveals nothing about the person or the order of records."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes only, stored in UTC so that SQLite's text timestamps sort correctly;
    read back as aware UTC on both engines."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes are not stored; give a time zone")
        moment = value.astimezone(UTC)
        # SQLite keeps the text as given; without the offset every stored value has the same format.
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact); a JSON text column on SQLite.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDoc}


def _person_fk() -> Any:
    # Deleting a person removes everything of theirs, even when done outside this program.
    return ForeignKey("persons.id", ondelete="CASCADE")


class Person(Base):
    """A pseudonymous person: a generated id and, only if they want, a display name."""

    __tablename__ = "persons"
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AssessmentRow(Base):
    """One Case, its Assessment and the knowledge version that produced it."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint(f"source IN {ASSESSMENT_SOURCES!r}", name="source"),
        # Target of the plans' composite key: a plan can only point at its own person's assessment.
        UniqueConstraint("person_id", "id", name="uq_assessments_person_id_id"),
        Index("ix_assessments_person_id_created_at", "person_id", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk())
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    source: Mapped[str] = mapped_column(String(20))
    knowledge_version: Mapped[str] = mapped_column(String(40))
    case_json: Mapped[dict[str, Any]]
    assessment_json: Mapped[dict[str, Any]]
    triage: Mapped[str] = mapped_column(String(20), index=True)


class DiaryRow(Base):
    """One diary entry; max_pain is kept as a column for queries without parsing the JSON."""

    __tablename__ = "diary_entries"
    __table_args__ = (
        CheckConstraint("max_pain BETWEEN 0 AND 10", name="max_pain"),
        Index("ix_diary_entries_person_id_recorded_at", "person_id", "recorded_at"),
        # One entry per form (revision 0010): a reload or a second click posts the same key again.
        Index("ix_diary_entries_person_id_idempotency_key", "person_id", "idempotency_key", unique=True),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk())
    recorded_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    entry_json: Mapped[dict[str, Any]]
    max_pain: Mapped[int] = mapped_column(Integer)
    # Made when the entry form was rendered; None for entries written by the CLI or before revision 0010.
    idempotency_key: Mapped[str | None] = mapped_column(String(DRAFT_KEY_LENGTH), default=None)


# The diary's order everywhere (list, replay, checks, checkpoints): by the moment an entry is about, then
# entries of the same moment in the order they were written (the id only breaks a tie of both).
DIARY_ORDER = (DiaryRow.recorded_at, DiaryRow.created_at, DiaryRow.id)


class PlanRow(Base):
    """A self-management plan, made from one of the person's assessments."""

    __tablename__ = "plans"
    __table_args__ = (
        ForeignKeyConstraint(
            ["person_id", "assessment_id"],
            ["assessments.person_id", "assessments.id"],
            name="fk_plans_assessment_of_person",
            ondelete="CASCADE",
        ),
        Index("ix_plans_person_id_created_at", "person_id", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk())
    assessment_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    plan_json: Mapped[dict[str, Any]]


EXERCISE_RATINGS = ("too_easy", "fits", "too_hard", "pain_after", "take_next")


class ExerciseFeedbackRow(Base):
    """An exercise of the session done and/or rated (revision 0012): part of the person's diary."""

    __tablename__ = "exercise_feedback"
    __table_args__ = (
        CheckConstraint(f"rating IS NULL OR rating IN {EXERCISE_RATINGS!r}", name="rating"),
        Index("ix_exercise_feedback_person_id_recorded_at", "person_id", "recorded_at"),
        # One row per form, as for diary entries: a reload or a second click posts the same key again.
        Index("ix_exercise_feedback_person_id_idempotency_key", "person_id", "idempotency_key", unique=True),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk())
    recorded_at: Mapped[datetime]
    exercise_id: Mapped[str] = mapped_column(String(64))
    done: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[str | None] = mapped_column(String(20), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    idempotency_key: Mapped[str | None] = mapped_column(String(DRAFT_KEY_LENGTH), default=None)


FEEDBACK_ORDER = (ExerciseFeedbackRow.recorded_at, ExerciseFeedbackRow.created_at, ExerciseFeedbackRow.id)


class Exclusion(Base):
    """An exercise this person cannot do; plans leave it out."""

    __tablename__ = "exclusions"
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk(), primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class DiaryCheckpoint(Base):
    """Where a person's diary re-screening stands after its latest entry (``plan.rescreen.EpisodeState``).

    Derived data, kept so that a new entry is re-screened from here instead of replaying the whole diary
    (revision 0007). It counts only while it still describes the diary: the same intake, the same latest
    entry and number of entries, the same knowledge and state format (``replay_version``) and language;
    otherwise the diary is replayed and the checkpoint written anew. Deleting it loses nothing.
    """

    __tablename__ = "diary_checkpoints"
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk(), primary_key=True)
    # Indexed: deleting an assessment or an entry looks up the checkpoints that point at it.
    intake_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("diary_entries.id", ondelete="CASCADE"), index=True
    )
    entry_count: Mapped[int] = mapped_column(Integer)
    replay_version: Mapped[str] = mapped_column(String(60))
    lang: Mapped[str] = mapped_column(String(16))
    state_json: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class FormDraft(Base):
    """A form kept on the server for a short while (revision 0010), found by the hash of a random token.

    The kinds are ``store.drafts.KINDS``: ``intake`` (the questionnaire's signed state between a POST and
    the GET it redirects to, so that no answer travels in a URL and the web tier keeps nothing in memory);
    a patient's form posted after the session had ended, saved when the same person signs in again
    (``diary``, ``diary_edit``, ``measures``, ``session``: ``web.kept_forms``), and a clinician's change to
    a shared person's plan likewise (``course_adjust``: kept for that person, saved when the same clinician
    signs in again); and short-lived answers of
    the pages (``outcome``, ``calendar``, ``adjustment``). Expired rows are purged whenever a draft is
    written.
    """

    __tablename__ = "form_drafts"
    id: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), _person_fk(), index=True, default=None)
    payload_json: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(index=True)


# --- accounts, practices, sessions (revision 0003) ------------------------------------------------------


def _account_fk(ondelete: str = "CASCADE") -> Any:
    return ForeignKey("accounts.id", ondelete=ondelete)


def _practice_fk() -> Any:
    return ForeignKey("practices.id", ondelete="CASCADE")


class Account(Base):
    """Someone who signs in. A patient account owns exactly one person (made together with it);
    a clinician account owns none and reaches intakes only through its practices.

    The TOTP secret is sealed with the data key (``store.sealing``, revision 0006): the table alone lets
    no one compute codes. Rows from before that revision may still hold it in plain text until it is
    first used or ``rueckenlotse keys rotate`` runs.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "(role = 'patient' AND person_id IS NOT NULL) OR (role = 'clinician' AND person_id IS NULL)",
            name="role_person",
        ),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    # Lower-cased by the repository: the unique constraint then means "one account per address".
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), _person_fk(), unique=True)
    totp_secret: Mapped[str | None] = mapped_column(String(SEALED_LENGTH))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The newest TOTP time step used: a code is accepted only for a later step, so it cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # When a link mailed to the address was opened (verification or password reset): the address is then
    # known to reach its owner. None until then (revision 0008).
    email_verified_at: Mapped[datetime | None]


class Practice(Base):
    """A practice; its intake code (in the intake link) attaches submitted assessments to it."""

    __tablename__ = "practices"
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    intake_code: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class PracticeMember(Base):
    __tablename__ = "practice_members"
    practice_id: Mapped[str] = mapped_column(String(ID_LENGTH), _practice_fk(), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(ID_LENGTH), _account_fk(), primary_key=True, index=True)


class PracticeIntake(Base):
    """An assessment submitted to a practice; triage and its rank are copied so the inbox sorts in SQL."""

    __tablename__ = "practice_intakes"
    __table_args__ = (
        # The assessment must be the submitting person's own (as for plans).
        ForeignKeyConstraint(
            ["person_id", "assessment_id"],
            ["assessments.person_id", "assessments.id"],
            name="fk_practice_intakes_assessment_of_person",
            ondelete="CASCADE",
        ),
        UniqueConstraint(
            "practice_id", "assessment_id", name="uq_practice_intakes_practice_id_assessment_id"
        ),
        CheckConstraint("triage_rank BETWEEN 0 AND 4", name="triage_rank"),
        Index("ix_practice_intakes_inbox", "practice_id", "triage_rank", "submitted_at"),
        # One intake per sent result, however often the browser sends it (revision 0004). NULLs (intakes
        # sent without a key) never collide, on SQLite and PostgreSQL alike.
        Index("ix_practice_intakes_submission", "practice_id", "submission_key", unique=True),
        # Revision 0009: the reference both the person and the practice see, and the person's receipt.
        Index("ix_practice_intakes_reference", "practice_id", "reference", unique=True),
        Index("ix_practice_intakes_receipt", "receipt_hash", unique=True),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    practice_id: Mapped[str] = mapped_column(String(ID_LENGTH), _practice_fk())
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk())
    assessment_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    submitted_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    # SET NULL: removing a clinician's account keeps the fact (and time) of the review.
    reviewed_by: Mapped[str | None] = mapped_column(String(ID_LENGTH), _account_fk("SET NULL"))
    triage: Mapped[str] = mapped_column(String(20))
    triage_rank: Mapped[int] = mapped_column(Integer)
    # A digest naming the sent result (see ``Practices.submit_intake``); not the answers themselves.
    submission_key: Mapped[str | None] = mapped_column(String(DIGEST_LENGTH))
    # A short code the person is shown and may quote on the phone (revision 0009); NULL before it.
    reference: Mapped[str | None] = mapped_column(String(REFERENCE_LENGTH))
    # SHA-256 of the person's receipt token (the link to their result and PDFs), never the token itself.
    receipt_hash: Mapped[str | None] = mapped_column(String(DIGEST_LENGTH))
    # Phone, e-mail and date of birth the person chose to leave, sealed (``store.sealing``) to this row;
    # the name goes to ``persons.display_name``. Both go with the intake's person when it is purged.
    contact_sealed: Mapped[str | None] = mapped_column(String(CONTACT_SEALED_LENGTH))
    # Marked as spam by a clinician: out of the open inbox, kept (and counted) until deleted or purged.
    spam_at: Mapped[datetime | None]


class IntakeAttempt(Base):
    """One send through a practice's intake link, counted for throttling (revision 0009). The key is a
    SHA-256 of what is counted (the link, or the link and a client), so no address is kept in plain text.
    Apart from ``login_attempts``: those are forgotten after minutes, these count for an hour."""

    __tablename__ = "intake_attempts"
    __table_args__ = (Index("ix_intake_attempts_key_attempted_at", "key", "attempted_at"),)
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    attempted_at: Mapped[datetime]


class WebSession(Base):
    """A signed-in browser. The id is the SHA-256 of the cookie's token: a leaked table lets no one in."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(ID_LENGTH), _account_fk(), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    totp_passed: Mapped[bool] = mapped_column(Boolean, default=False)


class AccountToken(Base):
    """A single-use link mailed to an account's address: a password reset or the address's verification.

    The id is the SHA-256 of the token in the link (as for sessions), so the table lets no one in. Used
    once (``used_at``), or never after ``expires_at`` (revision 0008).
    """

    __tablename__ = "account_tokens"
    __table_args__ = (CheckConstraint(f"purpose IN {ACCOUNT_TOKEN_PURPOSES!r}", name="purpose"),)
    id: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(ID_LENGTH), _account_fk(), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """One attempt, counted for throttling. The key is a SHA-256 of what is throttled (an address, a
    client bucket, an account's TOTP), so the table holds no e-mail address in plain text."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_attempted_at", "key", "attempted_at"),)
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    attempted_at: Mapped[datetime] = mapped_column(index=True)
    success: Mapped[bool] = mapped_column(Boolean)


class ApiToken(Base):
    """A practice's API token; only its SHA-256 is kept (the token is shown once, when it is made)."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    practice_id: Mapped[str] = mapped_column(String(ID_LENGTH), _practice_fk(), index=True)
    token_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None]
    # Revision 0011: refused from this moment on (set for every token; NULL only in a database written by
    # an older version between upgrade steps).
    expires_at: Mapped[datetime | None]


# --- the audit trail (revision 0005) --------------------------------------------------------------------

AUDIT_ACTOR_KINDS = ("patient", "clinician", "api_token", "system")
AUDIT_CHANNELS = ("web", "api", "cli")


class AuditEvent(Base):
    """Who did what to whose record, when and how: never what the record says (see ``store.audit``).

    No foreign keys on purpose: the trail outlives the accounts, tokens and practices it names. The
    erasure walk still finds the rows by their ``person_id`` column (``store.erasing``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(f"actor_kind IN {AUDIT_ACTOR_KINDS!r}", name="actor_kind"),
        CheckConstraint(f"channel IN {AUDIT_CHANNELS!r}", name="channel"),
        Index("ix_audit_events_person_id_at", "person_id", "at"),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    person_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    practice_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)


# --- reminders and the calendar feed (revision 0013) -----------------------------------------------------

REMINDER_KINDS = ("session", "check")
# "08:00,18:00": one or two times of day, in the deployment's zone (RUECKENLOTSE_TIME_ZONE).
REMINDER_TIMES_LENGTH = 11


class ReminderSetting(Base):
    """When a person wants to do their exercises (one or two local times of day, optionally only on some
    weekdays) and whether the app may remind them by e-mail. One row per person, overwritten by the form."""

    __tablename__ = "reminder_settings"
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk(), primary_key=True)
    times: Mapped[str] = mapped_column(String(REMINDER_TIMES_LENGTH))
    # ISO weekdays as digits ("12345" = Monday to Friday); "" = every day.
    weekdays: Mapped[str] = mapped_column(String(7), default="")
    email: Mapped[bool] = mapped_column(Boolean, default=False)
    lang: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class CalendarFeed(Base):
    """A private calendar address (``/kalender/<token>.ics``); only the SHA-256 of its token is kept. A new
    one revokes the person's older ones, so at most one works."""

    __tablename__ = "calendar_feeds"
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk(), index=True)
    token_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    lang: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None]


class ReminderSend(Base):
    """A reminder claimed for sending: the row is written (unique per person, kind and due moment) before
    the mail goes out, so several app processes send it once; ``sent_at`` once the server took it."""

    __tablename__ = "reminder_sends"
    __table_args__ = (
        CheckConstraint(f"kind IN {REMINDER_KINDS!r}", name="kind"),
        UniqueConstraint("person_id", "kind", "due_at", name="uq_reminder_sends_person_id_kind_due_at"),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk())
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime]
    claimed_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None]


# --- outcome measures, shared courses and a practice's plan changes (revision 0014) ----------------------

MEASURE_CHANGES = ("better", "same", "worse")
ADJUSTMENT_KINDS = ("exclude", "add", "level", "note")
NOTE_LENGTH = 1000


class MeasureResponse(Base):
    """One filled-in outcome measure (``knowledge/data/measures.yaml``): the answers, the total score the
    engine computed from them with the knowledge version named, and the follow-up week it answers (0 at
    intake). The score is kept beside the answers so that cohort figures are plain SQL (``batch`` runs the
    same over a file)."""

    __tablename__ = "measure_responses"
    __table_args__ = (
        Index("ix_measure_responses_person_id_recorded_at", "person_id", "recorded_at"),
        Index("ix_measure_responses_person_id_idempotency_key", "person_id", "idempotency_key", unique=True),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk())
    measure_id: Mapped[str] = mapped_column(String(40))
    # The day the answers describe (the form's date, as a diary entry's) and the episode week it answers.
    recorded_at: Mapped[datetime]
    week: Mapped[int | None] = mapped_column(Integer)
    answers_json: Mapped[dict[str, Any]]
    score: Mapped[float | None] = mapped_column(Float)
    knowledge_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    idempotency_key: Mapped[str | None] = mapped_column(String(DRAFT_KEY_LENGTH), default=None)


class CourseShare(Base):
    """A person's consent that a practice they sent an intake to may see their course (diary, measures,
    plan, escalations). One row per person and practice: granting again clears ``revoked_at``; the audit
    trail keeps each grant and revocation."""

    __tablename__ = "course_shares"
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk(), primary_key=True)
    practice_id: Mapped[str] = mapped_column(String(ID_LENGTH), _practice_fk(), primary_key=True, index=True)
    granted_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None]


class PlanAdjustment(Base):
    """A clinician's change to a shared person's plan: leave an exercise out, add one, set the level, or a
    note for the person. Undone by setting ``undone_at`` (the row stays, so the history can be shown)."""

    __tablename__ = "plan_adjustments"
    __table_args__ = (
        CheckConstraint(f"kind IN {ADJUSTMENT_KINDS!r}", name="kind"),
        Index("ix_plan_adjustments_person_id_created_at", "person_id", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk())
    practice_id: Mapped[str] = mapped_column(String(ID_LENGTH), _practice_fk(), index=True)
    # The clinician; kept (SET NULL) when their account goes, as the change still stands.
    account_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), _account_fk("SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    exercise_id: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(NOTE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))


metadata = Base.metadata
