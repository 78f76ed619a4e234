"""The practice pages against the live server: inbox order, warning signs, detail, review, BOLA, CSRF,
no-store, and the practice's intake link."""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from rueckenlotse.knowledge.loader import default_knowledge
from rueckenlotse.services.followup import record_intake
from rueckenlotse.store import Store
from rueckenlotse.store.practices import Practices
from rueckenlotse.validation import validate_case

from ..conftest import CLI
from .conftest import LiveServer
from .pages_helpers import SELF_CARE_PLAN, answer_all, parse_page
from .test_auth import PASSWORD, accounts, csrf_of, new_clinician, open_store, own_client, post_form, sign_in

EMERGENCY = {"age": 50, "regions": ["low_back"], "duration_weeks": 1, "saddle_numbness": True}
PLAIN = {"age": 35, "regions": ["low_back"], "duration_weeks": 1}
SADDLE_LABEL = "Taubes Gefühl am After, an den Genitalien oder innen an den Oberschenkeln"


@pytest.fixture
def store(live_server: LiveServer) -> Iterator[Store]:
    with open_store(live_server) as opened:
        yield opened


@pytest.fixture
def web(live_server: LiveServer) -> Iterator[httpx.Client]:
    with own_client(live_server) as client:
        yield client


def submit(store: Store, practice_id: str, case: dict[str, object], at: datetime) -> str:
    """An intake of a new person, sent to the practice at this moment; returns the intake id."""
    person = store.create_person()
    valid = validate_case(case, default_knowledge(), "de")
    result = record_intake(store, person.id, valid, assessed_at=at)
    return Practices(store).submit_intake(practice_id, person.id, result.record.id, now=at).id


def row_ids(html: str) -> list[str]:
    return re.findall(r'data-intake="([^"]+)"', html)


