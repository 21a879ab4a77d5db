"""A real emulator process for tests that need one: ``python -m emulator --data-dir D`` on 127.0.0.1 and a free
port, driven by the outside client, stopped (or killed) by the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emulator.core.credentials import DEFAULT_PARTICIPANT_ID, DEFAULT_SECRET, DEFAULT_USERNAME
from tests.support.outside import Client
from tests.support.sockets import free_port


class Emulator:
    """``python -m emulator --data-dir D`` (in memory: ``data_dir`` None; more flags in ``extra``) serving on
    127.0.0.1, until the test stops or kills it."""

    def __init__(self, data_dir: Path | None, *extra: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        folder = () if data_dir is None else ("--data-dir", str(data_dir))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", self.url.rsplit(":", 1)[1],
             *folder, "--rate-limit", "0", "--quiet", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self.process.stdout.readline() if self.process.stdout else ""  # "ready on", or EOF if it failed
        if "ready on" not in line:
            self.process.kill()
            problem = self.process.stderr.read() if self.process.stderr else ""
            self.stop()
            raise AssertionError(f"the emulator did not start: {line!r} {problem!r}")
        self.client = Client(self.url, DEFAULT_USERNAME, DEFAULT_SECRET, DEFAULT_PARTICIPANT_ID)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def start_on(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """An emulator on ``data_dir`` that is expected to refuse to start (it would otherwise serve until the
    timeout)."""
    return subprocess.run([sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(free_port()),
                           "--data-dir", str(data_dir), *extra], capture_output=True, text=True, timeout=60)


#: The environment a test's emulator process starts in: this one without INGOPAY_EMULATOR_* settings, so that a
#: developer's own settings never change what a test sees.
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("INGOPAY_EMULATOR_")}


@contextmanager
def live_emulator(*args: str) -> Iterator[str]:
    """``python -m emulator ARGS`` on 127.0.0.1 and a free port, in :data:`CLEAN_ENV`; yields its URL and stops it
    with SIGTERM (SIGKILL after 15 s)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=CLEAN_ENV)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "ready on" in line, f"no ready line: {line!r}"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
