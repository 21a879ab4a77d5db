"""What another server sends is read only as far as it is kept: a webhook receiver's answer (its first 1 KB, then
the connection is closed) and the proxy's upstream's (up to --upstream-max-bytes, a 502 beyond); either's head is
held to aiohttp's limits (8190 bytes a line, 128 headers).

Against the real emulator and proxy, each a process of its own, and raw peers on 127.0.0.1 that answer with a body
that never ends, a body of 50 MB or a header of 1 MB: the attempt (or the exchange) is recorded with the kept start
or an error that names the limit, and the process's resident memory stays flat.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emulator.core.bounded_reads import MAX_HEADER_LINE
from emulator.proxy.app import ProxyOptions
from emulator.proxy.recording import read_recording
from emulator.webhooks.delivery import RESPONSE_KEPT
from tests.support.hostile_peers import (
    FIFTY_MB,
    PIECE,
    EmulatorProcess,
    RawPeer,
    endless_body,
    fifty_mb_body,
    megabyte_header,
)
from tests.support.proxy import CannedUpstream, ProxyServer, raw_request
from tests.support.sockets import free_port
from tests.support.webhook_receiver import Receiver, advance, emit, only_delivery, start_emulator, start_receiver

#: Growth of resident memory allowed across the hostile answers: room for allocator noise and the HTTP client made
#: for the first exchange, far below what holding the answers would cost (3 x 50 MB, or gigabytes for an endless
#: body). A bound on behaviour, not a measurement.
GROWTH = 50 * 1024 * 1024
AT_ONCE = 3  # answers of the same kind under way together
WAIT = 60.0  # seconds: a bound against hangs, not a timing claim
KONG_502 = {"message": "An invalid response was received from the upstream server"}

needs_proc = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc")


async def call(http: aiohttp.ClientSession, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with http.request(method, path, json=body) as response:
        return response.status, await response.json()


@pytest.fixture
async def peers():
    started: list[RawPeer] = []

    async def start(behaviour: Any, port: int = 0) -> RawPeer:
        peer = await RawPeer(behaviour).start(port)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        await peer.stop()


@pytest.fixture
def processes():
    started: list[EmulatorProcess] = []

    def start(*args: str, log: Path) -> EmulatorProcess:
        process = EmulatorProcess(free_port(), *args, log=log)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


async def send_events_and_wait(http: aiohttp.ClientSession, prefix: str, status: str) -> Any:
    """Emit AT_ONCE events to the receiver and wait until as many deliveries have ``status``; the wait's answer."""
    for number in range(AT_ONCE):
        assert (await call(http, "POST", "/_emulator/events", {
            "topic": "gateway.transaction.recipient.payment.status.returned", "participant_id": 12345,
            "ancillary": {"participant_unique_id1": f"{prefix}-{number}"}}))[0] == 201
    answer, seen = await call(http, "POST", "/_emulator/webhooks/wait", {
        "match": {"status": status}, "count": AT_ONCE, "timeout": WAIT})
    assert answer == 200, seen
    return seen


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize("behaviour", [endless_body, fifty_mb_body], ids=["endless", "50MB"])
async def test_a_receivers_long_answer_is_kept_to_its_start_and_its_connection_closed(peers, processes, tmp_path,
                                                                                      behaviour):
    receiver = await peers(behaviour)
    emulator = processes("--quiet", "--webhook-url", receiver.url, "--webhook-retry-schedule", "",
                         log=tmp_path / "emulator.log")
    async with aiohttp.ClientSession(emulator.url) as http:
        before = emulator.rss()
        await send_events_and_wait(http, "long", "delivered")
        # The emulator stopped reading and closed each connection, the answer far from over.
        await receiver.until(lambda: receiver.cut_off == AT_ONCE and receiver.open == 0,
                             "the emulator closing each connection")
        after = emulator.rss()
        _, listed = await call(http, "GET", "/_emulator/webhooks")
    assert after - before < GROWTH, f"resident memory grew by {(after - before) / 2**20:.0f} MB"
    if behaviour is fifty_mb_body:
        assert receiver.written < AT_ONCE * FIFTY_MB
    for delivery in listed["deliveries"]:
        (attempt,) = delivery["attempts"]
        assert attempt["ok"] and attempt["http_status"] == 200 and attempt["error"] is None
        assert attempt["response_body"] == PIECE[:RESPONSE_KEPT].decode()


