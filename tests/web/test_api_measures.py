"""GET/POST /api/v1/persons/{id}/measures over real HTTP: what is due with the course, a response scored by
the engine and saved once per key, field errors as problem documents, a measure not due refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .api_world import World, running_world

PEG = {"pain": 6, "enjoyment": 4, "activity": 5}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_world(tmp_path_factory.mktemp("api-measures")) as seeded:
        yield seeded


def test_due_post_and_course(world: World) -> None:
    person = world.parties["patient_b"].person_id
    path = f"/persons/{person}/measures"
    with world.client("patient_b") as client:
        first = client.get(path)
        assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
        assert [(d["measure_id"], d["week"]) for d in first.json()["due"]] == [("peg", 0), ("psfs", 0)]
        assert first.json()["series"] == []

        bad = client.post(path, json={"measure_id": "peg", "answers": {"pain": 11, "extra": 1}})
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
        errors = {e["field"]: e["message"] for e in bad.json()["errors"]}
        assert errors["pain"] == "Bitte wählen Sie eine ganze Zahl von 0 bis 10."
        assert set(errors) == {"pain", "enjoyment", "activity", "extra"}
        english = client.post(path + "?lang=en", json={"measure_id": "peg", "answers": {}})
        assert english.json()["errors"][0]["message"] == "Please answer this question."
        shape = client.post(path, json={"measure_id": "peg", "answers": PEG, "week": "null"})
        assert shape.status_code == 422

        key = "api-measures-key-0123456789"
        created = client.post(path, json={"measure_id": "peg", "answers": PEG, "idempotency_key": key})
        assert created.status_code == 201, created.text
        assert {k: created.json()[k] for k in ("measure_id", "week", "score", "saved")} == {
            "measure_id": "peg",
            "week": 0,
            "score": 5.0,
            "saved": True,
        }
        again = client.post(path, json={"measure_id": "peg", "answers": PEG, "idempotency_key": key})
        assert again.status_code == 201 and again.json()["id"] == created.json()["id"]
        assert again.json()["saved"] is False
        answered = client.post(path, json={"measure_id": "peg", "answers": PEG})
        assert answered.status_code == 409
        assert answered.json()["type"] == "urn:rueckenlotse:problem:not-due"
        assert client.post(path, json={"measure_id": "pgic", "answers": {"change": 2}}).status_code == 409
        unknown = client.post(path, json={"measure_id": "odi", "answers": {}})
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["type"] == "unknown_measure"
        # The same key never accepts answers that do not fit.
        reused = client.post(path, json={"measure_id": "peg", "answers": {}, "idempotency_key": key})
        assert reused.status_code == 422

        course = client.get(path + "?lang=en").json()
        assert [d["measure_id"] for d in course["due"]] == ["psfs"]
        [series] = course["series"]
        assert series["measure_id"] == "peg" and series["direction"] == "lower_better"
        assert "30 percent" in series["explain"]
        [point] = series["points"]
        assert (point["week"], point["week_label"], point["score"], point["baseline"], point["change"]) == (
            0,
            "Start",
            5.0,
            True,
            None,
        )


def test_the_course_as_fhir_keeps_every_score(world: World) -> None:
    """The FHIR Bundle of one's answers: valid R4B (fhir.resources), the PEG score under its LOINC code,
    read back to the same score, and the download in the person's access log."""
    from fhir.resources.R4B.bundle import Bundle

    from rueckenlotse.reports.fhir.measures_import import parse_measure_bundle

    person = world.parties["patient_a"].person_id
    with world.client("patient_a") as client:
        path = f"/persons/{person}/measures"
        assert client.post(path, json={"measure_id": "peg", "answers": PEG}).status_code == 201
        response = client.get(f"/persons/{person}/measures/fhir")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/fhir+json")
        bundle = response.json()
        Bundle.model_validate(bundle)
        scores = [
            o["valueQuantity"]["value"]
            for o in (e["resource"] for e in bundle["entry"])
            if o["resourceType"] == "Observation"
            and any(c.get("code") == "91147-9" for c in o["code"]["coding"])
        ]
        assert scores == [5.0]
        assert [(r.measure_id, r.week, r.score) for r in parse_measure_bundle(bundle)] == [("peg", 0, 5.0)]
        log = client.get(f"/persons/{person}/access-log").json()
        assert any(e["action"] == "export.measures_fhir" for e in log)
