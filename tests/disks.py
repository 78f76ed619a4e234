"""Real small disks for the tests of a full or read-only data folder: a tmpfs (fill it, remount it
read-only) and an ext4 image that the kernel turns read-only under a running process, as it does after a
disk error (``errors=remount-ro``). Mounting needs root; without it the tests skip and say why.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def _mount(*args: str) -> None:
    result = _run("mount", *args)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a test disk here (needs root): {result.stderr.strip()}")


def _unmount(folder: Path) -> None:
    if _run("umount", str(folder)).returncode != 0:
        _run("umount", "-l", str(folder))  # a process still holding a file: detach it anyway


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. "2m") mounted at ``folder`` while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        remount(folder, "rw")
        _unmount(folder)


def remount(folder: Path, mode: str) -> None:
    """Remount a test disk "ro" or "rw" (fails while a process holds a file open for writing)."""
    result = _run("mount", "-o", f"remount,{mode}", str(folder))
    assert result.returncode == 0 or mode == "rw", result.stderr


def fill(folder: Path) -> Path:
    """Write a file into ``folder`` until the disk is full; remove it to free the space again."""
    filler = folder / "filler"
    block = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(block)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
                break
    for size in (4096, 512, 1):  # the last partial blocks too
        with filler.open("ab", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
    return filler


@contextmanager
def ext4_disk(image: Path, folder: Path, size_mib: int) -> Iterator[tuple[Path, str]]:
    """An ext4 file system on a loop device at ``folder`` (mounted errors=remount-ro), and its device name.
    After the block, the file system is checked (e2fsck) and the image removed."""
    if shutil.which("mkfs.ext4") is None or not Path("/sys/fs/ext4").is_dir():
        pytest.skip("no mkfs.ext4 or no ext4 in this kernel")
    with image.open("wb") as out:
        out.truncate(size_mib * 1024 * 1024)
    made = _run("mkfs.ext4", "-q", "-F", str(image))
    assert made.returncode == 0, made.stderr
    folder.mkdir(parents=True, exist_ok=True)
    _mount("-o", "loop,errors=remount-ro", str(image), str(folder))
    device = Path(_run("findmnt", "-no", "SOURCE", str(folder)).stdout.strip()).name
    try:
        yield folder, device
    finally:
        _unmount(folder)
        image.unlink(missing_ok=True)


def remount_after_error(image: Path, folder: Path) -> None:
    """What an operator does after the kernel turned the disk read-only: unmount, check, mount again."""
    unmounted = _run("umount", str(folder))
    assert unmounted.returncode == 0, f"a file on the disk is still open: {unmounted.stderr}"
    checked = _run("e2fsck", "-f", "-y", str(image))
    assert checked.returncode in (0, 1), checked.stdout + checked.stderr  # 1: errors corrected
    _mount("-o", "loop,errors=remount-ro", str(image), str(folder))


def force_read_only(device: str) -> None:
    """Make ext4 report an error on ``device``: with errors=remount-ro it takes no more writes, even
    through files already open (a tmpfs cannot be remounted read-only while a process writes to it)."""
    with open(f"/sys/fs/ext4/{device}/trigger_fs_error", "w") as trigger:
        trigger.write("rueckenlotse test: disk turned read-only")


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize
