"""Files that hold personal data (backups, exports, reports, batch results): private, whole, never via a link.

Every such file is first written in a private folder (0700) beside its target, made 0600, synced, and only
then moved over the target in one rename, whose folder is synced too. So no one else can read it while it
is written or afterwards, a killed or failed write leaves the previous file as it was, and a symbolic link
planted at the target is refused (and a rename would replace the link, never write where it points).
Tools that create the file themselves (SQLite's backup, pg_dump, DuckDB) write into the private folder too,
whatever their umask.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .i18n.errors import DomainError

PRIVATE_FILE = 0o600


class UnsafeTarget(DomainError, ValueError):
    """The output path is a symbolic link, or exists and is not a regular file (worded at the edge)."""


def check_target(target: Path) -> None:
    if target.is_symlink():
        raise UnsafeTarget("output_is_symlink", path=str(target))
    if target.exists() and not target.is_file():
        raise UnsafeTarget("output_not_a_file", path=str(target))


def _sync(path: Path, flags: int) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def private_output(target: Path) -> Iterator[Path]:
    """A path to write ``target``'s new content to; it replaces ``target`` (0600) when the block ends
    without an error, and is removed otherwise. An empty file stands in when nothing was written."""
    check_target(target)
    try:
        folder = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part"))
    except OSError as e:
        raise _naming(e, target) from None
    try:
        written = folder / target.name
        try:
            yield written
        except OSError as e:
            raise _naming(e, target) from None
        if not written.exists():
            os.close(os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE))
        os.chmod(written, PRIVATE_FILE)
        _sync(written, os.O_RDONLY)
        check_target(target)  # a link planted meanwhile is refused too
        os.replace(written, target)
        _sync(target.parent, os.O_RDONLY)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _naming(error: OSError, target: Path) -> OSError:
    """The error naming ``target`` when it names no file (a full disk fails a write, not an open): the
    message then says where, not only what. Its class stays (OSError picks it by the errno)."""
    if error.filename is not None or error.errno is None:
        return error
    return OSError(error.errno, error.strerror, str(target))


def write_private(target: Path, data: bytes) -> None:
    """Write ``data`` as the whole new content of ``target``, privately (see the module)."""
    with private_output(target) as written:
        fd = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
