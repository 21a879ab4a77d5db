"""pytest fixtures for testing code that talks to Ingo: an emulator per test session, reset per test.

Installed with the package and registered as a ``pytest11`` entry point, so the fixtures are there
with no configuration:

``ingopay_emulator``
    The running emulator (:class:`emulator.testing.EmulatorServer`), freshly reset for each test:
    ``.url``, ``.credential`` (username, secret, participant_id), ``.client()`` (a signed client),
    ``.advance(seconds)`` (the clock), ``.webhooks(topic)`` (webhooks received), ``.runtime``.
``ingopay_client``
    A signed client for the default credential.
``ingopay_emulator_settings``
    Session-scoped :class:`emulator.settings.Settings`; override it in your conftest.py to change options.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.settings import Settings
from emulator.testing import EmulatorServer, SignedClient


@pytest.fixture(scope="session")
def ingopay_emulator_settings() -> Settings:
    """Settings for the emulator (override in conftest.py). Rate limiting is off by default in tests."""
    return Settings(rate_limit=0)


@pytest.fixture(scope="session")
def ingopay_emulator_server(ingopay_emulator_settings: Settings) -> Iterator[EmulatorServer]:
    server = EmulatorServer(ingopay_emulator_settings).start()
    yield server
    server.stop()


@pytest.fixture
def ingopay_emulator(ingopay_emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The emulator, reset before each test."""
    ingopay_emulator_server.reset()
    yield ingopay_emulator_server


@pytest.fixture
def ingopay_client(ingopay_emulator: EmulatorServer) -> SignedClient:
    """A client that signs requests with the emulator's default credential."""
    return ingopay_emulator.client()
