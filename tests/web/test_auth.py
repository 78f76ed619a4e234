"""Signing in and out against the live server: messages, throttling, TOTP, logout, CSRF, cookies.

Accounts and practices are seeded straight into the server's SQLite file. Every test speaks as its own
client address (X-Forwarded-For, trusted from 127.0.0.1), so the per-client throttle of one test never
counts the failures of another.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from rueckenlotse.services.auth import Argon2Passwords
from rueckenlotse.store import Store, totp
from rueckenlotse.store.accounts import Accounts
from rueckenlotse.store.practices import Practices
from rueckenlotse.store.schema import Account
from rueckenlotse.store.sealing import Sealer

from .conftest import LiveServer, server_sealer

PASSWORD = "ein langer Satz als Passwort"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Clinician:
    email: str
    password: str
    practice_id: str
    secret: str | None


def open_store(server: LiveServer) -> Store:
    return Store.open(f"sqlite:///{server.data_dir / 'web.db'}")


@pytest.fixture
def store(live_server: LiveServer) -> Iterator[Store]:
    with open_store(live_server) as opened:
        yield opened


def accounts(store: Store) -> Accounts:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return Accounts(store, Argon2Passwords(cheap), sealer=server_sealer(store))


def new_clinician(store: Store, practice_id: str | None = None, *, totp: bool = True) -> Clinician:
    """A clinician (in a new practice unless given); with ``totp`` its second factor is already active."""
    if practice_id is None:
        practice_id = Practices(store).create_practice(f"Praxis {secrets.token_hex(3)}").id
    email = f"arzt-{secrets.token_hex(4)}@praxis.example"
    repo = accounts(store)
    account = repo.create_clinician(email, PASSWORD, practice_id)
    secret = None
    if totp:
        secret = repo.totp_setup(account.id).secret
        # The code of the previous time step: the sign-in under test can then use the current one.
        assert repo.totp_confirm(account.id, pyotp.TOTP(secret).at(time.time() - 30))
    return Clinician(email, PASSWORD, practice_id, secret)


def own_client(server: LiveServer) -> httpx.Client:
    """A client with its own (made-up) network address."""
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    headers = {"X-Forwarded-For": address}
    return httpx.Client(base_url=server.url, timeout=10.0, follow_redirects=False, headers=headers)


@pytest.fixture
def web(live_server: LiveServer) -> Iterator[httpx.Client]:
    with own_client(live_server) as client:
        yield client


def csrf_of(response: httpx.Response) -> str:
    match = CSRF.search(response.text)
    assert match is not None, response.text[:2000]
    return match.group(1)


def post_form(
    client: httpx.Client, path: str, data: dict[str, str], page: str | None = None
) -> httpx.Response:
    """POST as the form on ``page`` (default: the same path) would, with its CSRF token."""
    token = csrf_of(client.get(page or path))
    return client.post(path, data={"csrf_token": token, **data})


def login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return post_form(client, "/anmelden", {"email": email, "password": password})


def session_cookie(client: httpx.Client) -> str | None:
    return client.cookies.get("session")


def sign_in(client: httpx.Client, clinician: Clinician) -> None:
    """Password and TOTP code: the client ends up at the inbox's door."""
    assert login(client, clinician.email, clinician.password).headers["location"] == "/anmelden/code"
    assert clinician.secret is not None
    response = post_form(client, "/anmelden/code", {"code": pyotp.TOTP(clinician.secret).now()})
    assert response.status_code == 303 and response.headers["location"] == "/praxis", response.text[:500]


