"""A patient who shares their course with a clinician's practice (issue #18), signed in on two clients, for
the share pages' tests and the kept plan changes' (test_share_pages.py, test_kept_course_changes.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from rueckenlotse.store.practices import Practices

from .authz_support import Practice, person_of_email, send_signed_in, sql
from .conftest import LiveServer
from .test_auth import Clinician, csrf_of, new_clinician, open_store, own_client, sign_in
from .test_patient import new_patient


@dataclass
class Shared:
    patient: httpx.Client
    doctor: httpx.Client
    clinician: Clinician
    practice: Practice
    person: str
    course: str  # the course page's path
    email: str  # the patient's


@pytest.fixture(name="shared")
def shared_course(live_server: LiveServer) -> Iterator[Shared]:
    with open_store(live_server) as store:
        clinician = new_clinician(store)
        record = Practices(store).practice(clinician.practice_id)
    practice = Practice(record.id, record.name, record.intake_code, "", "", "")
    with own_client(live_server) as patient, own_client(live_server) as doctor:
        email = new_patient(patient, name="Paula Teilt")
        person = person_of_email(live_server.data_dir / "web.db", email)
        intake = send_signed_in(live_server, patient, practice, person)
        page = patient.get("/mein-bereich/teilen")
        granted = patient.post(
            "/mein-bereich/teilen/freigeben",
            data={"csrf_token": csrf_of(page), "practice": practice.id, "consent": "ja"},
        )
        assert granted.status_code == 303 and granted.headers["location"] == "/mein-bereich/teilen#praxis-1"
        sign_in(doctor, clinician)
        yield Shared(patient, doctor, clinician, practice, person, f"/praxis/verlauf/{intake}", email)


def adjust(shared: Shared, **fields: str) -> httpx.Response:
    page = shared.doctor.get(shared.course)
    data = {"csrf_token": csrf_of(page), "form_key": secrets.token_urlsafe(32), **fields}
    return shared.doctor.post(shared.course + "/anpassen", data=data)


def changes(live_server: LiveServer, person: str) -> list[tuple[str, str | None]]:
    with sql(live_server.data_dir / "web.db") as db:
        query = "SELECT kind, undone_at FROM plan_adjustments WHERE person_id = ? ORDER BY created_at"
        return [(kind, undone) for kind, undone in db.execute(query, (person,)).fetchall()]
