"""accounts: links by e-mail (password reset, address verification)

Revision ID: 0008
Revises: 0007
Create Date: 2025-01-08

One new column, ``accounts.email_verified_at`` (empty: no account has opened a mailed link yet), and one
new table, ``account_tokens``: the SHA-256 of each single-use link mailed to an account, its purpose
(``reset`` or ``verify``), when it expires and when it was used. The upgrade writes no rows; a downgrade
drops both, and with them only links that were not used yet and the verification dates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
ID = 32
DIGEST = 64
TABLE = "account_tokens"
PURPOSES = ("reset", "verify")


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table (the store migrates with its foreign keys off); PostgreSQL alters.
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(DIGEST), nullable=False),
        sa.Column("account_id", sa.String(ID), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"purpose IN {PURPOSES!r}", name="ck_account_tokens_purpose"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_account_tokens_account_id_accounts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_tokens"),
    )
    op.create_index("ix_account_tokens_account_id", TABLE, ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_account_tokens_account_id", table_name=TABLE)
    op.drop_table(TABLE)
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("email_verified_at")
