"""What the signed-in API routes do, over real HTTP: diary entries with re-screening, the plan, the
inbox order and filters, marking reviewed; and bad input as field errors that store nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from rueckenlotse.store.practices import Practices

from .api_world import (
    EMERGENCY,
    PASSWORD,
    SELF_CARE,
    World,
    cheap_accounts,
    diary_entry,
    running_world,
    submit,
)

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_world(tmp_path_factory.mktemp("api-signed-in")) as seeded:
        yield seeded


def _person(world: World) -> str:
    person_id = world.parties["patient_a"].person_id
    assert person_id
    return person_id


def _practice(world: World, who: str = "clinician_x") -> str:
    practice_id = world.parties[who].practice_id
    assert practice_id
    return practice_id


def _diary_count(world: World) -> int:
    with world.store() as store:
        return len(store.list_diary(_person(world)))


def test_me_names_the_patient_and_the_practices(world: World) -> None:
    with world.client("patient_a") as client:
        me = client.get("/me").json()
    assert me == {"role": "patient", "person_id": _person(world), "practice_ids": []}
    with world.client("token_x") as client:
        me = client.get("/me").json()
    assert me == {"role": "api_token", "person_id": None, "practice_ids": [_practice(world)]}


def test_a_diary_entry_is_stored_and_re_screened(world: World) -> None:
    path = f"/persons/{_person(world)}/diary"
    with world.client("patient_a") as client:
        calm = client.post(path, json=diary_entry(note="ruhiger Tag"))
        assert calm.status_code == 201, calm.text
        assert calm.headers["cache-control"] == "no-store"
        assert calm.json()["escalated"] is False
        alarming = client.post(path, json=diary_entry(warning_signs=["saddle_numbness"]))
        assert alarming.status_code == 201, alarming.text
        body = alarming.json()
        assert body["triage"] == "emergency" and body["escalated"] is True
        assert body["new_signs"] == ["saddle_numbness"] and body["reasons"]
        notes = [e["entry"]["note"] for e in client.get(path).json()]
        assessments = client.get(f"/persons/{_person(world)}/assessments").json()
    assert "ruhiger Tag" in notes
    assert assessments[-1]["source"] == "diary_rescreen"
    assert assessments[-1]["assessment"]["triage"] == "emergency"
    assert all(value is not None for value in assessments[-1]["case"].values())


@pytest.mark.parametrize(
    ("body", "field", "lang", "words"),
    [
        ({"pain": {"low_back": 11}}, "pain.low_back", "de", "höchstens"),
        ({"pain": {"low_back": 11}}, "pain.low_back", "en", "at most"),
        ({"pain": {}}, "pain", "de", ""),
        ({"recorded_at": "9999-01-01T00:00:00Z"}, "recorded_at", "de", "höchstens"),
        ({"recorded_at": "2026-11-27T08:00:00"}, "recorded_at", "en", ""),
        ({"warning_signs": ["saddle_numbness", "saddle_numbness"]}, "warning_signs", "de", ""),
        ({"mood": "gut"}, "mood", "de", ""),
    ],
)
def test_bad_diary_input_is_a_field_error_and_stores_nothing(
    world: World, body: dict[str, object], field: str, lang: str, words: str
) -> None:
    before = _diary_count(world)
    with world.client("patient_a") as client:
        response = client.post(f"/persons/{_person(world)}/diary?lang={lang}", json={**diary_entry(), **body})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert words in errors[0]["message"]
    assert _diary_count(world) == before


def test_without_a_saved_assessment_diary_and_plan_say_so(world: World) -> None:
    with world.store() as store:
        accounts = cheap_accounts(store)
        account, person = accounts.register_patient("ohne-einschaetzung@example.org", PASSWORD)
        token = accounts.start_session(account.id)
    with httpx.Client(base_url=world.url + "/api/v1", cookies={"session": token}, timeout=20.0) as client:
        for response in (
            client.post(f"/persons/{person.id}/diary", json=diary_entry()),
            client.get(f"/persons/{person.id}/plan"),
        ):
            assert response.status_code == 409, response.text
            assert response.json()["type"].endswith(":no-intake")
        assert client.get(f"/persons/{person.id}/diary").json() == []


def test_the_plan_in_english(world: World) -> None:
    with world.client("patient_b") as client:
        plan = client.get(f"/persons/{world.parties['patient_b'].person_id}/plan", params={"lang": "en"})
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert body["lang"] == "en" and body["weeks"] and body["triage"] == "self_care"


def test_the_inbox_puts_the_emergency_first_and_filters(world: World) -> None:
    x = _practice(world)
    with world.store() as store:
        practices = Practices(store)
        calm = submit(store, practices, x, "ruhig", SELF_CARE)
        urgent = submit(store, practices, x, "dringend", EMERGENCY)
    with world.client("token_x") as client:
        rows = client.get(f"/practices/{x}/intakes").json()
        assert rows[0]["id"] == urgent and rows[0]["triage"] == "emergency"
        assert "saddle_numbness" in rows[0]["warning_signs"] and rows[0]["suspected_conditions"]
        assert rows[-1]["triage"] == "self_care" and calm in [r["id"] for r in rows]
        assert [r["id"] for r in client.get(f"/practices/{x}/intakes", params={"limit": 1}).json()] == [
            urgent
        ]
        second = client.get(f"/practices/{x}/intakes", params={"limit": 1, "offset": 1}).json()
        assert [r["id"] for r in second] == [rows[1]["id"]]
        for bad in ({"limit": 0}, {"limit": "viele"}, {"offset": -1}):
            response = client.get(f"/practices/{x}/intakes", params=bad)
            assert response.status_code == 422 and response.json()["errors"][0]["field"] in bad
        detail = client.get(f"/practices/{x}/intakes/{urgent}").json()
    assert detail["case"]["saddle_numbness"] is True and detail["assessment"]["triage"] == "emergency"
    with world.client("clinician_x") as client:
        first = client.post(f"/practices/{x}/intakes/{urgent}/review")
        again = client.post(f"/practices/{x}/intakes/{urgent}/review")
        still_open = client.get(f"/practices/{x}/intakes", params={"only_open": "true"}).json()
    assert first.status_code == again.status_code == 200
    assert first.json()["reviewed_at"] == again.json()["reviewed_at"] is not None  # the first time is kept
    assert first.json()["warning_signs"] == rows[0]["warning_signs"]
    assert urgent not in [r["id"] for r in still_open] and calm in [r["id"] for r in still_open]
