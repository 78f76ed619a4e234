"""Accounts: registration, password policy and hashing, sign-in and its throttling (SQLite and PostgreSQL)."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from rueckenlotse.services.auth import MIN_PASSWORD_LENGTH, Argon2Passwords, WeakPassword, check_password
from rueckenlotse.store import (
    AccountRecord,
    Accounts,
    EmailTaken,
    InvalidValue,
    NotFound,
    Practices,
    Store,
    Throttled,
    ThrottlePolicy,
)
from rueckenlotse.store.schema import Account, LoginAttempt, Person
from rueckenlotse.store.throttling import client_bucket

from .account_support import CLIENT, PASSWORD, T0, fast_passwords, make_accounts
from .test_erase_export import rows_mentioning


def count(store: Store, table: type[Account] | type[Person] | type[LoginAttempt]) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def stored_hash(store: Store, account_id: str) -> str:
    with store.engine.connect() as conn:
        value = conn.scalar(select(Account.password_hash).where(Account.id == account_id))
    assert isinstance(value, str)
    return value


# --- registration -------------------------------------------------------------------------------------


def test_a_patient_account_is_registered_together_with_its_person(store: Store) -> None:
    accounts = make_accounts(store)
    account, person = accounts.register_patient("  Anna.Beispiel@Example.ORG ", PASSWORD, "Anna")
    assert account.email == "anna.beispiel@example.org"
    assert account.role == "patient" and account.person_id == person.id
    assert person.display_name == "Anna" and store.get_person(person.id) == person
    assert not account.totp_confirmed and not account.disabled
    assert accounts.account(account.id) == account
    assert accounts.person_of(account.id) == person.id
    # The record handed out carries no secret at all.
    assert set(vars(account)) == {
        "id",
        "email",
        "role",
        "person_id",
        "created_at",
        "disabled",
        "totp_confirmed",
        "email_verified",
    }


def test_one_account_per_address_whatever_the_case_and_nothing_half_written(store: Store) -> None:
    accounts = make_accounts(store)
    accounts.register_patient("anna@example.org", PASSWORD)
    before = (count(store, Account), count(store, Person))
    with pytest.raises(EmailTaken) as caught:
        accounts.register_patient("ANNA@example.org", PASSWORD + "x")
    assert "schon ein Konto" in caught.value.message("de") and "already" in caught.value.message("en")
    assert (count(store, Account), count(store, Person)) == before


@pytest.mark.parametrize("email", ["", "anna", "anna@", "@example.org", "anna@example", "a b@example.org"])
def test_an_invalid_address_is_refused(store: Store, email: str) -> None:
    with pytest.raises(InvalidValue):
        make_accounts(store).register_patient(email, PASSWORD)
    assert count(store, Person) == 0


def test_a_clinician_belongs_to_an_existing_practice(store: Store) -> None:
    accounts, practices = make_accounts(store), Practices(store)
    with pytest.raises(NotFound):
        accounts.create_clinician("dr@example.org", PASSWORD, "no-such-practice")
    assert count(store, Account) == 0
    practice = practices.create_practice("Praxis am Park")
    clinician = accounts.create_clinician("Dr@Example.org", PASSWORD, practice.id)
    assert clinician.role == "clinician" and clinician.person_id is None
    assert accounts.person_of(clinician.id) is None
    assert [m.id for m in practices.members(practice.id)] == [clinician.id]


@pytest.mark.safety("SR-SEC-1")
def test_an_account_resolves_only_its_own_person(store: Store) -> None:
    accounts = make_accounts(store)
    a, person_a = accounts.register_patient("a@example.org", PASSWORD)
    b, person_b = accounts.register_patient("b@example.org", PASSWORD)
    assert accounts.owned_person(a.id, person_a.id) == person_a
    assert accounts.owned_person(b.id, person_b.id) == person_b
    # Patient B asking for A's person gets the same answer as for an id that does not exist.
    with pytest.raises(NotFound) as other:
        accounts.owned_person(b.id, person_a.id)
    with pytest.raises(NotFound) as missing:
        accounts.owned_person(b.id, "0" * 32)
    assert type(other.value) is type(missing.value)
    # A person without any account (an anonymous intake) belongs to no account either.
    lonely = store.create_person()
    with pytest.raises(NotFound):
        accounts.owned_person(a.id, lonely.id)


# --- password policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("kurz", ("mindestens", "at least")),
        ("x" * (MIN_PASSWORD_LENGTH - 1), ("mindestens", "at least")),
        ("anna.beispiel@example.org", ("E-Mail", "e-mail")),
        ("ANNA.Beispiel@example.org", ("E-Mail", "e-mail")),
        ("anna.beispiel", ("E-Mail", "e-mail")),
        ("aaaaaaaaaaaaaaaa", ("wiederholt", "repeated")),
        ("x" * 1025, ("zu lang", "too long")),
    ],
)
def test_the_password_policy_explains_itself_in_both_languages(
    store: Store, password: str, words: tuple[str, str]
) -> None:
    with pytest.raises(WeakPassword) as caught:
        make_accounts(store).register_patient("anna.beispiel@example.org", password)
    assert words[0] in caught.value.message("de") and words[1] in caught.value.message("en")
    assert isinstance(caught.value, InvalidValue)
    assert count(store, Account) == count(store, Person) == 0


def test_a_long_enough_password_is_accepted() -> None:
    check_password("anna@example.org", "x" * (MIN_PASSWORD_LENGTH - 1) + "y")
    check_password("anna@example.org", "ein Satz aus Wörtern")


# --- hashing ------------------------------------------------------------------------------------------


@pytest.mark.safety("SR-WEB-3")
def test_passwords_are_kept_as_argon2id_hashes_and_never_in_plain_text(store: Store) -> None:
    secret = "Unverwechselbar-Passwort-4711"
    account, _ = make_accounts(store).register_patient("anna@example.org", secret)
    assert stored_hash(store, account.id).startswith("$argon2id$")
    assert not any(rows_mentioning(store, secret).values())


@pytest.mark.safety("SR-WEB-3")
def test_the_password_is_not_in_the_sqlite_files(sqlite_store: Store) -> None:
    secret = "Unverwechselbar-Passwort-4711"
    make_accounts(sqlite_store).register_patient("anna@example.org", secret)
    path = sqlite_store.engine.url.database
    assert path is not None
    for suffix in ("", "-wal"):
        try:
            with open(path + suffix, "rb") as f:
                content = f.read()
        except FileNotFoundError:
            continue
        assert secret.encode() not in content and secret.encode("utf-16-le") not in content


def test_the_default_cost_is_argon2s_recommended_one() -> None:
    passwords = Argon2Passwords()
    hashed = passwords.hash(PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify(hashed, PASSWORD) and not passwords.verify(hashed, PASSWORD + "x")
    assert not passwords.needs_rehash(hashed)
    assert not passwords.verify("not a hash", PASSWORD) and passwords.needs_rehash("not a hash")


def test_a_hash_with_old_parameters_is_upgraded_at_the_next_sign_in(store: Store) -> None:
    account, _ = make_accounts(store).register_patient("anna@example.org", PASSWORD)
    assert "m=8,t=1,p=1" in stored_hash(store, account.id)
    stronger = Accounts(store, Argon2Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)))
    assert stronger.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=T0) == account
    assert "m=16,t=2,p=1" in stored_hash(store, account.id)
    assert stronger.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=T0) == account


def test_the_same_password_typed_composed_or_decomposed_signs_in(store: Store) -> None:
    composed = unicodedata.normalize("NFC", "Grüße aus Köln!")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    accounts = make_accounts(store)
    account, _ = accounts.register_patient("anna@example.org", composed)
    assert accounts.authenticate("anna@example.org", decomposed, client=CLIENT, now=T0) == account


# --- signing in ---------------------------------------------------------------------------------------


class CountingPasswords(Argon2Passwords):
    """Records which hashes were verified, to see the dummy hash used for unknown addresses."""

    def __init__(self) -> None:
        super().__init__(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        self.verified: list[str] = []

    def verify(self, stored_hash: str, password: str) -> bool:
        self.verified.append(stored_hash)
        return super().verify(stored_hash, password)


def test_sign_in_with_the_right_password_only(store: Store) -> None:
    passwords = CountingPasswords()
    accounts = Accounts(store, passwords)
    account, _ = accounts.register_patient("anna@example.org", PASSWORD)
    assert accounts.authenticate(" ANNA@example.org", PASSWORD, client=CLIENT, now=T0) == account
    assert accounts.authenticate("anna@example.org", PASSWORD + "!", client=CLIENT, now=T0) is None
    assert accounts.authenticate("anna@example.org", "", client=CLIENT, now=T0) is None
    passwords.verified.clear()
    assert accounts.authenticate("nobody@example.org", PASSWORD, client=CLIENT, now=T0) is None
    # An unknown address costs a verification just like a known one: timing does not tell them apart.
    assert passwords.verified == [passwords.dummy_hash]


def test_a_disabled_account_cannot_sign_in(store: Store) -> None:
    accounts = make_accounts(store)
    account, _ = accounts.register_patient("anna@example.org", PASSWORD)
    accounts.disable_account(account.id, now=T0)
    assert accounts.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=T0) is None
    assert accounts.account(account.id).disabled


def test_naive_times_are_refused(store: Store) -> None:
    accounts = make_accounts(store)
    accounts.register_patient("anna@example.org", PASSWORD)
    with pytest.raises(InvalidValue):
        accounts.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=T0.replace(tzinfo=None))


# --- throttling ---------------------------------------------------------------------------------------


def fail(accounts: Accounts, email: str, n: int, *, client: str = CLIENT, start: int = 0) -> None:
    for i in range(n):
        moment = T0 + timedelta(seconds=start + i)
        assert accounts.authenticate(email, "falsch-falsch", client=client, now=moment) is None


@pytest.mark.safety("SR-WEB-3")
def test_the_sixth_failed_attempt_for_an_address_is_throttled(store: Store) -> None:
    accounts = make_accounts(store)
    account, _ = accounts.register_patient("anna@example.org", PASSWORD)
    fail(accounts, "anna@example.org", 5)
    later = T0 + timedelta(minutes=1)
    # Throttled even with the right password: the answer must not tell a guesser they were right.
    with pytest.raises(Throttled) as caught:
        accounts.authenticate("anna@example.org", PASSWORD, client="198.51.100.1", now=later)
    assert caught.value.retry_after == 14 * 60
    assert "Minute" in caught.value.message("de") and "minute" in caught.value.message("en")
    # Once the first failure has left the 15-minute window, one attempt is free again.
    free = T0 + timedelta(minutes=15, seconds=1)
    assert accounts.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=free) == account


def test_throttled_attempts_do_not_extend_the_lock(store: Store) -> None:
    accounts = make_accounts(store)
    accounts.register_patient("anna@example.org", PASSWORD)
    fail(accounts, "anna@example.org", 5)
    for minute in range(1, 15):
        with pytest.raises(Throttled):
            accounts.authenticate("anna@example.org", "x", client=CLIENT, now=T0 + timedelta(minutes=minute))
    assert accounts.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=T0 + timedelta(minutes=16))


def test_a_success_clears_the_address_count(store: Store) -> None:
    accounts = make_accounts(store)
    account, _ = accounts.register_patient("anna@example.org", PASSWORD)
    fail(accounts, "anna@example.org", 4)
    assert accounts.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=T0 + timedelta(seconds=10))
    fail(accounts, "anna@example.org", 5, start=20)
    with pytest.raises(Throttled):
        accounts.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=T0 + timedelta(seconds=30))
    del account


@pytest.mark.safety("SR-WEB-3")
def test_a_client_is_throttled_after_twenty_failures_across_addresses(store: Store) -> None:
    accounts = make_accounts(store)
    mine, _ = accounts.register_patient("mallory@example.org", PASSWORD)
    accounts.register_patient("anna@example.org", PASSWORD)
    for n in range(20):
        fail(accounts, f"victim{n}@example.org", 1, start=n)
    # Signing in to one's own account does not reset the client's count.
    moment = T0 + timedelta(minutes=1)
    with pytest.raises(Throttled):
        accounts.authenticate("mallory@example.org", PASSWORD, client=CLIENT, now=moment)
    with pytest.raises(Throttled):
        accounts.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=moment)
    # Another client is not affected.
    assert accounts.authenticate("anna@example.org", PASSWORD, client="198.51.100.1", now=moment)
    assert accounts.authenticate("mallory@example.org", PASSWORD, client="2001:db8::1", now=moment) == mine


def test_limits_are_configurable(store: Store) -> None:
    accounts = make_accounts(store, throttle=ThrottlePolicy(window=timedelta(minutes=1), per_email=2))
    accounts.register_patient("anna@example.org", PASSWORD)
    fail(accounts, "anna@example.org", 2)
    with pytest.raises(Throttled):
        accounts.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=T0 + timedelta(seconds=30))
    assert accounts.authenticate("anna@example.org", PASSWORD, client=CLIENT, now=T0 + timedelta(seconds=62))


def test_unknown_addresses_are_throttled_like_known_ones(store: Store) -> None:
    accounts = make_accounts(store)
    fail(accounts, "nobody@example.org", 5)
    with pytest.raises(Throttled):
        accounts.authenticate("nobody@example.org", PASSWORD, client=CLIENT, now=T0 + timedelta(minutes=1))


def test_attempts_keep_no_address_in_plain_text(store: Store) -> None:
    accounts = make_accounts(store)
    accounts.register_patient("anna@example.org", PASSWORD)
    fail(accounts, "anna@example.org", 3)
    fail(accounts, "berta.geheim@example.org", 2, start=10)
    # One row each for the address, the address from this client, and the client.
    assert count(store, LoginAttempt) == 15
    found = rows_mentioning(store, "berta.geheim")
    assert not any(found.values()), found
    assert not rows_mentioning(store, CLIENT)["login_attempts"]


def test_ipv6_clients_are_counted_per_64_block() -> None:
    assert (
        client_bucket("2001:db8:1:2:aaaa::1") == client_bucket("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    )
    assert client_bucket("2001:db8:1:3::1") != client_bucket("2001:db8:1:2::1")
    assert client_bucket("::ffff:203.0.113.7") == client_bucket(" 203.0.113.7") == "203.0.113.7"
    assert client_bucket("testclient") == "testclient"


def test_purge_forgets_attempts_outside_the_window(store: Store) -> None:
    accounts = make_accounts(store)
    fail(accounts, "anna@example.org", 3)
    assert accounts.purge(now=T0 + timedelta(minutes=10))["login_attempts"] == 0
    assert accounts.purge(now=T0 + timedelta(minutes=16))["login_attempts"] == 9
    assert count(store, LoginAttempt) == 0


def test_accounts_work_from_another_store_on_the_same_database(db_url: str) -> None:
    """Two app processes share nothing but the database: an account made by one signs in at the other."""
    with Store.open(db_url) as one, Store.open(db_url) as other:
        account, _ = make_accounts(one).register_patient("anna@example.org", PASSWORD)
        found = Accounts(other, fast_passwords()).authenticate("anna@example.org", PASSWORD, client=CLIENT)
        assert isinstance(found, AccountRecord) and found.id == account.id
