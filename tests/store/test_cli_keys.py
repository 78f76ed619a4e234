"""`rueckenlotse keys new | status | rotate` in a subprocess, on SQLite and (with TEST_DATABASE_URL)
PostgreSQL: the rotation re-seals every TOTP secret under the new key in one transaction with an audit row,
is idempotent, and the old key is no longer needed afterwards; a missing key stops it cleanly (exit 2)."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest

from rueckenlotse.settings import DATA_KEY_FILE
from rueckenlotse.store import Practices, Store
from rueckenlotse.store.audit import all_events
from rueckenlotse.store.sealing import Sealer, key_id, parse_key

from .account_support import OTHER_KEY, T0, TEST_KEY, clinician_with_totp, code_at, make_accounts
from .test_cli_store import assert_clean_failure, run

OLD = base64.b64encode(TEST_KEY).decode()
NEW = base64.urlsafe_b64encode(OTHER_KEY).decode()


@pytest.fixture(autouse=True)
def no_keys_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands see only the keys a test gives them (an empty setting would be an error, not unset)."""
    for name in ("RUECKENLOTSE_DATA_KEY", "RUECKENLOTSE_DATA_KEY_PREVIOUS", "RUECKENLOTSE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def env_with(tmp_path: Path, current: str | None, previous: str | None = None) -> dict[str, str]:
    """These keys only, and the test's own data folder (empty unless the test puts a key there)."""
    env = {"RUECKENLOTSE_DATA_DIR": str(tmp_path / "data")}
    if current is not None:
        env["RUECKENLOTSE_DATA_KEY"] = current
    if previous is not None:
        env["RUECKENLOTSE_DATA_KEY_PREVIOUS"] = previous
    return env


def raw_secrets(db_url: str) -> dict[str, str]:
    with Store.open(db_url) as store, store.engine.connect() as conn:
        return {row[0]: row[1] for row in conn.exec_driver_sql("SELECT id, totp_secret FROM accounts")}


def audit_actions(db_url: str) -> list[tuple[str, str, str, str | None]]:
    with Store.open(db_url) as store, store.transaction() as session:
        return [(e.action, e.actor_kind, e.channel, e.person_id) for e in all_events(session)]


@pytest.fixture
def clinicians(db_url: str) -> list[tuple[str, str]]:
    """Two clinicians with TOTP sealed under the old key: (account id, secret)."""
    with Store.open(db_url) as store:
        practice = Practices(store).create_practice("Praxis").id
        accounts = make_accounts(store)
        return [clinician_with_totp(accounts, practice, f"dr{n}@example.org") for n in range(2)]


def test_keys_new_prints_a_fresh_key_and_changes_nothing(tmp_path: Path) -> None:
    env = env_with(tmp_path, None)
    first, second = run("keys", "new", env=env), run("keys", "new", "--lang", "en", env=env)
    assert first.returncode == second.returncode == 0, first.stderr
    keys = [parse_key(proc.stdout.strip(), "stdout") for proc in (first, second)]
    assert keys[0] != keys[1] and "RUECKENLOTSE_DATA_KEY" in first.stderr and "same on every" in second.stderr
    assert not (tmp_path / "data").exists()


def test_rotate_reseals_every_secret_and_the_old_key_can_go(
    db_url: str, clinicians: list[tuple[str, str]], tmp_path: Path
) -> None:
    before = raw_secrets(db_url)
    status = run("keys", "status", "--db", db_url, "--lang", "en", env=env_with(tmp_path, NEW, OLD))
    assert status.returncode == 0, status.stderr
    assert f"{key_id(TEST_KEY)} (previous): 2" in status.stdout and key_id(OTHER_KEY) in status.stdout

    proc = run("keys", "rotate", "--db", db_url, "--lang", "en", env=env_with(tmp_path, NEW, OLD))
    assert proc.returncode == 0, proc.stderr
    assert "2 sealed again" in proc.stdout and "0 sealed for the first time" in proc.stdout
    after = raw_secrets(db_url)
    for account_id, secret in clinicians:
        assert after[account_id] != before[account_id] and secret not in after[account_id]
        assert after[account_id].startswith(f"rl1:{key_id(OTHER_KEY)}:")
    assert audit_actions(db_url) == [("rotate.keys", "system", "cli", None)]

    # The old key is no longer needed: with the new one alone, every code verifies.
    with Store.open(db_url) as store:
        accounts = make_accounts(store, sealer=Sealer(OTHER_KEY))
        later = T0 + timedelta(minutes=1)
        assert all(accounts.totp_verify(a, code_at(s, later), now=later) for a, s in clinicians)

    again = run("keys", "rotate", "--db", db_url, env=env_with(tmp_path, NEW))
    assert again.returncode == 0, again.stderr
    assert "0 neu versiegelt" in again.stdout and "2 waren es schon" in again.stdout
    assert raw_secrets(db_url) == after
    status = run("keys", "status", "--db", db_url, "--lang", "en", env=env_with(tmp_path, NEW))
    assert f"{key_id(OTHER_KEY)} (current): 2" in status.stdout and key_id(TEST_KEY) not in status.stdout


def test_rotate_without_the_previous_key_changes_nothing(
    db_url: str, clinicians: list[tuple[str, str]], tmp_path: Path
) -> None:
    before = raw_secrets(db_url)
    proc = run("keys", "rotate", "--db", db_url, "--lang", "en", env=env_with(tmp_path, NEW))
    assert_clean_failure(proc, key_id(TEST_KEY), "RUECKENLOTSE_DATA_KEY_PREVIOUS")
    assert raw_secrets(db_url) == before and audit_actions(db_url) == []
    status = run("keys", "status", "--db", db_url, env=env_with(tmp_path, NEW))
    assert status.returncode == 0 and f"{key_id(TEST_KEY)} (NICHT eingestellt): 2" in status.stdout


def test_rotate_never_makes_a_key_of_its_own(
    db_url: str, clinicians: list[tuple[str, str]], tmp_path: Path
) -> None:
    """Run where no key is set and none is kept, it would otherwise seal under a key no server has."""
    before = raw_secrets(db_url)
    for command in ("rotate", "status"):
        proc = run("keys", command, "--db", db_url, env=env_with(tmp_path, None))
        assert_clean_failure(proc, "RUECKENLOTSE_DATA_KEY", DATA_KEY_FILE)
    assert not (tmp_path / "data").exists()
    assert raw_secrets(db_url) == before


def test_rotate_uses_the_key_kept_in_the_data_folder(
    db_url: str, clinicians: list[tuple[str, str]], tmp_path: Path
) -> None:
    """A single machine without settings: the key the web app made in the data folder is the current one."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / DATA_KEY_FILE).write_text(NEW + "\n")
    proc = run("keys", "rotate", "--db", db_url, "--lang", "en", env=env_with(tmp_path, None, OLD))
    assert proc.returncode == 0, proc.stderr
    assert f"under the data key {key_id(OTHER_KEY)}" in proc.stdout and "2 sealed again" in proc.stdout


def test_a_key_that_is_not_one_is_a_clean_error(db_url: str, tmp_path: Path) -> None:
    proc = run("keys", "rotate", "--db", db_url, "--lang", "en", env=env_with(tmp_path, "geheim"))
    assert_clean_failure(proc, "RUECKENLOTSE_DATA_KEY", "keys new")
