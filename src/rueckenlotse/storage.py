"""A full or read-only disk: one typed error, whichever part noticed it (SQLite, PostgreSQL, a file write).

Neither is damage: the database stays as it was (SQLite rolls the failed transaction back), so the message
names the cause and what to do, never "damaged", and the web answers 503 rather than 500. ``/healthz``
asks ``folder_problem`` before anything is written, so a load balancer learns of a full disk early.

Pure standard library (the error is the package's DomainError): the command line words an OSError from
any file write with it, even without the store's extra installed.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from .i18n.errors import DomainError

# Below this much free space in the data folder the health check reports the database as unable to write.
# A write needs a few pages of the write-ahead log (4 KiB each) and room for the log to grow until the next
# checkpoint; 1 MiB keeps a margin for both without raising an alarm on a small, healthy disk.
MIN_FREE_BYTES = 1024 * 1024

# The write probe's size: one block of the usual file systems.
_PROBE_BYTES = 4096

FULL = "storage_full"
READ_ONLY = "storage_read_only"
NO_PERMISSION = "storage_no_permission"

# Only writes fail with these; EACCES (and EPERM) also stop a read, so they count only for a write.
_BY_ERRNO = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EROFS: READ_ONLY}
_WRITE_ERRNO = {errno.EACCES: NO_PERMISSION, errno.EPERM: NO_PERMISSION}


class StorageUnavailable(DomainError):
    """Nothing can be written where the data lives: the disk is full, mounted read-only, or not ours to
    write. ``code`` is FULL, READ_ONLY or NO_PERMISSION; ``where`` names the folder, file or server."""

    def __init__(self, code: str, where: str) -> None:
        super().__init__(code, where=where)


def from_os_error(
    error: OSError, where: Path | str | None = None, *, writing: bool = False
) -> StorageUnavailable | None:
    """The StorageUnavailable an OSError stands for (no space, a read-only file system; with ``writing``
    also no permission), or None for any other OSError, or when nothing names the place."""
    code = _BY_ERRNO.get(error.errno or 0) or (_WRITE_ERRNO.get(error.errno or 0) if writing else None)
    place = where or error.filename
    if code is None or not place:
        return None
    return StorageUnavailable(code, str(place))


def folder_problem(folder: Path, *files: Path) -> StorageUnavailable | None:
    """Why nothing could be written in ``folder`` (and to ``files`` in it), or None when it could.

    From the file system's state, not from an error: for a failure whose own words do not say (SQLite's
    "disk I/O error" when it cannot grow its shared-memory file), and for the health check. Cheap: one
    statvfs, an access check per path, and one small file written and removed (a file system that ext4
    turned read-only after an error still reports itself writable to statvfs and access; only a write
    tells).
    """
    try:
        stats = os.statvfs(folder)
    except OSError:  # a missing folder: whatever opens the database will say so
        return None
    if stats.f_flag & os.ST_RDONLY:
        return StorageUnavailable(READ_ONLY, str(folder))
    if stats.f_bavail * stats.f_frsize < MIN_FREE_BYTES:
        return StorageUnavailable(FULL, str(folder))
    for path in (*files, folder):
        if path.exists() and not os.access(path, os.W_OK):
            return StorageUnavailable(NO_PERMISSION, str(path))
    return _write_probe(folder)


def _write_probe(folder: Path) -> StorageUnavailable | None:
    """Write one block to a new file in ``folder`` and remove it (not synced: the file system reserves the
    space, or refuses, at the write itself)."""
    probe = folder / f".rueckenlotse-probe-{secrets.token_hex(8)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, bytes(_PROBE_BYTES))
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as e:
        return from_os_error(e, folder, writing=True)
    return None
