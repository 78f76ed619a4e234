"""API tokens expire: api_tokens.expires_at

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-05

A token made before this revision never expired. It now gets an expiry a year after it was made, but at
least 30 days after the upgrade: an old token keeps working for a month, time to make a new one, instead
of stopping at the upgrade. A downgrade drops the column (the tokens then never expire again).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "api_tokens"
LIFETIME = timedelta(days=365)
GRACE = timedelta(days=30)


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table(
        TABLE,
        sa.column("id", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    earliest = datetime.now(UTC) + GRACE
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        made = created_at if created_at.tzinfo is not None else created_at.replace(tzinfo=UTC)
        expiry = max(made.astimezone(UTC) + LIFETIME, earliest)
        if connection.dialect.name == "sqlite":  # stored as naive UTC text, as schema.UTCDateTime does
            expiry = expiry.replace(tzinfo=None)
        connection.execute(sa.update(tokens).where(tokens.c.id == token_id).values(expires_at=expiry))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("expires_at")
