"""``Store.ping()``: the health check's round trip to the database (``/healthz`` is 503 when it raises)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from rueckenlotse.store import Store
from rueckenlotse.store.engine import make_engine


def test_ping_passes_on_a_reachable_database(store: Store) -> None:
    store.ping()


def test_ping_raises_when_the_database_cannot_be_reached() -> None:
    # Nothing listens on port 1: the connection is refused at once.
    with Store(make_engine("postgresql://postgres@127.0.0.1:1/test")) as store, pytest.raises(DBAPIError):
        store.ping()
