"""The authorisation matrix of the REST API: every route × every kind of caller, over real HTTP.

Callers: anonymous, an unknown bearer token, patients A and B, clinicians of practices X and Y (with
the second factor), the API tokens of X and Y, and a clinician still missing the second factor. Every
request targets A's person or X's practice and intake, so the matrix shows object-level authorisation
(BOLA): only the owner gets the data; everyone else gets 404 exactly as for an id that does not exist,
and nothing changes. A route without a row fails the coverage test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rueckenlotse.store.measures import MeasureResponses
from rueckenlotse.store.practices import Practices

from .api_fixtures import API, api_routes, make_app
from .api_world import SELF_CARE, World, diary_entry, running_world, submit

ROLES = (
    "anonymous",
    "bad_token",
    "pending",
    "patient_a",
    "patient_b",
    "clinician_x",
    "clinician_y",
    "token_x",
    "token_y",
)
NOBODY = {"anonymous": 401, "bad_token": 401, "pending": 401}
EVERYONE_ELSE = dict.fromkeys(ROLES[3:], 404)


def _person_route(owner_status: int) -> dict[str, int]:
    return {**NOBODY, **EVERYONE_ELSE, "patient_a": owner_status}


def _practice_route(**x: int) -> dict[str, int]:
    return {**NOBODY, **EVERYONE_ELSE, "clinician_x": 200, "token_x": 200, **x}


SIGNED_IN = {**NOBODY, **dict.fromkeys(ROLES[3:], 200)}
# (method, path template) → the status each caller gets, targeting A's person and X's practice/intake.
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("POST", "/assessments"): dict.fromkeys(ROLES, 200),
    ("GET", "/questionnaire"): dict.fromkeys(ROLES, 200),
    ("POST", "/questionnaire/next"): dict.fromkeys(ROLES, 200),
    ("GET", "/ask"): dict.fromkeys(ROLES, 200),
    ("GET", "/knowledge"): dict.fromkeys(ROLES, 200),
    ("GET", "/health"): dict.fromkeys(ROLES, 200),
    ("GET", "/me"): SIGNED_IN,
    ("GET", "/practices"): SIGNED_IN,
    ("GET", "/persons/{person_id}"): _person_route(200),
    ("GET", "/persons/{person_id}/assessments"): _person_route(200),
    ("GET", "/persons/{person_id}/diary"): _person_route(200),
    ("POST", "/persons/{person_id}/diary"): _person_route(201),
    ("GET", "/persons/{person_id}/plan"): _person_route(200),
    # Outcome measures (issue #18): what is due with the course, and a response.
    ("GET", "/persons/{person_id}/measures"): _person_route(200),
    ("POST", "/persons/{person_id}/measures"): _person_route(201),
    ("GET", "/persons/{person_id}/measures/fhir"): _person_route(200),
    # Data rights (SR-AUD-2, SR-DR-1): the owner alone, as every person route.
    ("GET", "/persons/{person_id}/access-log"): _person_route(200),
    ("GET", "/persons/{person_id}/export"): _person_route(200),
    ("GET", "/practices/{practice_id}/intakes"): _practice_route(),
    ("GET", "/practices/{practice_id}/intakes/{intake_id}"): _practice_route(),
    ("POST", "/practices/{practice_id}/intakes/{intake_id}/review"): _practice_route(token_x=403),
}
BODIES: dict[tuple[str, str], Callable[[], Any]] = {
    ("POST", "/assessments"): lambda: SELF_CARE,
    ("POST", "/questionnaire/next"): lambda: {"answers": {}},
    ("POST", "/persons/{person_id}/diary"): lambda: diary_entry(note="matrix"),
    ("POST", "/persons/{person_id}/measures"): lambda: {
        "measure_id": "psfs",
        "answers": {"activity": [{"name": "Gehen", "value": 4}]},
    },
}
QUERIES = {("GET", "/ask"): {"q": "Bandscheibe"}}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_world(tmp_path_factory.mktemp("api-authz")) as seeded:
        yield seeded


def _path(world: World, template: str, intake_id: str | None = None) -> str:
    a, x = world.parties["patient_a"], world.parties["clinician_x"]
    assert a.person_id and x.practice_id
    return (
        template.replace("{person_id}", a.person_id)
        .replace("{practice_id}", x.practice_id)
        .replace("{intake_id}", intake_id or world.intake_x)
    )


def _call(
    world: World, role: str, method: str, template: str, intake_id: str | None = None
) -> httpx.Response:
    key = (method, template)
    body = BODIES[key]() if key in BODIES else None
    with world.client(role) as client:
        return client.request(
            method, _path(world, template, intake_id), json=body, params=QUERIES.get(key, {})
        )


def _counts(world: World) -> tuple[int, int, int]:
    a = world.parties["patient_a"]
    assert a.person_id
    with world.store() as store:
        measures = len(MeasureResponses(store).of_person(a.person_id))
        return len(store.list_diary(a.person_id)), len(store.list_assessments(a.person_id)), measures


def test_every_api_route_has_a_row(tmp_path: Path) -> None:
    routes = {(method, path.removeprefix(API)) for method, path in api_routes(make_app(tmp_path))}
    assert routes == set(MATRIX), "add a row for every route of the API (and none for a route that is gone)"


CASES = [(key, role) for key in MATRIX for role in ROLES]


@pytest.mark.safety("SR-SEC-1")
@pytest.mark.parametrize(("key", "role"), CASES, ids=[f"{m} {p} as {r}" for (m, p), r in CASES])
def test_each_caller_gets_exactly_what_it_may(world: World, key: tuple[str, str], role: str) -> None:
    method, template = key
    before = _counts(world)
    intake_id = None
    if template.endswith("/review"):  # a fresh intake each time, so "stays unreviewed" is checkable
        with world.store() as store:
            x = world.parties["clinician_x"].practice_id
            assert x
            intake_id = submit(store, Practices(store), x, "review probe", SELF_CARE)
    response = _call(world, role, method, template, intake_id)
    expected = MATRIX[key][role]
    assert response.status_code == expected, response.text[:500]
    if expected >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == expected
    if expected == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    if method == "POST" and template.startswith("/persons") and role != "patient_a":
        assert _counts(world) == before, "a refused diary entry must store nothing"
    if intake_id is not None:
        with world.store() as store:
            x = world.parties["clinician_x"].practice_id
            assert x
            reviewed = Practices(store).intake_detail(x, intake_id).intake.reviewed_at
        assert (reviewed is not None) == (expected == 200)


@pytest.mark.parametrize("role", ROLES)
def test_no_caller_sees_another_ones_data(world: World, role: str) -> None:
    """Every GET route, for this caller: no marker of a party it does not belong to in any answer."""
    party = world.parties[role]
    foreign = [p.marker for p in world.parties.values() if p.marker and p.marker != party.marker]
    seen = []
    with world.client(role) as client:
        own_paths = _own_paths(world, role)
        for path in own_paths:
            response = client.get(path)
            seen.append(response.status_code)
            for marker in foreign:
                assert marker not in response.text, (role, path)
    if party.marker:  # the owner does see its own data
        with world.client(role) as client:
            assert any(party.marker in client.get(p).text for p in own_paths)


def _own_paths(world: World, role: str) -> list[str]:
    party = world.parties[role]
    paths = ["/me", "/practices"]
    if party.person_id:
        base = f"/persons/{party.person_id}"
        paths += [base, base + "/assessments", base + "/diary", base + "/plan", base + "/export"]
        paths += [base + "/access-log", base + "/measures"]
    if party.practice_id:
        intake = (
            world.intake_x
            if party.practice_id == world.parties["clinician_x"].practice_id
            else world.intake_y
        )
        base = f"/practices/{party.practice_id}/intakes"
        paths += [base, f"{base}/{intake}"]
    return paths


def test_a_token_of_y_cannot_reach_x_even_by_guessing_ids(world: World) -> None:
    x, y = world.parties["clinician_x"].practice_id, world.parties["clinician_y"].practice_id
    with world.client("token_y") as client:
        assert client.get(f"/practices/{y}/intakes/{world.intake_x}").status_code == 404
        assert client.get(f"/practices/{x}/intakes/{world.intake_y}").status_code == 404
        listed = client.get("/practices").json()
        assert [p["id"] for p in listed] == [y]


def test_cookie_posts_from_another_site_are_refused(world: World) -> None:
    before = _counts(world)
    path = _path(world, "/persons/{person_id}/diary")
    with world.client("patient_a") as client:
        for headers in ({"Origin": "https://boese.example"}, {"Sec-Fetch-Site": "cross-site"}):
            response = client.post(path, json=diary_entry(), headers=headers)
            assert response.status_code == 403, response.text
            assert response.json()["type"].endswith(":cross-site")
        form = client.post(
            path, content="pain=4", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert form.status_code == 415
        assert _counts(world) == before
        own = client.post(
            path, json=diary_entry(), headers={"Origin": world.url, "Sec-Fetch-Site": "same-origin"}
        )
        assert own.status_code == 201, own.text
    assert _counts(world)[0] == before[0] + 1


def test_a_replayed_cookie_after_logout_is_refused(world: World) -> None:
    with world.store() as store:
        from .api_world import PASSWORD, cheap_accounts

        accounts = cheap_accounts(store)
        account, person = accounts.register_patient("abmelden-api@example.org", PASSWORD, "Abmelden")
        token = accounts.start_session(account.id)
    cookies = {"session": token}
    with httpx.Client(base_url=world.url, cookies=cookies, timeout=20.0, follow_redirects=False) as client:
        assert client.get(f"{API}/persons/{person.id}").status_code == 200
        page = client.get("/mein-bereich")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None, page.text[:500]
        assert client.post("/abmelden", data={"csrf_token": csrf.group(1)}).status_code == 303
    with httpx.Client(base_url=world.url, cookies=cookies, timeout=20.0) as replay:
        assert replay.get(f"{API}/persons/{person.id}").status_code == 401
        assert replay.get(f"{API}/me").status_code == 401


def test_a_revoked_token_is_refused(world: World) -> None:
    x = world.parties["clinician_x"].practice_id
    assert x
    with world.store() as store:
        practices = Practices(store)
        record, raw = practices.create_api_token(x, "bald widerrufen")
    headers = {"Authorization": f"Bearer {raw}"}
    with httpx.Client(base_url=world.url + API, headers=headers, timeout=20.0) as client:
        assert client.get(f"/practices/{x}/intakes").status_code == 200
        with world.store() as store:
            assert Practices(store).revoke_api_token(x, record.id)
        assert client.get(f"/practices/{x}/intakes").status_code == 401
