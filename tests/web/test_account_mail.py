"""One's own account by e-mail, over real HTTP: a forgotten password (the link read from the local SMTP
server), changing the password, confirming the address, why one was signed out, the header's links.

The live server sends its mails to ``mail_inbox`` (aiosmtpd on 127.0.0.1); no mail is mocked.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from rueckenlotse.store import Store
from rueckenlotse.store.audit import events_of_person
from rueckenlotse.store.practices import Practices
from rueckenlotse.store.schema import Account, WebSession

from ..mail_server import Inbox, body_of, link_in
from ..serving import served
from .conftest import SERVER_OWN, LiveServer
from .practice_link_helpers import confirm, practice_result, send
from .test_auth import PASSWORD, accounts, login, new_clinician, own_client, post_form, session_cookie


@pytest.fixture(scope="session")
def live_server(mail_live_server: LiveServer) -> LiveServer:
    """The server of this module's tests sends mail (to ``mail_inbox``)."""
    return mail_live_server


NEW_PASSWORD = "ein ganz anderer Satz als Passwort"


@pytest.fixture
def store(live_server: LiveServer) -> Iterator[Store]:
    with Store.open(f"sqlite:///{live_server.data_dir / 'web.db'}") as opened:
        yield opened


@pytest.fixture
def web(live_server: LiveServer) -> Iterator[httpx.Client]:
    with own_client(live_server) as client:
        yield client


def new_patient(store: Store) -> tuple[str, str]:
    """A patient account (e-mail, person id) made straight in the server's database."""
    email = f"patientin-{secrets.token_hex(4)}@example.org"
    account, person = accounts(store).register_patient(email, PASSWORD, "Anna")
    return email, person.id


