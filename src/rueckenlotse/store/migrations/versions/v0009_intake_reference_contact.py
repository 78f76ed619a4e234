"""practice intakes: a reference code, the person's receipt, sealed contact details, a spam mark; and the
intake link's throttling table

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-05

Four nullable columns and two unique indexes: (practice_id, reference) and receipt_hash. Intakes sent
before this revision keep NULL everywhere (no reference, no receipt, no contact details, not spam); NULLs
never collide. The new table intake_attempts counts sends per link and client (only digests and times).
A downgrade drops the table and drops the columns and with them the contact details left with the intakes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
DIGEST = 64
REFERENCE = 12
CONTACT_SEALED = 1024
REFERENCE_INDEX = "ix_practice_intakes_reference"
RECEIPT_INDEX = "ix_practice_intakes_receipt"
ATTEMPTS_INDEX = "ix_intake_attempts_key_attempted_at"


def upgrade() -> None:
    op.add_column("practice_intakes", sa.Column("reference", sa.String(REFERENCE), nullable=True))
    op.add_column("practice_intakes", sa.Column("receipt_hash", sa.String(DIGEST), nullable=True))
    op.add_column("practice_intakes", sa.Column("contact_sealed", sa.String(CONTACT_SEALED), nullable=True))
    op.add_column("practice_intakes", sa.Column("spam_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(REFERENCE_INDEX, "practice_intakes", ["practice_id", "reference"], unique=True)
    op.create_index(RECEIPT_INDEX, "practice_intakes", ["receipt_hash"], unique=True)
    op.create_table(
        "intake_attempts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(DIGEST), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_attempts"),
    )
    op.create_index(ATTEMPTS_INDEX, "intake_attempts", ["key", "attempted_at"])


def downgrade() -> None:
    op.drop_index(ATTEMPTS_INDEX, table_name="intake_attempts")
    op.drop_table("intake_attempts")
    op.drop_index(RECEIPT_INDEX, table_name="practice_intakes")
    op.drop_index(REFERENCE_INDEX, table_name="practice_intakes")
    # Batch mode: SQLite rebuilds the table without the columns (PostgreSQL just drops them).
    with op.batch_alter_table("practice_intakes") as batch:
        for column in ("spam_at", "contact_sealed", "receipt_hash", "reference"):
            batch.drop_column(column)
