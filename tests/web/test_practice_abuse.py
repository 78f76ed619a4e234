"""The public intake link under a flood, over real HTTP against a server of its own.

One client (127.0.0.2) sends 500 fake emergencies through a practice's link as fast as it can, eight at a
time. Each send is what a script that has answered the questions would post: a complete signed state with
its own nonce, the confirmation page fetched, its token old enough. The limit per client lets 10 through;
every other answer is a 429 page in German saying when to try again (never a 5xx, never a 400). Then a
person on another address (127.0.0.3) answers the questions and sends: their intake is on the first page
of the clinician's open inbox.

The two addresses are real: the whole of 127.0.0.0/8 is the loopback device, and each client binds its
own source address, so the server sees two clients without trusting any forwarded header.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from rueckenlotse.knowledge.loader import default_knowledge
from rueckenlotse.store import Store
from rueckenlotse.store.practices import Practices
from rueckenlotse.web.security.state import StateCodec

from ..serving import served
from .conftest import SERVER_OWN
from .pages_helpers import parse_page
from .practice_link_helpers import confirm, confirm_form, practice_result, send
from .test_auth import csrf_of, new_clinician, sign_in

FAKES = 500
PER_CLIENT = 10
SECRET = "abuse-test-" + "s" * 40
MIN_SECONDS = 1


@pytest.fixture(scope="module")
def flood_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("flood")
    env = {k: v for k, v in os.environ.items() if k not in SERVER_OWN}
    env |= {
        "RUECKENLOTSE_DATA_DIR": str(data_dir),
        "RUECKENLOTSE_SECRET_KEY": SECRET,
        "RUECKENLOTSE_PRACTICE_SENDS_PER_CLIENT": str(PER_CLIENT),
        "RUECKENLOTSE_PRACTICE_SEND_MIN_SECONDS": str(MIN_SECONDS),
    }
    with served(data_dir, data_dir / "server.log", env) as url:
        yield url, data_dir


def client_at(url: str, address: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=url, timeout=30.0, follow_redirects=False, transport=transport)


def test_a_flood_from_one_client_is_throttled_and_the_genuine_intake_stays_on_page_one(
    flood_server: tuple[str, Path],
) -> None:
    url, data_dir = flood_server
    with Store.open(f"sqlite:///{data_dir / 'web.db'}") as store:
        clinician = new_clinician(store)
        code = Practices(store).practice(clinician.practice_id).intake_code
    codec = StateCodec(SECRET, default_knowledge().spec.knowledge_version)

    with client_at(url, "127.0.0.2") as attacker:
        # One real run through the questions; every fake is that state with its own nonce and an
        # emergency sign, as a script replaying the steps would get it.
        result = practice_result(attacker, code)
        form, _, _ = parse_page(result.text, "practice-send")
        assert form is not None
        template = codec.loads(form.hidden["state"])
        token = csrf_of(result)

        def fake_state(i: int) -> str:
            answers = {**template.answers, "saddle_numbness": True, "age": 20 + i % 60}
            return codec.dumps(replace(template, answers=answers, nonce=secrets.token_urlsafe(16)))

        def confirmation(i: int) -> dict[str, str]:
            page = attacker.post(f"/p/{code}/bestaetigen", data={"csrf_token": token, "state": fake_state(i)})
            assert page.status_code == 200, page.text[:500]
            return confirm_form(page)[1]

        with ThreadPoolExecutor(8) as pool:
            forms = list(pool.map(confirmation, range(FAKES)))
            time.sleep(MIN_SECONDS + 1)  # the tokens are old enough now
            started = time.monotonic()
            answers = list(pool.map(lambda data: attacker.post(f"/p/{code}/senden", data=data), forms))
            took = time.monotonic() - started

    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {303: PER_CLIENT, 429: FAKES - PER_CLIENT}, statuses
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert "zu oft gesendet" in refused.text and "112" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    assert took < 120, took

    with client_at(url, "127.0.0.3") as person:
        receipt = send(person, confirm(person, practice_result(person, code)), {"name": "Echte Patientin"})
        assert receipt.status_code == 303, receipt.text[:1000]
    with client_at(url, "127.0.0.4") as doctor:
        sign_in(doctor, clinician)
        inbox = doctor.get("/praxis")
        assert inbox.status_code == 200
        rows = re.findall(r'data-intake="([^"]+)"', inbox.text)
        assert len(rows) == PER_CLIENT + 1
        assert "Echte Patientin" in inbox.text
        first_page = inbox.text.split('id="practice-1"')[1]
        assert first_page.count("Notfall") >= PER_CLIENT  # the fakes that got through come first
    with Store.open(f"sqlite:///{data_dir / 'web.db'}") as store:
        assert len(Practices(store).inbox(clinician.practice_id)) == PER_CLIENT + 1
