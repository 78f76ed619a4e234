"""Fuzzing POST /api/v1/assessments in-process (httpx + ASGITransport): at least 10,000 generated requests.

Never a 5xx; a JSON body gets 200 with an Assessment or 422 with a problem document whose errors are
field-level and carry a message; where the Case is invalid for a known reason, an error names that field.
Fixed seed (derandomize) and no example database, so CI runs are repeatable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..web.api_fixtures import API, asgi_client, make_app
from .fuzz import NearValid, broken_json, json_values, near_valid

LEVELS = {"self_care", "routine", "soon", "urgent", "emergency"}
PROBLEM = "application/problem+json"
LANGS = st.sampled_from([None, "de", "en", "fr", ""])
Post = Callable[[bytes, str | None], httpx.Response]


def fuzz(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def post(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Post]:
    """POST a raw body to /assessments on one event loop and one client for the whole module."""
    app = make_app(tmp_path_factory.mktemp("fuzz-api"))
    loop = asyncio.new_event_loop()
    client = asgi_client(app)

    def send(body: bytes, lang: str | None) -> httpx.Response:
        params = {} if lang is None else {"lang": lang}
        request = client.post(
            f"{API}/assessments", content=body, params=params, headers={"content-type": "application/json"}
        )
        return loop.run_until_complete(request)

    yield send
    loop.run_until_complete(client.aclose())
    loop.close()


def checked(response: httpx.Response) -> tuple[dict[str, Any] | None, set[str]]:
    """The Assessment of a 200, or the fields named by a 422 (after checking the problem document)."""
    assert response.status_code in (200, 422), (response.status_code, response.text[:300])
    doc = response.json()
    if response.status_code == 200:
        assert doc["triage"] in LEVELS and doc["knowledge_version"]
        return doc, set()
    assert response.headers["content-type"] == PROBLEM
    assert doc["status"] == 422 and doc["title"] and doc["detail"]
    assert doc["errors"], doc
    assert all(e["field"] and e["type"] and e["message"].strip() for e in doc["errors"]), doc
    return None, {e["field"] for e in doc["errors"]}


def check_near_valid(post: Post, sample: NearValid, lang: str | None) -> None:
    assessment, fields = checked(post(sample.text().encode(), lang))
    if lang not in (None, "de", "en"):
        assert "lang" in fields
        return
    sample.assert_refused(assessment, fields)


@pytest.mark.safety("SR-IN-1")
def test_near_valid_cases_get_an_assessment_or_field_errors(post: Post) -> None:
    seen = 0

    @fuzz(6000)
    @given(sample=near_valid(), lang=LANGS)
    def check(sample: NearValid, lang: str | None) -> None:
        nonlocal seen
        seen += 1
        check_near_valid(post, sample, lang)

    check()
    assert seen >= 6000


bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    broken_json().map(str.encode),
    st.binary(max_size=80),
    st.sampled_from([b"[" * 60_000, b'{"age":' * 8_000, b"\xff\xfe{}", b"", b"null", b"{}"]),
)


@pytest.mark.safety("SR-IN-1")
def test_arbitrary_bodies_are_never_a_server_error(post: Post) -> None:
    seen = 0

    @fuzz(4000)
    @given(body=bodies, lang=LANGS)
    def check(body: bytes, lang: str | None) -> None:
        nonlocal seen
        seen += 1
        checked(post(body, lang))

    check()
    assert seen >= 4000


def test_the_fuzzer_would_notice_a_server_error() -> None:
    # The check itself must fail on a 5xx and on a 422 without field errors.
    with pytest.raises(AssertionError):
        checked(httpx.Response(500, json={"detail": "boom"}))
    with pytest.raises(AssertionError):
        checked(
            httpx.Response(
                422,
                json={"status": 422, "title": "t", "detail": "d", "errors": []},
                headers={"content-type": PROBLEM},
            )
        )