def test_inbox_lists_emergency_first_then_newest_with_warning_signs(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    now = datetime.now(UTC)
    emergency = submit(store, clinician.practice_id, EMERGENCY, now - timedelta(hours=3))
    older = submit(store, clinician.practice_id, PLAIN, now - timedelta(hours=2))
    newer = submit(store, clinician.practice_id, PLAIN, now - timedelta(hours=1))
    sign_in(web, clinician)
    response = web.get("/praxis")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert row_ids(response.text) == [emergency, newer, older]
    first_row = response.text.split('data-intake="')[1].split("</tr>")[0]
    assert "Notfall" in first_row  # a text label, not colour only
    assert "Cauda-equina-Syndrom" in first_row and SADDLE_LABEL in first_row
    assert "Offen" in first_row


def test_detail_shows_every_warning_sign_and_can_be_marked_reviewed(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    intake = submit(store, clinician.practice_id, EMERGENCY, datetime.now(UTC))
    sign_in(web, clinician)
    detail = web.get(f"/praxis/eingang/{intake}")
    assert detail.status_code == 200
    assert detail.headers["cache-control"] == "no-store"
    flags = re.search(r'id="answers-emergency_signs".*?</table>', detail.text, re.S)
    assert flags is not None
    cells = re.findall(r"<td>(?:<strong>)?(Ja|Nein)", flags.group(0))
    assert cells[0] == "Ja" and cells[1:] and set(cells[1:]) == {"Nein"}  # present and absent alike
    assert "Keine Angabe" in detail.text or "Nein" in detail.text
    # Asked only with neck pain: this low-back intake never saw it, and no "Nein" stands for it.
    clumsy = re.search(r"feine Arbeit mit den Händen.*?</tr>", detail.text, re.S)
    assert clumsy is not None and "nicht gefragt" in clumsy.group(0) and "Nein" not in clumsy.group(0)

    without_token = web.post(f"/praxis/eingang/{intake}/gesehen", data={"x": ""})
    assert without_token.status_code == 403
    done = web.post(f"/praxis/eingang/{intake}/gesehen", data={"csrf_token": csrf_of(detail)})
    assert done.status_code == 303 and done.headers["location"] == f"/praxis/eingang/{intake}"
    again = web.get(f"/praxis/eingang/{intake}")
    assert "Gesehen am" in again.text and 'id="review"' not in again.text
    assert intake not in web.get("/praxis").text  # the open inbox (the default) has it no more
    assert "Gesehen am" in web.get("/praxis", params={"zustand": "gesehen"}).text


def test_no_practice_sees_another_practices_intakes(store: Store, web: httpx.Client) -> None:
    owner = new_clinician(store)
    other = new_clinician(store)
    intake = submit(store, owner.practice_id, EMERGENCY, datetime.now(UTC))
    sign_in(web, other)
    assert intake not in row_ids(web.get("/praxis").text)
    detail = web.get(f"/praxis/eingang/{intake}")
    assert detail.status_code == 404
    token = csrf_of(web.get("/praxis"))
    review = web.post(f"/praxis/eingang/{intake}/gesehen", data={"csrf_token": token})
    assert review.status_code == 404
    assert Practices(store).intake_detail(owner.practice_id, intake).intake.reviewed_at is None
    assert web.get("/praxis/eingang/" + "x" * 500).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(web: httpx.Client) -> None:
    for path in ("/praxis", "/praxis/eingang/abc"):
        response = web.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/anmelden"


def test_unknown_practice_link_is_a_friendly_404(web: httpx.Client) -> None:
    response = web.get("/p/gibtesnicht")
    assert response.status_code == 404
    assert "Diesen Praxis-Link gibt es nicht" in response.text


def test_the_plain_intake_offers_no_sending(web: httpx.Client) -> None:
    result, _ = answer_all(web, web.get("/intake"), SELF_CARE_PLAN)
    form, _, _ = parse_page(result.text, "practice-send")
    assert form is None


def test_personal_pages_are_never_cached(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    pages = [web.get("/anmelden"), web.get(f"/p/{code}"), web.get(f"/p/{code}/fragen?zustimmung=ja")]
    login = post_form(web, "/anmelden", {"email": clinician.email, "password": clinician.password})
    pages += [login, web.get("/anmelden/code")]
    for response in pages:
        assert response.headers["cache-control"] == "no-store", response.url


def test_the_state_keeps_the_practice_code_and_reads_old_states() -> None:
    from rueckenlotse.web.security.state import IntakeState, StateCodec

    codec = StateCodec("k" * 32, "v1")
    with_code = IntakeState({"regions": ["low_back"]}, frozenset(), "abcdefghjkmnpqrstuvw", "n0nce")
    assert codec.loads(codec.dumps(with_code)) == with_code
    old = IntakeState({"regions": ["low_back"]})
    assert codec.loads(codec.dumps(old)).practice_code is None
    assert codec.loads(codec.dumps(old)).nonce is None


def test_a_patient_account_cannot_open_the_inbox(store: Store, web: httpx.Client) -> None:
    email = f"patient-{secrets.token_hex(4)}@example.org"
    accounts(store).register_patient(email, PASSWORD)
    signed = post_form(web, "/anmelden", {"email": email, "password": PASSWORD})
    assert signed.status_code == 303 and signed.headers["location"] == "/mein-bereich"
    assert web.get("/praxis").status_code == 403


def test_the_practice_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        command = [str(CLI), "practice", *args, "--db", db]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, input=stdin)

    created = run("new", "Praxis am Markt")
    assert created.returncode == 0, created.stderr
    match = re.search(r"ID: (\w+)\n.*/p/(\w+)", created.stdout)
    assert match is not None, created.stdout
    practice_id, code = match.groups()
    email = "arzt@praxis.example"
    clinician = run("clinician", practice_id, email, "--password-stdin", stdin=PASSWORD + "\n")
    assert clinician.returncode == 0, clinician.stderr
    assert PASSWORD not in clinician.stdout + clinician.stderr
    weak = run("clinician", practice_id, "b@praxis.example", "--password-stdin", stdin="kurz\n")
    assert weak.returncode == 2 and "zu kurz" in weak.stderr
    token = run("token", practice_id, "praxissoftware")
    assert token.returncode == 0 and token.stdout.startswith("rlp_")
    assert run("token", "gibtesnicht", "x").returncode == 2
    with Store.open(db) as store:
        practices = Practices(store)
        assert practices.practice_by_code(code) is not None
        assert practices.practice_for_token(token.stdout.strip()) is not None
        assert [a.email for a in practices.members(practice_id)] == ["arzt@praxis.example"]
