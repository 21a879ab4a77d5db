"""A real webhook receiver for the tests: an aiohttp app on 127.0.0.1 that keeps every request it is sent.

Each test scripts how it answers (``respond``: 200, 500, slow, reset, ...) per call number. Nothing here
decides whether the emulator is right; the tests assert on what the receiver saw.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from emulator.core.clock import Clock
from tests.support.app import Signed, runtime_for, serve

#: The secret that signs deliveries when neither the endpoint nor --webhook-secret names another.
DEFAULT_SECRET = "ingopay-emulator-webhook-secret"




@dataclass
class Received:
    """One request as the receiver got it: the raw body bytes, the headers and the parsed JSON."""

    path: str
    raw: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def signature(self) -> str:
        return self.headers["X-Ingo-Signature"]

    @property
    def t(self) -> int:
        """The t= of X-Ingo-Signature."""
        return int(dict(part.split("=", 1) for part in self.signature.split(","))["t"])

    @property
    def event_id(self) -> str:
        return self.json["metadata"]["id"]


Responder = Callable[[int, web.Request], Awaitable[web.StreamResponse]]


async def ok(number: int, request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok")


@dataclass
class Receiver:
    """Keeps every request (``received``); answers with ``respond(call_number, request)``, 200 "ok" by default."""

    respond: Responder = ok
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    log: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.received.append(Received(request.path, raw, dict(request.headers)))
        self.arrived.set()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self.respond(len(self.received), request)
        finally:
            self.in_flight -= 1

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        return app

    def topics(self) -> list[str]:
        return [r.json["metadata"]["topic"] for r in self.received]


async def start_receiver(aiohttp_server, receiver: Receiver, port: int | None = None) -> str:
    """Serve ``receiver`` on 127.0.0.1 (on ``port`` if given); returns the URL of its /hook."""
    server = await aiohttp_server(receiver.app(), host="127.0.0.1", port=port)
    return str(server.make_url("/hook"))


async def start_emulator(aiohttp_client, clock: Clock, urls: tuple[str, ...] = (), **settings: Any) -> Signed:
    """The emulator app on a test server, delivering webhooks to ``urls``."""
    return await serve(aiohttp_client, runtime_for(clock, webhook_url=tuple(urls), **settings))


async def admin(emu: Signed, method: str, path: str, body: Any = None, *, status: int = 200) -> Any:
    """Call the admin API and check the HTTP status."""
    # json= sends Content-Type: application/json even without a body, as the admin API requires of a POST
    response = await emu.client.request(method, path, data=json.dumps(body) if body is not None else b"",
                                        headers={"Content-Type": "application/json"})
    document = await response.json()
    assert response.status == status, document
    return document


async def emit(emu: Signed, topic: str, participant_id: int = 12345, **fields: Any) -> dict[str, Any]:
    """POST /_emulator/events: emit one event now (its first delivery attempt is due at once)."""
    return await admin(emu, "POST", "/_emulator/events", {"topic": topic, "participant_id": participant_id, **fields},
                       status=201)


async def advance(emu: Signed, seconds: float) -> dict[str, Any]:
    """POST /_emulator/clock {"advance": seconds}: returns once everything due has fired and finished."""
    return await admin(emu, "POST", "/_emulator/clock", {"advance": seconds})


async def deliveries(emu: Signed, **query: Any) -> list[dict[str, Any]]:
    response = await emu.client.get("/_emulator/webhooks", params={k: str(v) for k, v in query.items()})
    document = await response.json()
    assert response.status == 200, document
    assert document["count"] == len(document["deliveries"])
    return document["deliveries"]


async def only_delivery(emu: Signed, **query: Any) -> dict[str, Any]:
    found = await deliveries(emu, **query)
    assert len(found) == 1, found
    return found[0]
