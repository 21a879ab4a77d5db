"""A full disk under --data-dir, as a user meets it: refused pushes say the disk is full (503), never SQLite's own
words, and go through once space is freed, without a restart; starting on a full disk says the disk is full and to
free space, never to move a healthy store aside; everything acknowledged is still there afterwards.

The disk is a small tmpfs mounted for the test (that needs root: without it the tests say so and are skipped;
tests/store/test_store.py checks the same messages everywhere with SQLite's page limit standing in for the disk)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import Emulator, start_on

pytestmark = pytest.mark.slow

DISK_BYTES = 4 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a file system of DISK_BYTES of its own."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a small disk of its own needs a tmpfs mount, which needs root (test_store.py covers the messages "
                    "without one)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


@pytest.fixture
def emulators() -> Iterator[list[Emulator]]:
    started: list[Emulator] = []
    yield started
    for emulator in started:
        emulator.stop()


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk`` with one file; remove the file to free the space again."""
    filler = disk / "filler"
    with open(filler, "wb") as file:
        try:
            while True:
                file.write(b"\0" * 65536)
                file.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return filler


def paid(answer: tuple[int, dict[str, str], object], status: int = 100) -> dict[str, object]:
    code, _, document = answer
    assert code == 200 and isinstance(document, dict) and document["status"] == status, answer
    return document


def test_pushes_on_a_full_disk_say_so_and_go_through_once_space_is_freed(small_disk, emulators):
    emulator = Emulator(small_disk / "data")
    emulators.append(emulator)
    token = emulator.client.token()
    before = paid(emulator.client.push(token, 10.50, "before-full"))

    filler = fill(small_disk)
    for index in range(5):
        status, _, refused = emulator.client.push(token, 11.00, f"while-full-{index}")
        assert status == 503, refused
        message = refused["message"]
        assert message.startswith(f"the disk holding the emulator's data folder {small_disk / 'data'} is full")
        assert "free space on that disk and send it again" in message and "rollback" not in message, message

    filler.unlink()  # no restart: the same pushes go through now
    for index in range(5):
        paid(emulator.client.push(token, 11.00, f"while-full-{index}"))
    again = paid(emulator.client.push(token, 10.50, "before-full"), status=101)
    assert again["data"]["transaction_id"] == before["data"]["transaction_id"]  # type: ignore[index]


def test_starting_on_a_full_disk_says_free_space_and_keeps_the_store(small_disk, emulators):
    data = small_disk / "data"
    first = Emulator(data)
    token = first.client.token()
    acknowledged = [paid(first.client.push(token, 12.00, f"push-{index}")) for index in range(20)]
    first.kill()  # as a full disk often ends a process: abruptly, its write-ahead log left behind
    filler = fill(small_disk)

    refused = start_on(data)
    assert refused.returncode == 2, (refused.returncode, refused.stdout, refused.stderr)
    assert refused.stdout == "" and refused.stderr.count("\n") == 1, refused.stderr
    assert f"data-dir {data}: the disk is full" in refused.stderr, refused.stderr
    assert "free space on that disk and start again" in refused.stderr
    for advice in ("move it aside", "damaged", "choose another --data-dir"):
        assert advice not in refused.stderr, refused.stderr

    filler.unlink()
    after = Emulator(data)
    emulators.append(after)
    for index, answer in enumerate(acknowledged):
        again = paid(after.client.push(token, 12.00, f"push-{index}"), status=101)
        assert again["data"]["transaction_id"] == answer["data"]["transaction_id"]  # type: ignore[index]
