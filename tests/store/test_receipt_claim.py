"""Registering with a practice intake's receipt (issue #18), on SQLite and PostgreSQL: the new account owns
the intake's person (so it may share its course with that practice), the claim is audited, a receipt works
once, an unknown one or one whose person has an account never, and two registrations racing for one
receipt leave exactly one owner."""

from __future__ import annotations

import hashlib
import secrets
import threading

import pytest
from sqlalchemy import select

from rueckenlotse.core.models import Case
from rueckenlotse.services import sharing
from rueckenlotse.services.followup import record_intake
from rueckenlotse.store import Practices, Store, audit
from rueckenlotse.store.accounts import EmailTaken, ReceiptUnusable
from rueckenlotse.store.errors import NotFound
from rueckenlotse.store.schema import Account

from .account_support import PASSWORD, T0, make_accounts

PLAIN = Case.model_validate({"age": 40, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5})


def anonymous_send(store: Store, practice_id: str) -> tuple[str, str]:
    """An intake sent without an account, as the practice link stores it: (person id, receipt hash)."""
    person = store.create_person("Rita").id
    result = record_intake(store, person, PLAIN)
    digest = hashlib.sha256(secrets.token_urlsafe(32).encode()).hexdigest()
    Practices(store).submit_intake(practice_id, person, result.record.id, receipt_hash=digest, now=T0)
    return person, digest


def email() -> str:
    return f"r-{secrets.token_hex(4)}@example.org"


def owners(store: Store, person_id: str) -> list[str]:
    with store.transaction(write=False) as session:
        return list(session.scalars(select(Account.id).where(Account.person_id == person_id)))


def test_the_account_owns_the_sent_intake_and_may_share_with_its_practice(store: Store) -> None:
    accounts = make_accounts(store)
    practice = Practices(store).create_practice("Praxis am Markt")
    person, digest = anonymous_send(store, practice.id)
    assert accounts.claimable_receipt(digest) == "Praxis am Markt"

    account, claimed = accounts.register_patient(email(), PASSWORD, "", receipt_hash=digest, now=T0)
    assert claimed.id == person and account.person_id == person
    assert claimed.display_name == "Rita"  # an empty name keeps the one given at the send
    assert [p.practice_id for p in sharing.sharable_practices(store, person)] == [practice.id]
    with store.transaction(write=False) as session:
        events = [(e.action, e.person_id, e.practice_id) for e in audit.all_events(session)]
    assert ("claim.receipt", person, practice.id) in events
    # Once: the receipt names a person with an account now.
    assert accounts.claimable_receipt(digest) is None
    with pytest.raises(ReceiptUnusable):
        accounts.register_patient(email(), PASSWORD, receipt_hash=digest)
    assert owners(store, person) == [account.id]


def test_unknown_receipts_and_persons_with_accounts_are_refused_and_change_nothing(store: Store) -> None:
    accounts = make_accounts(store)
    practice = Practices(store).create_practice("Praxis Ost")
    address = email()
    for digest in ("0" * 64, "", "x"):
        with pytest.raises(ReceiptUnusable):
            accounts.register_patient(address, PASSWORD, receipt_hash=digest)
    # A signed-in patient's own send: their person has an account already.
    own_address = email()
    _, own = accounts.register_patient(own_address, PASSWORD)
    result = record_intake(store, own.id, PLAIN)
    digest = hashlib.sha256(b"own send").hexdigest()
    Practices(store).submit_intake(practice.id, own.id, result.record.id, receipt_hash=digest, now=T0)
    with pytest.raises(ReceiptUnusable):
        accounts.register_patient(address, PASSWORD, receipt_hash=digest)
    with pytest.raises(NotFound):
        accounts.account_by_email(address)
    # A taken address is still EmailTaken, and the receipt stays claimable.
    person, fresh = anonymous_send(store, practice.id)
    with pytest.raises(EmailTaken):
        accounts.register_patient(own_address, PASSWORD, receipt_hash=fresh)
    assert accounts.claimable_receipt(fresh) == "Praxis Ost" and owners(store, person) == []


def test_two_registrations_racing_for_one_receipt_leave_one_owner(store: Store) -> None:
    accounts = make_accounts(store)
    practice = Practices(store).create_practice("Praxis West")
    person, digest = anonymous_send(store, practice.id)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def register() -> None:
        barrier.wait()
        try:
            accounts.register_patient(email(), PASSWORD, receipt_hash=digest)
            outcomes.append("won")
        except ReceiptUnusable:
            outcomes.append("refused")

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "won"]
    assert len(owners(store, person)) == 1
