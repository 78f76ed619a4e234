"""persons and assessments

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_persons"),
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("knowledge_version", sa.String(40), nullable=False),
        sa.Column("case_json", JSON_DOC, nullable=False),
        sa.Column("assessment_json", JSON_DOC, nullable=False),
        sa.Column("triage", sa.String(20), nullable=False),
        sa.CheckConstraint("source IN ('intake', 'diary_rescreen')", name="ck_assessments_source"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_assessments_person_id_persons", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_assessments"),
        sa.UniqueConstraint("person_id", "id", name="uq_assessments_person_id_id"),
    )
    op.create_index("ix_assessments_person_id_created_at", "assessments", ["person_id", "created_at"])
    op.create_index("ix_assessments_triage", "assessments", ["triage"])


def downgrade() -> None:
    op.drop_index("ix_assessments_triage", table_name="assessments")
    op.drop_index("ix_assessments_person_id_created_at", table_name="assessments")
    op.drop_table("assessments")
    op.drop_table("persons")
