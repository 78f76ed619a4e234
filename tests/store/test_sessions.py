"""Sessions kept in the database (timeouts, logout, replay) and the TOTP second factor."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rueckenlotse.services.auth import Principal, Role, principal_for_session
from rueckenlotse.store import Accounts, InvalidValue, Practices, Store, Throttled
from rueckenlotse.store.schema import Account, WebSession

from .account_support import PASSWORD, T0, clinician_with_totp, code_at, make_accounts, wrong_code
from .conftest import BACKUP_KEY
from .test_erase_export import rows_mentioning


def patient(accounts: Accounts, email: str = "anna@example.org") -> str:
    account, _ = accounts.register_patient(email, PASSWORD)
    return account.id


def last_seen(store: Store) -> list[object]:
    with store.engine.connect() as conn:
        return list(conn.scalars(select(WebSession.last_seen_at)))


# --- sessions -----------------------------------------------------------------------------------------


@pytest.mark.safety("SR-WEB-3")
def test_only_the_hash_of_a_session_token_is_stored(store: Store) -> None:
    accounts = make_accounts(store)
    token = accounts.start_session(patient(accounts), now=T0)
    assert len(token) >= 43
    assert not any(rows_mentioning(store, token).values())
    with store.engine.connect() as conn:
        assert list(conn.scalars(select(WebSession.id))) == [hashlib.sha256(token.encode()).hexdigest()]


def test_a_session_says_who_it_is(store: Store) -> None:
    accounts = make_accounts(store)
    account, person = accounts.register_patient("anna@example.org", PASSWORD)
    record = accounts.session(accounts.start_session(account.id, now=T0), now=T0)
    assert record is not None
    assert (record.account_id, record.role, record.person_id) == (account.id, "patient", person.id)
    assert record.practice_ids == () and not record.second_factor_pending
    assert record.expires_at == T0 + timedelta(hours=12)


@pytest.mark.safety("SR-WEB-3")
@pytest.mark.parametrize("token", ["", "x", "y" * 43, "z" * 10_000])
def test_unknown_tokens_are_refused(store: Store, token: str) -> None:
    accounts = make_accounts(store)
    accounts.start_session(patient(accounts), now=T0)
    assert accounts.session(token, now=T0) is None
    assert not accounts.end_session(token, now=T0)


@pytest.mark.safety("SR-WEB-3")
def test_a_session_ends_after_thirty_idle_minutes(store: Store) -> None:
    accounts = make_accounts(store)
    token = accounts.start_session(patient(accounts), now=T0)
    assert accounts.session(token, now=T0 + timedelta(minutes=30)) is not None
    # That request was activity: the idle time counts from it again.
    assert accounts.session(token, now=T0 + timedelta(minutes=60)) is not None
    assert accounts.session(token, now=T0 + timedelta(minutes=90, seconds=1)) is None
    # Dead stays dead, even if asked about an earlier moment.
    assert accounts.session(token, now=T0 + timedelta(minutes=120)) is None


def test_the_idle_timeout_is_the_callers_choice(store: Store) -> None:
    accounts = make_accounts(store, idle_timeout=timedelta(minutes=5), absolute_timeout=timedelta(hours=1))
    token = accounts.start_session(patient(accounts), now=T0)
    assert accounts.session(token, now=T0 + timedelta(minutes=5)) is not None
    assert accounts.session(token, now=T0 + timedelta(minutes=10, seconds=1)) is None
    other = accounts.start_session(accounts.account(patient(accounts, "b@example.org")).id, now=T0)
    for minute in range(4, 60, 4):
        assert accounts.session(other, now=T0 + timedelta(minutes=minute)) is not None
    assert accounts.session(other, now=T0 + timedelta(hours=1)) is None


@pytest.mark.safety("SR-WEB-3")
def test_a_session_ends_twelve_hours_after_sign_in_however_active(store: Store) -> None:
    accounts = make_accounts(store)
    token = accounts.start_session(patient(accounts), now=T0)
    moment = T0
    while moment + timedelta(minutes=20) < T0 + timedelta(hours=12):
        moment += timedelta(minutes=20)
        assert accounts.session(token, now=moment) is not None, moment
    assert accounts.session(token, now=T0 + timedelta(hours=12)) is None


def test_last_seen_is_written_at_most_once_a_minute(store: Store) -> None:
    accounts = make_accounts(store)
    token = accounts.start_session(patient(accounts), now=T0)
    accounts.session(token, now=T0 + timedelta(seconds=59))
    assert last_seen(store) == [T0]
    accounts.session(token, now=T0 + timedelta(seconds=61))
    assert last_seen(store) == [T0 + timedelta(seconds=61)]
    accounts.session(token, now=T0)  # another process's clock, a little behind
    assert last_seen(store) == [T0 + timedelta(seconds=61)]


@pytest.mark.safety("SR-WEB-3")
def test_replaying_a_session_cookie_after_logout_fails(store: Store) -> None:
    accounts = make_accounts(store)
    account_id = patient(accounts)
    token = accounts.start_session(account_id, now=T0)
    other_device = accounts.start_session(account_id, now=T0)
    assert accounts.end_session(token, now=T0 + timedelta(minutes=1))
    for later in (timedelta(minutes=1), timedelta(minutes=2), timedelta(hours=1)):
        assert accounts.session(token, now=T0 + later) is None
    assert principal_for_session(accounts, token, now=T0 + timedelta(minutes=2)) == Principal()
    assert not accounts.end_session(token, now=T0 + timedelta(minutes=3))
    assert accounts.session(other_device, now=T0 + timedelta(minutes=2)) is not None


@pytest.mark.safety("SR-WEB-3")
def test_logout_in_one_app_process_is_seen_by_every_other(db_url: str) -> None:
    with Store.open(db_url) as one, Store.open(db_url) as other:
        first, second = make_accounts(one), make_accounts(other)
        token = first.start_session(patient(first), now=T0)
        assert second.session(token, now=T0) is not None
        assert first.end_session(token, now=T0)
        assert second.session(token, now=T0) is None


def test_end_all_sessions_and_disabling_end_every_session_of_the_account(store: Store) -> None:
    accounts = make_accounts(store)
    anna, ben = patient(accounts), patient(accounts, "ben@example.org")
    annas = [accounts.start_session(anna, now=T0) for _ in range(3)]
    bens = accounts.start_session(ben, now=T0)
    assert accounts.end_all_sessions(anna, now=T0) == 3
    assert all(accounts.session(token, now=T0) is None for token in annas)
    assert accounts.session(bens, now=T0) is not None
    accounts.disable_account(ben, now=T0)
    assert accounts.session(bens, now=T0) is None
    with pytest.raises(LookupError):
        accounts.start_session(ben, now=T0)


def test_purge_deletes_dead_sessions_only(store: Store) -> None:
    accounts = make_accounts(store)
    account_id = patient(accounts)
    logged_out = accounts.start_session(account_id, now=T0)
    accounts.end_session(logged_out, now=T0)
    idle = accounts.start_session(account_id, now=T0 - timedelta(hours=1))
    live = accounts.start_session(account_id, now=T0)
    assert accounts.purge(now=T0 + timedelta(minutes=1))["web_sessions"] == 2
    assert accounts.session(live, now=T0 + timedelta(minutes=1)) is not None
    assert accounts.session(logged_out, now=T0) is None and accounts.session(idle, now=T0) is None


@pytest.mark.safety("SR-WEB-3")
def test_a_restore_ends_every_session(store: Store, tmp_path: Path, new_db_url: Callable[[], str]) -> None:
    """A backup holds sessions that were live when it was made; they must not come back to life."""
    accounts = make_accounts(store)
    account_id = patient(accounts)
    token = accounts.start_session(account_id, now=T0)
    path = tmp_path / ("backup.db" if store.is_sqlite else "backup.dump")
    store.backup(path, BACKUP_KEY)
    accounts.end_session(token, now=T0)
    store.restore(path, BACKUP_KEY)
    assert accounts.session(token, now=T0) is None
    assert accounts.account(account_id).email == "anna@example.org"
    with Store.open(new_db_url()) as other:
        other.restore(path, BACKUP_KEY)
        assert make_accounts(other).session(token, now=T0) is None
        assert other.integrity_check() == []


# --- TOTP ---------------------------------------------------------------------------------------------


@pytest.fixture
def practice_id(store: Store) -> str:
    return Practices(store).create_practice("Praxis am Park").id


def test_totp_setup_gives_a_secret_and_an_uri_for_the_authenticator_app(
    store: Store, practice_id: str
) -> None:
    accounts = make_accounts(store)
    clinician = accounts.create_clinician("dr.berg@example.org", PASSWORD, practice_id)
    setup = accounts.totp_setup(clinician.id)
    assert len(setup.secret) == 32
    assert setup.provisioning_uri.startswith("otpauth://totp/")
    assert (
        "dr.berg%40example.org" in setup.provisioning_uri
        and f"secret={setup.secret}" in setup.provisioning_uri
    )
    assert not accounts.account(clinician.id).totp_confirmed
    # A wrong code does not activate it; the right one does.
    assert not accounts.totp_confirm(
        clinician.id, "000000" if code_at(setup.secret, T0) != "000000" else "1", now=T0
    )
    assert accounts.totp_confirm(clinician.id, code_at(setup.secret, T0), now=T0)
    assert accounts.account(clinician.id).totp_confirmed
    # Once active, a second setup is refused: a stolen password alone must not replace the factor.
    with pytest.raises(InvalidValue):
        accounts.totp_setup(clinician.id)


@pytest.mark.safety("SR-WEB-3")
def test_a_valid_code_passes_a_reused_code_fails_a_wrong_code_fails(store: Store, practice_id: str) -> None:
    accounts = make_accounts(store)
    account_id, secret = clinician_with_totp(accounts, practice_id, "dr@example.org")
    later = T0 + timedelta(minutes=5)
    code = code_at(secret, later)
    assert accounts.totp_verify(account_id, code, now=later)
    assert not accounts.totp_verify(account_id, code, now=later)
    assert not accounts.totp_verify(account_id, code, now=later + timedelta(seconds=20))
    assert not accounts.totp_verify(account_id, wrong_code(secret, later), now=later + timedelta(seconds=30))
    assert not accounts.totp_verify(account_id, "12345", now=later + timedelta(seconds=30))
    assert not accounts.totp_verify(account_id, "abcdef", now=later + timedelta(seconds=30))
    assert accounts.totp_verify(account_id, code_at(secret, later, 1), now=later + timedelta(seconds=30))


def test_codes_one_step_off_pass_two_steps_off_fail(store: Store, practice_id: str) -> None:
    accounts = make_accounts(store)
    account_id, secret = clinician_with_totp(accounts, practice_id, "dr@example.org")
    base = T0 + timedelta(hours=1)
    assert not accounts.totp_verify(account_id, code_at(secret, base, -2), now=base)
    assert not accounts.totp_verify(account_id, code_at(secret, base, 2), now=base)
    assert accounts.totp_verify(account_id, code_at(secret, base, -1), now=base)  # the phone is slow
    # After a code is used, an older one is refused even within the window.
    assert accounts.totp_verify(account_id, code_at(secret, base, 1), now=base)  # the phone is fast
    assert not accounts.totp_verify(account_id, code_at(secret, base), now=base)


def test_codes_are_throttled_per_account(store: Store, practice_id: str) -> None:
    accounts = make_accounts(store)
    account_id, secret = clinician_with_totp(accounts, practice_id, "dr@example.org")
    base = T0 + timedelta(hours=1)
    for _ in range(5):
        assert not accounts.totp_verify(account_id, wrong_code(secret, base), now=base)
    with pytest.raises(Throttled):
        accounts.totp_verify(account_id, code_at(secret, base), now=base)
    free = base + timedelta(minutes=15, seconds=30)
    assert accounts.totp_verify(account_id, code_at(secret, free), now=free)


@pytest.mark.safety("SR-WEB-3")
def test_a_clinician_session_needs_the_second_factor_and_then_gets_a_new_token(
    store: Store, practice_id: str
) -> None:
    accounts = make_accounts(store)
    account_id, secret = clinician_with_totp(accounts, practice_id, "dr@example.org")
    moment = T0 + timedelta(minutes=1)
    token = accounts.start_session(account_id, now=moment)
    pending = accounts.session(token, now=moment)
    assert pending is not None and pending.second_factor_pending and pending.practice_ids == (practice_id,)
    assert principal_for_session(accounts, token, now=moment).second_factor_pending
    assert (
        accounts.pass_second_factor(
            token, "000000" if code_at(secret, moment) != "000000" else "1", now=moment
        )
        is None
    )
    full = accounts.pass_second_factor(token, code_at(secret, moment), now=moment)
    assert full is not None and full != token
    record = accounts.session(full, now=moment)
    assert record is not None and record.totp_passed and not record.second_factor_pending
    assert record.expires_at == pending.expires_at  # the absolute timeout still counts from sign-in
    # The token from before the second factor is dead: it never gains the new rights.
    assert accounts.session(token, now=moment) is None
    principal = principal_for_session(accounts, full, now=moment)
    assert (
        principal.role is Role.clinician and principal.practice_ids == {practice_id} and principal.signed_in
    )


@pytest.mark.safety("SR-WEB-3")
def test_a_clinician_without_totp_set_up_is_pending_too(store: Store, practice_id: str) -> None:
    accounts = make_accounts(store)
    clinician = accounts.create_clinician("dr@example.org", PASSWORD, practice_id)
    token = accounts.start_session(clinician.id, now=T0)
    record = accounts.session(token, now=T0)
    assert record is not None and record.second_factor_pending and not record.totp_confirmed
    # Without an active secret no code passes, not even one for a pending setup.
    setup = accounts.totp_setup(clinician.id)
    assert not accounts.totp_verify(clinician.id, code_at(setup.secret, T0), now=T0)
    assert accounts.pass_second_factor(token, code_at(setup.secret, T0), now=T0) is None


def test_a_patient_who_sets_up_totp_needs_it_from_then_on(store: Store) -> None:
    accounts = make_accounts(store)
    account_id = patient(accounts)
    before = accounts.start_session(account_id, now=T0)
    record = accounts.session(before, now=T0)
    assert record is not None and not record.second_factor_pending
    setup = accounts.totp_setup(account_id)
    assert accounts.totp_confirm(account_id, code_at(setup.secret, T0), now=T0)
    token = accounts.start_session(account_id, now=T0)
    record = accounts.session(token, now=T0)
    assert record is not None and record.second_factor_pending


def test_the_totp_secret_is_stored_sealed_and_never_handed_out(store: Store, practice_id: str) -> None:
    """The table holds the secret sealed with the data key (store.sealing), never as it is."""
    accounts = make_accounts(store)
    account_id, secret = clinician_with_totp(accounts, practice_id, "dr@example.org")
    with store.engine.connect() as conn:
        stored = conn.scalar(select(Account.totp_secret).where(Account.id == account_id))
        assert stored is not None and secret not in stored and stored.startswith("rl1:")
        assert conn.scalar(select(func.count()).select_from(WebSession)) == 0
    assert secret not in repr(accounts.account(account_id))
