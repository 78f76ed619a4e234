"""The fault-injection suite uses the store tests' databases: a fresh SQLite file or PostgreSQL database."""

from ..store.conftest import db_url, engine_kind, new_db_url

__all__ = ["db_url", "engine_kind", "new_db_url"]
