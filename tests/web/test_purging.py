"""The running web app deletes what has expired (RUECKENLOTSE_PURGE_SECONDS): the questionnaire's step drafts
hold health answers, and the privacy notice promises them gone two hours after the last step, whether or not
anyone writes a new draft meanwhile."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from sqlalchemy import select

from rueckenlotse.store import Store, drafts
from rueckenlotse.store.schema import FormDraft

from ..serving import served
from .conftest import SERVER_OWN


def draft_ids(store: Store) -> set[str]:
    with store.transaction(write=False) as session:
        return set(session.scalars(select(FormDraft.id)))


def test_the_app_deletes_expired_drafts_while_it_runs_and_keeps_live_ones(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_OWN}
    env |= {"RUECKENLOTSE_DATA_DIR": str(tmp_path), "RUECKENLOTSE_PURGE_SECONDS": "0.2"}
    with served(tmp_path, tmp_path / "server.log", env):
        store = Store.open(f"sqlite:///{tmp_path / 'web.db'}")  # migrated by the server's start
        try:
            now = dt.datetime.now(dt.UTC)
            with store.transaction() as session:
                # The expired draft written last, as of its own time: a write purges what expired before
                # its moment, so after this only the app's purge can delete it.
                drafts.put(
                    session,
                    "lebendig-" + "b" * 30,
                    "intake",
                    {"state": "y"},
                    now=now,
                    expires_at=now + dt.timedelta(hours=2),
                )
                drafts.put(
                    session,
                    "abgelaufen-" + "a" * 30,
                    "intake",
                    {"state": "x"},
                    now=now - dt.timedelta(hours=3),
                    expires_at=now - dt.timedelta(hours=1),
                )
            expired, live = drafts.digest("abgelaufen-" + "a" * 30), drafts.digest("lebendig-" + "b" * 30)
            assert draft_ids(store) == {expired, live}
            deadline = time.monotonic() + 20
            while expired in draft_ids(store) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert draft_ids(store) == {live}
        finally:
            store.close()


def test_purging_can_be_turned_off(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_OWN}
    env |= {"RUECKENLOTSE_DATA_DIR": str(tmp_path), "RUECKENLOTSE_PURGE_SECONDS": "0"}
    with served(tmp_path, tmp_path / "server.log", env):
        store = Store.open(f"sqlite:///{tmp_path / 'web.db'}")
        try:
            now = dt.datetime.now(dt.UTC)
            with store.transaction() as session:
                drafts.put(
                    session,
                    "abgelaufen-" + "c" * 30,
                    "intake",
                    {"state": "x"},
                    now=now - dt.timedelta(hours=3),
                    expires_at=now - dt.timedelta(hours=1),
                )
            time.sleep(1.0)  # five periods of the other test: nothing runs here
            assert draft_ids(store) == {drafts.digest("abgelaufen-" + "c" * 30)}
        finally:
            store.close()
