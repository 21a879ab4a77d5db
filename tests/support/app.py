"""The real app in a test: the frozen test clock, the test credentials, settings and runtimes made the one way
tests make them, and a client that signs like Ingo's users."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from emulator.app import build_runtime, create_app
from emulator.client import encode_body, sign
from emulator.core.clock import Clock
from emulator.core.credentials import Credential
from emulator.settings import Settings
from emulator.web.runtime import Runtime

#: A fixed instant for the frozen test clock: Mon, 16 Nov 2026 15:00:00 GMT.
NOW = 1_794_841_200

CREDENTIALS = {
    "test": Credential("test", "ingopay-emulator-secret", 12345),
    "other": Credential("other", "other-secret", 54321),
}


@dataclass
class Signed:
    """A test client that signs each request with one credential at its own time (``client_time``), as a
    partner's application signs with its own clock, whatever the emulator clock has been moved to."""

    client: TestClient
    runtime: Runtime
    username: str = "test"

    @property
    def credential(self) -> Credential:
        return CREDENTIALS[self.username]

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    def as_user(self, username: str) -> Signed:
        return Signed(self.client, self.runtime, username)

    async def post(self, path: str, body: Any = None, *, extra_headers: dict[str, str] | None = None,
                   **sign_options: Any) -> tuple[int, Any, Any]:
        raw = encode_body(body if body is not None else {})
        headers = sign("POST", path, raw, username=self.username, secret=self.credential.secret,
                       now=self.runtime.signature_now(), **sign_options)
        headers.update(extra_headers or {})
        response = await self.client.post(path, data=raw, headers=headers)
        text = await response.text()
        document = json.loads(text) if text and response.content_type == "application/json" else text
        return response.status, document, response.headers


def frozen_at_now() -> Clock:
    """The test clock: frozen at exactly ``NOW``."""
    clock = Clock(start=NOW, frozen=True)
    clock.set(NOW)  # Clock(start=, frozen=True) freezes at NOW plus float noise (microseconds); pin it exactly
    return clock


def settings_for(**changes: Any) -> Settings:
    """The settings every test starts from (rate limiting off, no request log), with ``changes``: the one place
    tests make settings; tests of the rate limit turn it on."""
    return Settings(rate_limit=0, quiet=True).replace(**changes)


def pinned_at(timestamp: float) -> Callable[[], float]:
    """A client's time pinned at ``timestamp``: the emulator clock moves when a test advances it; the time the test's
    client lives in does not, as a real client's would not."""
    return lambda: timestamp


def runtime_for(clock: Clock | None = None, *, credentials: dict[str, Credential] | None = None,
                real_time: bool = False, wall: Callable[[], float] | None = None, **changes: Any) -> Runtime:
    """The real app's runtime for a test: rate limit off and quiet unless changed, the test credentials, and a
    client whose time is where the (frozen) test clock starts; with ``real_time`` (or no clock), clients live in
    real time, as a process outside the test (the ``sign`` command, curl) does; ``wall`` gives them another."""
    settings = settings_for(**changes)
    if wall is None and clock is not None and clock.frozen and not real_time:
        wall = pinned_at(clock.now())
    return build_runtime(settings, clock=clock, credentials=dict(credentials or CREDENTIALS), wall=wall)


async def serve(aiohttp_client: Any, runtime: Runtime) -> Signed:
    """The app of ``runtime`` on a test server on 127.0.0.1, with a signing client."""
    return Signed(await aiohttp_client(create_app(runtime=runtime)), runtime)
