"""A locked database answers 503 with Retry-After, on the pages and the API, never 500; nothing half-saved.

A real server on its own SQLite file; the test holds the database's write lock from another connection
(as a long write of another process would) until the server's busy timeout has passed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.followup import add_entry, record_intake
from rueckenlotse.store import Store

from ..serving import served
from .api_world import PASSWORD, SELF_CARE, cheap_accounts, diary_entry
from .pages_helpers import parse_page


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("busy")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RUECKENLOTSE_SECRET_KEY")}
    env["RUECKENLOTSE_DATA_DIR"] = str(data_dir)
    with served(data_dir, data_dir / "server.log", env) as url:
        yield url, data_dir / "web.db"


def _write_locked(database: Path) -> sqlite3.Connection:
    """Another connection holding the write lock (readers go on in WAL mode, writers wait)."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_diary_entry_against_a_locked_database_is_a_503_problem(server: tuple[str, Path]) -> None:
    url, database = server
    with Store.open(f"sqlite:///{database}") as store:
        account, person = cheap_accounts(store).register_patient("busy@example.org", PASSWORD)
        record_intake(store, person.id, Case.model_validate(SELF_CARE))
        add_entry(store, person.id, DiaryEntry.model_validate_json(json.dumps(diary_entry(note="davor"))))
        session = cheap_accounts(store).start_session(account.id)
    holder = _write_locked(database)
    try:
        with httpx.Client(base_url=url + "/api/v1", cookies={"session": session}, timeout=60.0) as client:
            response = client.post(f"/persons/{person.id}/diary", json=diary_entry(note="waehrenddessen"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(":busy")
    with Store.open(f"sqlite:///{database}") as store:
        assert [r.entry.note for r in store.list_diary(person.id)] == ["davor"]  # nothing half-saved
    with httpx.Client(base_url=url + "/api/v1", cookies={"session": session}, timeout=60.0) as client:
        again = client.post(f"/persons/{person.id}/diary", json=diary_entry(note="danach"))
    assert again.status_code == 201, again.text


def test_a_form_against_a_locked_database_is_a_503_page(server: tuple[str, Path]) -> None:
    url, database = server
    with httpx.Client(base_url=url, timeout=60.0, headers={"Accept-Language": "de"}) as client:
        form, _, _ = parse_page(client.get("/anmelden").text, "login")
        assert form is not None
        holder = _write_locked(database)
        try:
            page = client.post(
                "/anmelden",
                data={**form.hidden, "email": "niemand@example.org", "password": "falsch und lang"},
            )
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert page.status_code == 503, page.text[:500]
    assert page.headers["retry-after"] == "5"
    assert "Gerade ist viel los" in page.text and "112" in page.text
    assert "Traceback" not in page.text


def test_a_page_that_only_reads_stays_up_while_its_session_clock_cannot_be_written(
    server: tuple[str, Path],
) -> None:
    """The session's idle clock is written at most once a minute, before the page runs (outside its 503
    handling). Under a held write lock a page that only reads still answers, instead of a 500 (found by the
    fault suite: sessions older than a minute posting while another process wrote)."""
    url, database = server
    with Store.open(f"sqlite:///{database}") as store:
        accounts = cheap_accounts(store)
        account, person = accounts.register_patient("clock@example.org", PASSWORD)
        record_intake(store, person.id, Case.model_validate(SELF_CARE))
        started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # the clock is due to be moved
        session = accounts.start_session(account.id, now=started)
    holder = _write_locked(database)
    try:
        with httpx.Client(base_url=url, cookies={"session": session}, timeout=60.0) as client:
            page = client.get("/mein-bereich", headers={"Accept-Language": "de"})
            api = client.get(f"/api/v1/persons/{person.id}/diary")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert page.status_code == 200, page.text[:500]
    assert api.status_code == 200, api.text[:500]
    with Store.open(f"sqlite:///{database}") as store:
        assert cheap_accounts(store).session(session) is not None  # still signed in; moved now
