"""diary entries, plans and exclusions

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _person_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["persons.id"], name=f"fk_{table}_person_id_persons", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "diary_entries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_json", JSON_DOC, nullable=False),
        sa.Column("max_pain", sa.Integer(), nullable=False),
        sa.CheckConstraint("max_pain BETWEEN 0 AND 10", name="ck_diary_entries_max_pain"),
        _person_fk("diary_entries"),
        sa.PrimaryKeyConstraint("id", name="pk_diary_entries"),
    )
    op.create_index("ix_diary_entries_person_id_recorded_at", "diary_entries", ["person_id", "recorded_at"])
    op.create_table(
        "plans",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("assessment_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan_json", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id", "assessment_id"],
            ["assessments.person_id", "assessments.id"],
            name="fk_plans_assessment_of_person",
            ondelete="CASCADE",
        ),
        _person_fk("plans"),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
    )
    op.create_index("ix_plans_person_id_created_at", "plans", ["person_id", "created_at"])
    op.create_table(
        "exclusions",
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("exercise_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _person_fk("exclusions"),
        sa.PrimaryKeyConstraint("person_id", "exercise_id", name="pk_exclusions"),
    )


def downgrade() -> None:
    op.drop_table("exclusions")
    op.drop_index("ix_plans_person_id_created_at", table_name="plans")
    op.drop_table("plans")
    op.drop_index("ix_diary_entries_person_id_recorded_at", table_name="diary_entries")
    op.drop_table("diary_entries")
