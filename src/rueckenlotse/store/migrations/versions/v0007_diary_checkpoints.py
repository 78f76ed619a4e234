"""diary checkpoints: where a diary's re-screening stands after its latest entry

Revision ID: 0007
Revises: 0006
Create Date: 2025-01-07

One new table, ``diary_checkpoints``: one row per person with a diary, the re-screening's state after the
latest entry, so that a new entry is re-screened from there instead of replaying the whole diary. Derived
data only: the upgrade writes no rows (the first entry after it replays the diary once and writes one),
and a downgrade that drops the table loses nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
ID = 32
TABLE = "diary_checkpoints"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("person_id", sa.String(ID), nullable=False),
        sa.Column("intake_id", sa.String(ID), nullable=False),
        sa.Column("entry_id", sa.String(ID), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("replay_version", sa.String(60), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("state_json", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_diary_checkpoints_person_id_persons", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["intake_id"],
            ["assessments.id"],
            name="fk_diary_checkpoints_intake_id_assessments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["diary_entries.id"],
            name="fk_diary_checkpoints_entry_id_diary_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name="pk_diary_checkpoints"),
    )
    op.create_index("ix_diary_checkpoints_intake_id", TABLE, ["intake_id"])
    op.create_index("ix_diary_checkpoints_entry_id", TABLE, ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_diary_checkpoints_entry_id", table_name=TABLE)
    op.drop_index("ix_diary_checkpoints_intake_id", table_name=TABLE)
    op.drop_table(TABLE)
