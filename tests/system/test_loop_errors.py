"""Clear words at the file-descriptor limit: when the emulator cannot accept connections, its log gets one line per
kind of failure (then one line every few seconds counting the repeats), never a traceback per attempt; and it
accepts again once descriptors are free. A real process under a low RLIMIT_NOFILE and real connections."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import queue
import resource
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from emulator.web.looperrors import REPEAT_SECONDS, LoopErrors
from tests.support.outside import call
from tests.support.sockets import free_port

#: Descriptors the emulator may open: enough to start and serve, far fewer than the connections below.
LIMIT = 64
CONNECTIONS = 150  # fewer than LIMIT plus the listen backlog (128), so every connect completes
FD_LINE = "cannot accept new connections: too many open files"


def lines_of(stream: Any, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@pytest.mark.slow
def test_at_the_descriptor_limit_the_log_says_so_once_and_the_emulator_recovers():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT)))
    logged: queue.Queue[str] = queue.Queue()
    clients: list[socket.socket] = []
    try:
        assert process.stdout is not None and "ready on" in process.stdout.readline()
        threading.Thread(target=lines_of, args=(process.stderr, logged), daemon=True).start()
        clients = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(CONNECTIONS)]
        seen = [logged.get(timeout=60)]  # the emulator tells of the limit it met
        told_at = time.monotonic()
        assert FD_LINE in seen[0], seen
        assert f"(this process may open {LIMIT})" in seen[0] and "ulimit -n" in seen[0], seen
        for client in clients:
            client.close()
        deadline = time.monotonic() + 60
        while True:  # it accepts again by itself once descriptors are free
            try:
                status, _, _ = call(f"http://127.0.0.1:{port}", "GET", "/_emulator/health", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "the emulator did not accept connections again"
        assert status == 200
    finally:
        for client in clients:
            client.close()
        process.terminate()
        process.wait(timeout=30)
    lasted = time.monotonic() - told_at
    while not logged.empty():
        seen.append(logged.get())
    told = [line for line in seen if FD_LINE in line]
    # thousands of tracebacks before; now the first line, then a count at most every REPEAT_SECONDS (one more
    # allowed: the emulator wrote its first line a little before the test read it)
    assert 1 <= len(told) <= 2 + lasted // REPEAT_SECONDS, seen
    assert all("more time" in line for line in told[1:]), seen
    assert not any("Traceback" in line or "OSError" in line for line in seen), seen


async def test_a_failure_that_keeps_happening_is_told_once_then_counted(caplog):
    loop = asyncio.get_running_loop()
    handler = LoopErrors(interval=0.05)
    caplog.set_level(logging.INFO)
    accept_failed = {"message": "socket.accept() out of system resource",
                     "exception": OSError(errno.EMFILE, "Too many open files")}
    for _ in range(1000):
        handler(loop, accept_failed)
    [first] = caplog.records
    assert first.getMessage().startswith(FD_LINE) and first.exc_info is None  # words, not a traceback

    async def told(count: int) -> list[str]:
        for _ in range(500):
            if len(caplog.records) >= count:
                break
            await asyncio.sleep(0.01)
        return [record.getMessage() for record in caplog.records]

    lines = await told(2)
    assert lines[1].startswith(FD_LINE) and lines[1].endswith("(999 more times in the last 0.05 s)"), lines
    handler(loop, accept_failed)  # once more within the next interval: counted, not told
    assert len(caplog.records) == 2
    lines = await told(3)
    assert lines[2].endswith("(1 more time in the last 0.05 s)"), lines


async def test_an_unknown_failure_keeps_its_traceback_once_and_is_counted_after(caplog):
    loop = asyncio.get_running_loop()
    handler = LoopErrors(interval=0.05)
    caplog.set_level(logging.INFO)
    try:
        raise RuntimeError("a bug in a callback")
    except RuntimeError as exc:
        failed = {"message": "Exception in callback", "exception": exc}
    for _ in range(3):
        handler(loop, failed)
    [first] = caplog.records
    assert first.getMessage() == "Exception in callback" and first.exc_info is not None
    for _ in range(500):
        if len(caplog.records) >= 2:
            break
        await asyncio.sleep(0.01)
    assert caplog.records[1].getMessage() == ("Exception in callback: RuntimeError (2 more times in the last "
                                              "0.05 s)")
