"""Persistence: SQLAlchemy tables, Alembic migrations and the ``Store`` (SQLite by default, or PostgreSQL).

Nothing connects at import time: callers build ``Store.open(Settings().database_url)`` and close it.
"""

from .errors import NotFound, StoreError
from .records import (
    AssessmentRecord,
    DiaryRecord,
    ExclusionRecord,
    PersonRecord,
    PlanRecord,
    ProgressCallback,
)
from .repository import InvalidValue, Store

__all__ = [
    "AssessmentRecord",
    "DiaryRecord",
    "ExclusionRecord",
    "InvalidValue",
    "NotFound",
    "PersonRecord",
    "PlanRecord",
    "ProgressCallback",
    "Store",
    "StoreError",
]
