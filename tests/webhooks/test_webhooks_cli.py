"""The real command line delivers webhooks: ``python -m emulator --webhook-url ...`` and
INGOPAY_EMULATOR_WEBHOOK_URL with two URLs, each on 127.0.0.1 and a free port, against a real receiver."""

from __future__ import annotations

import asyncio
import os
import sys

import aiohttp
import pytest

from emulator.webhooks import verify_signature
from tests.support.paths import ROOT
from tests.support.sockets import free_port
from tests.support.webhook_receiver import DEFAULT_SECRET, Receiver, start_receiver

pytestmark = pytest.mark.slow

TOPIC = "gateway.transaction.recipient.payment.status.check.paid"
STARTUP = 30  # seconds the emulator may take to start on a slow machine


class Emulator:
    """``python -m emulator`` on 127.0.0.1 and a free port, stopped by the test."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.args = ["-m", "emulator", "--host", "127.0.0.1", "--port", str(self.port), "--rate-limit", "0",
                     "--quiet", *args]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("INGOPAY_EMULATOR_")}
        self.env.update(env or {})
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Emulator:
        self.process = await asyncio.create_subprocess_exec(sys.executable, *self.args, cwd=ROOT, env=self.env,
                                                            stdout=asyncio.subprocess.DEVNULL,
                                                            stderr=asyncio.subprocess.PIPE)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    assert self.process.stderr is not None
                    error = await self.process.stderr.read()
                    pytest.fail(f"the emulator exited with {self.process.returncode}: {error.decode()}")
                try:
                    async with session.get(f"{self.url}/_emulator/health") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                if loop.time() > deadline:
                    pytest.fail(f"the emulator did not answer on {self.url} within {STARTUP} s")
                await asyncio.sleep(0.1)

    async def __aexit__(self, *exc: object) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    async def emit(self) -> str:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.url}/_emulator/events",
                                    json={"topic": TOPIC, "participant_id": 12345}) as response:
                assert response.status == 201, await response.text()
                return (await response.json())["id"]


async def arrival(receiver: Receiver, count: int = 1) -> None:
    """Wait until the receiver has ``count`` requests (a generous bound: a failure, not a timing claim)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while len(receiver.received) < count and loop.time() < deadline:
        await asyncio.sleep(0.05)


async def test_webhook_url_flag_and_secret_flag(aiohttp_server):
    receiver = Receiver()
    url = await start_receiver(aiohttp_server, receiver)
    async with Emulator("--webhook-url", url, "--webhook-secret", "whsec-cli") as emulator:
        event_id = await emulator.emit()
        await arrival(receiver)
    [received] = receiver.received
    assert received.path == "/hook"
    assert received.event_id == event_id
    assert received.json["metadata"]["topic"] == TOPIC
    # The subprocess runs on the real clock, so the default tolerance against time.time() applies.
    assert verify_signature(received.raw, received.signature, "whsec-cli")
    assert not verify_signature(received.raw, received.signature, DEFAULT_SECRET)


async def test_webhook_url_variable_with_two_urls(aiohttp_server):
    first, second = Receiver(), Receiver()
    urls = [await start_receiver(aiohttp_server, first), await start_receiver(aiohttp_server, second)]
    async with Emulator(env={"INGOPAY_EMULATOR_WEBHOOK_URL": " ".join(urls)}) as emulator:
        event_id = await emulator.emit()
        await arrival(first)
        await arrival(second)
    assert [r.event_id for r in first.received] == [event_id]
    assert [r.event_id for r in second.received] == [event_id]
    assert first.received[0].raw == second.received[0].raw
    assert verify_signature(first.received[0].raw, first.received[0].signature, DEFAULT_SECRET)
