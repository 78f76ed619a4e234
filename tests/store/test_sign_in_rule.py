"""The sign-in throttling rule on SQLite and PostgreSQL (store.accounts.authenticate): a guesser's address
backs off per account, an account with a second factor is never locked as a whole, and a success clears
the account's counts. The races are tested over HTTP (tests/web/test_sign_in_abuse.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rueckenlotse.store import Practices, Store, Throttled

from .account_support import PASSWORD, T0, clinician_with_totp, make_accounts

ATTACKER = "198.51.100.66"
OWNER = "203.0.113.7"
EMAIL = "arzt@praxis.example"


def fail(store: Store, n: int, *, start: timedelta = timedelta(), client: str = ATTACKER) -> None:
    accounts = make_accounts(store)
    for i in range(n):
        moment = T0 + start + timedelta(seconds=i)
        assert accounts.authenticate(EMAIL, "ein falsches Passwort", client=client, now=moment) is None


def clinician(store: Store) -> str:
    practice = Practices(store).create_practice("Praxis Süd")
    account_id, _ = clinician_with_totp(make_accounts(store), practice.id, EMAIL, now=T0 - timedelta(hours=1))
    return account_id


def test_an_account_with_a_second_factor_is_not_locked_for_its_owner(store: Store) -> None:
    account_id = clinician(store)
    fail(store, 5)
    later = T0 + timedelta(seconds=30)
    accounts = make_accounts(store)
    with pytest.raises(Throttled):
        accounts.authenticate(EMAIL, PASSWORD, client=ATTACKER, now=later)
    found = accounts.authenticate(EMAIL, PASSWORD, client=OWNER, now=later)
    assert found is not None and found.id == account_id


def test_the_guessers_address_backs_off_ever_longer(store: Store) -> None:
    clinician(store)
    accounts = make_accounts(store)
    fail(store, 5)  # the fifth at T0 + 4 s: one minute's wait
    with pytest.raises(Throttled) as caught:
        accounts.authenticate(EMAIL, "noch ein Versuch", client=ATTACKER, now=T0 + timedelta(seconds=30))
    assert caught.value.retry_after == 34
    sixth = T0 + timedelta(seconds=65)
    assert accounts.authenticate(EMAIL, "noch ein Versuch", client=ATTACKER, now=sixth) is None
    with pytest.raises(Throttled) as caught:  # now two minutes after the sixth
        accounts.authenticate(EMAIL, "noch ein Versuch", client=ATTACKER, now=sixth + timedelta(seconds=90))
    assert caught.value.retry_after == 30
    seventh = sixth + timedelta(minutes=2)
    assert accounts.authenticate(EMAIL, "noch ein Versuch", client=ATTACKER, now=seventh) is None
    with pytest.raises(Throttled) as caught:  # four minutes
        accounts.authenticate(EMAIL, PASSWORD, client=ATTACKER, now=seventh + timedelta(minutes=3))
    assert caught.value.retry_after == 60


def test_a_success_clears_the_account_but_not_the_guessers_client(store: Store) -> None:
    clinician(store)
    accounts = make_accounts(store)
    fail(store, 5)
    assert accounts.authenticate(EMAIL, PASSWORD, client=OWNER, now=T0 + timedelta(seconds=10))
    # The owner's success does not free the attacker's address for this account.
    with pytest.raises(Throttled):
        accounts.authenticate(EMAIL, PASSWORD, client=ATTACKER, now=T0 + timedelta(seconds=20))
