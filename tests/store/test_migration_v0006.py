"""Revision 0006 (sealed TOTP secrets): the column grows and keeps every value; a plain secret from before
still signs in after the upgrade and is sealed on first use (or by a rotation); a downgrade is refused
while any secret is sealed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, inspect, update

from rueckenlotse.store import Store, StoreError
from rueckenlotse.store.audit import SYSTEM_CLI
from rueckenlotse.store.data_keys import Rotation, rotate
from rueckenlotse.store.migrate import current_revision, head_revision, migrate
from rueckenlotse.store.sealing import Sealer

from .account_support import T0, TEST_KEY, code_at, make_accounts
from .test_migration_v0003 import tables_of
from .test_migrations import PLAIN_TOTP_SECRET, rows_by_column

CLINICIAN = f"c{0:031x}"


def column_length(engine: Engine) -> int | None:
    [column] = [c for c in inspect(engine).get_columns("accounts") if c["name"] == "totp_secret"]
    return getattr(column["type"], "length", None)


def with_plain_secret(engine: Engine) -> None:
    """The sample clinician with an active second factor, its secret in plain text as before 0006."""
    accounts = tables_of(engine)["accounts"]
    with engine.begin() as conn:
        conn.execute(
            update(accounts)
            .where(accounts.c.id == CLINICIAN)
            .values(totp_secret=PLAIN_TOTP_SECRET, totp_confirmed=True)
        )


def stored_secret(engine: Engine) -> str:
    with engine.connect() as conn:
        value = conn.exec_driver_sql(f"SELECT totp_secret FROM accounts WHERE id = '{CLINICIAN}'").scalar()
    assert isinstance(value, str)
    return value


def test_upgrade_from_0005_widens_the_column_and_keeps_the_plain_secret(
    engine_at: Callable[[str], Engine],
) -> None:
    engine = engine_at("0005")
    with_plain_secret(engine)
    before = rows_by_column(engine)
    assert column_length(engine) == 64
    migrate(engine, "0006")
    assert column_length(engine) == 255
    after = rows_by_column(engine)
    assert after.pop("alembic_version") == [{"version_num": "0006"}]
    before.pop("alembic_version")
    assert after == before  # nothing sealed by the migration: it has no key
    assert stored_secret(engine) == PLAIN_TOTP_SECRET


def test_a_plain_secret_signs_in_after_the_upgrade_and_is_sealed_on_first_use(
    db_url: str, engine_at: Callable[[str], Engine]
) -> None:
    engine = engine_at("0005")
    with_plain_secret(engine)
    with Store.open(db_url) as store:  # opening upgrades to the head
        accounts = make_accounts(store)
        assert accounts.totp_verify(CLINICIAN, code_at(PLAIN_TOTP_SECRET, T0), now=T0)
        sealed = stored_secret(store.engine)
        assert sealed.startswith("rl1:") and PLAIN_TOTP_SECRET not in sealed
        later = T0 + timedelta(seconds=30)
        assert accounts.totp_verify(CLINICIAN, code_at(PLAIN_TOTP_SECRET, later), now=later)


def test_a_rotation_after_the_upgrade_seals_what_was_plain(
    db_url: str, engine_at: Callable[[str], Engine]
) -> None:
    engine = engine_at("0005")
    with_plain_secret(engine)
    with Store.open(db_url) as store:
        assert rotate(store, Sealer(TEST_KEY), SYSTEM_CLI) == Rotation(resealed=0, plain=1, current=0)
        assert stored_secret(store.engine).startswith("rl1:")
        assert make_accounts(store).totp_verify(CLINICIAN, code_at(PLAIN_TOTP_SECRET, T0), now=T0)


def test_a_downgrade_is_refused_while_a_secret_is_sealed(
    db_url: str, engine_at: Callable[[str], Engine]
) -> None:
    engine = engine_at("0006")  # the sample: a plain secret, which an older program can read
    with Store.open(db_url) as store:
        rotate(store, Sealer(TEST_KEY), SYSTEM_CLI)
    sealed = stored_secret(engine)
    assert len(sealed) > 64  # PostgreSQL would refuse it in the old column
    with pytest.raises(StoreError) as caught:
        migrate(engine, "0005")
    assert caught.value.code == "downgrade_sealed_secrets" and "1" in caught.value.message("en")
    # Refused as a whole: the database stays at the head the store opened it at
    assert current_revision(engine) == head_revision() and stored_secret(engine) == sealed
    assert column_length(engine) == 255


def test_a_downgrade_with_plain_secrets_only_narrows_the_column(engine_at: Callable[[str], Engine]) -> None:
    engine = engine_at("0006")
    migrate(engine, "0005")
    assert current_revision(engine) == "0005" and column_length(engine) == 64
    assert stored_secret(engine) == PLAIN_TOTP_SECRET
