"""TOTP secrets sealed at rest (store.sealing): the table never holds a secret in plain text, a wrong or
missing key is a clear error (never a traceback, never the stored text taken as the secret), a secret from
before sealing still works and is sealed on first use, and rotation moves every secret to the new key.

On SQLite and, with TEST_DATABASE_URL, PostgreSQL; the raw column is read with plain SQL.
"""

from __future__ import annotations

import base64
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from rueckenlotse.settings import DATA_KEY_FILE, Settings
from rueckenlotse.store import Practices, Store
from rueckenlotse.store.audit import SYSTEM_CLI, all_events
from rueckenlotse.store.data_keys import PLAIN, Rotation, rotate, sealed_by_key
from rueckenlotse.store.schema import Account, LoginAttempt
from rueckenlotse.store.sealing import Sealer, SealingError, key_id, parse_key, sealer_for
from rueckenlotse.store.totp import place

from .account_support import OTHER_KEY, PASSWORD, T0, TEST_KEY, clinician_with_totp, code_at, make_accounts

PLACE = "accounts.totp_secret/" + "a" * 32
LEGACY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def raw_secrets(store: Store) -> dict[str, str | None]:
    with store.engine.connect() as conn:
        return {row[0]: row[1] for row in conn.exec_driver_sql("SELECT id, totp_secret FROM accounts")}


def set_raw(store: Store, account_id: str, value: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(Account).where(Account.id == account_id).values(totp_secret=value))


def attempt_count(store: Store) -> int:
    with store.transaction() as session:
        return len(session.scalars(select(LoginAttempt)).all())


def messages(error: SealingError) -> str:
    return error.message("de") + "\n" + error.message("en")


@pytest.fixture
def practice_id(store: Store) -> str:
    return Practices(store).create_practice("Praxis").id


# --- the sealer itself --------------------------------------------------------------------------------


def test_a_sealed_value_names_its_key_opens_only_in_its_place_and_differs_each_time() -> None:
    sealer = Sealer(TEST_KEY)
    one, two = sealer.seal(LEGACY, PLACE), sealer.seal(LEGACY, PLACE)
    assert one != two  # a fresh nonce each time
    assert one.split(":")[:2] == ["rl1", key_id(TEST_KEY)] and LEGACY not in one
    assert sealer.open(one, PLACE) == sealer.open(two, PLACE) == LEGACY
    with pytest.raises(SealingError) as elsewhere:
        sealer.open(one, "accounts.totp_secret/" + "b" * 32)  # copied into another account's row
    assert elsewhere.value.code == "sealed_value_damaged"


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v[:-2] + ("AA" if v[-2:] != "AA" else "BB"),  # the tag
        lambda v: v[:25] + ("x" if v[25] != "x" else "y") + v[26:],  # the nonce
        lambda v: v.rsplit(":", 1)[0] + ":",  # nothing left
        lambda v: v + "!",  # not base64
        lambda v: "rl1:" + v.split(":", 1)[1].replace(":", "", 1),  # the form broken
    ],
)
def test_a_changed_value_is_refused_with_a_clear_error(change: object) -> None:
    sealer = Sealer(TEST_KEY)
    sealed = sealer.seal(LEGACY, PLACE)
    assert callable(change)
    with pytest.raises(SealingError) as caught:
        sealer.open(change(sealed), PLACE)
    assert caught.value.code == "sealed_value_damaged"
    assert "verändert" in caught.value.message("de") and "changed" in caught.value.message("en")


def test_a_value_of_another_key_names_the_key_it_needs() -> None:
    sealed = Sealer(OTHER_KEY).seal(LEGACY, PLACE)
    with pytest.raises(SealingError) as caught:
        Sealer(TEST_KEY).open(sealed, PLACE)
    assert caught.value.code == "sealed_key_unknown"
    text = messages(caught.value)
    assert key_id(OTHER_KEY) in text and "RUECKENLOTSE_DATA_KEY_PREVIOUS" in text
    # With the other key as a previous one, it opens; sealing still uses the current key.
    both = Sealer(TEST_KEY, [OTHER_KEY])
    assert both.open(sealed, PLACE) == LEGACY
    assert both.key_ids == (key_id(TEST_KEY), key_id(OTHER_KEY))
    assert both.is_current(both.seal(LEGACY, PLACE)) and not both.is_current(sealed)


def test_keys_are_read_in_either_base64_alphabet_with_or_without_padding() -> None:
    key = bytes([251, 255, 190] * 10 + [1, 2])  # + and / in standard base64, - and _ in URL-safe
    for written in (
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode().rstrip("="),
        " " + base64.b64encode(key).decode() + "\n",
    ):
        assert parse_key(written, "X") == key


