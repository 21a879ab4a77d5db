"""Fixtures: a real emulator app on a test server, a frozen clock, and a client that signs like Ingo's users.

What tests import (the test credentials, bodies, ``Signed``, ``eventually``, ``free_port`` ...) lives in
tests/support/; this file holds only fixtures and the plugins the tests use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from emulator.app import build_runtime, create_app
from emulator.core.clock import Clock
from emulator.settings import Settings
from emulator.web.runtime import Runtime
from tests.support.app import CREDENTIALS, NOW, Signed, frozen_at_now, pinned_at, runtime_for, serve, settings_for
from tests.support.bodies import CARD, v11

pytest_plugins = ["pytester", "tests.support.browser"]


@pytest.fixture
def clock() -> Clock:
    return frozen_at_now()


@pytest.fixture
def settings() -> Settings:
    return settings_for()


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
async def emulator(aiohttp_client: Any, runtime: Runtime) -> Signed:
    client = await aiohttp_client(create_app(runtime=runtime))
    return Signed(client, runtime)


@pytest.fixture
async def card_token(emulator: Signed) -> str:
    status, body, _ = await emulator.post("/gateway/verify", v11(**CARD))
    assert status == 200 and body["status"] == 100, body
    return str(body["data"]["customer_account_token"])
