"""Alembic migrations of the store, run programmatically by ``rueckenlotse.store.migrate``."""
