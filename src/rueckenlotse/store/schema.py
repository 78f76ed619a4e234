"""The tables (head revision). Every change here needs a new migration in ``migrations/versions``;
``tests/store/test_migrations.py`` fails when the two disagree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
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
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk())
    recorded_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    entry_json: Mapped[dict[str, Any]]
    max_pain: Mapped[int] = mapped_column(Integer)


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


class Exclusion(Base):
    """An exercise this person cannot do; plans leave it out."""

    __tablename__ = "exclusions"
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), _person_fk(), primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


metadata = Base.metadata