@pytest.fixture
def devices(live_server: LiveServer) -> Iterator[Callable[[], httpx.Client]]:
    """Clients of their own address each (one per device), all closed after the test."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(own_client(live_server))


def signed_in(new_device: Callable[[], httpx.Client], email: str, password: str = PASSWORD) -> httpx.Client:
    client = new_device()
    response = login(client, email, password)
    assert response.status_code == 303 and response.headers["location"] == "/mein-bereich", response.text[
        :300
    ]
    return client


def actions_of(store: Store, person_id: str) -> set[str]:
    with store.transaction(write=False) as session:
        return {event.action for event in events_of_person(session, person_id)}


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def ask_for_reset(client: httpx.Client, email: str) -> httpx.Response:
    return post_form(client, "/passwort-vergessen", {"email": email})


# ---- a forgotten password -----------------------------------------------------------------------------
def test_the_reset_answer_is_the_same_for_a_known_and_an_unknown_address(
    store: Store, web: httpx.Client, mail_inbox: Inbox
) -> None:
    email, _ = new_patient(store)
    unknown = f"niemand-{secrets.token_hex(4)}@example.org"
    known_answer = ask_for_reset(web, email)
    unknown_answer = ask_for_reset(web, unknown)
    assert known_answer.status_code == unknown_answer.status_code == 200
    strip = lambda text: text.replace(email, "").split('name="csrf_token"')[0]  # noqa: E731
    assert strip(known_answer.text) == strip(unknown_answer.text)
    assert "Falls es zu dieser Adresse ein Konto gibt" in known_answer.text
    mail = mail_inbox.wait_for(email)[0]
    assert mail["Subject"] == "Neues Passwort für Rückenlotse"
    assert link_in(mail).startswith(web.base_url.join("/passwort-neu?code=").__str__())
    assert mail_inbox.to(unknown) == []


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(
    store: Store, devices: Callable[[], httpx.Client], web: httpx.Client, mail_inbox: Inbox
) -> None:
    email, person_id = new_patient(store)
    other_device = signed_in(devices, email)
    assert other_device.get("/mein-bereich").status_code == 200
    ask_for_reset(web, email)
    link = link_in(mail_inbox.wait_for(email)[0])
    form = web.get(path_of(link))
    assert form.status_code == 200 and "Neues Passwort festlegen" in form.text
    code = link.split("code=", 1)[1]

    weak = post_form(
        web,
        "/passwort-neu",
        {"code": code, "password": "1234", "password_repeat": "1234"},
        page=path_of(link),
    )
    assert weak.status_code == 422 and 'aria-invalid="true"' in weak.text  # the link still works

    done = post_form(
        web,
        "/passwort-neu",
        {"code": code, "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD},
        page=path_of(link),
    )
    assert done.status_code == 303 and done.headers["location"] == "/anmelden?grund=passwort_neu"
    assert "Ihr neues Passwort ist gespeichert" in web.get(done.headers["location"]).text
    # The other device is signed out; the old password no longer works, the new one does.
    assert other_device.get("/mein-bereich").headers["location"] == "/anmelden"
    assert login(devices(), email, PASSWORD).status_code == 401
    signed_in(devices, email, NEW_PASSWORD)
    # Once only.
    again = web.get(path_of(link))
    assert again.status_code == 200 and "Dieser Link gilt nicht mehr" in again.text
    reused = post_form(
        web,
        "/passwort-neu",
        {"code": code, "password": PASSWORD, "password_repeat": PASSWORD},
        page=path_of(link),
    )
    assert reused.status_code == 410
    assert "password.reset" in actions_of(store, person_id)
    with store.transaction(write=False) as session:
        assert session.scalar(select(Account.email_verified_at).where(Account.email == email)) is not None


def test_an_old_reset_link_stops_working_when_a_new_one_is_sent(
    store: Store, web: httpx.Client, mail_inbox: Inbox
) -> None:
    email, _ = new_patient(store)
    ask_for_reset(web, email)
    first = link_in(mail_inbox.wait_for(email, 1)[0])
    ask_for_reset(web, email)
    second = link_in(mail_inbox.wait_for(email, 2)[1])
    assert "Dieser Link gilt nicht mehr" in web.get(path_of(first)).text
    assert "Neues Passwort festlegen" in web.get(path_of(second)).text


def test_odd_reset_input_is_never_a_server_error(web: httpx.Client) -> None:
    for path in ("/passwort-neu", "/passwort-neu?code=", "/passwort-neu?code=" + "x" * 5000):
        response = web.get(path)
        assert response.status_code == 200 and "Dieser Link gilt nicht mehr" in response.text
    assert (
        post_form(web, "/passwort-neu", {"code": "falsch", "password": "x"}, page="/passwort-neu").status_code
        == 410
    )
    assert post_form(web, "/passwort-vergessen", {"email": ""}).status_code == 422
    assert post_form(web, "/passwort-vergessen", {"email": "x" * 5000}).status_code == 200


# ---- changing the password ----------------------------------------------------------------------------
def test_changing_the_password_needs_the_old_one_and_ends_the_other_sessions(
    store: Store, devices: Callable[[], httpx.Client]
) -> None:
    email, person_id = new_patient(store)
    here, there = signed_in(devices, email), signed_in(devices, email)
    wrong = post_form(
        here,
        "/konto/passwort",
        {"old_password": "nicht das Passwort", "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and "Das jetzige Passwort stimmt nicht" in wrong.text
    mismatch = post_form(
        here,
        "/konto/passwort",
        {"old_password": PASSWORD, "password": NEW_PASSWORD, "password_repeat": "anders"},
    )
    assert mismatch.status_code == 422
    done = post_form(
        here,
        "/konto/passwort",
        {"old_password": PASSWORD, "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD},
    )
    assert done.status_code == 303 and done.headers["location"] == "/konto/passwort?geaendert=1"
    assert "Ihr Passwort ist geändert" in here.get(done.headers["location"]).text
    assert here.get("/mein-bereich").status_code == 200  # this browser stays signed in
    assert there.get("/mein-bereich").headers["location"] == "/anmelden"
    reason = there.get("/anmelden")
    assert "Ihre Anmeldung wurde beendet" in reason.text
    signed_in(devices, email, NEW_PASSWORD)
    assert "password.change" in actions_of(store, person_id)


def test_the_password_page_is_for_signed_in_people_only(web: httpx.Client) -> None:
    assert web.get("/konto/passwort").headers["location"] == "/anmelden"


# ---- why one was signed out ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("idle", "weil Sie eine Weile nichts getan haben"),
        ("absolute", "nur eine begrenzte Zeit gilt"),
        ("revoked", "Ihre Anmeldung wurde beendet"),
    ],
)
def test_the_sign_in_page_says_why_the_session_ended(
    store: Store, devices: Callable[[], httpx.Client], change: str, message: str
) -> None:
    email, _ = new_patient(store)
    client = signed_in(devices, email)
    past = datetime.now(UTC) - timedelta(days=1)
    values = {
        "idle": {"last_seen_at": past},
        "absolute": {"expires_at": past},
        "revoked": {"revoked_at": past},
    }
    with store.transaction() as session:
        account_id = session.scalar(select(Account.id).where(Account.email == email))
        session.execute(
            update(WebSession).where(WebSession.account_id == account_id).values(**values[change])
        )
    assert client.get("/mein-bereich").headers["location"] == "/anmelden"
    page = client.get("/anmelden")
    assert message in page.text and 'id="signed-out-reason"' in page.text
    assert session_cookie(client) is None  # said once: the dead cookie is gone
    assert 'id="signed-out-reason"' not in client.get("/anmelden").text


def test_signing_out_says_so(store: Store, devices: Callable[[], httpx.Client]) -> None:
    email, _ = new_patient(store)
    client = signed_in(devices, email)
    out = post_form(client, "/abmelden", {}, page="/mein-bereich")
    assert "Sie haben sich abgemeldet" in client.get(out.headers["location"]).text


# ---- the header ---------------------------------------------------------------------------------------
def test_the_header_offers_sign_in_or_my_area_and_sign_out(
    store: Store, devices: Callable[[], httpx.Client]
) -> None:
    start = devices().get("/").text
    assert 'id="header-login"' in start and 'id="header-logout"' not in start
    email, _ = new_patient(store)
    client = signed_in(devices, email)
    for path in ("/", "/mein-bereich", "/konto/passwort"):
        page = client.get(path).text
        assert '<a class="nav-link" href="/mein-bereich">Mein Bereich</a>' in page
        assert 'id="header-logout"' in page and 'id="header-login"' not in page
    client.cookies.set("lang", "en")
    english = client.get("/mein-bereich").text
    assert '<a class="nav-link" href="/mein-bereich">My area</a>' in english
    assert ">Sign out</button>" in english


# ---- confirming the address ---------------------------------------------------------------------------
def test_a_verification_link_confirms_the_address_once(store: Store, web: httpx.Client) -> None:
    email, _ = new_patient(store)
    with store.transaction(write=False) as session:
        account_id = session.scalar(select(Account.id).where(Account.email == email))
    assert account_id is not None
    token = accounts(store).link_for(account_id, "verify")
    first = web.get(f"/adresse-bestaetigen?code={token}")
    assert first.status_code == 200 and "ist bestätigt" in first.text
    assert accounts(store).account(account_id).email_verified
    assert web.get(f"/adresse-bestaetigen?code={token}").status_code == 410


# ---- without a mail server ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mailless_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("web-no-mail")
    env = {k: v for k, v in os.environ.items() if k not in SERVER_OWN and "SMTP" not in k}
    env["RUECKENLOTSE_DATA_DIR"] = str(data_dir)
    with served(data_dir, data_dir / "server.log", env) as url:
        yield url


def test_without_a_mail_server_the_page_says_so(mailless_server: str) -> None:
    with httpx.Client(base_url=mailless_server, timeout=10.0) as client:
        page = client.get("/passwort-vergessen")
        assert page.status_code == 200 and 'id="mail-unavailable"' in page.text
        assert "verschickt keine E-Mails" in page.text and 'id="forgot"' not in page.text
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        sent = client.post("/passwort-vergessen", data={"csrf_token": token, "email": "a@example.org"})
        assert sent.status_code == 503 and 'id="mail-unavailable"' in sent.text


# ---- registering --------------------------------------------------------------------------------------
def register_fields(email: str, password: str = NEW_PASSWORD) -> dict[str, str]:
    return {"email": email, "password": password, "password_repeat": password, "display_name": ""}


def register(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return post_form(client, "/registrieren", register_fields(email, password))


def test_registering_answers_the_same_for_a_new_and_a_taken_address(
    store: Store, devices: Callable[[], httpx.Client], mail_inbox: Inbox
) -> None:
    taken, _ = new_patient(store)
    new = f"neu-{secrets.token_hex(4)}@example.org"
    answers = [register(devices(), address, NEW_PASSWORD) for address in (new, taken)]
    assert [a.status_code for a in answers] == [200, 200]
    bodies = [a.text.replace(address, "ADDRESS") for a, address in zip(answers, (new, taken), strict=True)]
    strip = lambda text: re.sub(r'name="csrf_token" value="[^"]*"', "", text)  # noqa: E731
    assert strip(bodies[0]) == strip(bodies[1]) and "Fast geschafft" in bodies[0]
    assert all(session_cookie(a) is None for a in answers)  # nobody is signed in by the form alone

    exists = mail_inbox.wait_for(taken)[0]
    assert exists["Subject"] == "Sie haben bereits ein Konto bei Rückenlotse"
    assert "/passwort-neu?code=" in link_in(exists)
    verify = mail_inbox.wait_for(new)[0]
    assert "/adresse-bestaetigen?code=" in link_in(verify)
    # The taken address's owner keeps the password; the newcomer signs in with theirs, then confirms.
    assert login(devices(), taken, NEW_PASSWORD).status_code == 401
    client = signed_in(devices, new, NEW_PASSWORD)
    assert 'id="unverified-address"' in client.get("/mein-bereich").text
    assert "ist bestätigt" in client.get(path_of(link_in(verify))).text
    assert 'id="unverified-address"' not in client.get("/mein-bereich").text


def test_registering_from_a_receipt_claims_the_sent_intake_where_mail_is_sent(
    store: Store, devices: Callable[[], httpx.Client], mail_inbox: Inbox
) -> None:
    """With mail the form signs nobody in: the new account owns the intake's person at once, and the
    person sees it after signing in; a taken address leaves the receipt for a later registration."""
    web = devices()
    practice = Practices(store).practice(new_clinician(store).practice_id)
    sent = send(web, confirm(web, practice_result(web, practice.intake_code)))
    receipt = sent.headers["location"]
    taken, _ = new_patient(store)
    answer = post_form(
        web, "/registrieren", {**register_fields(taken), "receipt": receipt[7:]}, receipt + "/konto"
    )
    assert answer.status_code == 200 and "Fast geschafft" in answer.text
    assert 'id="receipt-register"' in devices().get(receipt).text  # still claimable
    new = f"beleg-{secrets.token_hex(4)}@example.org"
    answer = post_form(
        devices(), "/registrieren", {**register_fields(new), "receipt": receipt[7:]}, receipt + "/konto"
    )
    assert answer.status_code == 200 and "Fast geschafft" in answer.text
    assert "/adresse-bestaetigen?code=" in link_in(mail_inbox.wait_for(new)[0])
    client = signed_in(devices, new, NEW_PASSWORD)
    sharing = client.get("/mein-bereich/teilen")
    assert sharing.status_code == 200 and practice.name in sharing.text
    assert 'id="receipt-register"' not in devices().get(receipt).text


def test_a_mail_in_english_for_an_english_visitor(store: Store, web: httpx.Client, mail_inbox: Inbox) -> None:
    email, _ = new_patient(store)
    web.cookies.set("lang", "en")
    ask_for_reset(web, email)
    mail = mail_inbox.wait_for(email)[0]
    assert mail["Subject"] == "A new password for Rückenlotse"
    assert "If that was not you" in body_of(mail)
