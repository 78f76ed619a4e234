"""Persistence: SQLAlchemy tables, Alembic migrations and the ``Store`` (SQLite by default, or PostgreSQL).

Nothing connects at import time: callers build ``Store.open(Settings().database_url)`` and close it.
Accounts, sessions and practices live in ``Accounts(store, passwords)`` and ``Practices(store)``.
"""

from .account_records import (
    AccountRecord,
    ApiTokenRecord,
    Forbidden,
    InboxRow,
    IntakeDetail,
    IntakeRecord,
    PasswordScheme,
    PracticeRecord,
    SessionRecord,
    Throttled,
    TotpSetup,
)
from .accounts import Accounts, EmailTaken
from .checkpoints import Checkpoint, DiaryTail
from .errors import NotFound, StoreError
from .practices import Practices
from .records import (
    AssessmentRecord,
    DiaryRecord,
    ExclusionRecord,
    PersonRecord,
    PlanRecord,
    ProgressCallback,
)
from .repository import InvalidValue, Store
from .throttling import ThrottlePolicy

__all__ = [
    "AccountRecord",
    "Accounts",
    "ApiTokenRecord",
    "AssessmentRecord",
    "Checkpoint",
    "DiaryRecord",
    "DiaryTail",
    "EmailTaken",
    "ExclusionRecord",
    "Forbidden",
    "InboxRow",
    "IntakeDetail",
    "IntakeRecord",
    "InvalidValue",
    "NotFound",
    "PasswordScheme",
    "PersonRecord",
    "PlanRecord",
    "PracticeRecord",
    "Practices",
    "ProgressCallback",
    "SessionRecord",
    "Store",
    "StoreError",
    "ThrottlePolicy",
    "Throttled",
    "TotpSetup",
]
