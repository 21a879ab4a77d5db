"""Servers that misbehave as a webhook receiver or an upstream can, written with raw asyncio streams (no HTTP
server would send these answers), and the emulator as a real process whose resident memory a test reads."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.support.paths import ROOT

#: How long a peer goes on writing an endless answer at most: a bound on the test, far beyond what it needs.
WRITE_FOR = 30.0
PIECE = b"x" * 65536

Behaviour = Callable[["RawPeer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 request with a Content-Length body (as aiohttp's client sends it): its head and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    return head + await reader.readexactly(length)


class RawPeer:
    """A TCP server on 127.0.0.1 (a free port, or ``port``) that reads each request and then behaves as told. It
    counts the connections open now (``open``, the most at once in ``most_open``), keeps the requests it read,
    and notes when the other side closed a connection before the peer had finished writing (``cut_off``)."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.open = 0
        self.most_open = 0
        self.cut_off = 0
        self.written = 0  # bytes of answers written in all
        self.changed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> RawPeer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()

    def _tell(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def until(self, check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        """Wait until ``check()`` holds, woken by each change the peer sees; fail naming ``what`` after
        ``timeout`` (a bound against hangs, not a timing claim)."""
        deadline = time.monotonic() + timeout
        while not check():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{what}: not seen within {timeout:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        self._tell()
        try:
            self.requests.append(await read_request(reader))
            self._tell()
            await self.behaviour(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.cut_off += 1
        finally:
            self.open -= 1
            self._writers.discard(writer)
            writer.close()
            self._tell()

    async def write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()
        self.written += len(data)


async def hang(peer: RawPeer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Never answer: wait until the other side goes away."""
    await reader.read()
    raise ConnectionError("the other side closed the connection")


async def endless_body(peer: RawPeer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """200 and a chunked body that never ends (until the other side closes, or WRITE_FOR)."""
    await peer.write(writer, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    deadline = time.monotonic() + WRITE_FOR
    while time.monotonic() < deadline:
        await peer.write(writer, b"%x\r\n" % len(PIECE) + PIECE + b"\r\n")


FIFTY_MB = 50 * 1024 * 1024


async def fifty_mb_body(peer: RawPeer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """200 and a body of 50 MB, announced by Content-Length."""
    await peer.write(writer, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % FIFTY_MB)
    for _ in range(FIFTY_MB // len(PIECE)):
        await peer.write(writer, PIECE)


async def megabyte_header(peer: RawPeer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """200 with one header of 1 MB, then a short body."""
    await peer.write(writer, b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * (1024 * 1024)
                     + b"\r\nContent-Length: 2\r\n\r\nok")
    await reader.read()


async def ok(peer: RawPeer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """200 "ok", then close."""
    await peer.write(writer, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


class EmulatorProcess:
    """``python -m emulator ARGS`` on 127.0.0.1 and a free port, its log in a file; stopped by the test."""

    def __init__(self, port: int, *args: str, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log
        self._log = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator", *args, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 30
        line = ""
        assert self.process.stdout is not None
        while "ready" not in line and time.monotonic() < deadline:
            if not select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
        if "ready" not in line:
            self.stop()
            raise AssertionError(f"the emulator did not start: {line!r} {self.log()[-2000:]}")

    def rss(self) -> int:
        """Resident memory of the process, in bytes (VmRSS of /proc/PID/status)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc/PID/status")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    async def terminate(self, within: float) -> int:
        """SIGTERM, and the exit status once the process is gone; fails when it is still there after ``within``
        seconds (then killed)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, within)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"still running {within:g} s after SIGTERM") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()
