"""Floods against the real server (a subprocess, default rate limit of 5 a second): 500 concurrent connections
for a bounded time, all signing for one credential. Every answer is the business answer or Kong's 429, never an
error; the health endpoint keeps answering throughout; and resident memory does not grow across floods (the
journal is a bounded ring, the rate limiter keeps one deque of at most N timestamps per credential, and
refused requests touch no other state).

Loopback only; every loop is bounded in count and in time. Nothing here bounds latency: only that answers come.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from emulator.client import encode_body, sign
from emulator.core.journal import Entry, Journal
from emulator.web.ratelimit import RateLimiter
from tests.support.app import runtime_for
from tests.support.paths import ROOT
from tests.support.sockets import free_port, raise_fd_limit

CONNECTIONS = 500
FLOOD_SECONDS = 6.0
MEMORY_FLOOD_SECONDS = 3.0
RATE_LIMIT = 5  # the default --rate-limit
HEALTH_TIMEOUT = 30.0  # per health request: generous, a bound against hangs and not a latency target
IO_TIMEOUT = 30.0
#: Growth of resident memory allowed from after a warm-up flood to after three more. What a flood leaves
#: behind is bounded: the journal's 1000 entries (a 429's entry holds no body: well under 1 kB each, so < 1 MB),
#: the limiter's one deque of 5 floats for the one credential, and a verify record per accepted request
#: (5 a second: a few hundred records, tens of kB). The rest is allocator noise: pymalloc arenas and glibc
#: heaps that 500 connections' buffers grow once and reuse. 15 MB is several times that and far below a leak:
#: every one of the ~20,000+ refused requests per flood keeping even 1 kB would add 20 MB per flood.
MEMORY_GROWTH_LIMIT = 15 * 1024 * 1024

VERIFY = "/gateway/verify"
BODY = encode_body({"participant_id": 12345, "timestamp": 0, "version": 11, "account_type": "CA",
                    "participant_unique_id1": "flood-1", "account": "4111111111111111", "expiration_date": "2912",
                    "recipient_first_name": "Jane", "recipient_last_name": "Doe",
                    "recipient_address1": "1 Main St", "recipient_city": "Atlanta", "recipient_state": "GA",
                    "recipient_zip": "30301"})


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def rss(self) -> int:
        """Resident memory of the server process, in bytes (VmRSS of /proc/PID/status)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc/PID/status")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path("/proc/self/status").exists():
        pytest.skip("reads memory from /proc")
    raise_fd_limit(2 * CONNECTIONS + 200)  # both ends live in this machine; the child inherits the limit
    port = free_port()
    stderr_path = tmp_path_factory.mktemp("flood") / "stderr.txt"
    stderr = stderr_path.open("w")  # a file, not a pipe nobody drains during the floods
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    try:
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and "ready" not in line:
            if not select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break  # no line in time: fails below
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise AssertionError(f"the emulator exited: {stderr_path.read_text()}")
        assert "ready" in line, line
        yield Server(process, port)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        stderr.close()
        process.stdout.close()
        leftovers = stderr_path.read_text()
        assert "unexpected error" not in leftovers and "Traceback" not in leftovers, leftovers[-3000:]


def signed_request() -> bytes:
    """One signed verify, valid for the whole clock-skew window (300 s), sent again and again (keep-alive)."""
    now = time.time()
    body = BODY.replace(b'"timestamp":0', b'"timestamp":%d' % int(now))
    headers = sign("POST", VERIFY, body, now=now)
    head = f"POST {VERIFY} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lowered = head.lower()
    at = lowered.find(b"\r\ncontent-length:")
    length = int(head[at + 17:head.index(b"\r\n", at + 2)]) if at >= 0 else 0
    return status, await reader.readexactly(length)


@dataclass
class FloodResult:
    statuses: Counter = field(default_factory=Counter)
    bad: list = field(default_factory=list)  # (status, body) of anything but a 200 business answer or a 429
    errors: list = field(default_factory=list)  # exceptions the connections met
    health: list = field(default_factory=list)  # status of every health poll ("timeout" or an error name)
    seconds: float = 0.0


