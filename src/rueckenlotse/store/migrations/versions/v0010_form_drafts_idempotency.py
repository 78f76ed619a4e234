"""form drafts and diary idempotency keys

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-05

One new table, ``form_drafts``: short-lived forms kept on the server (the questionnaire between a POST and
the page it redirects to; a diary entry posted after the session ended). One new column,
``diary_entries.idempotency_key``, unique per person, so that a form posted twice saves one entry. The
upgrade writes no rows (older entries have no key); a downgrade drops drafts, which expire within a day
anyway, and the keys.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
ID = 32
DIGEST = 64
KEY = 64
TABLE = "form_drafts"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(DIGEST), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("person_id", sa.String(ID), nullable=True),
        sa.Column("payload_json", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_form_drafts_person_id_persons", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_form_drafts"),
    )
    op.create_index("ix_form_drafts_person_id", TABLE, ["person_id"])
    op.create_index("ix_form_drafts_expires_at", TABLE, ["expires_at"])
    op.add_column("diary_entries", sa.Column("idempotency_key", sa.String(KEY), nullable=True))
    op.create_index(
        "ix_diary_entries_person_id_idempotency_key",
        "diary_entries",
        ["person_id", "idempotency_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_diary_entries_person_id_idempotency_key", table_name="diary_entries")
    with op.batch_alter_table("diary_entries") as batch:
        batch.drop_column("idempotency_key")
    op.drop_index("ix_form_drafts_expires_at", table_name=TABLE)
    op.drop_index("ix_form_drafts_person_id", table_name=TABLE)
    op.drop_table(TABLE)
