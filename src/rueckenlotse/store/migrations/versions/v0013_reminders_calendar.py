"""reminders and the calendar feed

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

Three new tables, no change to existing rows: ``reminder_settings`` (a person's exercise times, weekdays,
e-mail opt-in and language), ``calendar_feeds`` (private calendar addresses, kept as the SHA-256 of their
token) and ``reminder_sends`` (a reminder claimed before it is sent, unique per person, kind and moment,
so that several app processes send it once). A downgrade drops the three tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
ID = 32
DIGEST = 64


def _person(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["persons.id"], name=f"fk_{table}_person_id_persons", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "reminder_settings",
        sa.Column("person_id", sa.String(ID), nullable=False),
        sa.Column("times", sa.String(11), nullable=False),
        sa.Column("weekdays", sa.String(7), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _person("reminder_settings"),
        sa.PrimaryKeyConstraint("person_id", name="pk_reminder_settings"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("person_id", sa.String(ID), nullable=False),
        sa.Column("token_hash", sa.String(DIGEST), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _person("calendar_feeds"),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_feeds"),
        sa.UniqueConstraint("token_hash", name="uq_calendar_feeds_token_hash"),
    )
    op.create_index("ix_calendar_feeds_person_id", "calendar_feeds", ["person_id"])
    op.create_table(
        "reminder_sends",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("person_id", sa.String(ID), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('session', 'check')", name="ck_reminder_sends_kind"),
        _person("reminder_sends"),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_sends"),
        sa.UniqueConstraint("person_id", "kind", "due_at", name="uq_reminder_sends_person_id_kind_due_at"),
    )


def downgrade() -> None:
    op.drop_table("reminder_sends")
    op.drop_index("ix_calendar_feeds_person_id", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
    op.drop_table("reminder_settings")
