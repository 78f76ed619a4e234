"""Data rights on the live server: clinicians' and API tokens' access is recorded and shown to the person
(and to nobody else), the person downloads everything, and erasing the account leaves no row anywhere."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from rueckenlotse.store import Store
from rueckenlotse.store.practices import Practices

from .authz_support import person_of_email, sql
from .conftest import LiveServer
from .test_auth import new_clinician, own_client, sign_in
from .test_patient import PASSWORD, csrf_of, diary_entry, new_patient
from .test_report_downloads import PDF_TIMEOUT

API = "/api/v1"


@dataclass(frozen=True)
class Patient:
    client: httpx.Client
    email: str
    person_id: str
    name: str
    note: str


@pytest.fixture
def store(live_server: LiveServer) -> Iterator[Store]:
    with Store.open(f"sqlite:///{live_server.data_dir / 'web.db'}") as opened:
        yield opened


@pytest.fixture
def patients(live_server: LiveServer) -> Iterator[list[Patient]]:
    """Two registered patients with a saved assessment and a diary note each, signed in."""
    made = []
    with own_client(live_server) as a, own_client(live_server) as b:
        for client, label in ((a, "Anna"), (b, "Bruno")):
            name = f"{label}-{secrets.token_hex(4)}"
            email = new_patient(client, name=name)
            note = f"Notiz-{secrets.token_hex(6)}"
            assert diary_entry(client, note=note).status_code == 200
            person = person_of_email(live_server.data_dir / "web.db", email)
            made.append(Patient(client, email, person, name, note))
        yield made


def audit_rows(live_server: LiveServer) -> list[tuple[object, ...]]:
    with sql(live_server.data_dir / "web.db") as db:
        query = "SELECT actor_kind, actor_id, person_id, action, channel, practice_id FROM audit_events"
        return list(db.execute(query).fetchall())


def rows_with(live_server: LiveServer, needle: str) -> dict[str, int]:
    """Rows of every table of the server's database with the text anywhere in any column."""
    found: dict[str, int] = {}
    with sql(live_server.data_dir / "web.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
            hit = " OR ".join(f'instr(CAST("{c}" AS TEXT), ?) > 0' for c in columns)
            count = db.execute(f'SELECT count(*) FROM "{table}" WHERE {hit}', [needle] * len(columns))
            found[table] = int(count.fetchone()[0])
    return found


def send_to_practice(store: Store, person_id: str) -> tuple[str, str, str]:
    """The person's newest assessment sent to a new practice: (practice id, practice name, intake id)."""
    name = f"Praxis-{secrets.token_hex(4)}"
    practice = Practices(store).create_practice(name)
    latest = store.latest_assessment(person_id)
    assert latest is not None
    return practice.id, name, Practices(store).submit_intake(practice.id, person_id, latest.id).id


@pytest.mark.safety("SR-AUD-1", "SR-AUD-2")
def test_a_clinicians_access_is_recorded_and_only_its_person_sees_it(
    live_server: LiveServer, store: Store, patients: list[Patient]
) -> None:
    anna, bruno = patients
    practice_id, practice_name, intake_id = send_to_practice(store, anna.person_id)
    clinician = new_clinician(store, practice_id)
    before = len(audit_rows(live_server))
    with own_client(live_server) as doctor:
        sign_in(doctor, clinician)
        assert doctor.get("/praxis").status_code == 200
        assert doctor.get(f"/praxis/eingang/{intake_id}").status_code == 200
        assert doctor.get(f"/praxis/eingang/{intake_id}/bericht", timeout=PDF_TIMEOUT).status_code == 200
        page = doctor.get(f"/praxis/eingang/{intake_id}")
        done = doctor.post(f"/praxis/eingang/{intake_id}/gesehen", data={"csrf_token": csrf_of(page)})
        assert done.status_code == 303
    rows = audit_rows(live_server)[before:]
    mine = sorted(str(r[3]) for r in rows if r[2] == anna.person_id)
    assert mine == ["read.intake", "read.intake", "read.intake_report", "review.intake"]
    assert all(r[0] == "clinician" and r[4] == "web" and r[5] == practice_id for r in rows)
    assert [r[3] for r in rows if r[2] is None] == ["list.inbox"]  # the inbox: one row, no person
    text = repr(rows)
    for secret in (anna.name, anna.note, anna.email, clinician.email, practice_name, "low_back"):
        assert secret not in text

    own = anna.client.get("/mein-bereich/zugriffe")
    assert own.status_code == 200
    assert own.text.count(f"{practice_name} – Praxisteam") == 4
    assert "Ihre Angaben geöffnet" in own.text and "Als gesehen markiert" in own.text
    assert clinician.email not in own.text
    english = anna.client.get("/mein-bereich/zugriffe?lang=en")
    assert f"{practice_name} – practice team" in english.text and "Who accessed your data?" in english.text
    other = bruno.client.get("/mein-bereich/zugriffe")
    assert other.status_code == 200
    assert practice_name not in other.text and "Praxisteam" not in other.text


@pytest.mark.safety("SR-AUD-1", "SR-AUD-2")
def test_an_api_tokens_read_is_recorded_by_token_id_and_listed_in_the_api(
    live_server: LiveServer, store: Store, patients: list[Patient]
) -> None:
    anna, bruno = patients
    practice_id, practice_name, intake_id = send_to_practice(store, anna.person_id)
    token, raw = Practices(store).create_api_token(practice_id, "PVS")
    headers = {"Authorization": f"Bearer {raw}"}
    with httpx.Client(base_url=live_server.url + API, headers=headers, timeout=10.0) as pvs:
        assert pvs.get(f"/practices/{practice_id}/intakes/{intake_id}").status_code == 200
    rows = [r for r in audit_rows(live_server) if r[2] == anna.person_id]
    assert rows == [("api_token", token.id, anna.person_id, "read.intake", "api", practice_id)]
    assert raw not in repr(audit_rows(live_server))
    log = anna.client.get(f"{API}/persons/{anna.person_id}/access-log")
    assert log.status_code == 200 and log.headers["cache-control"] == "no-store"
    assert [(e["actor"], e["action"], e["practice_name"]) for e in log.json()] == [
        ("api_token", "read.intake", practice_name)
    ]
    page = anna.client.get("/mein-bereich/zugriffe")
    assert f"API-Zugang der Praxis {practice_name}" in page.text
    exported = anna.client.get(f"{API}/persons/{anna.person_id}/export").json()["access_log"]
    assert [(e["actor"], e["action"], e["practice"]) for e in exported] == [
        ("api_token", "read.intake", practice_name)
    ]
    assert token.id not in json.dumps(exported)
    assert bruno.client.get(f"{API}/persons/{anna.person_id}/access-log").status_code == 404
    assert bruno.client.get(f"{API}/persons/{bruno.person_id}/access-log").json() == []


@pytest.mark.safety("SR-DR-1", "SR-AUD-1")
def test_a_patient_downloads_all_data_and_the_reports(
    live_server: LiveServer, patients: list[Patient]
) -> None:
    anna, bruno = patients
    page = anna.client.get("/mein-bereich/daten")
    assert page.status_code == 200
    for link in (
        "/mein-bereich/daten/export.json",
        "/mein-bereich/bericht/patient",
        "/mein-bereich/bericht/clinician",
    ):
        assert f'href="{link}"' in page.text
    download = anna.client.get("/mein-bereich/daten/export.json")
    assert download.status_code == 200
    assert download.headers["cache-control"] == "no-store"
    assert download.headers["content-disposition"].startswith("attachment;")
    data = json.loads(download.content)
    assert data["person"] == {**data["person"], "id": anna.person_id, "display_name": anna.name}
    assert data["account"]["email"] == anna.email and "password_hash" not in json.dumps(data)
    assert [d["entry"]["note"] for d in data["diary"]] == [anna.note]
    assert data["assessments"] and data["plans"]
    assert data["format_version"] == 5 and isinstance(data["access_log"], list)
    assert bruno.name not in download.text and bruno.note not in download.text
    for kind in ("patient", "clinician"):
        report = anna.client.get(f"/mein-bereich/bericht/{kind}", timeout=PDF_TIMEOUT)
        assert report.status_code == 200 and report.content.startswith(b"%PDF")
    api = anna.client.get(f"{API}/persons/{anna.person_id}/export")
    assert api.status_code == 200 and api.json()["diary"] == data["diary"]
    assert api.json()["access_log"] == []  # nobody else accessed it; her own downloads are not listed
    exports = [r for r in audit_rows(live_server) if r[2] == anna.person_id and r[3] == "export"]
    assert sorted(str(r[4]) for r in exports) == ["api", "web"]
    assert "Alle Daten heruntergeladen" in anna.client.get("/mein-bereich/zugriffe").text


@pytest.mark.safety("SR-DR-2")
def test_erasing_the_account_needs_the_address_and_then_leaves_no_row(
    live_server: LiveServer, patients: list[Patient]
) -> None:
    anna, bruno = patients
    with sql(live_server.data_dir / "web.db") as db:
        (account_id,) = db.execute("SELECT id FROM accounts WHERE email = ?", (anna.email,)).fetchone()
    assert anna.client.get("/mein-bereich/daten/export.json").status_code == 200  # an audit row of hers
    needles = [anna.person_id, str(account_id), anna.email, anna.name, anna.note]
    assert all(any(rows_with(live_server, n).values()) for n in needles)
    page = anna.client.get("/mein-bereich/daten")
    wrong = anna.client.post(
        "/mein-bereich/daten/loeschen", data={"csrf_token": csrf_of(page), "confirm_email": bruno.email}
    )
    assert wrong.status_code == 422 and "Es wurde nichts gelöscht" in wrong.text
    assert any(rows_with(live_server, anna.person_id).values())
    cookie = anna.client.cookies.get("session")
    assert cookie

    done = anna.client.post(
        "/mein-bereich/daten/loeschen",
        data={"csrf_token": csrf_of(page), "confirm_email": f"  {anna.email.upper()} "},
    )
    assert done.status_code == 200 and "Ihr Konto ist gelöscht" in done.text
    assert 'session=""' in done.headers.get("set-cookie", "")
    for needle in needles:
        left = rows_with(live_server, needle)
        assert not any(left.values()), (needle, left)
    with httpx.Client(base_url=live_server.url, cookies={"session": cookie}, timeout=10.0) as replay:
        assert replay.get("/mein-bereich").headers["location"] == "/anmelden"
        assert replay.get(f"{API}/persons/{anna.person_id}").status_code == 401
    with own_client(live_server) as again:
        form = csrf_of(again.get("/anmelden"))
        signed = again.post("/anmelden", data={"csrf_token": form, "email": anna.email, "password": PASSWORD})
        assert signed.status_code == 401
    assert bruno.client.get("/mein-bereich/tagebuch").text.count(bruno.note) >= 1
    with sql(live_server.data_dir / "web.db") as db:
        erased = db.execute("SELECT actor_kind, actor_id, person_id FROM audit_events WHERE action = 'erase'")
        assert ("patient", None, None) in erased.fetchall()
