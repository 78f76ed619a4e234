"""What the practice link keeps with an intake (revision 0009), on SQLite and PostgreSQL: a reference, the
receipt's digest, contact details sealed to their row and erased with the intake; the inbox's filters,
count, search and paging; spam and delete with their audit rows; and the send limits, which hold under
parallel sends."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from rueckenlotse.store import NotFound, Practices, Store
from rueckenlotse.store.account_records import IntakeContact, Throttled
from rueckenlotse.store.audit import Actor, all_events
from rueckenlotse.store.data_keys import rotate, sealed_by_key
from rueckenlotse.store.intake_limits import IntakeLimits, count_send
from rueckenlotse.store.practices import InboxFilter, contact_place, normalise_reference
from rueckenlotse.store.schema import PracticeIntake
from rueckenlotse.store.sealing import Sealer, SealingError

from .account_support import T0, TEST_KEY, intake, sealer_for_tests
from .test_practices import sent_copy

CONTACT = IntakeContact(
    name="Erika M.", phone="030 1234567", email="erika@example.org", birth_date="1961-04-30"
)
CLINICIAN = Actor("clinician", "c" * 32, "web")


def test_a_sent_intake_keeps_reference_receipt_and_sealed_contact(store: Store) -> None:
    practices = Practices(store, sealer=sealer_for_tests())
    practice = practices.create_practice("Praxis").id
    person, assessment = sent_copy(store)
    keys = {"submission_key": "a" * 64, "receipt_hash": "r" * 64}
    sent = practices.submit_intake(practice, person, assessment, **keys, contact=CONTACT, now=T0)
    assert sent.reference is not None and normalise_reference(sent.reference.lower()) == sent.reference
    with store.transaction(write=False) as session:
        row = session.scalar(select(PracticeIntake).where(PracticeIntake.id == sent.id))
        assert row is not None and row.contact_sealed is not None
        assert "030" not in row.contact_sealed and "erika" not in row.contact_sealed  # sealed, not plain
        assert row.receipt_hash == "r" * 64
    found = practices.receipt("r" * 64)
    assert found is not None
    record, detail = found
    assert record.id == practice and detail.intake.id == sent.id
    # The name comes from the person (the caller made it with the name), the rest from the seal.
    assert detail.contact == IntakeContact(None, "030 1234567", "erika@example.org", "1961-04-30")
    assert practices.receipt("x" * 64) is None and practices.receipt("short") is None
    # The sealed value opens only in its own row.
    assert sealer_for_tests().open(row.contact_sealed, contact_place(sent.id))
    with pytest.raises(SealingError):
        sealer_for_tests().open(row.contact_sealed, contact_place("another"))
    # The same send again: the first intake, unchanged (no new reference).
    again = practices.submit_intake(practice, *sent_copy(store), submission_key="a" * 64, now=T0)
    assert again.id == sent.id and again.reference == sent.reference


def test_contact_details_need_a_sealer_and_nothing_is_kept_when_none_are_given(store: Store) -> None:
    practice = Practices(store).create_practice("Praxis").id
    with pytest.raises(RuntimeError):
        Practices(store).submit_intake(practice, *sent_copy(store), contact=CONTACT, now=T0)
    plain = Practices(store).submit_intake(practice, *sent_copy(store), contact=IntakeContact(), now=T0)
    assert Practices(store).intake_detail(practice, plain.id).contact is None


def test_the_inbox_filters_counts_searches_and_pages(store: Store) -> None:
    practices = Practices(store)
    practice = practices.create_practice("Praxis").id
    named = intake(store, practices, practice, "routine", now=T0, name="Anna 100%_Sonder")
    emergency = intake(store, practices, practice, "emergency", now=T0 + timedelta(days=2))
    old = intake(store, practices, practice, "soon", now=T0 - timedelta(days=5))
    spam = intake(store, practices, practice, "emergency", now=T0 + timedelta(days=3))
    practices.mark_spam(practice, spam.id, CLINICIAN, now=T0)

    def ids(where: InboxFilter, **paging: int) -> list[str]:
        return [row.intake.id for row in practices.inbox(practice, where=where, **paging)]

    everything = InboxFilter()
    assert ids(everything) == [emergency.id, old.id, named.id]  # spam left out, emergencies first
    assert practices.count_inbox(practice, everything) == 3
    assert ids(InboxFilter(state="spam")) == [spam.id]
    assert ids(InboxFilter(triage="emergency")) == [emergency.id]
    assert ids(InboxFilter(since=T0 - timedelta(hours=1), before=T0 + timedelta(days=1))) == [named.id]
    assert ids(InboxFilter(search="anna")) == [named.id]
    assert ids(InboxFilter(search="100%_")) == [named.id]  # LIKE's wildcards taken literally
    assert ids(InboxFilter(search="%sonder")) == []  # "%" is no wildcard: "%_sonder" is what it holds
    reference = emergency.reference
    assert reference is not None
    assert ids(InboxFilter(search=reference.replace("-", " ").lower())) == [emergency.id]
    assert ids(everything, limit=1, offset=1) == [old.id]
    # Open: reviewed ones leave it; reviewed: only those.
    with store.transaction() as session:
        session.execute(update(PracticeIntake).where(PracticeIntake.id == old.id).values(reviewed_at=T0))
    assert ids(InboxFilter(state="open")) == [emergency.id, named.id]
    assert ids(InboxFilter(state="reviewed")) == [old.id]
    assert practices.count_inbox(practice, InboxFilter(state="open")) == 2


def test_spam_and_delete_are_audited_and_delete_erases_a_person_made_for_the_intake(store: Store) -> None:
    practices = Practices(store, sealer=sealer_for_tests())
    practice = practices.create_practice("Praxis").id
    person, assessment = sent_copy(store)
    sent = practices.submit_intake(practice, person, assessment, contact=CONTACT, now=T0)
    other = practices.create_practice("Andere").id
    with pytest.raises(NotFound):
        practices.mark_spam(other, sent.id, CLINICIAN)  # another practice's intake
    with pytest.raises(NotFound):
        practices.delete_intake(other, sent.id, CLINICIAN)
    practices.mark_spam(practice, sent.id, CLINICIAN, now=T0)
    practices.delete_intake(practice, sent.id, CLINICIAN, now=T0)
    assert practices.inbox(practice, where=InboxFilter(state="spam")) == []
    assert person not in {p.id for p in store.list_persons()}
    with store.transaction(write=False) as session:
        events = [(e.action, e.person_id) for e in all_events(session) if e.practice_id == practice]
    assert ("spam.intake", None) in events  # erasing the person took their id out of the trail
    assert ("delete.intake", None) in events  # the person went with it: the trail keeps no id of them


def test_the_send_limits_count_per_client_and_per_link(store: Store) -> None:
    practices = Practices(store)
    practice = practices.create_practice("Praxis").id
    limits = IntakeLimits(per_client=2, per_link=3)
    for _ in range(2):
        count_send(store, practice, "203.0.113.7", limits, now=T0)
    with pytest.raises(Throttled) as refused:
        count_send(store, practice, "203.0.113.7", limits, now=T0 + timedelta(minutes=10))
    assert refused.value.retry_after == 50 * 60
    # An IPv6 client counts per /64: another address of the same network is the same client.
    count_send(store, practice, "2001:db8::1", limits, now=T0)
    with pytest.raises(Throttled):  # the link's own limit (3) is reached
        count_send(store, practice, "198.51.100.1", limits, now=T0)
    other = practices.create_practice("Andere").id
    count_send(store, other, "203.0.113.7", limits, now=T0)  # every link counts for itself
    count_send(store, practice, "203.0.113.7", limits, now=T0 + timedelta(hours=1, seconds=1))  # a new hour


def test_parallel_sends_never_pass_the_limit(store: Store) -> None:
    practice = Practices(store).create_practice("Praxis").id
    limits = IntakeLimits(per_client=5, per_link=1000)
    start = threading.Barrier(20)
    passed: list[int] = []
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            start.wait()
            count_send(store, practice, "203.0.113.9", limits)
            passed.append(i)
        except Throttled:
            pass
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(passed) == 5


def test_rotating_the_data_key_reseals_the_contact_details(store: Store) -> None:
    old = sealer_for_tests()
    new = Sealer(b"n" * 32, [TEST_KEY])
    practices = Practices(store, sealer=old)
    practice = practices.create_practice("Praxis").id
    sent = practices.submit_intake(practice, *sent_copy(store), contact=CONTACT, now=T0)
    assert sealed_by_key(store) == {old.current_id: 1}
    rotation = rotate(store, new, CLINICIAN)
    assert rotation.resealed == 1
    assert sealed_by_key(store) == {new.current_id: 1}
    contact = Practices(store, sealer=Sealer(b"n" * 32)).intake_detail(practice, sent.id).contact
    assert contact is not None and contact.phone == "030 1234567"
