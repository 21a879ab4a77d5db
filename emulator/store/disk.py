"""A full disk under the data folder, told as such: the store itself is not at fault, and must never be moved aside
for it."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

#: Less free space than this where the data folder is, when a write fails there: the disk is full.
NEARLY_FULL = 1024 * 1024


def disk_full(error: BaseException, folder: Path) -> bool:
    """Whether ``error`` (SQLite's or the system's) comes from a full disk under ``folder``: SQLite says so
    (SQLITE_FULL), the system does (ENOSPC), or SQLite's I/O error meets a file system with almost no space left
    (SQLite reports some failed writes only as I/O errors)."""
    name = str(getattr(error, "sqlite_errorname", ""))
    if name == "SQLITE_FULL" or (isinstance(error, OSError) and error.errno == errno.ENOSPC):
        return True
    if not name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")):
        return False
    try:
        return shutil.disk_usage(folder).free < NEARLY_FULL
    except OSError:
        return False


def full_disk_while_serving(folder: Path) -> str:
    """What a refused request reads while the disk is full."""
    return (f"the disk holding the emulator's data folder {folder} is full, so this request could not be recorded; "
            "free space on that disk and send it again (the emulator carries on by itself, and nothing it "
            "acknowledged is lost)")


def full_disk_at_start(folder: Path) -> str:
    """Why the emulator does not start on a full disk, without a word against the store (it is not at fault)."""
    try:
        free = f"{shutil.disk_usage(folder).free} bytes free"
    except OSError:
        free = "no space left"
    return (f"data-dir {folder}: the disk is full ({free}), so the emulator cannot write its state; free space on "
            "that disk and start again (keep the store where it is: a full disk does not damage it, and the next "
            "start checks it)")


__all__ = ["disk_full", "full_disk_at_start", "full_disk_while_serving"]
