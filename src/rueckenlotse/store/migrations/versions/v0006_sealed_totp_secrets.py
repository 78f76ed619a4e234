"""accounts: room for sealed TOTP secrets

Revision ID: 0006
Revises: 0005
Create Date: 2025-01-06

``accounts.totp_secret`` grows from 64 to 255 characters: it now holds the secret sealed with the data key
(``store.sealing``), about 100 characters for a secret of 32.

The migration changes only the column, and seals nothing: migrations run wherever a database is opened
(every command, every web process, a restore), without the settings, and must not depend on a key being
there. Secrets stored before keep working as they are: the program recognises a plain one by its form,
seals it the first time it reads it, and ``rueckenlotse keys rotate`` seals all that are left.

A downgrade is refused while any secret is sealed: the older program cannot open it and would fail at
every sign-in of that clinician. Plain secrets only: the column narrows again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rueckenlotse.store.errors import StoreError

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
BEFORE = 64
AFTER = 255
SEALED_PREFIX = "rl1:%"


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table (the store migrates with its foreign keys off); PostgreSQL alters.
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.String(BEFORE), type_=sa.String(AFTER), existing_nullable=True
        )


def downgrade() -> None:
    sealed = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM accounts WHERE totp_secret LIKE :sealed"), {"sealed": SEALED_PREFIX}
    )
    if sealed:
        raise StoreError("downgrade_sealed_secrets", count=sealed)
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.String(AFTER), type_=sa.String(BEFORE), existing_nullable=True
        )
