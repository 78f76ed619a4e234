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
from .pages_helpers import SELF_CARE_PLAN, answer_all, current_question, parse_page, post_step
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

    without_token = web.post(f"/praxis/eingang/{intake}/gesehen", data={"x": ""})
    assert without_token.status_code == 403
    done = web.post(f"/praxis/eingang/{intake}/gesehen", data={"csrf_token": csrf_of(detail)})
    assert done.status_code == 303 and done.headers["location"] == f"/praxis/eingang/{intake}"
    again = web.get(f"/praxis/eingang/{intake}")
    assert "Gesehen am" in again.text and 'id="review"' not in again.text
    assert "Gesehen am" in web.get("/praxis").text


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


def test_practice_link_runs_the_intake_and_sends_it(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    first = web.get(f"/p/{code}")
    assert first.status_code == 200
    result, _ = answer_all(web, first, SELF_CARE_PLAN)
    form, _, _ = parse_page(result.text, "practice-send")
    assert form is not None and form.action == f"/p/{code}/senden"
    assert web.post(form.action, data={"state": form.hidden["state"]}).status_code == 403  # no CSRF
    wrong_practice = new_clinician(store)
    other_code = Practices(store).practice(wrong_practice.practice_id).intake_code
    assert web.post(f"/p/{other_code}/senden", data=form.hidden).status_code == 400
    sent = web.post(form.action, data=form.hidden)
    assert sent.status_code == 200, sent.text[:1000]
    assert "angekommen" in sent.text
    rows = Practices(store).inbox(clinician.practice_id)
    assert len(rows) == 1 and rows[0].intake.triage == "self_care"
    assert Practices(store).inbox(wrong_practice.practice_id) == []


def practice_result(web: httpx.Client, code: str) -> httpx.Response:
    result, _ = answer_all(web, web.get(f"/p/{code}"), SELF_CARE_PLAN)
    return result


def send_form(result: httpx.Response) -> dict[str, str]:
    form, _, _ = parse_page(result.text, "practice-send")
    assert form is not None
    return form.hidden


def test_sending_the_same_result_again_creates_nothing_new(store: Store, web: httpx.Client) -> None:
    """A double click, a reload of the confirmation or back-and-send: one intake, the same confirmation."""
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    result = practice_result(web, code)
    first = web.post(f"/p/{code}/senden", data=send_form(result))
    assert first.status_code == 200 and "angekommen" in first.text
    persons = len(store.list_persons())
    [row] = Practices(store).inbox(clinician.practice_id)
    for _ in range(2):
        again = web.post(f"/p/{code}/senden", data=send_form(result))
        assert again.status_code == 200 and "angekommen" in again.text
    assert [r.intake.id for r in Practices(store).inbox(clinician.practice_id)] == [row.intake.id]
    assert len(store.list_persons()) == persons  # not even an unsent copy of the person is left


def test_changed_answers_and_other_people_are_new_intakes(
    store: Store, web: httpx.Client, live_server: LiveServer
) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    result = practice_result(web, code)
    assert web.post(f"/p/{code}/senden", data=send_form(result)).status_code == 200
    # Back to the last question of the same intake, another answer, then send again: a second intake.
    last = post_step(web, result, None, action="back")
    question = current_question(last)
    assert question is not None and question.kind == "bool" and question.id not in SELF_CARE_PLAN  # "no"
    changed, _ = answer_all(web, post_step(web, last, "yes"), SELF_CARE_PLAN)
    assert web.post(f"/p/{code}/senden", data=send_form(changed)).status_code == 200
    assert len(Practices(store).inbox(clinician.practice_id)) == 2
    # Someone else with exactly the same answers is another person with their own intake.
    with own_client(live_server) as other:
        same = practice_result(other, code)
        assert other.post(f"/p/{code}/senden", data=send_form(same)).status_code == 200
    rows = Practices(store).inbox(clinician.practice_id)
    assert len(rows) == 3 and len({row.intake.person_id for row in rows}) == 3


def test_the_plain_intake_offers_no_sending(web: httpx.Client) -> None:
    result, _ = answer_all(web, web.get("/intake"), SELF_CARE_PLAN)
    form, _, _ = parse_page(result.text, "practice-send")
    assert form is None


def test_personal_pages_are_never_cached(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    pages = [web.get("/anmelden"), web.get(f"/p/{code}")]
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


def test_an_unfinished_intake_cannot_be_sent(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    first = web.get(f"/p/{code}")
    regions = post_step(web, first, ["3"])
    emergency = post_step(web, regions, ["1"])  # saddle numbness: the emergency page
    form, _, _ = parse_page(emergency.text)
    assert form is not None
    summary = web.post("/result", data=form.hidden, follow_redirects=True)
    assert summary.status_code == 200
    assert 'id="practice-send"' not in summary.text
    assert "beantworten Sie bitte zuerst alle Fragen" in summary.text
    sent = web.post(f"/p/{code}/senden", data=form.hidden)
    assert sent.status_code == 400
    assert Practices(store).inbox(clinician.practice_id) == []


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
