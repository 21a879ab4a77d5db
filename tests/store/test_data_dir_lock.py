"""One emulator per data folder: a second process on the same --data-dir (by any path to it, with --restore too)
refuses to start in one line that names the folder and the process holding it; kill -9 of the holder leaves no stale
lock. Real processes (``python -m emulator``) on 127.0.0.1 and free ports."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.outside import call
from tests.support.processes import Emulator, start_on

pytestmark = pytest.mark.slow


@pytest.fixture
def emulators() -> Iterator[list[Emulator]]:
    started: list[Emulator] = []
    yield started
    for emulator in started:
        emulator.stop()


def assert_refused_for(result: subprocess.CompletedProcess[str], folder: Path, holder: Emulator) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr  # one line, nothing served
    assert f"data-dir {folder} is in use by ingopay-emulator pid {holder.process.pid} on host " in result.stderr
    assert "stop that emulator or choose another --data-dir" in result.stderr


def test_a_second_emulator_on_the_same_folder_refuses_and_the_first_is_untouched(emulators, tmp_path):
    data = tmp_path / "data"
    first = Emulator(data)
    emulators.append(first)
    token = first.client.token()
    status, _, paid = first.client.push(token, 10.50, "push-1")
    assert status == 200 and paid["status"] == 100, paid

    assert_refused_for(start_on(data), data, first)

    # the first still owns its state: the same push replays (101) with the same transaction id
    status, _, again = first.client.push(token, 10.50, "push-1")
    assert (again["status"], again["data"]["transaction_id"]) == (101, paid["data"]["transaction_id"])


def test_any_path_to_the_folder_is_the_same_folder(emulators, tmp_path):
    """The lock belongs to the folder, not to its name (as two containers see one volume under their own paths)."""
    data = tmp_path / "data"
    first = Emulator(data)
    emulators.append(first)
    other_name = tmp_path / "same-data"
    other_name.symlink_to(data, target_is_directory=True)
    assert_refused_for(start_on(other_name), other_name, first)


def test_restore_into_a_folder_in_use_is_refused(emulators, tmp_path):
    data = tmp_path / "data"
    first = Emulator(data)
    emulators.append(first)
    first.client.token()
    status, _, archive = call(first.url, "GET", "/_emulator/snapshot")
    assert status == 200
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(archive), encoding="utf-8")
    assert_refused_for(start_on(data, "--restore", str(snapshot)), data, first)
    status, _, _ = call(first.url, "GET", "/_emulator/health")
    assert status == 200


def test_kill_9_leaves_no_stale_lock(emulators, tmp_path):
    data = tmp_path / "data"
    first = Emulator(data)
    emulators.append(first)
    token = first.client.token()
    status, _, paid = first.client.push(token, 20.00, "push-before-crash")
    assert status == 200 and paid["status"] == 100, paid
    first.kill()

    after = Emulator(data)  # starts at once: the system released the lock with the process
    emulators.append(after)
    status, _, again = after.client.push(token, 20.00, "push-before-crash")
    assert (again["status"], again["data"]["transaction_id"]) == (101, paid["data"]["transaction_id"])
    assert_refused_for(start_on(data), data, after)  # and the new one holds it in turn
