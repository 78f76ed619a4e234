"""REST API v1 over real HTTP semantics (httpx + ASGITransport; one test through uvicorn on a real port)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rueckenlotse import assess
from rueckenlotse.questionnaire import Question, load_questionnaire
from rueckenlotse.web.api.body import MAX_BODY_BYTES

from .api_fixtures import API, BASE_CASE, api_routes, asgi_client, make_app, resolve, serve

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return make_app(tmp_path_factory.mktemp("api"))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as c:
        yield c


@pytest.fixture(scope="module")
def vignettes(shared_dir: Path) -> list[dict[str, Any]]:
    files = sorted((shared_dir / "cases" / "public").glob("*.json"))
    assert len(files) == 24
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


async def post_case(client: httpx.AsyncClient, body: Any, lang: str | None = None) -> httpx.Response:
    params = {"lang": lang} if lang else {}
    return await client.post(f"{API}/assessments", json=body, params=params)


def problem_fields(response: httpx.Response) -> dict[str, str]:
    """field -> type of a 422 problem document (checking its shape on the way)."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    doc = response.json()
    assert doc["status"] == 422 and doc["type"].startswith("urn:rueckenlotse:problem:")
    assert doc["title"] and doc["detail"] and doc["errors"]
    assert all(e["message"] for e in doc["errors"])
    return {e["field"]: e["type"] for e in doc["errors"]}


# ---- POST /assessments ---------------------------------------------------------------------------
@pytest.mark.safety("SR-KB-2")
@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_public_vignette_gives_exactly_assess(
    client: httpx.AsyncClient, vignettes: list[dict[str, Any]], lang: str
) -> None:
    for vignette in vignettes:
        response = await post_case(client, vignette["case"], lang)
        assert response.status_code == 200, (vignette["id"], response.text)
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store"
        assert response.json() == assess(vignette["case"], lang=lang).model_dump(mode="json"), vignette["id"]


def _wrong_value(prop: dict[str, Any]) -> Any:
    """A value of the wrong JSON type for a property of the contract's case.schema.json."""
    kind = prop.get("type")
    if "enum" in prop:
        return "__not_allowed__"
    return {"boolean": "yes", "integer": 1.5, "number": "1", "array": "neck", "object": []}[kind]


def _contract_properties(shared_dir: Path) -> dict[str, dict[str, Any]]:
    schema = json.loads((shared_dir / "contract" / "v2" / "case.schema.json").read_text(encoding="utf-8"))
    props: dict[str, dict[str, Any]] = schema["properties"]
    return props


@pytest.mark.safety("SR-IN-1")
async def test_a_wrong_type_in_any_contract_field_is_a_422_naming_it(
    client: httpx.AsyncClient, shared_dir: Path
) -> None:
    props = _contract_properties(shared_dir)
    assert len(props) > 40
    for name, prop in props.items():
        response = await post_case(client, {**BASE_CASE, name: _wrong_value(prop)})
        assert name in problem_fields(response), name


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize(
    ("patch", "field", "kind"),
    [
        ({"age": 121}, "age", "less_than_equal"),
        ({"age": -1}, "age", "greater_than_equal"),
        ({"age": "40"}, "age", "int_type"),
        ({"age": True}, "age", "int_type"),
        ({"age": 40.5}, "age", "int_type"),
        ({"pain_intensity": 11}, "pain_intensity", "less_than_equal"),
        ({"duration_weeks": -0.5}, "duration_weeks", "greater_than_equal"),
        ({"duration_weeks": "2"}, "duration_weeks", "float_type"),
        ({"regions": []}, "regions", "too_short"),
        ({"regions": ["neck", "neck"]}, "regions", "duplicate"),
        ({"regions": ["hip"]}, "regions[0]", "literal_error"),
        ({"sex": "x"}, "sex", "literal_error"),
        ({"sex": None}, "sex", "null_not_allowed"),
        ({"fever": 1}, "fever", "bool_type"),
        ({"fever": "true"}, "fever", "bool_type"),
        ({"imaging_findings": ["disc_bulge", "disc_bulge"]}, "imaging_findings", "duplicate"),
        ({"startback": {"bothersomeness": 5}}, "startback.bothersomeness", "less_than_equal"),
        ({"neuroplastic": {"unknown_sign": True}}, "neuroplastic.unknown_sign", "extra_forbidden"),
        ({"shoe_size": 42}, "shoe_size", "extra_forbidden"),
    ],
)
async def test_invalid_fields_are_named_with_their_kind(
    client: httpx.AsyncClient, patch: dict[str, Any], field: str, kind: str
) -> None:
    fields = problem_fields(await post_case(client, {**BASE_CASE, **patch}))
    assert fields.get(field) == kind, fields


