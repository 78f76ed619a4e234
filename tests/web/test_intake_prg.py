"""The questionnaire's post/redirect/get over real HTTP: every POST answers 303 to /intake/schritt/<n>, the
GET shows the page kept in the interview's draft, and numbers, cookies and drafts that are not (or no
longer) there lead somewhere sensible instead of an error."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import text

from .conftest import LiveServer
from .pages_helpers import current_question, start, step_form
from .test_auth import open_store

STEP = re.compile(r"^/intake/schritt/([0-9]+)$")


def post(
    client: httpx.Client, page: httpx.Response, answer: list[str], action: str = "next"
) -> httpx.Response:
    form = step_form(page)
    return client.post(form.action, data={**form.hidden, "action": action, "answer": answer})


def test_every_step_redirects_to_a_numbered_page(client: httpx.Client) -> None:
    first = start(client)
    moved = post(client, first, ["3"])
    assert moved.status_code == 303
    found = STEP.match(moved.headers["location"])
    assert found is not None
    assert (
        "httponly" in moved.headers["set-cookie"].lower()
        and "samesite=lax" in moved.headers["set-cookie"].lower()
    )
    second = client.get(moved.headers["location"])
    assert current_question(second).id == "emergency_signs"  # type: ignore[union-attr]
    again = client.get(moved.headers["location"])  # reload: the same page, nothing posted
    assert current_question(again).id == "emergency_signs"  # type: ignore[union-attr]
    back = post(client, second, [], action="back")
    assert int(STEP.match(back.headers["location"]).group(1)) == int(found.group(1)) + 1  # type: ignore[union-attr]
    assert current_question(client.get(back.headers["location"])).id == "regions"  # type: ignore[union-attr]


def test_a_number_the_interview_does_not_have_goes_to_its_latest_page(client: httpx.Client) -> None:
    moved = post(client, start(client), ["3"])
    assert client.get("/intake/schritt/999").headers["location"] == moved.headers["location"]
    assert client.get("/intake/schritt/abc").status_code in (303, 404)


def test_without_the_draft_the_interview_starts_again(client: httpx.Client, live_server: LiveServer) -> None:
    moved = post(client, start(client), ["3"])
    client.cookies.clear()
    assert client.get(moved.headers["location"]).headers["location"] == "/intake"
    with httpx.Client(base_url=live_server.url) as other:  # another browser: the page is not its own
        assert other.get(moved.headers["location"]).headers["location"] == "/intake"


def test_the_draft_holds_no_token_in_clear(client: httpx.Client, live_server: LiveServer) -> None:
    post(client, start(client), ["3"])
    token = client.cookies.get("intake")
    assert token
    with open_store(live_server) as store, store.transaction(write=False) as session:
        ids = [row[0] for row in session.execute(text("SELECT id FROM form_drafts"))]
    assert token not in ids and all(len(i) == 64 for i in ids)
