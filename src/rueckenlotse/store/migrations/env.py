"""Alembic environment: the store passes its open connection in ``config.attributes["connection"]``.

Run from the command line (for ``alembic revision --autogenerate``) it connects to ``-x url=...`` or, without
it, to ``Settings().database_url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from rueckenlotse.store.schema import metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_from_command_line() -> None:
    from rueckenlotse.settings import Settings
    from rueckenlotse.store.engine import make_engine

    url = context.get_x_argument(as_dictionary=True).get("url") or Settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _configure_and_run(connection)
            connection.commit()
    finally:
        engine.dispose()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _configure_and_run(connection)
    else:
        _run_from_command_line()


_main()
