"""outcome measures, shared courses and a practice's plan changes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

Three new tables, no change to existing rows: ``measure_responses`` (a filled-in outcome measure with its
answers, its score and the follow-up week it answers; idempotency key unique per person as for diary
entries), ``course_shares`` (a person's consent that a practice sees their course, one row per person and
practice, revocable) and ``plan_adjustments`` (a clinician's exclusion, addition, level or note for a
shared person's plan; undone by a timestamp). All three go with the person (the foreign keys cascade); the
shares and plan changes also go with the practice. A downgrade drops the three tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
ID = 32
KEY = 64
KINDS = ("exclude", "add", "level", "note")


def _person(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["persons.id"], name=f"fk_{table}_person_id_persons", ondelete="CASCADE"
    )


def _practice(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["practice_id"], ["practices.id"], name=f"fk_{table}_practice_id_practices", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "measure_responses",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("person_id", sa.String(ID), nullable=False),
        sa.Column("measure_id", sa.String(40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("week", sa.Integer(), nullable=True),
        sa.Column("answers_json", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("knowledge_version", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(KEY), nullable=True),
        _person("measure_responses"),
        sa.PrimaryKeyConstraint("id", name="pk_measure_responses"),
    )
    op.create_index(
        "ix_measure_responses_person_id_recorded_at", "measure_responses", ["person_id", "recorded_at"]
    )
    op.create_index(
        "ix_measure_responses_person_id_idempotency_key",
        "measure_responses",
        ["person_id", "idempotency_key"],
        unique=True,
    )
    op.create_table(
        "course_shares",
        sa.Column("person_id", sa.String(ID), nullable=False),
        sa.Column("practice_id", sa.String(ID), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _person("course_shares"),
        _practice("course_shares"),
        sa.PrimaryKeyConstraint("person_id", "practice_id", name="pk_course_shares"),
    )
    op.create_index("ix_course_shares_practice_id", "course_shares", ["practice_id"])
    op.create_table(
        "plan_adjustments",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("person_id", sa.String(ID), nullable=False),
        sa.Column("practice_id", sa.String(ID), nullable=False),
        sa.Column("account_id", sa.String(ID), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("exercise_id", sa.String(64), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(ID), nullable=True),
        sa.CheckConstraint(f"kind IN {KINDS!r}", name="ck_plan_adjustments_kind"),
        _person("plan_adjustments"),
        _practice("plan_adjustments"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_plan_adjustments_account_id_accounts",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_plan_adjustments"),
    )
    op.create_index(
        "ix_plan_adjustments_person_id_created_at", "plan_adjustments", ["person_id", "created_at"]
    )
    op.create_index("ix_plan_adjustments_practice_id", "plan_adjustments", ["practice_id"])


def downgrade() -> None:
    op.drop_index("ix_plan_adjustments_practice_id", table_name="plan_adjustments")
    op.drop_index("ix_plan_adjustments_person_id_created_at", table_name="plan_adjustments")
    op.drop_table("plan_adjustments")
    op.drop_index("ix_course_shares_practice_id", table_name="course_shares")
    op.drop_table("course_shares")
    op.drop_index("ix_measure_responses_person_id_idempotency_key", table_name="measure_responses")
    op.drop_index("ix_measure_responses_person_id_recorded_at", table_name="measure_responses")
    op.drop_table("measure_responses")
