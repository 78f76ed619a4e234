"""Several writers on one SQLite file wait for each other instead of failing with "database is locked".

Each thread has its own Store (its own connections), as separate `serve` processes on one data folder do.
A write transaction that read first (the person's row) and then writes must not be refused at once
because another connection committed in between: write transactions begin IMMEDIATE, so they queue for
the write lock within the busy timeout.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.followup import add_entry, record_intake
from rueckenlotse.store import Store

WRITERS = 6
ENTRIES = 12
CASE = {"age": 45, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5, "trauma": "none"}


def _entry(n: int) -> DiaryEntry:
    moment = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC) + dt.timedelta(hours=n)
    return DiaryEntry.model_validate(
        {"recorded_at": moment.isoformat(), "pain": {"low_back": n % 10}}, strict=False
    )


def _run_writers(url: str, prepare: Callable[[Store], None]) -> tuple[int, list[BaseException]]:
    """WRITERS threads, each an intake then ENTRIES diary entries; returns the writes done and the errors."""
    done: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer() -> None:
        with Store.open(url) as store:
            prepare(store)
            start.wait()
            try:
                person = store.create_person().id
                record_intake(store, person, Case.model_validate(CASE))
                for n in range(ENTRIES):
                    add_entry(store, person, _entry(n))
                    done.append(n)
            except BaseException as error:  # collected: the test asserts on every kind
                errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done), errors


def test_concurrent_writers_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'rueckenlotse.db'}"
    Store.open(url).close()
    done, errors = _run_writers(url, lambda store: None)
    assert errors == []
    assert done == WRITERS * ENTRIES
    with Store.open(url) as store:
        persons = store.list_persons()
        assert len(persons) == WRITERS
        assert all(len(store.list_diary(p.id)) == ENTRIES for p in persons)


def _plain_begin(store: Store) -> None:
    # The store as it was before: write transactions begin DEFERRED like reads.
    store._write_sessions = store._sessions  # noqa: SLF001 - the companion needs the old behaviour


def test_deferred_write_transactions_are_refused_under_the_same_load(tmp_path: Path) -> None:
    """Companion: with a plain BEGIN the same writers fail, so the test above would catch a regression."""
    locked: list[BaseException] = []
    for attempt in range(3):  # contention is timing: a few rounds make a refusal certain in practice
        url = f"sqlite:///{tmp_path / f'round-{attempt}' / 'rueckenlotse.db'}"
        Store.open(url).close()
        _, errors = _run_writers(url, _plain_begin)
        locked += [e for e in errors if "database is locked" in str(e)]
        if locked:
            break
    assert locked, "no writer was refused: the companion no longer shows what IMMEDIATE prevents"


def test_session_touches_and_audit_rows_wait_as_well(tmp_path: Path) -> None:
    """Every signed-in request reads its session and then touches it, and reads of a person write an audit
    row: such read-then-write work begins IMMEDIATE by default too, so it waits instead of failing."""
    from rueckenlotse.services.data_rights import record
    from rueckenlotse.store.audit import Actor
    from rueckenlotse.store.web_sessions import TOUCH_EVERY

    from ..web.api_world import PASSWORD, cheap_accounts

    url = f"sqlite:///{tmp_path / 'touch' / 'rueckenlotse.db'}"
    with Store.open(url) as store:
        account, person = cheap_accounts(store).register_patient("touch@example.org", PASSWORD)
        tokens = [cheap_accounts(store).start_session(account.id) for _ in range(WRITERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def toucher(token: str) -> None:
        with Store.open(url) as store:
            accounts = cheap_accounts(store)
            start.wait()
            try:
                for step in range(1, ENTRIES * 2):
                    # Each call a touch later: the session row is read and then written every time.
                    now = dt.datetime.now(dt.UTC) + step * TOUCH_EVERY
                    assert accounts.session(token, now=now) is not None
                    record(store, Actor("patient", account.id, "web"), "read.diary", person_id=person.id)
            except BaseException as error:  # collected: the test asserts on every kind
                errors.append(error)

    threads = [threading.Thread(target=toucher, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
