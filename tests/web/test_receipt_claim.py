"""Registering from a practice intake's receipt over real HTTP (issue #18): someone who sent an intake
through a practice's link without an account makes one from the receipt, the intake becomes the account's
first record, and the person can then share their course with that practice. A receipt works once; a used,
forged or odd one gets a clear answer (never a server error) and makes nothing."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from rueckenlotse.store import Store
from rueckenlotse.store.practices import Practices

from .authz_support import person_of_email, sql
from .conftest import LiveServer
from .pages_helpers import parse_page
from .practice_link_helpers import confirm, practice_result, send
from .test_auth import PASSWORD, csrf_of, new_clinician, open_store, own_client
from .test_patient import new_patient


@dataclass
class Sent:
    receipt: str  # the receipt's path, /beleg/<token>
    practice_id: str
    practice_name: str
    person: str  # the intake's person


@pytest.fixture
def store(live_server: LiveServer) -> Iterator[Store]:
    with open_store(live_server) as opened:
        yield opened


def send_anonymously(store: Store, web: httpx.Client) -> Sent:
    practice = Practices(store).practice(new_clinician(store).practice_id)
    sent = send(web, confirm(web, practice_result(web, practice.intake_code)), {"name": "Rita Rücken"})
    assert sent.status_code == 303, sent.text[:2000]
    [row] = Practices(store).inbox(practice.id)
    return Sent(sent.headers["location"], practice.id, practice.name, row.intake.person_id)


def registration(web: httpx.Client, page: httpx.Response, email: str, name: str = "") -> httpx.Response:
    form, _, _ = parse_page(page.text, "register")
    assert form is not None, page.text[:2000]
    data = {**form.hidden, "email": email, "password": PASSWORD, "password_repeat": PASSWORD}
    return web.post(form.action, data={**data, "display_name": name})


def accounts_with(live_server: LiveServer, email: str) -> int:
    with sql(live_server.data_dir / "web.db") as db:
        return int(db.execute("SELECT count(*) FROM accounts WHERE email = ?", (email,)).fetchone()[0])


def new_email() -> str:
    return f"beleg-{secrets.token_hex(4)}@example.org"


def test_an_anonymous_sender_registers_from_the_receipt_and_shares_with_the_practice(
    store: Store, live_server: LiveServer
) -> None:
    with own_client(live_server) as web:
        sent = send_anonymously(store, web)
        receipt = web.get(sent.receipt)
        assert receipt.status_code == 200 and 'id="receipt-register"' in receipt.text
        page = web.get(sent.receipt + "/konto")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert f"Ihre Sendung an „{sent.practice_name}“" in page.text
        email = new_email()
        registered = registration(web, page, email)
        assert registered.status_code == 303 and registered.headers["location"] == "/mein-bereich"
        # The account owns the intake's person: the sent result is its first record, the name stays.
        assert person_of_email(live_server.data_dir / "web.db", email) == sent.person
        home = web.get("/mein-bereich")
        assert home.status_code == 200 and "Rita Rücken" in home.text
        sharing = web.get("/mein-bereich/teilen")
        assert sharing.status_code == 200 and sent.practice_name in sharing.text
        granted = web.post(
            "/mein-bereich/teilen/freigeben",
            data={"csrf_token": csrf_of(sharing), "practice": sent.practice_id, "consent": "ja"},
        )
        assert granted.status_code == 303
        with sql(live_server.data_dir / "web.db") as db:
            shares = db.execute(
                "SELECT count(*) FROM course_shares WHERE person_id = ? AND practice_id = ? "
                "AND revoked_at IS NULL",
                (sent.person, sent.practice_id),
            ).fetchone()[0]
            claims = db.execute(
                "SELECT count(*) FROM audit_events WHERE action = 'claim.receipt' AND person_id = ? "
                "AND practice_id = ?",
                (sent.person, sent.practice_id),
            ).fetchone()[0]
        assert shares == 1 and claims == 1
        access = web.get("/mein-bereich/zugriffe")
        assert "Ihre Sendung an die Praxis in Ihr Konto übernommen" in access.text
        # Signed in, the receipt's registration leads home; the receipt offers nothing more.
        assert web.get(sent.receipt + "/konto").headers.get("location") == "/mein-bereich"
    with own_client(live_server) as other:
        again = other.get(sent.receipt)
        assert again.status_code == 200 and 'id="receipt-register"' not in again.text
        taken = other.get(sent.receipt + "/konto?lang=en")
        assert taken.status_code == 200 and "can no longer be linked to a new account" in taken.text
        assert 'name="receipt"' not in taken.text


def test_a_used_forged_or_odd_receipt_is_refused_and_makes_no_account(
    store: Store, live_server: LiveServer
) -> None:
    with own_client(live_server) as web:
        sent = send_anonymously(store, web)
    with own_client(live_server) as first, own_client(live_server) as second:
        # Two people with the receipt's form open: the first wins, the second is told, nothing made.
        pages = [client.get(sent.receipt + "/konto") for client in (first, second)]
        assert all('name="receipt"' in page.text for page in pages)
        assert registration(first, pages[0], new_email()).status_code == 303
        email = new_email()
        refused = registration(second, pages[1], email)
        assert refused.status_code == 422
        assert "lässt sich nicht mehr mit einem neuen Konto verbinden" in refused.text
        assert accounts_with(live_server, email) == 0
        assert 'name="receipt"' not in refused.text  # sent again, the form makes a plain account
        plain = registration(second, refused, email)
        assert plain.status_code == 303
        assert person_of_email(live_server.data_dir / "web.db", email) != sent.person
    with own_client(live_server) as web:
        form = web.get("/registrieren")
        for odd in ("A" * 43, "x" * 5000, "' OR 1=1 --", sent.receipt.removeprefix("/beleg/")[:-1] + "\x00"):
            email = new_email()
            data = {
                "csrf_token": csrf_of(form),
                "email": email,
                "password": PASSWORD,
                "password_repeat": PASSWORD,
                "display_name": "",
                "receipt": odd,
            }
            answer = web.post("/registrieren", data=data)
            assert answer.status_code == 422, (odd[:10], answer.status_code)
            assert accounts_with(live_server, email) == 0
        assert web.get("/beleg/" + "A" * 43 + "/konto").status_code == 404
        assert web.get("/beleg/kurz/konto").status_code == 404


def test_a_signed_in_patients_own_send_offers_no_new_account(store: Store, live_server: LiveServer) -> None:
    with own_client(live_server) as web:
        new_patient(web)
        practice = Practices(store).practice(new_clinician(store).practice_id)
        sent = send(web, confirm(web, practice_result(web, practice.intake_code)))
        receipt = web.get(sent.headers["location"])
        assert receipt.status_code == 200 and 'id="receipt-register"' not in receipt.text
    with own_client(live_server) as other:
        # Its person has an account: nobody else can claim it, even with the receipt.
        receipt = other.get(sent.headers["location"])
        assert 'id="receipt-register"' not in receipt.text
        assert re.search(
            r'class="notice notice-warning" id="receipt"', other.get(sent.headers["location"] + "/konto").text
        )
