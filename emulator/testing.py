"""Running the emulator inside a test process: a server thread, a webhook receiver, a signed client.

Used by the pytest plugin (:mod:`emulator.pytest_plugin`); usable from any test framework.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from emulator.app import build_runtime, create_app
from emulator.auth.client import encode_body, sign
from emulator.core.credentials import Credential
from emulator.settings import Settings
from emulator.web.serving import bound_port, serve
from emulator.web.state import Runtime
from emulator.webhooks.signing import SIGNATURE_HEADER, verify_signature

T = TypeVar("T")


@dataclass
class Response:
    """What a signed call returned."""

    status: int
    headers: dict[str, str]
    body: Any

    def __getitem__(self, key: str) -> Any:
        return self.body[key]


@dataclass
class ReceivedWebhook:
    """One delivery the built-in receiver got: the parsed envelope, raw body, headers, signature check."""

    envelope: dict[str, Any]
    body: bytes
    headers: dict[str, str]
    signature_valid: bool

    @property
    def topic(self) -> str:
        return str(self.envelope["metadata"]["topic"])

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = self.envelope["data"]["event"]
        return event


class SignedClient:
    """A small synchronous client that signs every request the way Ingo documents."""

    def __init__(self, base_url: str, credential: Credential, clock_now: Any = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.credential = credential
        self._now = clock_now

    def post(self, path: str, body: Any, *, headers: dict[str, str] | None = None) -> Response:
        raw = encode_body(body)
        signed = sign("POST", path, raw, username=self.credential.username, secret=self.credential.secret,
                      now=self._now() if self._now else None)
        signed.update(headers or {})
        request = urllib.request.Request(self.base_url + path, data=raw, headers=signed, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, head, text = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            status, head, text = error.code, dict(error.headers), error.read()
        try:
            document: Any = json.loads(text)
        except ValueError:
            document = text.decode("utf-8", "replace")
        return Response(status, head, document)

    def base(self, **fields: Any) -> dict[str, Any]:
        """participant_id, timestamp and version (11) for a v11 body, plus ``fields``."""
        now = int(self._now()) if self._now else int(__import__("time").time())
        return {"participant_id": self.credential.participant_id, "timestamp": now, "version": 11, **fields}


@dataclass
class EmulatorServer:
    """An emulator serving on 127.0.0.1 and a free port from a background thread, plus a webhook receiver.

    Give ``runtime`` to serve parts built beforehand (a pinned clock, own credentials); its settings are then the
    runtime's, and the receiver is not among its webhook endpoints.
    """

    settings: Settings = field(default_factory=Settings)
    runtime: Runtime | None = None
    url: str = ""
    receiver_url: str = ""
    received: list[ReceivedWebhook] = field(default_factory=list)
    receiver_status: int = 200

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ingopay-emulator", daemon=True)
        self._runners: list[web.AppRunner] = []
        self._lock = threading.Lock()

    def start(self) -> EmulatorServer:
        self._thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        receiver = web.Application()
        receiver.router.add_post("/webhooks", self._receive)
        self.receiver_url = await self._serve(receiver) + "/webhooks"
        if self.runtime is None:
            self.settings = self.settings.replace(host="127.0.0.1", port=0, quiet=True,
                                                  webhook_url=(*self.settings.webhook_url, self.receiver_url))
            self.runtime = build_runtime(self.settings)
        else:
            self.settings = self.runtime.settings
        self.url = await self._serve(create_app(runtime=self.runtime))

    async def _serve(self, app: web.Application) -> str:
        runner = await serve(app, host="127.0.0.1", port=0, header_timeout=self.settings.header_timeout,
                             max_body_size=self.settings.max_body_size, shutdown_timeout=2.0)
        self._runners.append(runner)
        return f"http://127.0.0.1:{bound_port(runner)}"

    @property
    def port(self) -> int:
        """The emulator's port."""
        return int(self.url.rsplit(":", 1)[1])

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        valid = verify_signature(body, request.headers.get(SIGNATURE_HEADER, ""), self.settings.webhook_secret,
                                 tolerance=0)
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = {}
        with self._lock:
            self.received.append(ReceivedWebhook(envelope, body, dict(request.headers), valid))
        return web.Response(status=self.receiver_status, text="ok")

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=120)

    # -- what tests use -----------------------------------------------------------------------------------

    @property
    def credential(self) -> Credential:
        assert self.runtime is not None
        return next(iter(self.runtime.credentials.values()))

    def client(self, username: str | None = None) -> SignedClient:
        assert self.runtime is not None
        credential = self.runtime.credentials[username] if username else self.credential
        return SignedClient(self.url, credential, self.runtime.signature_now)

    def now(self) -> float:
        assert self.runtime is not None
        return self.runtime.clock.now()

    def advance(self, seconds: float) -> int:
        """Move the emulator clock forward, firing (and delivering) everything that falls due."""
        assert self.runtime is not None
        return self.call(self.runtime.services.scheduler.advance(seconds))

    def freeze(self) -> None:
        assert self.runtime is not None
        self.runtime.clock.freeze()

    def settle(self) -> None:
        """Wait until deliveries under way have finished."""
        assert self.runtime is not None
        self.call(self.runtime.services.scheduler.run_due())

    def webhooks(self, topic: str | None = None) -> list[ReceivedWebhook]:
        """Webhooks the built-in receiver got so far (after letting deliveries under way finish)."""
        self.settle()
        with self._lock:
            return [w for w in self.received if topic is None or w.topic == topic]

    def reset(self) -> None:
        """Forget all state, requests, events, deliveries and received webhooks; clock back to real time."""
        runtime = self.runtime
        assert runtime is not None

        async def _reset() -> None:
            await runtime.services.scheduler.settle()
            runtime.reset()

        self.call(_reset())
        with self._lock:
            self.received.clear()
        self.receiver_status = 200

    def stop(self) -> None:
        """Stop serving, end connections still open (a test may hold some on purpose), stop the thread."""
        async def _stop() -> None:
            for runner in reversed(self._runners):
                await runner.cleanup()
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        if self._thread.is_alive():
            try:
                self.call(_stop())
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=10)
                if not self._thread.is_alive():
                    self._loop.close()
