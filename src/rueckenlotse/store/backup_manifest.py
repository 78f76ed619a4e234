"""A backup's manifest and its HMAC: what the backup holds, and proof that it was made with our key.

Every backup file ``X`` gets a sidecar ``X.manifest.json``: the format version, the database kind, the
migration revision, the number of rows per table, when it was made, the file's size, and an HMAC-SHA256 over
the manifest and every byte of the file under the backup key (``RUECKENLOTSE_BACKUP_KEY`` or
``data_dir/backup_key``). A sidecar, not a container around the file: the backup stays a plain SQLite file
or pg_dump archive that the database's own tools can open in an emergency, without this program.

A restore reads nothing of a backup before its HMAC has been checked, and then only a private copy made
while checking: the file cannot be changed between the check and its use.
"""

from __future__ import annotations

import hmac
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..private_files import write_private
from .errors import StoreError, Term
from .migrate import known_revisions, newer_program_needed
from .records import ProgressCallback

FORMAT: Final = "rueckenlotse-backup"
FORMAT_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"
HMAC_FIELD = "hmac_sha256"
# Binds the HMAC to this use of the key (and to the format), should the key ever sign anything else.
_DOMAIN = b"rueckenlotse-backup/1\x00"
_CHUNK = 1 << 20
# A manifest is a few hundred bytes; anything far larger is not one (and is not read into memory).
_MAX_MANIFEST_BYTES = 1 << 20

DatabaseKind = Literal["sqlite", "postgresql"]


class Manifest(BaseModel):
    """What a backup holds; every field is covered by the HMAC."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    format: Literal["rueckenlotse-backup"] = FORMAT
    format_version: int = FORMAT_VERSION
    database: DatabaseKind
    revision: str
    created_at: str
    file_bytes: int
    rows: dict[str, int]


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def new_manifest(database: DatabaseKind, revision: str, rows: dict[str, int], backup: Path) -> Manifest:
    return Manifest(
        database=database,
        revision=revision,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        file_bytes=backup.stat().st_size,
        rows=dict(sorted(rows.items())),
    )


def _canonical(manifest: Manifest) -> bytes:
    # Sorted keys, no spaces, ASCII only: the same bytes whoever writes or reads the manifest. JSON escapes
    # every control character, so the NUL after it cannot occur inside and separates it from the file.
    return json.dumps(manifest.model_dump(), sort_keys=True, separators=(",", ":")).encode("ascii")


def _mac(key: bytes, manifest: Manifest) -> hmac.HMAC:
    mac = hmac.new(key, digestmod="sha256")
    mac.update(_DOMAIN + _canonical(manifest) + b"\x00")
    return mac


def write_manifest(written: Path, target: Path, key: bytes, manifest: Manifest) -> Path:
    """Sign ``written`` (the backup's new content, not yet moved over ``target``) and write the manifest
    beside ``target``, private (0600) like the backup. Returns the manifest's path."""
    mac = _mac(key, manifest)
    with written.open("rb") as f:
        while chunk := f.read(_CHUNK):
            mac.update(chunk)
    document = {**manifest.model_dump(), HMAC_FIELD: mac.hexdigest()}
    path = manifest_path(target)
    write_private(path, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def _invalid(path: Path, detail: str | Term) -> StoreError:
    return StoreError("backup_manifest_invalid", path=str(path), detail=detail)


def read_manifest(backup: Path) -> tuple[Manifest, str]:
    """The manifest beside ``backup`` and the HMAC it claims, checked for form only (not yet trusted)."""
    path = manifest_path(backup)
    if not path.is_file():
        raise StoreError("backup_manifest_missing", path=str(backup), manifest=str(path))
    if path.stat().st_size > _MAX_MANIFEST_BYTES:
        raise _invalid(path, Term("domain.backup_detail.manifest_too_large"))
    try:
        document: Any = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise _invalid(path, Term("domain.backup_detail.not_json")) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _invalid(path, Term("domain.backup_detail.not_a_manifest"))
    version = document.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise StoreError("backup_format_newer", path=str(path), version=version)
    claimed = document.pop(HMAC_FIELD, None)
    if not isinstance(claimed, str):
        raise _invalid(path, Term("domain.backup_detail.no_hmac"))
    try:
        return Manifest.model_validate(document), claimed
    except ValidationError as e:
        fields = ", ".join(sorted({".".join(map(str, error["loc"])) for error in e.errors()}))
        raise _invalid(path, fields) from None


def verified_copy(
    backup: Path, key: bytes, folder: Path, database: DatabaseKind, progress: ProgressCallback
) -> tuple[Manifest, Path]:
    """Copy ``backup`` into the private ``folder`` while computing its HMAC; return the manifest and the
    copy only when the HMAC, the size, the database kind and the revision are right. Everything after this
    reads the copy, which nobody else can change."""
    if not backup.is_file():
        raise StoreError("file_not_found", path=str(backup))
    manifest, claimed = read_manifest(backup)
    if manifest.database != database:
        raise StoreError("backup_wrong_database", path=str(backup), kind=manifest.database, target=database)
    copy = folder / "backup"
    mac = _mac(key, manifest)
    size = 0
    # O_EXCL | O_NOFOLLOW: the private folder is ours alone; refuse anything already there.
    descriptor = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with backup.open("rb") as source, os.fdopen(descriptor, "wb") as target:
        while chunk := source.read(_CHUNK):
            mac.update(chunk)
            target.write(chunk)
            size += len(chunk)
            progress(size, max(size, manifest.file_bytes))
    if size != manifest.file_bytes or not hmac.compare_digest(mac.hexdigest(), claimed.lower()):
        raise StoreError("backup_signature_mismatch", path=str(backup), manifest=str(manifest_path(backup)))
    # Only now are the manifest's claims trusted, the revision among them.
    if manifest.revision not in known_revisions():
        raise newer_program_needed(manifest.revision)
    return manifest, copy


def require_rows_as_listed(manifest: Manifest, counted: dict[str, int], path: Path) -> None:
    """The backup holds exactly the rows its manifest lists (a table more, less, or of another size is
    refused)."""
    names = sorted(set(manifest.rows) | set(counted))
    differences = [
        f"{name}: {manifest.rows.get(name, '–')} ≠ {counted.get(name, '–')}"
        for name in names
        if manifest.rows.get(name) != counted.get(name)
    ]
    if differences:
        raise StoreError("backup_rows_differ", path=str(path), differences="; ".join(differences[:10]))
