"""A full or read-only data folder under a running server: 503 with Retry-After and its own problem and
page (never a bare 500), /healthz says 503 with the reason; once the disk takes writes again, everything
works and nothing saved before is lost.

A real server on a real small disk: a tmpfs filled to the last byte, and an ext4 image the kernel turns
read-only under the running server (as after a disk error; a tmpfs cannot be remounted read-only while
the server holds its files open for writing). Needs root to mount; skips with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.followup import add_entry, record_intake
from rueckenlotse.store import Store

from ..disks import ext4_disk, fill, force_read_only, remount_after_error, tmpfs
from ..serving import served
from .api_world import PASSWORD, SELF_CARE, cheap_accounts, diary_entry
from .pages_helpers import parse_page


@contextmanager
def server_on(data_dir: Path, log: Path) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RUECKENLOTSE_SECRET_KEY")}
    env["RUECKENLOTSE_DATA_DIR"] = str(data_dir)
    with served(data_dir, log, env) as url:
        yield url


def a_patient_with_an_entry(database: Path) -> tuple[str, str]:
    """(person id, session token) of a patient with an intake and one diary entry, "davor"."""
    with Store.open(f"sqlite:///{database}") as store:
        account, person = cheap_accounts(store).register_patient("voll@example.org", PASSWORD)
        record_intake(store, person.id, Case.model_validate(SELF_CARE))
        add_entry(store, person.id, DiaryEntry.model_validate_json(json.dumps(diary_entry(note="davor"))))
        session = cheap_accounts(store).start_session(account.id)
    # The write-ahead log emptied, as after a quiet spell: the next write must grow it on the disk.
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return person.id, session


def post_entry(url: str, session: str, person: str, note: str) -> httpx.Response:
    with httpx.Client(base_url=url + "/api/v1", cookies={"session": session}, timeout=60.0) as client:
        return client.post(f"/persons/{person}/diary", json=diary_entry(note=note))


def assert_storage_problem(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "60"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:rueckenlotse:problem:storage-unavailable"


def healthz(url: str) -> httpx.Response:
    return httpx.get(url + "/healthz", timeout=30.0)


def notes_and_integrity(database: Path, person: str) -> tuple[list[str], str]:
    with Store.open(f"sqlite:///{database}") as store:
        notes = sorted(r.entry.note for r in store.list_diary(person))
    with closing(sqlite3.connect(database)) as connection:
        return notes, connection.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.mark.safety("SR-DIA-1")
def test_a_full_disk_is_a_503_with_honest_healthz_and_nothing_is_lost(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "data", "8m") as data, server_on(data, tmp_path / "server.log") as url:
        database = data / "web.db"
        person, session = a_patient_with_an_entry(database)
        assert healthz(url).status_code == 200
        filler = fill(data)

        assert_storage_problem(post_entry(url, session, person, "waehrenddessen"))
        with httpx.Client(base_url=url, timeout=60.0, headers={"Accept-Language": "de"}) as client:
            form, _, _ = parse_page(client.get("/anmelden").text, "login")
            assert form is not None
            page = client.post(
                "/anmelden", data={**form.hidden, "email": "voll@example.org", "password": "falsch und lang"}
            )
        assert page.status_code == 503, page.text[:500]
        assert page.headers["retry-after"] == "60"
        assert "Speichern gerade nicht möglich" in page.text and "112" in page.text
        health = healthz(url)
        assert (health.status_code, health.json()) == (
            503,
            {"status": "unavailable", "reason": "storage_full"},
        )

        filler.unlink()
        assert healthz(url).status_code == 200
        assert post_entry(url, session, person, "danach").status_code == 201
        assert notes_and_integrity(database, person) == (["danach", "davor"], "ok")
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "Traceback" not in log and "cannot write (storage_full)" in log


@pytest.mark.safety("SR-DIA-1")
def test_a_disk_turned_read_only_under_the_server_is_a_503_and_nothing_is_lost(tmp_path: Path) -> None:
    image, folder = tmp_path / "disk.img", tmp_path / "data"
    with ext4_disk(image, folder, 16) as (data, device):
        database = data / "web.db"
        with server_on(data, tmp_path / "server.log") as url:
            person, session = a_patient_with_an_entry(database)
            assert post_entry(url, session, person, "noch davor").status_code == 201
            force_read_only(device)

            assert_storage_problem(post_entry(url, session, person, "waehrenddessen"))
            health = healthz(url)
            assert health.status_code == 503
            assert health.json() == {"status": "unavailable", "reason": "storage_read_only"}
        # The operator's way back: unmount, check, mount again; then the server starts and writes again.
        remount_after_error(image, data)
        assert notes_and_integrity(database, person) == (["davor", "noch davor"], "ok")
        with server_on(data, tmp_path / "server.log") as url:
            assert post_entry(url, session, person, "danach").status_code == 201
        assert notes_and_integrity(database, person) == (["danach", "davor", "noch davor"], "ok")
    assert "Traceback" not in (tmp_path / "server.log").read_text(errors="replace")
