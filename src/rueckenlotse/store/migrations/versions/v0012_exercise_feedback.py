"""exercise feedback: the session's "erledigt" and ratings

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

One new table, ``exercise_feedback``: per person, an exercise of today's session done and/or rated ("zu
leicht", "passt", "zu schwer", "Schmerz stärker danach", or "take_next" for an offered harder exercise). It
is part of the diary: exported and erased with the person (the foreign key cascades). The idempotency key is
unique per person, as for diary entries (revision 0010), so a form posted twice saves one row. The upgrade
writes no rows; a downgrade drops the table and with it the feedback.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
ID = 32
KEY = 64
TABLE = "exercise_feedback"
RATINGS = ("too_easy", "fits", "too_hard", "pain_after", "take_next")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("person_id", sa.String(ID), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exercise_id", sa.String(64), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.String(20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(KEY), nullable=True),
        sa.CheckConstraint(f"rating IS NULL OR rating IN {RATINGS!r}", name="ck_exercise_feedback_rating"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_exercise_feedback_person_id_persons", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_exercise_feedback"),
    )
    op.create_index("ix_exercise_feedback_person_id_recorded_at", TABLE, ["person_id", "recorded_at"])
    op.create_index(
        "ix_exercise_feedback_person_id_idempotency_key", TABLE, ["person_id", "idempotency_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_exercise_feedback_person_id_idempotency_key", table_name=TABLE)
    op.drop_index("ix_exercise_feedback_person_id_recorded_at", table_name=TABLE)
    op.drop_table(TABLE)
