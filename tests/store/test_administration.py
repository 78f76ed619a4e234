"""Administration on SQLite and PostgreSQL: API tokens expire and can be revoked, the intake link rotated,
members removed, accounts disabled, sessions ended, a lost second factor reset; each action audited. The
`admin` commands run as the installed command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from rueckenlotse.services import administration
from rueckenlotse.store import Practices, Store
from rueckenlotse.store.audit import SYSTEM_CLI, all_events
from rueckenlotse.store.repository import InvalidValue
from rueckenlotse.store.schema import Account

from .account_support import clinician_with_totp, make_accounts
from .test_cli_store import assert_clean_failure, run


def actions(store: Store) -> list[tuple[str, str | None]]:
    with store.transaction(write=False) as session:
        return [(e.action, e.practice_id) for e in all_events(session) if e.action.startswith("admin.")]


def test_api_tokens_expire(store: Store) -> None:
    practices = Practices(store)
    practice = practices.create_practice("Praxis Süd")
    made = datetime.now(UTC)
    record, raw = practices.create_api_token(practice.id, "PVS", now=made, lifetime=timedelta(days=30))
    assert record.expires_at == made + timedelta(days=30)
    assert practices.practice_for_token(raw, now=made + timedelta(days=29)) == practice
    assert practices.practice_for_token(raw, now=made + timedelta(days=30)) is None
    _, default = practices.create_api_token(practice.id, "Standard", now=made)
    assert practices.practice_for_token(default, now=made + timedelta(days=364)) == practice
    assert practices.practice_for_token(default, now=made + timedelta(days=366)) is None
    with pytest.raises(InvalidValue):
        practices.create_api_token(practice.id, "ewig", lifetime=timedelta(days=10_000))


def test_revoking_a_token_and_rotating_the_link_are_audited(store: Store) -> None:
    practices = Practices(store)
    practice = practices.create_practice("Praxis Süd")
    record, raw = practices.create_api_token(practice.id, "PVS")
    assert [t.id for t in administration.tokens(store, practice.id)] == [record.id]
    assert administration.revoke_token(store, practice.id, record.id, SYSTEM_CLI)
    assert not administration.revoke_token(store, practice.id, record.id, SYSTEM_CLI)  # once only
    assert practices.practice_for_token(raw) is None
    rotated = administration.rotate_intake_link(store, practice.id, SYSTEM_CLI)
    assert rotated.intake_code != practice.intake_code
    assert practices.practice_by_code(practice.intake_code) is None
    assert actions(store) == [
        ("admin.revoke_token", practice.id),
        ("admin.rotate_intake_link", practice.id),
    ]


def test_disabling_removing_ending_sessions_and_resetting_the_second_factor(store: Store) -> None:
    accounts = make_accounts(store)
    practice = Practices(store).create_practice("Praxis Süd")
    account_id, _secret = clinician_with_totp(accounts, practice.id, "arzt@praxis.example")
    first, second = accounts.start_session(account_id), accounts.start_session(account_id)
    assert administration.end_sessions(store, "ARZT@praxis.example", SYSTEM_CLI) == 2
    assert accounts.session(first) is None and accounts.session(second) is None

    token = accounts.start_session(account_id, totp_passed=True)
    administration.reset_second_factor(store, "arzt@praxis.example", SYSTEM_CLI)
    assert accounts.session(token) is None
    with store.transaction(write=False) as session:
        row = session.scalar(select(Account).where(Account.id == account_id))
        assert row is not None and row.totp_secret is None and not row.totp_confirmed

    assert administration.remove_member(store, practice.id, "arzt@praxis.example", SYSTEM_CLI)
    assert Practices(store).members(practice.id) == []
    administration.disable_account(store, "arzt@praxis.example", SYSTEM_CLI)
    assert accounts.account(account_id).disabled
    assert [a for a, _ in actions(store)] == [
        "admin.end_sessions",
        "admin.reset_second_factor",
        "admin.remove_member",
        "admin.disable_account",
    ]


def test_the_admin_commands(db_url: str, tmp_path: Path) -> None:
    with Store.open(db_url) as store:
        practice = Practices(store).create_practice("Praxis Süd")
        record, raw = Practices(store).create_api_token(practice.id, "PVS")
        account_id, _ = clinician_with_totp(make_accounts(store), practice.id, "arzt@praxis.example")
    listed = run("admin", "tokens", practice.id, "--db", db_url)
    assert listed.returncode == 0, listed.stderr
    assert record.id in listed.stdout and "gültig" in listed.stdout
    revoked = run("admin", "revoke-token", practice.id, record.id, "--db", db_url)
    assert revoked.returncode == 0 and "widerrufen" in revoked.stdout, revoked.stderr
    again = run("admin", "revoke-token", practice.id, record.id, "--db", db_url, "--lang", "en")
    assert again.returncode == 2 and "No live token" in again.stdout
    rotated = run("admin", "rotate-link", practice.id, "--db", db_url)
    assert rotated.returncode == 0 and "/p/" in rotated.stdout
    for command in ("end-sessions", "reset-2fa", "disable"):
        done = run("admin", command, "arzt@praxis.example", "--db", db_url)
        assert done.returncode == 0, (command, done.stderr)
    removed = run("admin", "remove-member", practice.id, "arzt@praxis.example", "--db", db_url)
    assert removed.returncode == 0, removed.stderr
    assert_clean_failure(run("admin", "disable", "niemand@praxis.example", "--db", db_url))
    with Store.open(db_url) as store:
        assert Practices(store).practice_for_token(raw) is None
        assert make_accounts(store).account(account_id).disabled
        assert len(actions(store)) == 6
    del tmp_path
