"""One emulator per data folder: an exclusive lock the operating system holds for the process and releases when it
ends, however it ends (kill -9 included), so a crash never leaves a stale lock.

The lock is ``fcntl.flock`` on ``ingopay-emulator.lock`` in the folder, held on an open file for as long as the store
is open. Two processes on one host (two containers sharing a volume included: they share the kernel) cannot both
hold it. The holder writes its pid, host name and start time into the file, so that the one refused can name it;
the file itself stays (removing it would let a third process lock a new file while the second still waits on the
old one).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

from emulator.store.base import StoreError
from emulator.store.disk import disk_full, full_disk_at_start

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILENAME = "ingopay-emulator.lock"
LOG = logging.getLogger("ingopay_emulator")


class FolderInUse(StoreError):
    """Another process holds the data folder's lock."""


class FolderLock:
    """The exclusive lock on one data folder, taken by ``acquire`` and given back by ``release`` (or by the end of
    the process)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK_FILENAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise FolderInUse naming the folder and the process that holds it (StoreError when the
        lock file cannot be opened at all)."""
        if fcntl is None:
            LOG.warning("this platform has no fcntl.flock: nothing keeps a second emulator off data-dir %s; make sure "
                        "only one emulator uses it", self.folder)
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if disk_full(exc, self.folder):
                raise StoreError(full_disk_at_start(self.folder)) from None
            raise StoreError(f"data-dir {self.folder}: cannot open the lock file {self.path.name}: "
                             f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _describe(_read_holder(fd))
            os.close(fd)
            raise FolderInUse(f"data-dir {self.folder} is in use by {holder}; stop that emulator or choose another "
                              "--data-dir (one emulator per data folder: two would pay the same push twice)") from None
        self._fd = fd
        _write_holder(fd)

    def release(self) -> None:
        """Give the lock back (closing the file is what releases it)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def _write_holder(fd: int) -> None:
    """Record who holds the lock; a disk too full for these few bytes keeps the lock all the same."""
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": started}).encode()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text + b"\n", 0)
    except OSError:
        pass


def _read_holder(fd: int) -> dict[str, object]:
    """What the holder wrote about itself (nothing when it has not written yet, or could not)."""
    try:
        found = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _describe(holder: dict[str, object]) -> str:
    """The holding process in words: 'ingopay-emulator pid 1234 on host ci-7 since 2026-11-16T15:00:00Z'."""
    if not isinstance(holder.get("pid"), int):
        return "another ingopay-emulator process (it has not said which yet)"
    words = f"ingopay-emulator pid {holder['pid']}"
    if isinstance(holder.get("host"), str):
        words += f" on host {holder['host']}"
    if isinstance(holder.get("since"), str):
        words += f" since {holder['since']}"
    return words


__all__ = ["LOCK_FILENAME", "FolderInUse", "FolderLock"]
