"""Pages link by route name: every path is written once, in its route's decorator.

Templates call ``url_for('name', ...)`` and redirects ``path_for(request, 'name')``; a renamed function or a
typo must fail here, not as a broken link in a browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Mount

from rueckenlotse.settings import Settings
from rueckenlotse.web.app import create_app

from .conftest import LiveServer

TEMPLATES = Path(__file__).parents[2] / "src" / "rueckenlotse" / "web" / "templates"
LITERAL_LINK = re.compile(r"""\b(?:href|action|formaction)=["']/(?!/)""")
URL_FOR = re.compile(r"""url_for\(\s*'(\w+)'((?:\s*,\s*\w+=[^,)]+)*)\s*\)""")


def _routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        # An included router (FastAPI keeps it as one entry since 0.120) holds its routes itself.
        router = getattr(route, "original_router", route)
        inner = getattr(router, "routes", None)
        if inner is not None and not isinstance(route, Mount):
            yield from _routes(list(inner))
        else:
            yield route


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("named-routes")))


def literal_links(html: str) -> list[str]:
    return [match.group(0) for match in LITERAL_LINK.finditer(html)]


def test_every_route_has_a_name_no_other_route_has(app: FastAPI) -> None:
    names = [getattr(route, "name", None) for route in _routes(app.routes)]
    assert None not in names
    assert len(names) > 40
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert duplicates == [], "url_for would pick the first of these routes"


def test_every_url_for_in_a_template_names_a_route_with_its_parameters(app: FastAPI) -> None:
    calls = [
        (path.name, match.group(1), re.findall(r"(\w+)=", match.group(2)))
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in URL_FOR.finditer(path.read_text(encoding="utf-8"))
    ]
    assert len(calls) >= 40
    for template, name, params in calls:
        # Starlette raises NoMatchFound for an unknown name or missing/extra path parameters.
        path = app.url_path_for(name, **dict.fromkeys(params, "x"))
        assert path.startswith("/"), (template, name)


def test_no_template_writes_a_path_of_its_own() -> None:
    templates = sorted(TEMPLATES.rglob("*.html"))
    found = {path.name: literal_links(path.read_text(encoding="utf-8")) for path in templates}
    assert {name: links for name, links in found.items() if links} == {}


def test_the_literal_link_check_sees_a_written_path() -> None:
    """Companion: the check above would catch a path typed into a template."""
    assert literal_links('<a href="/intake">') == ['href="/']
    assert literal_links('<form action="/mein-bereich/tagebuch">') == ['action="/']
    assert literal_links("<a href=\"{{ url_for('start') }}\">") == []
    assert literal_links('<a href="https://example.org/">') == []


def test_a_served_page_links_by_the_route_paths(client: httpx.Client, live_server: LiveServer) -> None:
    """Over HTTP: the start page's links are plain paths (no host), so they hold behind a proxy."""
    page = client.get("/").text
    assert 'href="/intake"' in page
    assert f"{live_server.url}/intake" not in page
    assert client.get("/intake").status_code == 200