@pytest.mark.slow
@needs_proc
async def test_a_receivers_megabyte_header_fails_the_attempt_naming_the_limit(peers, processes, tmp_path):
    receiver = await peers(megabyte_header)
    emulator = processes("--quiet", "--webhook-url", receiver.url, "--webhook-retry-schedule", "",
                         log=tmp_path / "emulator.log")
    async with aiohttp.ClientSession(emulator.url) as http:
        before = emulator.rss()
        seen = await send_events_and_wait(http, "header", "failed")
        await receiver.until(lambda: receiver.open == 0, "the emulator closing each connection")
        after = emulator.rss()
    assert after - before < GROWTH, f"resident memory grew by {(after - before) / 2**20:.0f} MB"
    for delivery in seen["deliveries"]:
        (attempt,) = delivery["attempts"]
        assert not attempt["ok"] and attempt["http_status"] is None and attempt["response_body"] is None
        assert attempt["error"] == ("the receiver's answer cannot be read: its head has a line longer than "
                                    f"{MAX_HEADER_LINE} bytes (the most the emulator reads)")
    assert "aaaa" not in emulator.log()  # the receiver's bytes are quoted nowhere


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize(("behaviour", "kind", "says"), [
    (endless_body, "too_large", "answered with a body longer than 4194304 bytes (--upstream-max-bytes)"),
    (fifty_mb_body, "too_large", "answered with a body longer than 4194304 bytes (--upstream-max-bytes)"),
    (megabyte_header, "invalid", f"its head has a line longer than {MAX_HEADER_LINE} bytes"),
], ids=["endless", "50MB", "1MB-header"])
async def test_an_upstreams_answer_is_read_only_up_to_the_limit(peers, processes, tmp_path, behaviour, kind, says):
    upstream = await peers(behaviour)
    recording = tmp_path / "recording"
    proxy = processes("proxy", "--upstream", upstream.base, "--record", str(recording), "--rate-limit", "0",
                      "--quiet", log=tmp_path / "proxy.log")
    async with aiohttp.ClientSession(proxy.url) as http:
        before = proxy.rss()
        answers = await asyncio.gather(*(call(http, "GET", f"/gateway/anything?n={n}") for n in range(AT_ONCE)))
        await upstream.until(lambda: upstream.open == 0, "the proxy closing each connection")
        after = proxy.rss()
    assert answers == [(502, KONG_502)] * AT_ONCE
    assert after - before < GROWTH, f"resident memory grew by {(after - before) / 2**20:.0f} MB"
    if behaviour is not megabyte_header:
        assert upstream.cut_off == AT_ONCE
    recorded = read_recording(recording)
    assert len(recorded) == AT_ONCE
    for item in recorded:
        error = item.document["upstream_error"]
        assert error["kind"] == kind and says in error["detail"] and error["status"] == 502
    assert says in proxy.log() and "aaaa" not in proxy.log()


def test_an_upstream_answer_of_up_to_the_limit_is_forwarded_and_a_longer_one_is_a_502(tmp_path: Path):
    limit = 2048
    for size, expected in ((limit, 200), (limit + 1, 502)):
        body = b"p" * size
        upstream = CannedUpstream(200, [(b"Content-Type", b"text/plain")], body)
        proxy = ProxyServer(ProxyOptions(upstream=upstream.url, upstream_max_bytes=limit,
                                         record=tmp_path / str(size))).start()
        try:
            status, _, answered = raw_request(proxy.url, b"GET /gateway/anything HTTP/1.1")
        finally:
            proxy.stop()
            upstream.stop()
        assert status == expected
        if expected == 200:
            assert answered == body  # byte for byte
        else:
            assert json.loads(answered) == KONG_502
            (recorded,) = read_recording(tmp_path / str(size))
            assert recorded.document["upstream_error"]["kind"] == "too_large"


async def test_the_kept_start_is_text_without_a_character_cut_in_two(aiohttp_client, aiohttp_server, clock):
    async def respond(number: int, request: web.Request) -> web.StreamResponse:
        return web.Response(text="a" + "é" * 2000, charset="utf-8")  # é is two bytes: the limit falls inside one

    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, Receiver(respond)),))
    await emit(emu, "gateway.transaction.recipient.payment.status.returned")
    await advance(emu, 0)
    (attempt,) = (await only_delivery(emu))["attempts"]
    assert attempt["ok"] and attempt["response_body"] == "a" + "é" * ((RESPONSE_KEPT - 1) // 2)
