"""The one settings class. Callers build it (``Settings()``); nothing here runs at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "rueckenlotse"


def _default_data_dir() -> Path:
    # platformdirs picks the right folder per OS (~/.local/share, ~/Library/Application Support, %APPDATA%).
    return user_data_path(APP_NAME, appauthor=False)


def _default_database_url(data: dict[str, Any]) -> str:
    # A plain file in the user's data folder: works without any server, and is private to the user.
    data_dir = Path(data["data_dir"])
    return f"sqlite:///{data_dir / 'rueckenlotse.db'}"


class Settings(BaseSettings):
    """Configuration from the environment (or keyword arguments, which win).

    ``DATABASE_URL`` selects the database: ``sqlite:///path/file.db`` or ``postgresql://user@host/db``.
    ``RUECKENLOTSE_DATA_DIR`` moves the data folder (and with it the default SQLite file).
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True, validate_by_name=True)

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        validation_alias="RUECKENLOTSE_DATA_DIR",
        description="Folder for the default SQLite database and other local data.",
    )
    database_url: str = Field(
        default_factory=_default_database_url,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL of the database; default a SQLite file in data_dir.",
    )
