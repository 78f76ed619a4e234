"""The files a batch run writes (results, error file): private, whole or not at all, never through a link.

DuckDB creates its output files itself (with the process's umask), so each file is written in a private
folder (0700) beside its target, made 0600, and only then moved over the target in one rename: a killed or
failed run leaves the previous results and error file as they were, and no one else can read a half-written
file. A target that is a symbolic link is refused: writing there would land wherever the link points.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class UnsafeTarget(ValueError):
    """The output path is a symbolic link (or not a file)."""


def check_target(target: Path) -> None:
    if target.is_symlink():
        raise UnsafeTarget(f"{target}: ist ein symbolischer Link – abgelehnt / is a symbolic link: refused")
    if target.exists() and not target.is_file():
        raise UnsafeTarget(f"{target}: ist keine Datei / is not a file")


@contextmanager
def private_output(target: Path) -> Iterator[Path]:
    """A path to write ``target``'s new content to; it replaces ``target`` when the block ends without an
    error, and is removed otherwise."""
    check_target(target)
    folder = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part"))
    try:
        written = folder / target.name
        yield written
        if not written.exists():  # nothing was written (an empty result still gets its file)
            os.close(os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        os.chmod(written, 0o600)
        check_target(target)  # a link planted while the run was going is refused too
        os.replace(written, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
