"""practice intakes: a submission key, so a result sent twice is one intake

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04

One new nullable column and a unique index on (practice_id, submission_key). Intakes sent before this
revision keep NULL, which never collides. A downgrade drops both; the intakes themselves stay.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
DIGEST = 64
INDEX = "ix_practice_intakes_submission"


def upgrade() -> None:
    op.add_column("practice_intakes", sa.Column("submission_key", sa.String(DIGEST), nullable=True))
    op.create_index(INDEX, "practice_intakes", ["practice_id", "submission_key"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="practice_intakes")
    # Batch mode: SQLite rebuilds the table without the column (PostgreSQL just drops it).
    with op.batch_alter_table("practice_intakes") as batch:
        batch.drop_column("submission_key")
