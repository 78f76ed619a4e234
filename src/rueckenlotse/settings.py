"""The one settings class. Callers build it (``Settings()``); nothing here runs at import time."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from platformdirs import user_data_path
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "rueckenlotse"
SECRET_KEY_FILE = "secret_key"
DATA_KEY_FILE = "data_key"
DATA_KEY_BYTES = 32
BACKUP_KEY_FILE = "backup_key"
MIN_SECRET_KEY_LENGTH = 32


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
    ``RUECKENLOTSE_SECRET_KEY`` signs the web app's forms and cookies. Without it, a random key is made on
    first use and kept in ``data_dir/secret_key`` (mode 0600), so processes on one machine agree. Behind a
    load balancer with several machines, set the same ``RUECKENLOTSE_SECRET_KEY`` on every one.
    ``RUECKENLOTSE_DATA_KEY`` seals the secrets the database keeps for reading again (the clinicians' TOTP
    secrets, ``store.sealing``); unset, it is made on first use and kept in ``data_dir/data_key`` (0600), as
    the secret key is. ``RUECKENLOTSE_DATA_KEY_PREVIOUS``: earlier data keys, which still open what they
    sealed until ``rueckenlotse keys rotate`` has sealed it again under the current one.
    ``RUECKENLOTSE_INTAKE_RETENTION_DAYS`` (default 365): how long a reviewed intake is kept before
    ``rueckenlotse practice purge`` removes it.
    ``RUECKENLOTSE_LOCALE_DIR``: a folder of language files adding languages (docs/architecture.md).
    ``RUECKENLOTSE_BACKUP_KEY`` signs backups (an HMAC in each backup's manifest) and checks them on restore.
    Without it, a random key is made on first use and kept in ``data_dir/backup_key`` (mode 0600). Keep a
    copy of it apart from the backups: a backup restores only with the key it was made with.
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
    secret_key: SecretStr | None = Field(
        default=None,
        validation_alias="RUECKENLOTSE_SECRET_KEY",
        description="Signs forms and cookies (at least 32 characters); default: data_dir/secret_key.",
    )
    data_key: SecretStr | None = Field(
        default=None,
        validation_alias="RUECKENLOTSE_DATA_KEY",
        description="Seals stored secrets (TOTP): 32 bytes, base64 (`keys new`); default: data_dir/data_key.",
    )
    data_key_previous: SecretStr | None = Field(
        default=None,
        validation_alias="RUECKENLOTSE_DATA_KEY_PREVIOUS",
        description="Earlier data keys (separated by commas) that still open what they sealed, for rotation.",
    )
    https: bool = Field(
        default=False,
        validation_alias="RUECKENLOTSE_HTTPS",
        description="The web app is reached over HTTPS (e.g. behind a proxy): cookies get Secure and HSTS.",
    )
    trusted_proxies: str = Field(
        default="",
        validation_alias="RUECKENLOTSE_TRUSTED_PROXIES",
        description=(
            "Addresses or networks of reverse proxies (comma-separated) whose X-Forwarded-For and "
            "X-Forwarded-Proto `serve` believes; default none, not even 127.0.0.1."
        ),
    )
    host: str = Field(
        default="127.0.0.1", validation_alias="RUECKENLOTSE_HOST", description="Address `serve` listens on."
    )
    port: int = Field(
        default=8000, ge=1, le=65535, validation_alias="RUECKENLOTSE_PORT", description="Port of `serve`."
    )
    session_idle_minutes: int = Field(
        default=30,
        ge=1,
        validation_alias="RUECKENLOTSE_SESSION_IDLE_MINUTES",
        description="A signed-in session ends after this many minutes without a request.",
    )
    session_absolute_hours: int = Field(
        default=12,
        ge=1,
        validation_alias="RUECKENLOTSE_SESSION_ABSOLUTE_HOURS",
        description="A signed-in session ends this many hours after sign-in, active or not.",
    )

    intake_retention_days: int = Field(
        default=365,
        ge=1,
        validation_alias="RUECKENLOTSE_INTAKE_RETENTION_DAYS",
        description="`practice purge` removes intakes a practice reviewed more than this many days ago.",
    )
    practice_sends_per_client: int = Field(
        default=10,
        ge=1,
        validation_alias="RUECKENLOTSE_PRACTICE_SENDS_PER_CLIENT",
        description="Sends through one practice link from one client (address, IPv6 /64) within an hour.",
    )
    practice_sends_per_link: int = Field(
        default=300,
        ge=1,
        validation_alias="RUECKENLOTSE_PRACTICE_SENDS_PER_LINK",
        description="Sends through one practice link, from anyone, within an hour.",
    )
    practice_send_min_seconds: float = Field(
        default=3.0,
        ge=0,
        le=600,
        validation_alias="RUECKENLOTSE_PRACTICE_SEND_MIN_SECONDS",
        description="The send confirmation must have been on screen this long before it counts.",
    )
    # Declared here so that it is documented and checked with the others; the translation layer reads the
    # variable itself (rueckenlotse.i18n.languages), because the knowledge base loads without Settings.
    locale_dir: Path | None = Field(
        default=None,
        validation_alias="RUECKENLOTSE_LOCALE_DIR",
        description="Folder of language files (<code>.yaml) adding languages beyond German and English.",
    )
    backup_key: SecretStr | None = Field(
        default=None,
        validation_alias="RUECKENLOTSE_BACKUP_KEY",
        description="Signs backups and checks them on restore (at least 32 characters); default: "
        "data_dir/backup_key.",
    )

    time_zone: str = Field(
        default="Europe/Berlin",
        validation_alias="RUECKENLOTSE_TIME_ZONE",
        description="Time zone (IANA name) of every time a page or document shows; times are stored in UTC.",
    )

    # Who runs this installation: the privacy notice (/datenschutz), the legal notice (/impressum) and the
    # consent texts name them. Empty: those pages say plainly that the operator has not filled them in.
    operator_name: str = Field(
        default="",
        max_length=300,
        validation_alias="RUECKENLOTSE_OPERATOR_NAME",
        description="Who runs this installation (person or organisation), for the privacy and legal notices.",
    )
    operator_address: str = Field(
        default="",
        max_length=500,
        validation_alias="RUECKENLOTSE_OPERATOR_ADDRESS",
        description="The operator's postal address (one line; commas between its parts).",
    )
    operator_contact: str = Field(
        default="",
        max_length=300,
        validation_alias="RUECKENLOTSE_OPERATOR_CONTACT",
        description="How to reach the operator: e-mail and telephone.",
    )
    privacy_officer: str = Field(
        default="",
        max_length=500,
        validation_alias="RUECKENLOTSE_PRIVACY_OFFICER",
        description="The data protection officer's name and contact; empty: the operator answers.",
    )
    medical_device: str = Field(
        default="",
        max_length=1000,
        validation_alias="RUECKENLOTSE_MEDICAL_DEVICE",
        description="The deployer's statement of certification as a medical device; empty: the pages say "
        "it is not a certified medical device.",
    )

    malloc_arenas: int = Field(
        default=2,
        ge=0,
        le=1024,
        validation_alias="RUECKENLOTSE_MALLOC_ARENAS",
        description="`serve` on glibc: at most this many malloc arenas (as MALLOC_ARENA_MAX); 0 leaves "
        "glibc's default.",
    )
    memory_trim_seconds: float = Field(
        default=60,
        ge=0,
        le=86400,
        validation_alias="RUECKENLOTSE_MEMORY_TRIM_SECONDS",
        description="The web app on glibc returns freed memory to the system this often (malloc_trim); "
        "0 turns it off.",
    )
    purge_seconds: float = Field(
        default=600,
        ge=0,
        le=86400,
        validation_alias="RUECKENLOTSE_PURGE_SECONDS",
        description="The web app deletes expired form drafts, sessions, sign-in counts and mailed links this "
        "often; 0 turns it off.",
    )
    reminder_seconds: float = Field(
        default=60,
        ge=0,
        le=3600,
        validation_alias="RUECKENLOTSE_REMINDER_SECONDS",
        description="How often the web app looks for exercise and check reminders due by e-mail (only where "
        "mail is configured); 0 turns reminder mails off.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from .i18n.zone import DEFAULT_TIME_ZONE, zone_named

        name = value.strip() or DEFAULT_TIME_ZONE  # set but empty: the default, as i18n.zone reads it
        zone_named(name)  # a misspelt zone stops the start, it never prints UTC quietly
        return name

    # E-mail (password reset, address verification). Without a host and a public address nothing is sent,
    # and the pages say that e-mail is not available.
    public_url: str | None = Field(
        default=None,
        validation_alias="RUECKENLOTSE_PUBLIC_URL",
        description="The address people open the web app at (e.g. https://rueckenlotse.example.org), for "
        "the links in e-mails; never taken from a request's Host header.",
    )
    smtp_host: str | None = Field(
        default=None,
        validation_alias="RUECKENLOTSE_SMTP_HOST",
        description="Mail server for password-reset and verification mails; unset: no e-mail is sent.",
    )
    smtp_port: int = Field(
        default=587, ge=1, le=65535, validation_alias="RUECKENLOTSE_SMTP_PORT", description="Its port."
    )
    smtp_user: str | None = Field(
        default=None, validation_alias="RUECKENLOTSE_SMTP_USER", description="User name at the mail server."
    )
    smtp_password: SecretStr | None = Field(
        default=None, validation_alias="RUECKENLOTSE_SMTP_PASSWORD", description="Its password."
    )
    smtp_starttls: bool = Field(
        default=True,
        validation_alias="RUECKENLOTSE_SMTP_STARTTLS",
        description="Encrypt with STARTTLS before logging in or sending (turn off only for a local server).",
    )
    smtp_from: str = Field(
        default="Rückenlotse <noreply@localhost>",
        validation_alias="RUECKENLOTSE_SMTP_FROM",
        description="Sender of the mails (From:).",
    )

    @property
    def mail_available(self) -> bool:
        """Mails can be sent: a mail server and the public address for the links are configured."""
        return bool(self.smtp_host) and bool(self.public_url)

    def effective_secret_key(self) -> str:
        """The configured key, or the one kept in ``data_dir`` (created on first use).

        Raises ValueError for a configured key that is too short to be safe.
        """
        if self.secret_key is not None:
            key = self.secret_key.get_secret_value()
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    f"RUECKENLOTSE_SECRET_KEY must have at least {MIN_SECRET_KEY_LENGTH} characters"
                )
            return key
        return _stored_secret_key(self.data_dir / SECRET_KEY_FILE)

    def data_key_file(self) -> Path:
        return self.data_dir / DATA_KEY_FILE

    def effective_backup_key(self) -> bytes:
        """The key of the backups' HMAC: the configured one, or the one kept in ``data_dir`` (created on
        first use, like the secret key). A key of its own: the web app's secret key may be rotated without
        making every backup unusable, and the backup key can be handed to whoever restores without it.

        Raises ValueError for a configured key that is too short to be safe.
        """
        if self.backup_key is not None:
            key = self.backup_key.get_secret_value()
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    f"RUECKENLOTSE_BACKUP_KEY must have at least {MIN_SECRET_KEY_LENGTH} characters"
                )
        else:
            key = _stored_secret_key(self.data_dir / BACKUP_KEY_FILE)
        return key.encode("utf-8")

    def effective_data_key(self, *, create: bool = True) -> str | None:
        """The configured data key as written (base64), or the one kept in ``data_dir`` (created on first
        use unless ``create`` is False; then None when there is none). Checked by ``store.sealing``."""
        if self.data_key is not None:
            return self.data_key.get_secret_value()
        path = self.data_key_file()
        if not create and not path.exists():
            return None
        return _stored_secret_key(path, new_data_key)

    def previous_data_keys(self) -> list[str]:
        """The earlier data keys as written, in their order (commas or white space between them)."""
        if self.data_key_previous is None:
            return []
        return [key for key in re.split(r"[\s,]+", self.data_key_previous.get_secret_value()) if key]


def new_secret_key() -> str:
    return secrets.token_urlsafe(48)


def new_data_key() -> str:
    """A fresh data key: 32 random bytes in URL-safe base64 (44 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(DATA_KEY_BYTES)).decode("ascii")


def _stored_secret_key(path: Path, make: Callable[[], str] = new_secret_key) -> str:
    """Read the key file, or create it atomically: a second process never sees a half-written key."""
    with contextlib.suppress(FileNotFoundError):
        return _read_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(make() + "\n")
            # On disk before it is linked: a key file lost or left empty by a power cut or a disk error
            # soon after the first start would take the secrets it sealed (data key) or stop the server.
            file.flush()
            os.fsync(file.fileno())
        # link() fails when the key exists already: whoever came first wins, everyone reads that key.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_folder(path.parent)
    return _read_key(path)


def _sync_folder(folder: Path) -> None:
    """The folder's entry of a new file on disk too (POSIX; Windows cannot open a folder for this)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read_key(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(f"{path}: the stored secret key is too short; delete the file to make a new one")
    return key