async def flood(port: int, seconds: float, *, poll_health: bool) -> FloodResult:
    result = FloodResult()
    request = signed_request()
    started = time.monotonic()
    deadline = started + seconds

    async def worker() -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), IO_TIMEOUT)
        except (TimeoutError, OSError) as exc:
            result.errors.append(f"connect: {exc!r}")
            return
        try:
            for _ in range(1_000_000):  # bounded; the deadline ends it long before
                if time.monotonic() >= deadline:
                    break
                writer.write(request)
                status, body = await asyncio.wait_for(read_response(reader), IO_TIMEOUT)
                result.statuses[status] += 1
                if status == 429:
                    if json.loads(body).get("message") != "API rate limit exceeded":
                        result.bad.append((status, body[:300]))
                elif status != 200 or json.loads(body).get("status") not in (100, 101):
                    result.bad.append((status, body[:300]))
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.errors.append(repr(exc))
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def poller() -> None:
        for _ in range(10_000):  # bounded; the deadline ends it long before
            if time.monotonic() >= deadline:
                break
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port),
                                                        HEALTH_TIMEOUT)
                writer.write(b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                status, body = await asyncio.wait_for(read_response(reader), HEALTH_TIMEOUT)
                writer.close()
                result.health.append(status if json.loads(body).get("status") == "ok" else f"{status} {body!r}")
            except TimeoutError:
                result.health.append("timeout")
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                result.health.append(repr(exc))
            await asyncio.sleep(0.25)

    tasks = [worker() for _ in range(CONNECTIONS)]
    if poll_health:
        tasks.append(poller())
    await asyncio.wait_for(asyncio.gather(*tasks), seconds + 3 * IO_TIMEOUT)
    result.seconds = time.monotonic() - started
    return result


@pytest.mark.slow
async def test_a_flood_of_500_connections_gets_answers_or_429s_and_health_keeps_answering(server):
    result = await flood(server.port, FLOOD_SECONDS, poll_health=True)
    assert result.errors == [], result.errors[:10]
    assert result.bad == [], result.bad[:10]
    assert set(result.statuses) <= {200, 429}, result.statuses
    assert result.statuses[429] > result.statuses[200] > 0, result.statuses
    # the limiter held under load: at most 5 in any one-second window over the flood's duration
    assert result.statuses[200] <= RATE_LIMIT * (result.seconds + 1), (result.statuses, result.seconds)
    assert result.health and all(status == 200 for status in result.health), result.health
    assert server.process.poll() is None, "the emulator died"


@pytest.mark.slow
async def test_memory_does_not_grow_across_repeated_floods(server):
    await flood(server.port, MEMORY_FLOOD_SECONDS, poll_health=False)  # warm-up: buffers and caches grow once
    await asyncio.sleep(0.5)
    after_warm_up = server.rss()
    samples = []
    for _ in range(3):
        result = await flood(server.port, MEMORY_FLOOD_SECONDS, poll_health=False)
        assert result.errors == [] and result.bad == [], (result.errors[:5], result.bad[:5])
        await asyncio.sleep(0.5)
        samples.append(server.rss())
    growth = samples[-1] - after_warm_up
    assert growth < MEMORY_GROWTH_LIMIT, (
        f"RSS grew by {growth / 2**20:.1f} MB after warm-up ({after_warm_up / 2**20:.1f} MB, then "
        f"{[round(s / 2**20, 1) for s in samples]} MB)")
    # the journal stayed within its size: ask the server itself
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /_emulator/requests?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    status, body = await asyncio.wait_for(read_response(reader), IO_TIMEOUT)
    writer.close()
    assert status == 200 and json.loads(body)["count"] == 1


# -- the bounded structures, unit by unit --------------------------------------------------------------------


def test_the_journal_never_holds_more_than_its_size():
    journal = Journal(size=50)
    for _ in range(10_000):
        journal.add(Entry(id=journal.new_id(), request_id="r", time=0.0, method="POST", path=VERIFY))
        assert len(journal) <= 50
    assert len(journal) == 50 and journal.entries()[0].id == 10_000


def test_the_limiter_keeps_at_most_n_timestamps_for_each_credential():
    now = [0.0]
    limiter = RateLimiter(5, now=lambda: now[0])
    for step in range(10_000):
        now[0] = step * 0.001
        limiter.acquire("test")
        assert all(len(hits) <= 5 for hits in limiter._hits.values())
    assert set(limiter._hits) == {"test"}


async def test_unknown_usernames_create_no_limiter_entries(aiohttp_client):
    """A flood of usernames fails authentication before the limiter: its structures stay one per credential."""
    from emulator.app import create_app
    from tests.support.app import CREDENTIALS

    runtime = runtime_for(rate_limit=5, journal_size=100)
    client = await aiohttp_client(create_app(runtime=runtime))
    body = BODY
    for number in range(300):
        headers = sign("POST", VERIFY, body, username=f"stranger-{number}", secret="whatever")
        response = await client.post(VERIFY, data=body, headers=headers)
        assert response.status == 401
        assert (await response.json())["diagnosis"]["code"] == "unknown_username"
    for username in ("test", "other"):
        secret = CREDENTIALS[username].secret
        for _ in range(20):
            response = await client.post(VERIFY, data=body, headers=sign("POST", VERIFY, body, username=username,
                                                                         secret=secret))
            assert response.status in (200, 429)
    assert set(runtime.rate_limiter._hits) == {"test", "other"}
    assert all(len(hits) <= 5 for hits in runtime.rate_limiter._hits.values())
    assert set(runtime.rate_limiter.snapshot()) == {"test", "other"}
    assert len(runtime.journal) == 100
