"""Helpers for the REST API tests: the app under test, clients, and walking the OpenAPI document.

Plain functions (no pytest fixtures) so that each test module declares the fixtures it uses.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from rueckenlotse.settings import Settings
from rueckenlotse.web.app import create_app

API = "/api/v1"
BASE_CASE: dict[str, Any] = {"age": 40, "regions": ["low_back"], "duration_weeks": 2}


def make_app(data_dir: Path) -> FastAPI:
    """The application as served, with its own data folder and SQLite file."""
    return create_app(Settings(database_url=f"sqlite:///{data_dir}/db", data_dir=data_dir))


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(METHOD, path) of every route of the app under /api/v1 (HEAD and OPTIONS aside)."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if not path.startswith(API):
            continue
        for method in route.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, path))
    return found


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``#/components/schemas/...`` reference of the OpenAPI document."""
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return resolve(doc, node)


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run the app with uvicorn on a free 127.0.0.1 port in a background thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none", http="h11", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