@pytest.mark.parametrize(
    "written",
    ["", "geheim", base64.b64encode(bytes(31)).decode(), base64.b64encode(bytes(33)).decode(), "ä" * 44],
)
def test_a_key_that_is_not_32_bytes_of_base64_is_refused_naming_its_source(written: str) -> None:
    with pytest.raises(SealingError) as caught:
        parse_key(written, "RUECKENLOTSE_DATA_KEY")
    assert caught.value.code == "data_key_invalid"
    assert "RUECKENLOTSE_DATA_KEY" in caught.value.message("en") and "keys new" in caught.value.message("de")


# --- the keys from the settings -----------------------------------------------------------------------


def test_without_a_configured_key_one_is_made_in_the_data_folder_private_and_kept(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:  # processes starting together agree on one key
        ids = set(pool.map(lambda _: sealer_for(Settings(data_dir=tmp_path)).current_id, range(16)))
    assert len(ids) == 1
    path = tmp_path / DATA_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [DATA_KEY_FILE]  # no temporary files left
    assert key_id(parse_key(path.read_text(), "file")) == ids.pop()


def test_the_configured_keys_win_and_previous_ones_only_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    current, previous = base64.b64encode(TEST_KEY).decode(), base64.urlsafe_b64encode(OTHER_KEY).decode()
    monkeypatch.setenv("RUECKENLOTSE_DATA_KEY", current)
    monkeypatch.setenv("RUECKENLOTSE_DATA_KEY_PREVIOUS", f" {previous} , {current}")
    settings = Settings(data_dir=tmp_path)
    sealer = sealer_for(settings)
    assert sealer.key_ids == (key_id(TEST_KEY), key_id(OTHER_KEY))
    assert not (tmp_path / DATA_KEY_FILE).exists()
    assert current not in repr(settings) and previous not in repr(settings)


def test_a_bad_key_setting_or_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUECKENLOTSE_DATA_KEY_PREVIOUS", "kein-schluessel")
    with pytest.raises(SealingError) as previous:
        sealer_for(Settings(data_dir=tmp_path))
    assert "RUECKENLOTSE_DATA_KEY_PREVIOUS" in previous.value.message("en")
    monkeypatch.delenv("RUECKENLOTSE_DATA_KEY_PREVIOUS")
    (tmp_path / DATA_KEY_FILE).write_text("kurz\n")
    with pytest.raises(SealingError) as short:
        sealer_for(Settings(data_dir=tmp_path))
    assert short.value.code == "data_key_invalid" and DATA_KEY_FILE in short.value.message("en")


def test_without_create_no_key_is_made(tmp_path: Path) -> None:
    with pytest.raises(SealingError) as caught:
        sealer_for(Settings(data_dir=tmp_path), create=False)
    assert caught.value.code == "data_key_missing" and list(tmp_path.iterdir()) == []
    made = sealer_for(Settings(data_dir=tmp_path))
    assert sealer_for(Settings(data_dir=tmp_path), create=False).current_id == made.current_id


# --- in the database ----------------------------------------------------------------------------------


def test_the_table_holds_no_plain_secret_and_sign_in_codes_still_verify(
    store: Store, practice_id: str
) -> None:
    accounts = make_accounts(store)
    account_id, secret = clinician_with_totp(accounts, practice_id, "dr@example.org")
    stored = raw_secrets(store)[account_id]
    assert stored is not None and secret not in stored and stored.startswith(f"rl1:{key_id(TEST_KEY)}:")
    later = T0 + timedelta(minutes=1)
    assert accounts.totp_verify(account_id, code_at(secret, later), now=later)
    assert raw_secrets(store)[account_id] == stored  # reading does not seal again


def test_a_secret_from_before_sealing_works_and_is_sealed_on_first_use(
    store: Store, practice_id: str
) -> None:
    accounts = make_accounts(store)
    account_id, _ = clinician_with_totp(accounts, practice_id, "dr@example.org")
    set_raw(store, account_id, LEGACY)
    later = T0 + timedelta(minutes=1)
    assert accounts.totp_verify(account_id, code_at(LEGACY, later), now=later)
    stored = raw_secrets(store)[account_id]
    assert stored is not None and stored.startswith("rl1:") and LEGACY not in stored
    assert make_accounts(store).totp_verify(
        account_id, code_at(LEGACY, later, 1), now=later + timedelta(seconds=30)
    )


def test_a_wrong_key_is_a_clear_error_and_changes_nothing(store: Store, practice_id: str) -> None:
    account_id, secret = clinician_with_totp(make_accounts(store), practice_id, "dr@example.org")
    before = raw_secrets(store)
    attempts = attempt_count(store)
    other = make_accounts(store, sealer=Sealer(OTHER_KEY))
    later = T0 + timedelta(minutes=1)
    with pytest.raises(SealingError) as caught:
        other.totp_verify(account_id, code_at(secret, later), now=later)
    assert caught.value.code == "sealed_key_unknown" and key_id(TEST_KEY) in caught.value.message("en")
    assert raw_secrets(store) == before
    assert attempt_count(store) == attempts  # rolled back: not even counted as a failed attempt
    # The right key still works afterwards.
    assert make_accounts(store).totp_verify(account_id, code_at(secret, later), now=later)


def test_a_stored_value_that_is_neither_sealed_nor_a_secret_is_never_used(
    store: Store, practice_id: str
) -> None:
    account_id, _ = clinician_with_totp(make_accounts(store), practice_id, "dr@example.org")
    for junk in ("rl1:kaputt", "not a secret", "jbswy3dpehpk3pxp"):
        set_raw(store, account_id, junk)
        with pytest.raises(SealingError) as caught:
            make_accounts(store).totp_verify(account_id, "123456", now=T0)
        assert caught.value.code == "sealed_value_damaged"
        assert raw_secrets(store)[account_id] == junk


def test_accounts_without_a_sealer_refuse_to_touch_a_secret(store: Store, practice_id: str) -> None:
    bare = make_accounts(store, sealer=None)
    account = bare.create_clinician("dr@example.org", PASSWORD, practice_id)  # needs no key
    with pytest.raises(SealingError) as caught:
        bare.totp_setup(account.id)
    assert caught.value.code == "data_key_not_given"
    assert raw_secrets(store)[account.id] is None


# --- rotation -----------------------------------------------------------------------------------------


def test_rotation_moves_every_secret_to_the_new_key_once_and_the_old_key_can_go(
    store: Store, practice_id: str
) -> None:
    old = make_accounts(store)
    clinicians = [clinician_with_totp(old, practice_id, f"dr{n}@example.org") for n in range(3)]
    legacy_id, _ = clinician_with_totp(old, practice_id, "alt@example.org")
    set_raw(store, legacy_id, LEGACY)
    clinicians.append((legacy_id, LEGACY))
    before = raw_secrets(store)
    assert sealed_by_key(store) == {key_id(TEST_KEY): 3, PLAIN: 1}

    done = rotate(store, Sealer(OTHER_KEY, [TEST_KEY]), SYSTEM_CLI)
    assert done == Rotation(resealed=3, plain=1, current=0) and done.changed == 4
    after = raw_secrets(store)
    assert sealed_by_key(store) == {key_id(OTHER_KEY): 4}
    for account_id, secret in clinicians:
        stored = after[account_id]
        assert stored != before[account_id] and stored is not None and secret not in stored

    # The new key alone is enough now: every clinician's code verifies.
    new_only = make_accounts(store, sealer=Sealer(OTHER_KEY))
    later = T0 + timedelta(minutes=1)
    for account_id, secret in clinicians:
        assert new_only.totp_verify(account_id, code_at(secret, later), now=later)

    # Again: nothing left to do, nothing changed.
    assert rotate(store, Sealer(OTHER_KEY), SYSTEM_CLI) == Rotation(resealed=0, plain=0, current=4)
    assert raw_secrets(store) == after
    with store.transaction() as session:
        rows = [(e.action, e.actor_kind, e.channel, e.person_id) for e in all_events(session)]
    assert rows == [("rotate.keys", "system", "cli", None)] * 2


def test_a_rotation_that_meets_a_value_it_cannot_open_changes_nothing(store: Store, practice_id: str) -> None:
    accounts = make_accounts(store)
    ids = [clinician_with_totp(accounts, practice_id, f"dr{n}@example.org")[0] for n in range(3)]
    # The last in the rotation's order is under a key it does not have: the others were sealed again
    # already when it fails, and must be rolled back.
    last = max(ids)
    set_raw(store, last, Sealer(OTHER_KEY).seal(LEGACY, place(last)))
    before = raw_secrets(store)
    with pytest.raises(SealingError) as caught:
        rotate(store, Sealer(bytes(32), [TEST_KEY]), SYSTEM_CLI)
    assert caught.value.code == "sealed_key_unknown" and last in caught.value.message("en")
    assert raw_secrets(store) == before
    with store.transaction() as session:
        assert all_events(session) == []