@pytest.mark.safety("SR-IN-1")
async def test_missing_required_fields_are_all_listed(client: httpx.AsyncClient) -> None:
    response = await post_case(client, {})
    assert problem_fields(response) == {"age": "missing", "regions": "missing", "duration_weeks": "missing"}
    assert response.json()["type"] == "urn:rueckenlotse:problem:invalid-case"


@pytest.mark.safety("SR-LANG-1")
async def test_messages_are_german_by_default_and_english_on_request(client: httpx.AsyncClient) -> None:
    body = {**BASE_CASE, "age": 121}
    german = (await post_case(client, body)).json()
    english = (await post_case(client, body, "en")).json()
    header = await client.post(f"{API}/assessments", json=body, headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert german["errors"][0]["message"] == "Der Wert darf höchstens 120 sein."
    assert english["errors"][0]["message"] == "The value must be at most 120."
    assert header.json() == english
    assert german["title"] != english["title"]


@pytest.mark.parametrize(
    ("header", "lang"),
    [("en", "en"), ("de-DE,de;q=0.9,en;q=0.8", "de"), ("fr, en;q=0.5", "en"), ("fr", "de"), ("en;q=0", "de")],
)
async def test_accept_language_chooses_the_texts(client: httpx.AsyncClient, header: str, lang: str) -> None:
    response = await client.post(f"{API}/assessments", json=BASE_CASE, headers={"Accept-Language": header})
    assert response.json() == assess(BASE_CASE, lang=lang).model_dump(mode="json")


@pytest.mark.safety("SR-LANG-1")
async def test_the_lang_parameter_wins_over_accept_language(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/assessments", params={"lang": "de"}, json=BASE_CASE, headers={"Accept-Language": "en"}
    )
    assert response.json() == assess(BASE_CASE, lang="de").model_dump(mode="json")


async def test_an_unknown_language_is_a_422(client: httpx.AsyncClient) -> None:
    assert problem_fields(await post_case(client, BASE_CASE, "fr")) == {"lang": "literal_error"}


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize(
    ("body", "field", "kind"),
    [
        (b'{"age": 40, "age": 41, "regions": ["neck"], "duration_weeks": 1}', "(case)", "json_invalid"),
        (
            b'{"age": 40, "regions": ["neck"], "duration_weeks": 1, "startback": {"a": 1, "a": 2}}',
            "(case)",
            None,
        ),
        (b'{"age": 40, "regions": ["neck"], "duration_weeks": NaN}', "(case)", "json_invalid"),
        (b'{"age": 40, "regions": ["neck"], "duration_weeks": Infinity}', "(case)", "json_invalid"),
        (b"[]", "(case)", "not_an_object"),
        (b"null", "(case)", "not_an_object"),
        (b'"case"', "(case)", "not_an_object"),
        (b"", "(case)", "json_invalid"),
        (b"{", "(case)", "json_invalid"),
        (b'{"age": 40, "regions": ["neck"], "duration_weeks": 1, "x": "\xff"}', "(case)", "json_invalid"),
        (b"[" * 60_000, "(case)", "json_invalid"),
    ],
)
async def test_broken_json_is_a_422_never_a_server_error(
    client: httpx.AsyncClient, body: bytes, field: str, kind: str | None
) -> None:
    response = await client.post(
        f"{API}/assessments", content=body, headers={"Content-Type": "application/json"}
    )
    fields = problem_fields(response)
    assert field in fields
    if kind is not None:
        assert fields[field] == kind


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", "json"],
)
async def test_a_body_that_is_not_json_is_a_415(client: httpx.AsyncClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post(f"{API}/assessments", content=json.dumps(BASE_CASE), headers=headers)
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:rueckenlotse:problem:unsupported-media-type"


@pytest.mark.parametrize("content_type", ["application/json; charset=UTF-8", "application/vnd.case+json"])
async def test_json_media_types_with_utf8_are_accepted(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post(
        f"{API}/assessments", content=json.dumps(BASE_CASE), headers={"Content-Type": content_type}
    )
    assert response.status_code == 200


def _padded(size: int) -> bytes:
    text = json.dumps(BASE_CASE).encode()
    return text[:-1] + b" " * (size - len(text)) + b"}"


@pytest.mark.safety("SR-IN-1")
async def test_a_body_of_exactly_64_kib_is_accepted_one_byte_more_is_a_413(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json"}
    ok = await client.post(f"{API}/assessments", content=_padded(MAX_BODY_BYTES), headers=headers)
    assert ok.status_code == 200
    too_big = await client.post(f"{API}/assessments", content=_padded(MAX_BODY_BYTES + 1), headers=headers)
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == PROBLEM
    assert too_big.json()["status"] == 413 and too_big.json()["errors"] == []


async def test_a_streamed_body_without_length_is_limited_too(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    response = await client.post(
        f"{API}/assessments", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


@pytest.mark.parametrize("length", ["9" * 5000, "65537"])
async def test_a_declared_length_over_the_limit_is_a_413_before_reading(
    client: httpx.AsyncClient, length: str
) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": length}
    response = await client.post(f"{API}/assessments", content=b"{}", headers=headers)
    assert response.status_code == 413


# ---- OpenAPI -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def openapi(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


async def test_openapi_json_is_served(client: httpx.AsyncClient, openapi: dict[str, Any]) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi


def test_every_api_route_is_in_the_openapi_document(app: FastAPI, openapi: dict[str, Any]) -> None:
    routes = api_routes(app)
    documented = {
        (method.upper(), path)
        for path, item in openapi["paths"].items()
        if path.startswith(API)
        for method in item
    }
    assert {("POST", f"{API}/assessments"), ("GET", f"{API}/health")} <= routes
    assert routes == documented


def test_every_operation_is_described_with_its_errors(openapi: dict[str, Any]) -> None:
    ids = []
    for path, item in openapi["paths"].items():
        if not path.startswith(API):
            continue
        for method, op in item.items():
            ids.append(op["operationId"])
            assert op["summary"] and op["description"] and op["tags"], (method, path)
            assert any(code.startswith("2") for code in op["responses"]), (method, path)
            if op.get("security"):  # signed-in routes name both schemes and say what 401 means
                assert {"practiceToken", "sessionCookie"} == {k for s in op["security"] for k in s}
                assert "401" in op["responses"], (method, path)
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in op["responses"], (method, path)
            for code, response in op["responses"].items():
                if code.startswith("4"):
                    assert list(response["content"]) == [PROBLEM], (method, path, code)
            if op.get("requestBody"):
                assert {"413", "415"} <= set(op["responses"]), (method, path)
    assert len(ids) == len(set(ids))


def test_the_assessment_schema_agrees_with_the_contract(shared_dir: Path, openapi: dict[str, Any]) -> None:
    contract = json.loads(
        (shared_dir / "contract" / "v2" / "assessment.schema.json").read_text(encoding="utf-8")
    )
    op = openapi["paths"][f"{API}/assessments"]["post"]
    schema = resolve(openapi, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(schema["properties"]) == set(contract["properties"])
    assert set(schema["required"]) == set(contract["required"])
    for name in ("red_flags", "recommendations", "imaging_context", "trace"):
        mine = resolve(openapi, schema["properties"][name]["items"])
        theirs = contract["properties"][name]["items"]
        theirs = contract["$defs"][theirs["$ref"].split("/")[-1]] if "$ref" in theirs else theirs
        assert set(mine["properties"]) == set(theirs["properties"]), name
        assert set(mine.get("required", [])) >= set(theirs.get("required", [])), name


def test_the_request_body_is_the_contract_case(shared_dir: Path, openapi: dict[str, Any]) -> None:
    contract = json.loads((shared_dir / "contract" / "v2" / "case.schema.json").read_text(encoding="utf-8"))
    body = openapi["paths"][f"{API}/assessments"]["post"]["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert "$ref" not in json.dumps(schema)
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(contract["properties"])
    assert set(schema["required"]) == set(contract["required"])
    for name, prop in contract["properties"].items():
        mine = schema["properties"][name]
        assert "null" not in json.dumps(mine), name
        if "enum" in prop:
            assert set(mine["enum"]) == set(prop["enum"]), name
        if "items" in prop and "enum" in prop["items"]:
            assert set(mine["items"]["enum"]) == set(prop["items"]["enum"]), name


# ---- questionnaire -------------------------------------------------------------------------------
async def test_the_questionnaire_lists_every_question_in_order(client: httpx.AsyncClient) -> None:
    questions = load_questionnaire().questions
    german = (await client.get(f"{API}/questionnaire")).json()
    english = (await client.get(f"{API}/questionnaire", params={"lang": "en"})).json()
    assert [q["id"] for q in german["questions"]] == [q.id for q in questions]
    assert [q["text"] for q in english["questions"]] == [q.text.en for q in questions]
    assert [q["text"] for q in german["questions"]] == [q.text.de for q in questions]
    conditional = [q for q in german["questions"] if q["ask_if"] is not None]
    assert conditional and all(isinstance(q["ask_if"], dict | str) for q in conditional)


def _harmless_answer(question: dict[str, Any]) -> dict[str, Any]:
    """A benign answer for any question: no warning signs, a middle-aged adult, two weeks of low back pain."""
    kind, field = question["kind"], question["field"]
    if kind == "multi_flags":
        return dict.fromkeys(question["fields"], False)
    if kind == "bool":
        return {field: False}
    if kind == "choice":
        return {field: question["options"][0]["value"]}
    if kind == "multi_regions":
        return {field: ["low_back"]}
    if kind == "multi_choice":
        return {field: []}
    if kind == "int":
        return {field: min(max(40, question["min"]), question["max"])}
    return {field: 2.0}


async def next_step(client: httpx.AsyncClient, answers: dict[str, Any], lang: str = "de") -> httpx.Response:
    return await client.post(f"{API}/questionnaire/next", params={"lang": lang}, json={"answers": answers})


async def test_walking_the_questionnaire_ends_in_a_case_the_api_assesses(client: httpx.AsyncClient) -> None:
    answers: dict[str, Any] = {}
    answered = -1
    for _ in range(200):
        response = await next_step(client, answers)
        assert response.status_code == 200, response.text
        step = response.json()
        assert step["progress"]["answered"] > answered
        answered = step["progress"]["answered"]
        if step["complete"]:
            break
        assert step["provisional_triage"] != "emergency"
        answers.update(_harmless_answer(step["question"]))
    assert (
        step["question"] is None
        and step["missing_required"] == []
        and step["progress"]["remaining_estimate"] == 0
    )
    case = step["case"]
    assert case["age"] == 40 and case["regions"] == ["low_back"]
    assessed = await post_case(client, case)
    assert assessed.json() == assess(case).model_dump(mode="json")


@pytest.mark.safety("SR-RF-1")
async def test_an_emergency_sign_shows_at_once(client: httpx.AsyncClient) -> None:
    first = (await next_step(client, {"regions": ["low_back"]})).json()["question"]
    assert first["kind"] == "multi_flags" and "saddle_numbness" in first["fields"]
    answers = {"regions": ["low_back"], **dict.fromkeys(first["fields"], False), "saddle_numbness": True}
    step = (await next_step(client, answers)).json()
    assert step["provisional_triage"] == "emergency"
    assert any(flag["condition"] == "cauda_equina_syndrome" for flag in step["red_flags"])
    assert step["case"] is None and "age" in step["missing_required"]


@pytest.mark.safety("SR-Q-1", "SR-RF-1")
async def test_an_unsure_emergency_sign_shows_at_once_and_travels_with_the_answers(
    client: httpx.AsyncClient,
) -> None:
    first = (await next_step(client, {"regions": ["low_back"]})).json()["question"]
    assert first["unsure"] is True and first["unsure_as"] is None
    answers = {"regions": ["low_back"], **dict.fromkeys(first["fields"], False), "saddle_numbness": "unsure"}
    step = (await next_step(client, answers)).json()
    assert step["provisional_triage"] == "emergency"
    assert any(flag["condition"] == "cauda_equina_syndrome" for flag in step["red_flags"])
    assert step["unsure_fields"] == ["saddle_numbness"]
    assert "nicht sicher" in step["unsure_notes"][0] and "Abwischen" in step["unsure_notes"][0]
    english = (await next_step(client, answers, "en")).json()
    assert "not sure" in english["unsure_notes"][0]


@pytest.mark.safety("SR-Q-1")
async def test_unsure_weakness_gives_a_case_with_the_worse_value(client: httpx.AsyncClient) -> None:
    answers: dict[str, Any] = {}
    step = (await next_step(client, answers)).json()
    while not step["complete"]:
        question = step["question"]
        answers.update(
            {question["field"]: "unsure"} if question["id"] == "weakness" else _harmless_answer(question)
        )
        if question["id"] == "weakness":
            assert question["unsure_as"] == "severe_or_progressive"
        step = (await next_step(client, answers)).json()
    assert step["case"]["weakness"] == "severe_or_progressive" and step["unsure_fields"] == ["weakness"]
    assert (await post_case(client, step["case"])).json()["triage"] == assess(step["case"]).triage.value


def _deferring_question() -> Question:
    return next(q for q in load_questionnaire().questions if q.defer_check)


@pytest.mark.safety("SR-TRI-4")
async def test_a_deferred_check_is_flagged_until_its_follow_up(client: httpx.AsyncClient) -> None:
    deferring = _deferring_question()
    answers: dict[str, Any] = {}
    step = (await next_step(client, answers)).json()
    while step["question"]["id"] != deferring.id:
        answers.update(_harmless_answer(step["question"]))
        step = (await next_step(client, answers)).json()
        assert not step["emergency_check_deferred"]
    values = [o["value"] for o in step["question"]["options"]]
    answers[deferring.field or ""] = values[-1]
    step = (await next_step(client, answers)).json()
    assert step["emergency_check_deferred"] is True


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize(
    ("answers", "field", "kind"),
    [
        ({"regions": []}, "answers.regions", "answer_regions"),
        ({"regions": ["neck", "neck"]}, "answers.regions", "answer_regions"),
        ({"age": 40.0}, "answers.age", "answer_int"),
        ({"age": 121}, "answers.age", "answer_int"),
        ({"duration_weeks": -1}, "answers.duration_weeks", "answer_number"),
        ({"sex": "x"}, "answers.sex", "literal_error"),
        ({"fever": 1}, "answers.fever", "bool_type"),
        ({"saddle_numbness": "yes"}, "answers.saddle_numbness", "bool_type"),
        ({"saddle_numbness": "Unsure"}, "answers.saddle_numbness", "bool_type"),
        ({"recurrent": "unsure"}, "answers.recurrent", "bool_type"),  # not a warning sign
        ({"trauma": "unsure"}, "answers.trauma", "literal_error"),
        ({"shoe_size": 42}, "answers.shoe_size", "extra_forbidden"),
        ({"fever": {"a": 1}}, "answers.fever", None),
    ],
)
async def test_invalid_answers_are_a_422_naming_them(
    client: httpx.AsyncClient, answers: dict[str, Any], field: str, kind: str | None
) -> None:
    fields = problem_fields(await next_step(client, answers))
    assert any(name.startswith(field) for name in fields), fields
    if kind is not None:
        assert fields[field] == kind


@pytest.mark.parametrize(
    "body",
    [
        b'{"answers": {"fever": true, "fever": false}}',
        b'{"answers": {"age": NaN}}',
        b"{}",
        b'{"answers": {}, "x": 1}',
    ],
)
async def test_a_broken_answers_body_is_a_422(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(
        f"{API}/questionnaire/next", content=body, headers={"Content-Type": "application/json"}
    )
    problem_fields(response)


async def test_answer_messages_follow_the_language(client: httpx.AsyncClient) -> None:
    german = (await next_step(client, {"age": 121})).json()["errors"][0]["message"]
    english = (await next_step(client, {"age": 121}, "en")).json()["errors"][0]["message"]
    assert german == "Hier wird eine ganze Zahl von 0 bis 120 erwartet."
    assert english == "A whole number from 0 to 120 is expected here."


# ---- ask, knowledge, health ----------------------------------------------------------------------
@pytest.mark.safety("SR-INF-2")
async def test_ask_finds_passages_with_sources(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/ask", params={"q": "Ist ein Bandscheibenvorfall gefährlich?", "k": 2})
    assert response.status_code == 200
    result = response.json()
    assert result["lang"] == "de" and 1 <= len(result["hits"]) <= 2
    assert all(hit["module_id"] and hit["text"] and hit["sources"] for hit in result["hits"])
    english = (await client.get(f"{API}/ask", params={"q": "Is bed rest good?", "lang": "en"})).json()
    assert english["hits"] and english["lang"] == "en"
    nothing = (await client.get(f"{API}/ask", params={"q": "xqzv"})).json()
    assert nothing["hits"] == []


@pytest.mark.safety("SR-ASK-1")
@pytest.mark.parametrize(
    ("q", "lang", "level", "first"),
    [
        ("Ich kann nicht mehr pinkeln", "de", "emergency", "Rufen Sie jetzt den Notruf 112 an."),
        ("Ich kann den Urin nicht mehr halten", "de", "emergency", "Rufen Sie jetzt den Notruf 112 an."),
        ("numb between my legs", "en", "emergency", "Call 112 now."),
        ("Druck auf der Brust", "de", "emergency", "Rufen Sie jetzt den Notruf 112 an."),
        ("Fieber nach der Spritze in den Rücken", "de", "emergency", "Rufen Sie jetzt den Notruf 112 an."),
        ("Gürtelrose am Rücken", "de", "urgent", "Gehen Sie heute noch zu einem Arzt."),
        ("Ich hatte Krebs, hilft Wärme?", "de", "soon", "Sprechen Sie in den nächsten Tagen"),
    ],
)
async def test_ask_screens_first_and_carries_the_level(
    client: httpx.AsyncClient, q: str, lang: str, level: str, first: str
) -> None:
    response = await client.get(f"{API}/ask", params={"q": q, "lang": lang, "k": 5})
    assert response.status_code == 200
    result = response.json()
    assert list(result) == ["lang", "screen", "hits"]  # the screen comes before the passages
    screen = result["screen"]
    assert screen["level"] == level and screen["stated"] is True
    assert screen["text"].startswith(first) and screen["signs"][0]["text"].startswith(first)
    assert screen["signs"][0]["level"] == level and screen["signs"][0]["fields"]
    assert screen["assessment_url"] == "/" and screen["assessment"].endswith("/")
    if level == "emergency":
        assert all("112" in hit["text"] for hit in result["hits"]), result["hits"]


@pytest.mark.safety("SR-ASK-1")
async def test_ask_words_a_denied_sign_as_a_condition(client: httpx.AsyncClient) -> None:
    german = (await client.get(f"{API}/ask", params={"q": "Ich habe kein Fieber"})).json()["screen"]
    assert german["level"] == "urgent" and german["stated"] is False
    assert german["text"].startswith("Falls Sie Fieber haben: ")
    english = (await client.get(f"{API}/ask", params={"q": "no fever", "lang": "en"})).json()["screen"]
    assert english["text"].startswith("If you have a fever: ")


@pytest.mark.safety("SR-ASK-1")
@pytest.mark.parametrize("q", ["Brustwirbelsäule", "Schmerzen in der BWS", "Was hilft bei Rückenschmerzen?"])
async def test_ask_without_a_warning_sign_has_no_screen(client: httpx.AsyncClient, q: str) -> None:
    result = (await client.get(f"{API}/ask", params={"q": q})).json()
    assert result["screen"] is None


@pytest.mark.parametrize(
    ("params", "field", "kind"),
    [
        ({"q": "   "}, "q", "blank"),
        ({"q": ""}, "q", "string_too_short"),
        ({}, "q", "missing"),
        ({"q": "x" * 501}, "q", "string_too_long"),
        ({"q": "Rücken", "k": 0}, "k", "greater_than_equal"),
        ({"q": "Rücken", "k": 21}, "k", "less_than_equal"),
        ({"q": "Rücken", "k": "drei"}, "k", "int_parsing"),
        ({"q": "Rücken", "lang": "fr"}, "lang", "literal_error"),
    ],
)
async def test_bad_ask_parameters_are_a_422(
    client: httpx.AsyncClient, params: dict[str, Any], field: str, kind: str
) -> None:
    assert problem_fields(await client.get(f"{API}/ask", params=params)) == {field: kind}


@pytest.mark.safety("SR-KB-2")
async def test_knowledge_names_versions_and_sources(client: httpx.AsyncClient) -> None:
    info = (await client.get(f"{API}/knowledge")).json()
    assessment = assess(BASE_CASE)
    assert info["knowledge_version"] == assessment.knowledge_version and info["contract_version"] == "2"
    ids = {source["id"] for source in info["sources"]}
    assert {s for r in assessment.recommendations for s in r.sources} <= ids


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


# ---- the real server -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def live_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


def test_the_api_over_real_http(live_url: str, vignettes: list[dict[str, Any]]) -> None:
    """Synchronous on purpose: uvicorn serves from its own thread on a real port."""
    with httpx.Client(base_url=live_url, timeout=30) as http:
        assert http.get(f"{API}/health").json()["status"] == "ok"
        assert f"{API}/assessments" in http.get("/openapi.json").json()["paths"]
        case = vignettes[0]["case"]
        response = http.post(f"{API}/assessments", json=case, params={"lang": "en"})
        assert response.status_code == 200
        assert response.json() == assess(case, lang="en").model_dump(mode="json")
        bad = http.post(f"{API}/assessments", json={**case, "age": 200})
        assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
        big = http.post(
            f"{API}/assessments",
            content=_padded(MAX_BODY_BYTES + 1),
            headers={"Content-Type": "application/json"},
        )
        assert big.status_code == 413


@pytest.mark.safety("SR-ASK-1")
def test_ask_screens_first_over_real_http(live_url: str) -> None:
    with httpx.Client(base_url=live_url, timeout=30) as http:
        response = http.get(f"{API}/ask", params={"q": "Ich kann nicht mehr pinkeln"})
    assert response.status_code == 200
    assert response.text.index('"screen"') < response.text.index('"hits"')  # first on the wire too
    screen = response.json()["screen"]
    assert screen["level"] == "emergency" and "112" in screen["text"].split(".")[0]
