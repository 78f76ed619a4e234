"""audit trail: who read or changed whose record (never the data itself)

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-05

One new table, ``audit_events``, append-only by convention of the program (the store offers no update or
delete of it; only erasure of a person touches it). No foreign keys: the trail outlives the accounts,
tokens and practices it names. A downgrade drops the table and with it the trail.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
ID = 32
TABLE = "audit_events"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(ID), nullable=True),
        sa.Column("person_id", sa.String(ID), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("practice_id", sa.String(ID), nullable=True),
        sa.CheckConstraint(
            "actor_kind IN ('patient', 'clinician', 'api_token', 'system')",
            name="ck_audit_events_actor_kind",
        ),
        sa.CheckConstraint("channel IN ('web', 'api', 'cli')", name="ck_audit_events_channel"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_person_id_at", TABLE, ["person_id", "at"])
    op.create_index("ix_audit_events_practice_id", TABLE, ["practice_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_practice_id", table_name=TABLE)
    op.drop_index("ix_audit_events_person_id_at", table_name=TABLE)
    op.drop_table(TABLE)
