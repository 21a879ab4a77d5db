"""Helpers shared by the hardening and flood tests: a byte-level signer, an emulator served from a thread,
raw HTTP/1.1 over asyncio streams, and the check that an answer is JSON that names the problem."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from emulator.app import build_runtime
from emulator.auth.diagnosis import CODES
from emulator.core.clock import Clock
from emulator.testing import EmulatorServer
from tests.support.app import CREDENTIALS, NOW, settings_for

SECRET = b"ingopay-emulator-secret"
DEFAULT_ORDER = ("request-line", "x-date", "content-type", "content-sha512", "content-length")
#: Every route that checks a signature, with a body it accepts (as far as validation goes).
SIGNED_PATHS = (
    "/gateway/verify", "/gateway/process", "/gateway/v12/debit/process", "/gateway/v1/biller/search",
    "/risk/risksession/v2", "/risk/riskscore/v2", "/api/v1/sessions/point-in-time/plugin",
)
#: Ingo statuses of the request family: a refusal of the request itself, which must say what is wrong.
REQUEST_FAMILY = {400, 401, 402}
IO_TIMEOUT = 20.0  # generous: a bound against hangs, not a latency target


def http_date(timestamp: float) -> str:
    from email.utils import formatdate
    return formatdate(timestamp, usegmt=True)


def digest(body: bytes) -> bytes:
    return base64.b64encode(hashlib.sha512(body).digest())


def signature_for(names: Iterable[str], method: str, target: str, headers: dict[str, bytes], *,
                  secret: bytes = SECRET, http_version: str = "1.1") -> bytes:
    """Kong's signing string, built over bytes (so any header bytes can be signed), HMAC-SHA512, Base64.

    Written independently of ``emulator.auth.kong_signing`` on purpose: the tests check the server against it.
    ``headers`` maps lowercase names to the exact bytes sent.
    """
    lines = []
    for name in names:
        value = headers.get(name.lower())
        if value is not None:
            lines.append(name.encode() + b": " + value)
        elif name == "request-line":
            lines.append(f"{method} {target} HTTP/{http_version}".encode())
        elif name == "@request-target":
            lines.append(f"@request-target: {method.lower()} {target}".encode())
        else:
            lines.append(name.encode() + b":")
    return base64.b64encode(hmac.new(secret, b"\n".join(lines), hashlib.sha512).digest())


def authorization(names: Iterable[str], signature: bytes, *, username: bytes = b"test",
                  algorithm: bytes = b"hmac-sha512") -> bytes:
    return (b'hmac username="' + username + b'", algorithm="' + algorithm + b'", headers="'
            + " ".join(names).encode() + b'", signature="' + signature + b'"')


def signed_headers(path: str, body: bytes, *, now: float = NOW, names: Iterable[str] = DEFAULT_ORDER,
                   extra: Mapping[str, bytes | None] | None = None, content_length: bytes | None = None,
                   content_sha512: bytes | None = None) -> dict[str, bytes]:
    """Lowercase name -> value for a validly signed POST of ``body`` (values may be overridden and are signed; an
    ``extra`` value of None leaves that header out)."""
    names = tuple(names)
    given: dict[str, bytes | None] = {
        "x-date": http_date(now).encode(), "content-type": b"application/json",
        "content-sha512": digest(body) if content_sha512 is None else content_sha512,
        "content-length": str(len(body)).encode() if content_length is None else content_length}
    given.update(extra or {})
    headers = {k: v for k, v in given.items() if v is not None}
    headers["authorization"] = authorization(names, signature_for(names, "POST", path, headers))
    return headers


def request_bytes(method: str, path: str, headers: dict[str, bytes] | Iterable[tuple[str, bytes]],
                  body: bytes = b"", *, close: bool = True) -> bytes:
    items = headers.items() if isinstance(headers, dict) else headers
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    lines += [name.encode() + b": " + value for name, value in items]
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def strict_json(text: bytes) -> Any:
    """Parse as standard JSON: NaN and Infinity are not JSON, and a response must not contain them."""
    def refuse(name: str) -> Any:
        raise ValueError(f"the response contains {name}, which is not JSON")
    return json.loads(text.decode("utf-8"), parse_constant=refuse)


def assert_names_the_problem(status: int, content_type: str, raw: bytes, *, context: object = None) -> Any:
    """Never a 5xx; always a JSON object; an error says what is wrong (Kong message + diagnosis, a message,
    or an Ingo envelope whose request-family refusal carries a diagnosis)."""
    where = f" ({context!r})" if context is not None else ""
    assert status < 500, f"HTTP {status}{where}: {raw[:500]!r}"
    assert content_type.split(";")[0].strip() == "application/json", f"{content_type}{where}: {raw[:300]!r}"
    document = strict_json(raw)
    assert isinstance(document, dict), f"{document!r}{where}"
    if status == 401 and "diagnosis" in document:  # Kong's refusal, explained
        diagnosis = document.get("diagnosis") or {}
        assert document.get("message") == CODES.get(str(diagnosis.get("code"))), f"{document}{where}"
        assert isinstance(diagnosis.get("detail"), str) and diagnosis["detail"].strip(), f"{document}{where}"
        return document
    if "message" in document and "status" not in document and "response" not in document:
        assert isinstance(document["message"], str) and document["message"].strip(), f"{document}{where}"
        assert status >= 400, f"a bare message with HTTP {status}{where}: {document}"
        return document
    if "response" in document:  # v12
        ingo_status = int(document["response"]["status"])
        message = document["response"]["message"]
    else:  # v11 and the session API
        ingo_status = document["status"]
        message = document["client_message"]
    assert isinstance(message, str) and message.strip(), f"{document}{where}"
    if ingo_status in REQUEST_FAMILY:
        detail = (document.get("diagnosis") or {}).get("detail")
        assert isinstance(detail, str) and detail.strip(), f"refusal without a diagnosis{where}: {document}"
    return document


class ThreadedEmulator(EmulatorServer):
    """The real application on 127.0.0.1 and a free port, served by the test helper's background thread (so that
    one server answers every example of a Hypothesis property), with a frozen clock and client time at NOW."""

    def __init__(self, **changes: Any) -> None:
        clock = Clock(start=NOW, frozen=True)
        clock.set(NOW)
        super().__init__(runtime=build_runtime(settings_for(**changes), clock=clock, credentials=dict(CREDENTIALS),
                                               wall=lambda: NOW))
        self.start()

    def journal(self) -> list[dict[str, Any]]:
        """The server's journal, newest first."""
        runtime = self.runtime
        assert runtime is not None

        async def entries() -> list[dict[str, Any]]:
            return [e.as_json() for e in runtime.journal.entries()]

        return self.call(entries())

    def errors_in_journal(self) -> list[dict[str, Any]]:
        return [entry for entry in self.journal() if entry["http_status"] >= 500]

    def last_entry(self) -> int:
        """The id of the journal's newest entry (0 when empty): what ``journaled`` counts from."""
        entries = self.journal()
        return int(entries[0]["id"]) if entries else 0

    async def journaled(self, path: str, http_status: int, count: int, *, since: int) -> list[dict[str, Any]]:
        """Wait until the journal holds ``count`` answers of ``http_status`` to ``path`` after entry ``since``: the
        sign that the server is done with those requests (a client gone mid-body is journaled as 499 once its
        handler has finished)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + IO_TIMEOUT
        while True:
            found = [e for e in self.journal()
                     if e["id"] > since and e["path"] == path and e["http_status"] == http_status]
            if len(found) >= count:
                return found
            if loop.time() > deadline:
                raise AssertionError(f"the journal shows {len(found)} answers {http_status} to {path} after "
                                     f"{IO_TIMEOUT:g} s, not {count}: {self.journal()[:5]}")
            await asyncio.sleep(0.02)

    def close(self) -> None:
        self.stop()


async def read_response(reader: asyncio.StreamReader, timeout: float = IO_TIMEOUT
                        ) -> tuple[int, dict[str, str], bytes] | None:
    """One HTTP/1.1 response (Content-Length framed, as the emulator sends them); None on EOF before a byte."""
    async def read() -> tuple[int, dict[str, str], bytes] | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                return None
            raise
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        return int(status_line.split(" ", 2)[1]), headers, body
    return await asyncio.wait_for(read(), timeout)


async def exchange(port: int, data: bytes, *, timeout: float = IO_TIMEOUT, half_close: bool = False
                   ) -> tuple[int, dict[str, str], bytes] | None:
    """Send ``data`` on a new connection and read one response; None when the server closed without one.
    ``half_close`` ends the sending side after ``data`` (so a server waiting for more sees the end)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(data)
        await writer.drain()
        if half_close:
            writer.write_eof()
        try:
            return await read_response(reader, timeout)
        except (ConnectionResetError, BrokenPipeError):
            return None
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def health(port: int, timeout: float = IO_TIMEOUT) -> None:
    """Assert that GET /_emulator/health answers 200 {"status": "ok"}."""
    answer = await exchange(port, request_bytes("GET", "/_emulator/health", {}), timeout=timeout)
    assert answer is not None, "the health endpoint closed the connection without answering"
    status, _, body = answer
    assert status == 200 and json.loads(body)["status"] == "ok", (status, body)
