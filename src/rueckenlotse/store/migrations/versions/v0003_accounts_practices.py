"""accounts, practices, practice intakes, web sessions, login attempts, API tokens

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03

Only new tables: every row of revision 0002 stays as it is. A downgrade drops these tables (and with them
all accounts, sessions and practice data); persons and their records are kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Written out here, not imported from schema.py: a migration must keep meaning what it meant when written.
ID = 32
DIGEST = 64


def _fk(column: str, table: str, referred: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=f"fk_{table}_{column}_{referred}", ondelete=ondelete
    )


def _moment(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _accounts() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("person_id", sa.String(ID), nullable=True),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_confirmed", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        _moment("created_at"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(role = 'patient' AND person_id IS NOT NULL) OR (role = 'clinician' AND person_id IS NULL)",
            name="ck_accounts_role_person",
        ),
        _fk("person_id", "accounts", "persons"),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("email", name="uq_accounts_email"),
        sa.UniqueConstraint("person_id", name="uq_accounts_person_id"),
    )


def _practices() -> None:
    op.create_table(
        "practices",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("intake_code", sa.String(40), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_practices"),
        sa.UniqueConstraint("intake_code", name="uq_practices_intake_code"),
    )
    op.create_table(
        "practice_members",
        sa.Column("practice_id", sa.String(ID), nullable=False),
        sa.Column("account_id", sa.String(ID), nullable=False),
        _fk("practice_id", "practice_members", "practices"),
        _fk("account_id", "practice_members", "accounts"),
        sa.PrimaryKeyConstraint("practice_id", "account_id", name="pk_practice_members"),
    )
    op.create_index("ix_practice_members_account_id", "practice_members", ["account_id"])


def _practice_intakes() -> None:
    op.create_table(
        "practice_intakes",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("practice_id", sa.String(ID), nullable=False),
        sa.Column("person_id", sa.String(ID), nullable=False),
        sa.Column("assessment_id", sa.String(ID), nullable=False),
        _moment("submitted_at"),
        _moment("reviewed_at", nullable=True),
        sa.Column("reviewed_by", sa.String(ID), nullable=True),
        sa.Column("triage", sa.String(20), nullable=False),
        sa.Column("triage_rank", sa.Integer(), nullable=False),
        sa.CheckConstraint("triage_rank BETWEEN 0 AND 4", name="ck_practice_intakes_triage_rank"),
        sa.ForeignKeyConstraint(
            ["person_id", "assessment_id"],
            ["assessments.person_id", "assessments.id"],
            name="fk_practice_intakes_assessment_of_person",
            ondelete="CASCADE",
        ),
        _fk("practice_id", "practice_intakes", "practices"),
        _fk("person_id", "practice_intakes", "persons"),
        _fk("reviewed_by", "practice_intakes", "accounts", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_practice_intakes"),
        sa.UniqueConstraint(
            "practice_id", "assessment_id", name="uq_practice_intakes_practice_id_assessment_id"
        ),
    )
    op.create_index(
        "ix_practice_intakes_inbox", "practice_intakes", ["practice_id", "triage_rank", "submitted_at"]
    )


def _sessions_and_tokens() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(DIGEST), nullable=False),
        sa.Column("account_id", sa.String(ID), nullable=False),
        _moment("created_at"),
        _moment("last_seen_at"),
        _moment("expires_at"),
        _moment("revoked_at", nullable=True),
        sa.Column("totp_passed", sa.Boolean(), nullable=False),
        _fk("account_id", "web_sessions", "accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_account_id", "web_sessions", ["account_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("key", sa.String(DIGEST), nullable=False),
        _moment("attempted_at"),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_key_attempted_at", "login_attempts", ["key", "attempted_at"])
    op.create_index("ix_login_attempts_attempted_at", "login_attempts", ["attempted_at"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("practice_id", sa.String(ID), nullable=False),
        sa.Column("token_hash", sa.String(DIGEST), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        _moment("created_at"),
        _moment("revoked_at", nullable=True),
        _fk("practice_id", "api_tokens", "practices"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_practice_id", "api_tokens", ["practice_id"])


def upgrade() -> None:
    _accounts()
    _practices()
    _practice_intakes()
    _sessions_and_tokens()


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes with it.
    for table in (
        "api_tokens",
        "login_attempts",
        "web_sessions",
        "practice_intakes",
        "practice_members",
        "practices",
        "accounts",
    ):
        op.drop_table(table)