def wrong_code(secret: str) -> str:
    """A six-digit code that is no valid code now: none of the steps before, at or after now (the server
    accepts those for clock drift), nor of the step after that, should a step begin before the server
    checks the code."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + 30 * step) for step in (-1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(len(valid) + 1)) if c not in valid)


# ---- tests ---------------------------------------------------------------------------------------
def test_login_page(web: httpx.Client) -> None:
    response = web.get("/anmelden")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert 'autocomplete="current-password"' in response.text
    assert csrf_of(response)


@pytest.mark.safety("SR-WEB-3")
def test_same_message_for_unknown_address_and_wrong_password(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    wrong = login(web, clinician.email, "ein ganz anderes Passwort")
    unknown = login(web, "niemand@praxis.example", clinician.password)
    message = "E-Mail-Adresse oder Passwort stimmen nicht."
    assert wrong.status_code == unknown.status_code == 401
    assert message in wrong.text and message in unknown.text
    assert PASSWORD not in wrong.text  # the password is never sent back
    assert session_cookie(web) is None


@pytest.mark.safety("SR-WEB-3")
def test_throttling_answers_429_with_retry_after(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    for _ in range(5):
        assert login(web, clinician.email, "falsches Passwort 123").status_code == 401
    blocked = login(web, clinician.email, clinician.password)  # even the right password now waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Zu viele Versuche" in blocked.text
    assert session_cookie(web) is None


@pytest.mark.safety("SR-WEB-3")
def test_second_factor_pending_cannot_open_the_inbox(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    response = login(web, clinician.email, clinician.password)
    assert response.status_code == 303 and response.headers["location"] == "/anmelden/code"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    inbox = web.get("/praxis")
    assert inbox.status_code == 303 and inbox.headers["location"] == "/anmelden/code"


@pytest.mark.safety("SR-WEB-3")
def test_wrong_code_refused_and_right_code_rotates_the_cookie(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    login(web, clinician.email, clinician.password)
    pending = session_cookie(web)
    assert pending is not None
    assert clinician.secret is not None
    right = pyotp.TOTP(clinician.secret).now()
    refused = post_form(web, "/anmelden/code", {"code": wrong_code(clinician.secret)})
    assert refused.status_code == 401
    assert "Dieser Code passt nicht" in refused.text
    assert web.get("/praxis").status_code == 303

    accepted = post_form(web, "/anmelden/code", {"code": right})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/praxis"
    assert session_cookie(web) not in (None, pending)
    assert web.get("/praxis").status_code == 200
    # The password-only token never gains the second factor's rights.
    with httpx.Client(base_url=str(web.base_url), cookies={"session": pending}) as replay:
        assert replay.get("/praxis").headers["location"] == "/anmelden"


def test_first_sign_in_sets_up_the_second_factor(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store, totp=False)
    login(web, clinician.email, clinician.password)
    setup = web.get("/anmelden/code")
    assert setup.status_code == 200
    match = re.search(r'data-secret="([A-Z2-7]+)"', setup.text)
    assert match is not None
    assert "otpauth://totp/" in setup.text
    assert "<svg" in setup.text and 'class="qr-code"' in setup.text  # the QR code, drawn on the server
    # A reload shows the same key: the pending one is kept (sealed) until a code confirms it.
    assert f'data-secret="{match.group(1)}"' in web.get("/anmelden/code").text
    token = csrf_of(setup)
    code = pyotp.TOTP(match.group(1)).now()
    done = web.post("/anmelden/code", data={"csrf_token": token, "code": code})
    assert done.status_code == 303 and done.headers["location"] == "/praxis"
    assert web.get("/praxis").status_code == 200
    # The database holds it sealed with the server's data key, never as shown.
    with store.engine.connect() as conn:
        stored = conn.scalar(select(Account.totp_secret).where(Account.email == clinician.email))
    assert stored is not None and match.group(1) not in stored
    assert stored.startswith(f"rl1:{server_sealer(store).current_id}:")


def test_a_secret_the_server_cannot_open_is_the_plain_error_page_and_a_clear_log_line(
    store: Store, web: httpx.Client, live_server: LiveServer
) -> None:
    """Sealed under a key the server does not have (a previous key dropped too early, a machine with a key
    of its own): no sign-in, the plain 500 page, and the log names the account and the key it needs."""
    clinician = new_clinician(store)
    assert clinician.secret is not None
    foreign = Sealer(secrets.token_bytes(32))
    with store.transaction() as session:
        account = session.scalars(select(Account).where(Account.email == clinician.email)).one()
        totp.seal_secret(foreign, account, clinician.secret)
        account_id = account.id
    login(web, clinician.email, clinician.password)
    response = post_form(web, "/anmelden/code", {"code": pyotp.TOTP(clinician.secret).now()})
    assert response.status_code == 500
    assert "Traceback" not in response.text and clinician.secret not in response.text
    assert web.get("/praxis").status_code == 303
    log = live_server.log_text()
    assert f"sealed with the data key {foreign.current_id}" in log and account_id in log
    assert clinician.secret not in log


@pytest.mark.safety("SR-WEB-3")
def test_replaying_the_cookie_after_logout_is_anonymous(store: Store, web: httpx.Client) -> None:
    clinician = new_clinician(store)
    sign_in(web, clinician)
    old = session_cookie(web)
    assert old is not None
    out = post_form(web, "/abmelden", {}, page="/praxis")
    assert out.status_code == 303 and out.headers["location"].startswith("/anmelden")
    assert session_cookie(web) is None
    with httpx.Client(base_url=str(web.base_url), cookies={"session": old}) as replay:
        response = replay.get("/praxis")
        assert response.status_code == 303 and response.headers["location"] == "/anmelden"


@pytest.mark.safety("SR-WEB-1")
@pytest.mark.parametrize("path", ["/anmelden", "/anmelden/code", "/abmelden"])
def test_every_post_needs_the_csrf_token(store: Store, web: httpx.Client, path: str) -> None:
    clinician = new_clinician(store)
    web.get("/anmelden")  # the CSRF cookie is there; only the form value is missing
    data = {"email": clinician.email, "password": clinician.password, "code": "123456"}
    response = web.post(path, data=data)
    assert response.status_code == 403
    assert session_cookie(web) is None


@pytest.mark.safety("SR-IN-1")
def test_odd_input_is_never_a_server_error(store: Store, web: httpx.Client) -> None:
    for data in ({}, {"email": "", "password": ""}, {"email": "x" * 5000, "password": "y" * 5000}):
        assert post_form(web, "/anmelden", data).status_code == 401
    # Without a session the code step sends the browser to the password first.
    assert post_form(web, "/anmelden/code", {"code": "123456"}, page="/anmelden").status_code == 303
    assert web.get("/anmelden/code").headers["location"] == "/anmelden"
    clinician = new_clinician(store, totp=False)
    login(web, clinician.email, clinician.password)
    tampered = post_form(web, "/anmelden/code", {"code": "abc", "setup": "nicht-signiert"})
    assert tampered.status_code == 401 and "otpauth://totp/" in tampered.text
