"""Helpers shared by the benchmark (bench/run.py) and the soak (bench/soak.py).

Everything here talks to 127.0.0.1 only: servers are started on a free loopback port and stopped by their PID.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulator.client import encode_body, sign  # noqa: E402  (after the path fix above)

HOST = "127.0.0.1"
#: The emulator's bundled credential (README quick start).
USERNAME, SECRET, PARTICIPANT = "test", "ingopay-emulator-secret", 12345

CARD = {"account_type": "CA", "participant_unique_id1": "bench-customer", "account": "4111111111111111",
        "expiration_date": "2912", "recipient_first_name": "Jane", "recipient_last_name": "Doe",
        "recipient_address1": "1 Main St", "recipient_city": "Atlanta", "recipient_state": "GA",
        "recipient_zip": "30301"}


# -- processes ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def emulator_command(port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "emulator", "--rate-limit", "0", "--quiet", "--host", HOST, "--port", str(port),
            *extra]


@dataclass
class Server:
    """A server process on a loopback port; stopped by its own PID (and its process group)."""

    name: str
    command: Sequence[str]
    port: int
    health_path: str = "/_emulator/health"
    cwd: Path | None = None
    env: dict[str, str] | None = None
    process: subprocess.Popen | None = None
    log: Path | None = None
    started_at: float = 0.0

    def start(self) -> Server:
        env = dict(os.environ, **(self.env or {}))
        env.setdefault("PYTHONPATH", str(ROOT))
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(list(self.command), cwd=self.cwd or ROOT, env=env, stdout=out,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 30.0, interval: float = 0.002, method: str = "GET",
                   body: bytes | None = None, headers: dict[str, str] | None = None) -> float:
        """Poll until the health path answers 200; return seconds since start()."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with code {self.process.returncode} before it was ready"
                                   + (f" (log: {self.log})" if self.log else ""))
            try:
                status, _ = request(self.port, method, self.health_path, body, headers, timeout=1.0)
                if status == 200:
                    return time.perf_counter() - self.started_at
            except OSError:
                pass
            time.sleep(interval)
        raise RuntimeError(f"{self.name} did not answer {self.health_path} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def rss_mb(pid: int) -> float:
    """Resident memory of one process (VmRSS of /proc/PID/status), in MB (10^6 bytes)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for pid {pid}")


# -- plain HTTP ----------------------------------------------------------------------------------------

def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def signed_post(port: int, path: str, document: dict[str, Any]) -> tuple[int, Any]:
    raw = encode_body(document)
    status, text = request(port, "POST", path, raw, sign("POST", path, raw))
    return status, json.loads(text) if text else None


# -- request bodies -------------------------------------------------------------------------------------

def verify_body(puid1: str = "bench-customer", now: float | None = None) -> dict[str, Any]:
    return {"participant_id": PARTICIPANT, "timestamp": int(now or time.time()), "version": 11,
            **CARD, "participant_unique_id1": puid1}


def process_body(token: str, puid1: str, now: float | None = None) -> dict[str, Any]:
    return {"participant_id": PARTICIPANT, "timestamp": int(now or time.time()), "version": 11,
            "account_type": "CA", "amount": 10.5, "customer_account_token": token, "source_of_funds": 4,
            "participant_unique_id1": puid1}


def debit_body(token: str, puid1: str, now: float | None = None) -> dict[str, Any]:
    return {"request": {"participant_id": str(PARTICIPANT), "timestamp": str(int(now or time.time()))},
            "transaction": {"account_type": "CA", "transaction_amount": {"currency_code": "USD", "amount": "10.00"},
                            "participant_unique_ids": {"participant_unique_id1": puid1},
                            "customer_account_token": token}}


def session_body(puid1: str) -> dict[str, Any]:
    return {"participant_unique_id1": puid1,
            "recipient_information": {"first_name": "Jane", "last_name": "Doe", "city": "Atlanta", "state": "GA"}}


def card_token(port: int) -> str:
    """Verify the bench card (signed) and return its customer_account_token."""
    status, document = signed_post(port, "/gateway/verify", verify_body())
    if status != 200 or document.get("status") != 100:
        raise RuntimeError(f"verify did not succeed: HTTP {status} {document}")
    return document["data"]["customer_account_token"]


def raw_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request as bytes on the wire (keep-alive), as wrk and the latency client send it."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body and not any(name.lower() == "content-length" for name in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def signed_raw(path: str, document: dict[str, Any], now: float | None = None) -> bytes:
    raw = encode_body(document)
    return raw_request("POST", path, sign("POST", path, raw, now=now), raw)


def health_raw() -> bytes:
    return raw_request("GET", "/_emulator/health", {})


# -- a small open-loop HTTP/1.1 client (keep-alive, pipelining off) -----------------------------------------

class _Conn(asyncio.Protocol):
    """One keep-alive connection that carries one request at a time and parses Content-Length responses."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._try_complete()

    def _try_complete(self) -> None:
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).decode("latin-1")
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        status = int(head.split(" ", 2)[1])
        body = bytes(self.buffer[end + 4:total])
        del self.buffer[:total]
        self.waiter.set_result((status, body))

    async def send(self, data: bytes, timeout: float) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        try:
            return await asyncio.wait_for(self.waiter, timeout)
        finally:
            self.waiter = None


@dataclass
class Sample:
    kind: str
    scheduled: float
    latency: float  # seconds from sending (never before the due time) to the complete response
    status: int
    body: bytes
    error: str | None = None
    lag: float = 0.0  # seconds the client itself started late (timer granularity, its own CPU): not charged


@dataclass
class OpenLoop:
    """Send requests at a fixed rate whatever the server does (no coordinated omission): request i is due at
    start + i / rate and is sent then, on an idle keep-alive connection or a new one, never waiting for an earlier
    answer. Latency counts from the moment the client issues the request (connection set-up included), so a server
    stall is charged to every request sent during it; the client's own lateness (``lag``) is measured apart."""

    port: int
    rate: float
    timeout: float = 10.0
    idle: list[_Conn] = field(default_factory=list)
    opened: int = 0

    async def _connection(self) -> _Conn:
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                return conn
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(_Conn, HOST, self.port)
        self.opened += 1
        return conn

    async def _one(self, kind: str, data: bytes, due: float, out: list[Sample]) -> None:
        conn: _Conn | None = None
        begin = time.perf_counter()
        lag, begin = max(0.0, begin - due), max(begin, due)
        try:
            conn = await self._connection()
            status, body = await conn.send(data, self.timeout)
            out.append(Sample(kind, due, time.perf_counter() - begin, status, body, lag=lag))
            self.idle.append(conn)
        except Exception as exc:  # noqa: BLE001 - every failure is reported as an error sample
            out.append(Sample(kind, due, time.perf_counter() - begin, 0, b"", f"{type(exc).__name__}: {exc}", lag))
            if conn is not None and conn.transport is not None:
                conn.transport.close()

    async def run(self, requests: Any, duration: float, out: list[Sample]) -> None:
        """``requests`` yields (kind, raw bytes) pairs, one per slot; stops after ``duration`` seconds."""
        loop = asyncio.get_running_loop()
        start = time.perf_counter() + 0.05
        tasks: set[asyncio.Task] = set()
        i = 0
        while True:
            due = start + i / self.rate
            if due - start >= duration:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            kind, data = next(requests)
            task = loop.create_task(self._one(kind, data, due, out))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout + 1)
        for conn in self.idle:
            if conn.transport is not None:
                conn.transport.close()
        self.idle.clear()


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]
