"""A practice's public intake link over real HTTP: welcome and consent first, the confirmation step with its
form token (not too fast, bound to the send), contact details checked field by field, PRG to a receipt with
the reference and both PDFs, sending twice is one intake, and what the clinician then sees."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from rueckenlotse.store import Store
from rueckenlotse.store.practices import Practices

from .conftest import LiveServer
from .pages_helpers import SELF_CARE_PLAN, answer_all, current_question, parse_page, post_step
from .practice_link_helpers import agree, confirm, confirm_form, practice_result, reference_of, send
from .test_auth import csrf_of, new_clinician, open_store, own_client, sign_in

CONTACT = {
    "name": "Erika Mustermann",
    "phone": "030 1234567",
    "email": "erika@example.org",
    "birth_date": "30.04.1961",
}


@pytest.fixture
def store(live_server: LiveServer) -> Iterator[Store]:
    with open_store(live_server) as opened:
        yield opened


@pytest.fixture
def web(live_server: LiveServer) -> Iterator[httpx.Client]:
    with own_client(live_server) as client:
        yield client


def test_the_link_opens_with_the_practice_name_and_consent_before_any_question(
    store: Store, web: httpx.Client
) -> None:
    clinician = new_clinician(store)
    practice = Practices(store).practice(clinician.practice_id)
    welcome = web.get(f"/p/{practice.intake_code}")
    assert welcome.status_code == 200 and welcome.headers["cache-control"] == "no-store"
    assert practice.name in welcome.text and "112" in welcome.text and "keine Diagnose" in welcome.text
    assert current_question(welcome) is None  # no question before agreeing
    # Straight to the questions without agreeing: back to the consent.
    skipped = web.get(f"/p/{practice.intake_code}/fragen")
    assert skipped.status_code == 303 and skipped.headers["location"] == f"/p/{practice.intake_code}"
    first = agree(web, practice.intake_code)
    question = current_question(first)
    assert question is not None and question.id == "regions"
    english = web.get(f"/p/{practice.intake_code}?lang=en")
    assert "guidance, not a diagnosis" in english.text and "call 112" in english.text


def test_sending_is_a_confirmed_post_then_a_receipt_with_reference_and_pdfs(
    store: Store, web: httpx.Client
) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    page = confirm(web, practice_result(web, code))
    action, hidden = confirm_form(page)
    assert action == f"/p/{code}/senden"
    assert web.post(action, data={k: v for k, v in hidden.items() if k != "csrf_token"}).status_code == 403
    other_code = Practices(store).practice(new_clinician(store).practice_id).intake_code
    assert web.post(f"/p/{other_code}/senden", data=hidden).status_code == 400  # bound to its practice
    forged = web.post(action, data={**hidden, "confirm": hidden["confirm"][:-2] + "xx"})
    assert forged.status_code == 400
    # At once, as a script would: the page asks to read it first; nothing is stored.
    hasty = send(web, page, wait=False)
    assert hasty.status_code == 400 and "Bitte lesen Sie die Angaben kurz durch" in hasty.text
    assert Practices(store).inbox(clinician.practice_id) == []

    sent = send(web, page, CONTACT)
    assert sent.status_code == 303, sent.text[:2000]
    location = sent.headers["location"]
    assert location.startswith("/beleg/") and len(location) == len("/beleg/") + 43
    receipt = web.get(location)
    assert receipt.status_code == 200 and receipt.headers["cache-control"] == "no-store"
    reference = reference_of(receipt)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", reference)
    assert "Die Praxis meldet sich bei Ihnen" in receipt.text
    for kind in ("zusammenfassung", "praxis"):
        pdf = web.get(f"{location}/{kind}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-disposition"].startswith("attachment")
    # A reload of the send, or the same form again: the same receipt, one intake.
    again = web.post(action, data={**hidden, **CONTACT})
    assert again.status_code == 303 and again.headers["location"] == location
    [row] = Practices(store).inbox(clinician.practice_id)
    assert row.intake.reference == reference and row.display_name == "Erika Mustermann"
    assert web.get("/beleg/" + "A" * 43).status_code == 404
    assert web.get(f"{location}/andere.pdf").status_code == 404


def test_contact_details_are_checked_field_by_field(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    page = confirm(web, practice_result(web, code))
    bad = {"name": "x" * 101, "phone": "12ab", "email": "kein-at", "birth_date": "31.02.1990"}
    answer = send(web, page, bad)
    assert answer.status_code == 400
    for text in ("höchstens 100 Zeichen", "mindestens 6 Ziffern", "name@beispiel.de", "Datum wie 30.04.1961"):
        assert text in answer.text
    assert 'aria-invalid="true"' in answer.text and 'value="12ab"' in answer.text  # kept to correct
    future = send(web, answer, {"birth_date": "2999-01-01"})
    assert future.status_code == 400 and "in der Vergangenheit" in future.text
    assert Practices(store).inbox(clinician.practice_id) == []
    # English errors after the switch.
    web.cookies.set("lang", "en")
    english = send(web, answer, {"phone": "1"}, wait=False)
    assert "at least 6 digits" in english.text
    web.cookies.delete("lang")
    # Nothing given at all is fine: no contact details, the receipt says to call with the reference.
    sent = send(web, answer, {})
    assert sent.status_code == 303
    assert "Sie haben keine Kontaktangaben hinterlassen" in web.get(sent.headers["location"]).text


def test_the_clinician_sees_name_contact_reference_and_not_asked(
    store: Store, web: httpx.Client, live_server: LiveServer
) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    receipt = web.get(send(web, confirm(web, practice_result(web, code)), CONTACT).headers["location"])
    reference = reference_of(receipt)
    with own_client(live_server) as doctor:
        sign_in(doctor, clinician)
        inbox = doctor.get("/praxis")
        assert "Erika Mustermann" in inbox.text and reference in inbox.text and "Person " not in inbox.text
        [intake_id] = re.findall(r'data-intake="([^"]+)"', inbox.text)
        detail = doctor.get(f"/praxis/eingang/{intake_id}")
        for text in ("Erika Mustermann", "030 1234567", "erika@example.org", "30.04.1961", reference):
            assert text in detail.text
        clumsy = re.search(r"feine Arbeit mit den Händen.*?</tr>", detail.text, re.S)
        assert clumsy is not None and "nicht gefragt" in clumsy.group(0) and "Nein" not in clumsy.group(0)
        assert "Notfallzeichen des Patienten" in detail.text and "Ihre Schmerzen?" not in detail.text
        pdf = doctor.get(f"/praxis/eingang/{intake_id}/bericht")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_an_unfinished_intake_cannot_be_confirmed_or_sent(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    regions = post_step(web, agree(web, code), ["3"])
    emergency = post_step(web, regions, ["1"])  # saddle numbness: the emergency page
    form, _, _ = parse_page(emergency.text)
    assert form is not None
    summary = web.post("/result", data=form.hidden, follow_redirects=True)  # post/redirect/get
    assert summary.status_code == 200
    assert 'id="practice-send"' not in summary.text
    assert "beantworten Sie bitte zuerst alle Fragen" in summary.text
    assert web.post(f"/p/{code}/bestaetigen", data=form.hidden).status_code == 400
    assert web.post(f"/p/{code}/senden", data=form.hidden).status_code == 400
    assert Practices(store).inbox(clinician.practice_id) == []


def test_changed_answers_and_other_people_are_new_intakes(
    store: Store, web: httpx.Client, live_server: LiveServer
) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    result = practice_result(web, code)
    assert send(web, confirm(web, result)).status_code == 303
    # Back to the last question of the same intake, another answer, then send again: a second intake.
    last = post_step(web, result, None, action="back")
    question = current_question(last)
    assert question is not None and question.kind == "bool" and question.id not in SELF_CARE_PLAN  # "no"
    changed, _ = answer_all(web, post_step(web, last, "yes"), SELF_CARE_PLAN)
    assert send(web, confirm(web, changed)).status_code == 303
    assert len(Practices(store).inbox(clinician.practice_id)) == 2
    # Someone else with exactly the same answers is another person with their own intake.
    with own_client(live_server) as other:
        assert send(other, confirm(other, practice_result(other, code))).status_code == 303
    rows = Practices(store).inbox(clinician.practice_id)
    assert len(rows) == 3 and len({row.intake.person_id for row in rows}) == 3


def test_spam_and_delete_need_csrf_are_audited_and_leave_the_open_inbox(
    store: Store, web: httpx.Client, live_server: LiveServer
) -> None:
    clinician = new_clinician(store)
    code = Practices(store).practice(clinician.practice_id).intake_code
    for _ in range(2):
        with own_client(live_server) as person:
            assert send(person, confirm(person, practice_result(person, code))).status_code == 303
    first, second = (row.intake for row in Practices(store).inbox(clinician.practice_id))
    sign_in(web, clinician)
    detail = web.get(f"/praxis/eingang/{first.id}")
    assert web.post(f"/praxis/eingang/{first.id}/spam", data={"x": ""}).status_code == 403
    token = csrf_of(detail)
    marked = web.post(f"/praxis/eingang/{first.id}/spam", data={"csrf_token": token})
    assert marked.status_code == 303 and marked.headers["location"] == "/praxis"
    assert first.id not in web.get("/praxis").text
    assert first.id in web.get("/praxis", params={"zustand": "spam"}).text
    unconfirmed = web.post(f"/praxis/eingang/{second.id}/loeschen", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and "bitte zuerst bestätigen" in unconfirmed.text
    deleted = web.post(
        f"/praxis/eingang/{second.id}/loeschen", data={"csrf_token": token, "bestaetigt": "ja"}
    )
    assert deleted.status_code == 303
    assert web.get(f"/praxis/eingang/{second.id}").status_code == 404
    assert [row.intake.id for row in Practices(store).inbox(clinician.practice_id, where=None)] == []
    persons = {p.id for p in store.list_persons()}
    assert second.person_id not in persons  # made only for that intake: erased with it
    from rueckenlotse.store.audit import all_events

    with store.transaction(write=False) as session:
        actions = [e.action for e in all_events(session) if e.practice_id == clinician.practice_id]
    assert "spam.intake" in actions and "delete.intake" in actions


def test_the_inbox_pages_filters_and_searches(store: Store, web: httpx.Client) -> None:
    from datetime import UTC, datetime, timedelta

    from .test_practice import EMERGENCY, PLAIN, submit

    clinician = new_clinician(store)
    now = datetime.now(UTC)
    ids = [submit(store, clinician.practice_id, PLAIN, now - timedelta(minutes=i)) for i in range(52)]
    urgent = submit(store, clinician.practice_id, EMERGENCY, now - timedelta(days=3))
    practices = Practices(store)
    [member] = practices.members(clinician.practice_id)
    practices.mark_reviewed(clinician.practice_id, ids[0], member.id)
    sign_in(web, clinician)
    first = web.get("/praxis")
    rows = re.findall(r'data-intake="([^"]+)"', first.text)
    assert len(rows) == 50 and rows[0] == urgent  # the emergency first, though it is the oldest
    assert ids[0] not in rows  # reviewed: not open
    assert "Treffer: 52 · Seite 1 von 2" in first.text and 'rel="next"' in first.text
    second = web.get("/praxis", params={"seite": "2"})
    assert len(re.findall(r'data-intake="', second.text)) == 2 and 'rel="prev"' in second.text
    reviewed = web.get("/praxis", params={"zustand": "gesehen"})
    assert re.findall(r'data-intake="([^"]+)"', reviewed.text) == [ids[0]]
    only_emergency = web.get("/praxis", params={"dringlichkeit": "emergency"})
    assert re.findall(r'data-intake="([^"]+)"', only_emergency.text) == [urgent]
    today = now.astimezone().date().isoformat()
    recent = web.get("/praxis", params={"von": today})
    assert urgent not in recent.text
    wrong = web.get("/praxis", params={"von": "gestern"})
    assert wrong.status_code == 400 and "Bitte ein Datum wie" in wrong.text
    reference = practices.intake_detail(clinician.practice_id, ids[5]).intake.reference
    found = web.get("/praxis", params={"suche": (reference or "").lower().replace("-", " ")})
    assert re.findall(r'data-intake="([^"]+)"', found.text) == [ids[5]]
    assert web.get("/praxis", params={"suche": "niemand%_"}).status_code == 200
