"""create_app without a server: error handlers, HTTPS cookies, lifespan, keys; and the page texts."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from fastapi import FastAPI

from rueckenlotse.settings import Settings
from rueckenlotse.web.app import create_app
from rueckenlotse.web.i18n import TextsError, load_texts, parse_texts

T = TypeVar("T")
WEB = Path(__file__).resolve().parents[2] / "src" / "rueckenlotse" / "web"
SECRET_MESSAGE = "saddle_numbness=True for Erika Mustermann"


def run(coroutine: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(coroutine())  # type: ignore[arg-type]


def settings_for(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", **values)


def request(app: FastAPI, method: str, path: str, *, base: str = "http://testserver") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            return await client.request(method, path)

    return run(go)


def test_an_unhandled_error_is_a_generic_500_without_details(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings_for(tmp_path))

    def boom() -> None:
        raise RuntimeError(SECRET_MESSAGE)

    app.add_api_route("/boom", boom)
    with caplog.at_level(logging.INFO, logger="rueckenlotse"):
        response = request(app, "GET", "/boom")
    assert response.status_code == 500
    assert "Etwas ist schiefgelaufen" in response.text
    assert (
        "Erika" not in response.text
        and "Traceback" not in response.text
        and "RuntimeError" not in response.text
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "RuntimeError" in logged and "GET /boom" in logged
    assert "Erika" not in logged and "saddle" not in logged


def test_the_500_page_is_english_with_the_cookie(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))

    def boom() -> None:
        raise ValueError("x")

    app.add_api_route("/boom", boom)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", cookies={"lang": "en"}) as c:
            return await c.get("/boom")

    response = run(go)
    assert response.status_code == 500 and "Something went wrong" in response.text


def test_over_https_the_cookies_are_secure_and_host_only(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, https=True))
    response = request(app, "GET", "/?lang=en")
    cookies = response.headers.get_list("set-cookie")
    csrf = next(c for c in cookies if c.startswith("__Host-csrf="))
    lang = next(c for c in cookies if c.startswith("lang="))
    for cookie in (csrf, lang):
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Domain" not in csrf
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_a_request_over_https_gets_secure_cookies_without_the_setting(tmp_path: Path) -> None:
    response = request(create_app(settings_for(tmp_path)), "GET", "/", base="https://testserver")
    assert response.headers["set-cookie"].startswith("__Host-csrf=")
    assert "Secure" in response.headers["set-cookie"]


def test_the_lifespan_opens_and_closes_the_store(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))

    async def go() -> None:
        async with app.router.lifespan_context(app):
            assert app.state.store.is_sqlite
        assert (tmp_path / "db.sqlite").is_file()

    run(go)


def test_apps_with_different_keys_refuse_each_others_state(tmp_path: Path) -> None:
    one = create_app(settings_for(tmp_path / "a", secret_key="a" * 40))
    two = create_app(settings_for(tmp_path / "b", secret_key="b" * 40))
    from rueckenlotse.web.security.state import BadState, IntakeState

    token = one.state.web.codec.dumps(IntakeState({"age": 40}))
    assert one.state.web.codec.loads(token).answers == {"age": 40}
    with pytest.raises(BadState):
        two.state.web.codec.loads(token)


# ---- texts ---------------------------------------------------------------------------------------
def test_every_page_text_key_used_exists() -> None:
    texts = load_texts()
    sources = [p.read_text(encoding="utf-8") for p in (WEB / "templates").glob("*.html")]
    sources += [p.read_text(encoding="utf-8") for p in WEB.glob("*.py")]
    used = {m for s in sources for m in re.findall(r"""(?<![.\w])t\(\s*['"]([a-z_0-9.]+)['"]""", s)}
    used |= {m for s in sources for m in re.findall(r"""texts\.get\(\s*['"]([a-z_0-9.]+)['"]""", s)}
    assert len(used) > 30
    assert sorted(k for k in used if k not in texts and not k.endswith(".")) == []
    for status in ("400", "403", "404", "405", "413", "500", "other"):
        assert f"error.{status}.title" in texts and f"error.{status}.body" in texts


@pytest.mark.parametrize(
    "raw",
    [
        {"a": {"de": "x"}},
        {"a": {"de": "x", "en": ""}},
        {"a": {"de": "x {n}", "en": "x"}},
        {"a": {"de": "x", "en": "y", "fr": "z"}},
        {"a": "x"},
        [],
    ],
)
def test_page_texts_need_both_languages_with_the_same_placeholders(raw: object) -> None:
    with pytest.raises(TextsError):
        parse_texts(raw)


def test_german_page_texts_are_easy_to_read() -> None:
    import statistics

    import textstat

    textstat.set_lang("de")
    sentences = {k: v["de"] for k, v in load_texts().entries.items() if len(v["de"].split()) >= 8}
    scores = {k: textstat.flesch_reading_ease(text) for k, text in sentences.items()}
    assert len(scores) >= 15
    assert {k: round(v) for k, v in scores.items() if v < 40} == {}
    assert statistics.mean(scores.values()) >= 60


def test_head_and_wrong_methods(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))
    assert request(app, "HEAD", "/").status_code == 200
    wrong = request(app, "PUT", "/intake")
    assert wrong.status_code == 405 and wrong.headers["allow"]
    assert "Das geht hier nicht" in wrong.text


def test_every_web_file_is_packaged() -> None:
    """Templates, static files and texts.yaml must be in the wheel, or the installed app cannot start."""
    import fnmatch
    import tomllib

    root = WEB.parents[1]
    config = tomllib.loads((root.parent / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["rueckenlotse"]
    files = [p.relative_to(root / "rueckenlotse").as_posix() for p in WEB.rglob("*") if p.is_file()]
    data = [f for f in files if not f.endswith((".py", ".pyc"))]
    assert "web/texts.yaml" in data
    assert [f for f in data if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)] == []


@pytest.mark.parametrize(
    ("method", "path", "status", "kind"),
    [
        ("GET", "/api/v1/no-such-thing", 404, "not-found"),
        ("DELETE", "/api/v1/assessments", 405, "method-not-allowed"),
        ("GET", "/api/v1/boom", 500, "server-error"),
    ],
)
def test_the_api_answers_its_own_errors_as_problem_documents(
    tmp_path: Path, method: str, path: str, status: int, kind: str
) -> None:
    app = create_app(settings_for(tmp_path))

    def boom() -> None:
        raise RuntimeError(SECRET_MESSAGE)

    app.add_api_route("/api/v1/boom", boom)
    response = request(app, method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    document = response.json()
    assert document["type"] == f"urn:rueckenlotse:problem:{kind}" and document["status"] == status
    assert "Erika" not in response.text and "Traceback" not in response.text
    if status == 405:
        assert response.headers["allow"] == "POST"
