"""Serving the app on a socket: aiohttp's runner with the emulator's limits on slow and hostile connections.

- The request line and headers must arrive within ``--header-timeout``; aiohttp's keep-alive timer, which it
  starts when a connection opens, closes a connection that has not sent a whole request by then (and an idle
  keep-alive connection as long after its last request).
- The body must arrive within ``--body-timeout`` (``emulator.web.replies.read_body``).
- A chunked body declaring a chunk larger than ``--max-body-size`` is refused at its size line with a 400:
  llhttp accepts chunk sizes up to 2**64 - 1 and then waits for the data, which would hold the connection.
- The event loop's own errors (accept() failing at the file-descriptor limit) are told once per kind, then counted
  (``emulator.web.looperrors``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from emulator.core.bounded_reads import in_own_words
from emulator.web import looperrors

LOG = logging.getLogger("ingopay_emulator")
T = TypeVar("T")

#: Seconds aiohttp keeps reading (and discarding) a body the handler did not read, before closing.
LINGERING_SECONDS = 2.0


#: A chunk size this large is no body anyone sends: a 400 (a body that merely outgrows the limit is a 413).
ABSURD_CHUNK = 2**32


class ChunkTooLarge(Exception):
    """A chunk of a chunked request body declares more bytes than the body may have."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.absurd = size >= ABSURD_CHUNK
        super().__init__(f"a chunk of the request body declares {size} bytes; the body may have at most {limit} "
                         "bytes (--max-body-size)")


class ChunkSizes:
    """Follows the chunk framing of one request body as its bytes arrive, to see each chunk's declared size."""

    __slots__ = ("limit", "total", "_line", "_skip")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self._line = b""
        self._skip = 0  # bytes of chunk data (and its CRLF) still to pass

    def feed(self, data: bytes) -> int | None:
        """The declared size that breaks the limit, if one does; -1 once the last chunk (or a framing llhttp
        itself refuses) is reached; None while the body goes on."""
        index, end = 0, len(data)
        while index < end:
            if self._skip:
                taken = min(self._skip, end - index)
                self._skip -= taken
                index += taken
                continue
            newline = data.find(b"\n", index)
            line = self._line + data[index:end if newline < 0 else newline]
            digits = line.split(b";", 1)[0].strip()
            try:
                size = int(digits, 16) if digits else 0
            except ValueError:
                return -1  # not a chunk size: llhttp answers 400 itself
            if self.total + size > self.limit:
                return size  # even before the line ends: more digits only make it larger
            if newline < 0:
                self._line = line
                return None
            self._line = b""
            index = newline + 1
            if size == 0:
                return -1  # the last chunk; trailers follow, and llhttp reads them
            self.total += size
            self._skip = size + 2  # the data and its CRLF
        return None


class GuardedRequestHandler(RequestHandler):
    """aiohttp's protocol for one connection, refusing an oversized chunk the moment its size line arrives."""

    def __init__(self, manager: Any, *, max_body_size: int, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._max_body_size = max_body_size
        self._chunks: ChunkSizes | None = None
        self._chunked_payload: Any = None
        self._last_bytes = b""
        self._lost: asyncio.Future[None] | None = None

    def lost(self) -> asyncio.Future[None]:
        """A future that completes when this connection is lost (at once if it already is): a handler that waits
        long learns that its client went away without looking."""
        if self._lost is None:
            self._lost = asyncio.get_running_loop().create_future()
            if self.transport is None or self.transport.is_closing():
                self._lost.set_result(None)
        return self._lost

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)

    def data_received(self, data: bytes) -> None:
        before = self._request_count
        super().data_received(data)
        if self._chunks is not None:
            self._follow(data)
        elif self._request_count == before + 1 and self._messages \
                and getattr(self._messages[-1][0], "chunked", False):  # (not an error the parser queued)
            # a chunked request's headers ended in this data: its body starts after the blank line
            seen = self._last_bytes + data
            blank = seen.find(b"\r\n\r\n")
            if blank >= 0:
                self._chunks = ChunkSizes(self._max_body_size)
                self._chunked_payload = self._messages[-1][1]
                self._follow(seen[blank + 4:])
        self._last_bytes = data[-3:]

    def _follow(self, data: bytes) -> None:
        assert self._chunks is not None
        found = self._chunks.feed(data)
        if found is None:
            return
        payload, self._chunks, self._chunked_payload = self._chunked_payload, None, None
        if found < 0 or payload is None or payload.is_eof():
            return  # the body is complete (or done): reading it applies the size limit (413) as usual
        if self._answer_pending(payload):
            # the handler (reading the body, or about to) answers 400; then the connection closes
            payload.set_exception(ChunkTooLarge(found, self._max_body_size))
            payload.feed_eof()
            self.close()
        else:
            self.force_close()

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """A request aiohttp could not parse (or handle): one log line without the offending bytes, and a JSON
        answer that closes the connection."""
        if isinstance(exc, HttpProcessingError):
            reason = protocol_reason(exc)
            LOG.warning("malformed HTTP request from %s: %s (answered %d)", request.remote, reason, status)
            document = {"message": f"the request is not valid HTTP: {reason}"}
        else:
            LOG.error("error handling a request from %s", request.remote, exc_info=exc)
            document = {"message": "An unexpected error occurred in the emulator"}
        if request.writer.output_size > 0:
            raise ConnectionError("the response was under way; the connection is closed")
        response = web.Response(status=status, text=json.dumps(document), content_type="application/json")
        response.force_close()
        return response

    def _answer_pending(self, payload: Any) -> bool:
        current = self._current_request
        return any(queued is payload for _, queued in self._messages) or (
            current is not None and current._payload is payload)


