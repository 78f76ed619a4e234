"""Diary idempotency keys and form drafts on SQLite and PostgreSQL: one form saves one entry, however
often it is posted; a draft is found only by its token and kind, and not after it expired."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, update

from rueckenlotse.core.models import Case
from rueckenlotse.services.followup import AlreadySaved, add_entry, record_intake
from rueckenlotse.store import Store
from rueckenlotse.store.schema import DiaryRow, FormDraft

from ..followup import T0, entry

PLAIN: dict[str, Any] = {"age": 40, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 4}
KEY = "k" * 43


def _person(store: Store) -> str:
    person = store.create_person().id
    record_intake(store, person, Case.model_validate(PLAIN), assessed_at=T0)
    return person


def _count(store: Store, person: str) -> int:
    with store.transaction(write=False) as session:
        return int(session.scalar(select(func.count()).where(DiaryRow.person_id == person)) or 0)


def test_a_key_saves_one_entry(store: Store) -> None:
    person = _person(store)
    first = add_entry(store, person, entry(1, 5), idempotency_key=KEY)
    with pytest.raises(AlreadySaved) as again:
        add_entry(store, person, entry(1, 5), idempotency_key=KEY)
    assert again.value.entry_id == first.entry_id
    assert _count(store, person) == 1
    # Another form (another key), and entries without a key (the command line), save as before.
    add_entry(store, person, entry(2, 4), idempotency_key="m" * 43)
    add_entry(store, person, entry(3, 4))
    add_entry(store, person, entry(4, 4))
    assert _count(store, person) == 4


def test_the_same_key_of_another_person_is_their_own(store: Store) -> None:
    anna, ben = _person(store), _person(store)
    add_entry(store, anna, entry(1, 5), idempotency_key=KEY)
    add_entry(store, ben, entry(1, 5), idempotency_key=KEY)
    assert _count(store, anna) == _count(store, ben) == 1
    assert store.diary_entry_by_key(anna, KEY) != store.diary_entry_by_key(ben, KEY)


def test_a_draft_is_found_by_its_token_and_kind_until_it_expires(store: Store) -> None:
    person = _person(store)
    store.put_draft(
        "t" * 43, "diary", {"pairs": [["note", "x"]]}, ttl=dt.timedelta(hours=24), person_id=person
    )
    kept = store.get_draft("t" * 43, "diary")
    assert kept is not None and kept.person_id == person and kept.payload == {"pairs": [["note", "x"]]}
    assert store.get_draft("t" * 43, "intake") is None  # another kind
    assert store.get_draft("u" * 43, "diary") is None  # another token
    assert store.get_draft("t" * 500, "diary") is None  # not a token of ours
    with store.transaction() as session:  # a day later
        session.execute(
            update(FormDraft).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert store.get_draft("t" * 43, "diary") is None
    # The next draft written purges the expired one: nothing of it stays in the table.
    store.put_draft("v" * 43, "intake", {"state": "s"}, ttl=dt.timedelta(hours=2))
    with store.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(FormDraft)) == 1
    store.drop_draft("v" * 43)
    assert store.get_draft("v" * 43, "intake") is None


def test_a_draft_is_erased_with_its_person(store: Store) -> None:
    person = _person(store)
    store.put_draft("t" * 43, "diary", {"pairs": []}, ttl=dt.timedelta(hours=24), person_id=person)
    store.erase_person(person)
    assert store.get_draft("t" * 43, "diary") is None
