"""Links by e-mail (store.account_tokens through Accounts) on SQLite and PostgreSQL: a reset link works once
and only until it expires, only its hash is stored, a newer link replaces an older one, a new password
ends every session; the pending TOTP key stays the same until confirmed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from rueckenlotse.services.auth import WeakPassword
from rueckenlotse.store import Store, account_tokens
from rueckenlotse.store.repository import InvalidValue
from rueckenlotse.store.schema import AccountToken

from .account_support import CLIENT, PASSWORD, T0, make_accounts

NEW = "ein ganz anderer Satz als Passwort"


def test_a_reset_link_works_once_and_ends_every_session(store: Store) -> None:
    accounts = make_accounts(store)
    account, _ = accounts.register_patient("anna@example.org", PASSWORD)
    session_token = accounts.start_session(account.id, now=T0)
    issued = accounts.issue_link("Anna@Example.org ", account_tokens.RESET, client=CLIENT, now=T0)
    assert issued is not None and issued[0].id == account.id
    token = issued[1]
    with store.transaction(write=False) as session:
        assert token not in {row.id for row in session.scalars(select(AccountToken))}  # only its hash
    with pytest.raises(WeakPassword):
        accounts.reset_password(token, "kurz", now=T0)
    done = accounts.reset_password(token, NEW, now=T0 + timedelta(minutes=5))
    assert done is not None and done.email_verified
    assert accounts.session(session_token, now=T0 + timedelta(minutes=6)) is None
    assert accounts.session_end_reason(session_token, now=T0 + timedelta(minutes=6)) == "revoked"
    assert accounts.reset_password(token, PASSWORD, now=T0 + timedelta(minutes=6)) is None
    assert accounts.authenticate("anna@example.org", NEW, client=CLIENT, now=T0 + timedelta(minutes=7))


def test_a_reset_link_expires_and_a_newer_one_replaces_it(store: Store) -> None:
    accounts = make_accounts(store)
    accounts.register_patient("ben@example.org", PASSWORD)
    first = accounts.issue_link("ben@example.org", account_tokens.RESET, client=CLIENT, now=T0)
    second = accounts.issue_link("ben@example.org", account_tokens.RESET, client=CLIENT, now=T0)
    assert first is not None and second is not None
    assert accounts.link_account(first[1], account_tokens.RESET, now=T0) is None
    assert accounts.link_account(second[1], account_tokens.RESET, now=T0) is not None
    assert accounts.link_account(second[1], account_tokens.VERIFY, now=T0) is None  # another purpose
    late = T0 + account_tokens.LIFETIME[account_tokens.RESET]
    assert accounts.reset_password(second[1], NEW, now=late) is None


def test_no_link_for_an_unknown_address_and_few_for_one_address(store: Store) -> None:
    accounts = make_accounts(store)
    accounts.register_patient("cara@example.org", PASSWORD)
    assert accounts.issue_link("niemand@example.org", account_tokens.RESET, client=CLIENT, now=T0) is None
    sent = [accounts.issue_link("cara@example.org", "reset", client=f"10.0.0.{n}", now=T0) for n in range(5)]
    assert [s is not None for s in sent] == [True, True, True, False, False]


def test_only_one_of_many_concurrent_uses_of_a_link_succeeds(store: Store) -> None:
    accounts = make_accounts(store)
    account, _ = accounts.register_patient("dora@example.org", PASSWORD)
    token = accounts.link_for(account.id, account_tokens.VERIFY, now=T0)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: accounts.verify_email(token, now=T0), range(8)))
    assert sum(result is not None for result in results) == 1
    assert accounts.account(account.id).email_verified


def test_changing_the_password_keeps_only_this_session(store: Store) -> None:
    accounts = make_accounts(store)
    account, _ = accounts.register_patient("emil@example.org", PASSWORD)
    here, there = accounts.start_session(account.id, now=T0), accounts.start_session(account.id, now=T0)
    assert not accounts.change_password(account.id, "falsch falsch", NEW, keep=here, now=T0)
    assert accounts.change_password(account.id, PASSWORD, NEW, keep=here, now=T0)
    assert accounts.session(here, now=T0) is not None and accounts.session(there, now=T0) is None


def test_the_pending_totp_key_stays_until_confirmed(store: Store) -> None:
    accounts = make_accounts(store)
    account, _ = accounts.register_patient("fritz@example.org", PASSWORD)
    first = accounts.totp_pending_setup(account.id)
    assert accounts.totp_pending_setup(account.id) == first
    assert accounts.totp_confirm(account.id, pyotp.TOTP(first.secret).now())
    with pytest.raises(InvalidValue):
        accounts.totp_pending_setup(account.id)


def test_erasing_the_person_takes_its_links_and_their_counts_along(store: Store) -> None:
    accounts = make_accounts(store)
    account, person = accounts.register_patient("gerda@example.org", PASSWORD)
    assert accounts.issue_link("gerda@example.org", account_tokens.RESET, client=CLIENT, now=T0) is not None
    assert accounts.change_password(account.id, PASSWORD, NEW, keep=None, now=T0)
    counts = store.erase_person(person.id)
    assert counts["account_tokens"] == 1
    assert counts["login_attempts"] == 2  # the address's link count and the password change
