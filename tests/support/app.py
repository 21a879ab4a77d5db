"""Fixtures: a real emulator app on a test server, a frozen clock, and a client that signs like Ingo's users."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from emulator.app import build_runtime, create_app
from emulator.client import encode_body, sign
from emulator.core.clock import Clock
from emulator.core.credentials import Credential
from emulator.settings import Settings
from emulator.web.state import Runtime

#: A fixed instant for the frozen test clock: Mon, 16 Nov 2026 15:00:00 GMT.
pytest_plugins = ["pytester", "tests.browser"]

#: (see below)
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
                   **sign_options: Any) -> tuple[int, dict[str, Any], Any]:
        raw = encode_body(body if body is not None else {})
        headers = sign("POST", path, raw, username=self.username, secret=self.credential.secret,
                       now=self.runtime.signature_now(), **sign_options)
        headers.update(extra_headers or {})
        response = await self.client.post(path, data=raw, headers=headers)
        text = await response.text()
        document = json.loads(text) if text and response.content_type == "application/json" else text
        return response.status, document, response.headers


async def eventually(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Wait until ``check()`` returns something true (and return it): how a test waits for an event it can observe
    (a journal entry, a delivered webhook) instead of sleeping a fixed time. Fails naming ``what`` after
    ``timeout`` seconds, a generous bound against hangs, not a timing claim."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = check()
        if found:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout:g} s")
        await asyncio.sleep(0.02)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now), for servers a test starts itself."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def v11(**fields: Any) -> dict[str, Any]:
    """participant_id, timestamp and version as the test clock sees them, plus ``fields``."""
    return {"participant_id": 12345, "timestamp": NOW, "version": 11, **fields}


CARD = {"account_type": "CA", "participant_unique_id1": "customer-1", "account": "4111111111111111",
        "expiration_date": "2912", "cvv": "123", "recipient_first_name": "Jane", "recipient_last_name": "Doe",
        "recipient_address1": "1 Main St", "recipient_city": "Atlanta", "recipient_state": "GA",
        "recipient_zip": "30301"}
ACH = {"account_type": "AC", "participant_unique_id1": "customer-2", "account": "22222222",
       "routing_number": "011000015", "fi_account_type": "1", "fi_account_classification": "1",
       "recipient_first_name": "John", "recipient_last_name": "Roe", "recipient_address1": "2 Oak Ave",
       "recipient_city": "Austin", "recipient_state": "TX", "recipient_zip": "73301"}

SESSION = {"participant_unique_id1": "session-request-1",
           "recipient_information": {"first_name": "Jane", "last_name": "Doe", "address_line1": "1 Main St",
                                     "city": "Atlanta", "state": "GA", "zip_code": "30301",
                                     "email_address": "jane.doe@example.com", "mobile_number": "5555550100"},
           "language_locale_code": "en-US"}
RECIPIENT = {"recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
             "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}
BENEFICIARY = {"beneficiary_account": "3000000038", "beneficiary_first_name": "Jane",
               "beneficiary_last_name": "Doe", "beneficiary_address1": "1 Main St", "beneficiary_city": "Atlanta",
               "beneficiary_state": "GA", "beneficiary_zip": "30301"}


@pytest.fixture
def clock() -> Clock:
    clock = Clock(start=NOW, frozen=True)
    clock.set(NOW)  # Clock(start=, frozen=True) freezes at NOW plus float noise (microseconds); pin it exactly
    return clock


def settings_for(**changes: Any) -> Settings:
    """The settings every test starts from (rate limiting off, no request log), with ``changes``: the one place
    tests make settings; tests of the rate limit turn it on."""
    return Settings(rate_limit=0, quiet=True).replace(**changes)


@pytest.fixture
def settings() -> Settings:
    return settings_for()


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


@pytest.fixture
def runtime(settings: Settings, clock: Clock) -> Runtime:
    return build_runtime(settings, clock=clock, credentials=dict(CREDENTIALS), wall=pinned_at(NOW))


@pytest.fixture
def make_emulator(aiohttp_client: Any, clock: Clock) -> Callable[..., Any]:
    """Build an emulator with some settings changed (the ``emulator`` fixture uses the defaults)."""
    async def make(**changes: Any) -> Signed:
        return await serve(aiohttp_client, runtime_for(clock, **changes))
    return make


@pytest.fixture
async def emulator(aiohttp_client, runtime: Runtime) -> Signed:
    client = await aiohttp_client(create_app(runtime=runtime))
    return Signed(client, runtime)


@pytest.fixture
async def card_token(emulator: Signed) -> str:
    status, body, _ = await emulator.post("/gateway/verify", v11(**CARD))
    assert status == 200 and body["status"] == 100, body
    return body["data"]["customer_account_token"]


__all__ = ["ACH", "BENEFICIARY", "CARD", "NOW", "RECIPIENT", "SESSION", "Signed", "free_port", "pinned_at",
           "runtime_for", "serve", "v11"]
