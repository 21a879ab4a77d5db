"""The proxy in a test: served from a thread on 127.0.0.1 and a free port, like EmulatorServer; and a planted
upstream (an emulator with another credential and scenarios that differ from the bundled ones on purpose)."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.app import build_runtime
from emulator.core.credentials import Credential
from emulator.proxy.app import ProxyOptions, attach_twin, build_proxy, start_twin
from emulator.settings import Settings
from emulator.testing import EmulatorServer
from emulator.web.serving import bound_port, serve

UPSTREAM = Credential("sandbox-client", "sandbox-secret-never-kept", 12345)

#: Differences planted in the upstream: each rule differs from the bundled emulator in one way.
PLANTED = """
version: 1
scenarios:
  - name: planted
    rules:
      - name: verify-message
        match: {endpoint: verify, recipient: {last_name: Hopper}}
        respond: {status: 100, message: "Success - Verified"}
      - name: process-extra-field
        match: {endpoint: process, participant_unique_id1: push-extra}
        respond: {data: {ledger_reference: "L-1"}}
      - name: process-type
        match: {endpoint: process, participant_unique_id1: push-type}
        respond: {data: {transaction_id: "T-9"}}
      - name: process-http-status
        match: {endpoint: process, participant_unique_id1: push-http}
        respond: {http_status: 202}
"""


def planted_upstream(tmp_path: Path, **changes: Any) -> EmulatorServer:
    """An emulator with its own credential and the planted scenarios, serving on 127.0.0.1."""
    scenarios = tmp_path / "planted.yaml"
    scenarios.write_text(PLANTED)
    changes.setdefault("rate_limit", 0)  # the proxy holds clients to the limit; the tests send bursts through it
    settings = Settings(host="127.0.0.1", port=0, quiet=True, scenarios=(scenarios,), **changes)
    return EmulatorServer(runtime=build_runtime(settings, credentials={UPSTREAM.username: UPSTREAM})).start()


class ProxyServer:
    """``ingopay-emulator proxy`` in this process: its loop in a thread, its URL once started."""

    def __init__(self, options: ProxyOptions, settings: Settings | None = None) -> None:
        self.options = options
        self.settings = (settings or Settings()).replace(host="127.0.0.1", port=0, quiet=True)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ingopay-proxy", daemon=True)
        self._runners: list[web.AppRunner] = []
        self.url = ""

    def start(self) -> ProxyServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=60)
        return self

    async def _start(self) -> None:
        app = build_proxy(self.settings, self.options)
        if self.options.compare:
            runner, url, twin = await start_twin(self.settings)
            self._runners.append(runner)
            attach_twin(app, twin, url)
        runner = await serve(app, host="127.0.0.1", port=0, header_timeout=10, max_body_size=1024 * 1024,
                             shutdown_timeout=2.0)
        self._runners.append(runner)
        self.url = f"http://127.0.0.1:{bound_port(runner)}"

    def stop(self) -> None:
        """Stop the proxy (its drift report written in full); again, nothing more."""
        if not self._thread.is_alive():
            return

        async def _stop() -> None:
            for runner in reversed(self._runners):
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


class RawListener:
    """A TCP listener on 127.0.0.1 and a free port, accepting connections in a thread; ``serve`` handles each."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.serve(connection)

    def serve(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._socket.close()


class SilentUpstream(RawListener):
    """A TCP listener on 127.0.0.1 that accepts connections and never answers: an upstream that times out."""

    def __init__(self) -> None:
        self._held: list[socket.socket] = []
        super().__init__()

    def serve(self, connection: socket.socket) -> None:
        self._held.append(connection)

    def stop(self) -> None:
        super().stop()
        for connection in self._held:
            connection.close()


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class CannedUpstream(RawListener):
    """An upstream on 127.0.0.1 that answers every request with the same raw bytes (headers that are not UTF-8, a
    gzip body...), as no aiohttp server would; it keeps each request it received (head and body, raw)."""

    def __init__(self, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"") -> None:
        self.answer = self.raw_answer(status, headers or [], body)
        self.received: list[bytes] = []
        super().__init__()

    @staticmethod
    def raw_answer(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
        head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        return (b"HTTP/1.1 %d X\r\n" % status + head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
                + body)

    def serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                body += chunk
            self.received.append(head + b"\r\n\r\n" + body)
            connection.sendall(self.answer)


def raw_request(url: str, head: bytes, body: bytes = b"") -> tuple[int, bytes, bytes]:
    """One request written byte for byte (``head``: the request line and headers, without the blank line; Host,
    Content-Length and Connection added): the answer's status, raw head and body."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head + b"\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                           % (host.encode(), len(body)) + body)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    answer_head, _, answer_body = data.partition(b"\r\n\r\n")
    return int(answer_head.split(b" ")[1]), answer_head, answer_body