def protocol_reason(exc: HttpProcessingError) -> str:
    """What aiohttp found wrong, in its own words, without the bytes it quotes (they are the client's, and could be
    anything: a secret, a card number, control characters)."""
    return in_own_words(exc.message or "") or type(exc).__name__


class EmulatorRunner(web.AppRunner):
    """aiohttp's AppRunner whose connections are :class:`GuardedRequestHandler`."""

    def __init__(self, app: web.Application, *, max_body_size: int, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._max_body_size = max_body_size

    @property
    def server(self) -> Callable[[], RequestHandler] | None:  # type: ignore[override]
        server = super().server
        if server is None:
            return None
        options = dict(server._kwargs)  # the handler options aiohttp's Server would pass

        def connection() -> RequestHandler:
            return GuardedRequestHandler(server, loop=server._loop, max_body_size=self._max_body_size, **options)

        return connection


async def serve(app: web.Application, *, host: str, port: int, header_timeout: float, max_body_size: int,
                ssl_context: ssl.SSLContext | None = None, shutdown_timeout: float = 5.0) -> EmulatorRunner:
    """Start serving ``app`` on ``host:port`` (0: a free port) with the emulator's limits: the one way every
    server of the emulator starts (the CLI, the test helpers). No access log of aiohttp's own (the emulator writes
    its own), no signal handling (the caller decides), the loop's own errors told once per kind (a connection it
    cannot accept at the file-descriptor limit). OSError when the address cannot be had."""
    looperrors.install(asyncio.get_running_loop())
    runner = EmulatorRunner(app, max_body_size=max_body_size, access_log=None, handle_signals=False,
                            shutdown_timeout=shutdown_timeout, keepalive_timeout=header_timeout,
                            lingering_time=LINGERING_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, ssl_context=ssl_context)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


#: Seconds between looks at whether a client is still there, on a connection that does not say when it goes.
LOOK = 1.0


async def while_connected(request: web.Request, work: Awaitable[T]) -> T | None:
    """``work``'s result, or None as soon as the request's client closes its connection: ``work`` is cancelled
    then, so whatever it holds is let go at once (``work`` itself never returns None)."""
    task = asyncio.ensure_future(work)
    protocol = request.protocol
    lost: asyncio.Future[None]
    polling: asyncio.Task[None] | None = None
    if isinstance(protocol, GuardedRequestHandler):
        lost = protocol.lost()
    else:
        lost = polling = asyncio.ensure_future(_gone(request))
    try:
        await asyncio.wait((task, lost), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        if polling is not None:
            polling.cancel()
    if not task.done():
        task.cancel()
        await asyncio.wait((task,))  # its clean-up has run
    return None if task.cancelled() else task.result()


async def _gone(request: web.Request) -> None:
    """Return once the request's client has closed its connection (for servers not started by :func:`serve`)."""
    while not (request.transport is None or request.transport.is_closing()):
        await asyncio.sleep(LOOK)


def bound_port(runner: web.AppRunner) -> int:
    """The port a runner listens on (the one the system chose for port 0)."""
    return int(runner.addresses[0][1])


__all__ = ["ChunkTooLarge", "EmulatorRunner", "bound_port", "serve", "while_connected"]
