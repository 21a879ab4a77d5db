"""--data-dir survives kill -9: every process that was answered with success is still there after a restart.

The real server runs as a subprocess on 127.0.0.1 and a free port; a burst of concurrent signed processes is cut
short by SIGKILL; a new server on the same data folder must replay each acknowledged transaction (101, same
transaction_id) and still accept the token.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.client import encode_body, sign
from tests.support.processes import Emulator
from tests.support.sockets import free_port

pytestmark = pytest.mark.slow

BURST = 400
CONCURRENCY = 32
KILL_AFTER = 60  # successes seen before the SIGKILL




@pytest.fixture
def servers(tmp_path):
    started: list[Emulator] = []

    def start(*extra: str) -> Emulator:
        server = Emulator(tmp_path / "data", *extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


async def post(session: aiohttp.ClientSession, base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    raw = encode_body(body)
    headers = sign("POST", base + path, raw)
    async with session.post(base + path, data=raw, headers=headers) as response:
        assert response.status == 200, await response.text()
        return json.loads(await response.read())


CARD = {"participant_id": 12345, "version": 11, "account_type": "CA", "participant_unique_id1": "customer-1",
        "account": "4111111111111111", "expiration_date": "2912", "recipient_first_name": "Jane",
        "recipient_last_name": "Doe", "recipient_address1": "1 Main St", "recipient_city": "Atlanta",
        "recipient_state": "GA", "recipient_zip": "30301"}


def process_body(token: str, puid1: str) -> dict[str, Any]:
    return {"participant_id": 12345, "timestamp": int(time.time()), "version": 11, "account_type": "CA",
            "amount": 10.5, "customer_account_token": token, "source_of_funds": 4, "participant_unique_id1": puid1}


async def test_kill_9_mid_burst_loses_no_acknowledged_transaction(servers):
    first = servers()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        verified = await post(session, first.url, "/gateway/verify", {**CARD, "timestamp": int(time.time())})
        assert verified["status"] == 100, verified
        token = verified["data"]["customer_account_token"]

        acknowledged: dict[str, int] = {}
        failed = 0
        killed = asyncio.Event()

        async def one(n: int) -> None:
            nonlocal failed
            puid1 = f"burst-{n}"
            try:
                answer = await post(session, first.url, "/gateway/process", process_body(token, puid1))
            except (TimeoutError, aiohttp.ClientError):
                failed += 1
                return
            assert answer["status"] == 100, answer
            acknowledged[puid1] = answer["data"]["transaction_id"]
            if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                killed.set()
                first.kill()  # in the middle of the burst: other requests are in flight or not yet sent

        await asyncio.gather(*(one(n) for n in range(BURST)))

    assert killed.is_set(), "the burst finished before the kill"
    assert first.process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= KILL_AFTER and failed > 0, (len(acknowledged), failed)

    second = servers()
    async with aiohttp.ClientSession() as session:
        for puid1, transaction_id in acknowledged.items():
            again = await post(session, second.url, "/gateway/process", process_body(token, puid1))
            assert again["status"] == 101, (puid1, again)
            assert again["data"]["transaction_id"] == transaction_id, (puid1, again)

        # The token issued before the kill still pays, and transaction ids keep increasing.
        fresh = await post(session, second.url, "/gateway/process", process_body(token, "after-restart"))
        assert fresh["status"] == 100, fresh
        assert fresh["data"]["transaction_id"] > max(acknowledged.values())
        reverified = await post(session, second.url, "/gateway/verify",
                                {"participant_id": 12345, "timestamp": int(time.time()), "version": 11,
                                 "account_type": "CA", "participant_unique_id1": "customer-1",
                                 "customer_account_token": token})
        assert reverified["status"] == 100, reverified
        assert reverified["data"]["customer_account_token"] == token


async def test_sigterm_stops_the_server_promptly_and_keeps_state(servers):
    first = servers()
    async with aiohttp.ClientSession() as session:
        verified = await post(session, first.url, "/gateway/verify", {**CARD, "timestamp": int(time.time())})
        token = verified["data"]["customer_account_token"]
    started = time.monotonic()
    first.process.terminate()
    assert first.process.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    second = servers()
    async with aiohttp.ClientSession() as session:
        paid = await post(session, second.url, "/gateway/process", process_body(token, "after-sigterm"))
        assert paid["status"] == 100, paid


async def test_kill_9_keeps_webhooks_still_due_and_delivers_them_after_restart(servers):
    from aiohttp import web

    receiver_port = free_port()
    hook = f"http://127.0.0.1:{receiver_port}/hook"
    options = ("--webhook-url", hook, "--webhook-retry-schedule", ",".join(["1s"] * 30))
    first = servers(*options)
    async with aiohttp.ClientSession() as session:
        verified = await post(session, first.url, "/gateway/verify", {**CARD, "timestamp": int(time.time())})
        token = verified["data"]["customer_account_token"]
        # amount cents .14: a "payment returned" webhook is due two days later (magic values)
        returned = await post(session, first.url, "/gateway/process", {**process_body(token, "returns-later"),
                                                                         "amount": 10.14})
        assert returned["status"] == 100, returned
        async with session.post(first.url + "/_emulator/events", json={
                "topic": "gateway.transaction.recipient.payment.status.check.paid", "participant_id": 12345,
                "event": {"check_number": "100042"}}) as response:
            assert response.status == 201
            event_id = (await response.json())["id"]
        for _ in range(200):  # the receiver is down: wait until the first attempt has failed
            async with session.get(first.url + "/_emulator/webhooks") as response:
                deliveries = (await response.json())["deliveries"]
            if deliveries and deliveries[0]["attempts"]:
                break
            await asyncio.sleep(0.05)
        assert deliveries[0]["attempts"][0]["error"].startswith("cannot connect"), deliveries
    first.kill()

    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", receiver_port).start()
    try:
        second = servers(*options)
        for _ in range(400):  # the pending deliveries are retried by the new process, about a second after start
            if len(received) >= 2:
                break
            await asyncio.sleep(0.05)
        # the check event, and the push's final outcome (paid at once; its return is due in two days)
        assert sorted(e["metadata"]["topic"] for e in received) == [
            "gateway.transaction.recipient.payment.status.check.paid",
            "gateway.transaction.recipient.payment.status.success"]
        assert event_id in [e["metadata"]["id"] for e in received]
        async with aiohttp.ClientSession() as session:
            async with session.post(second.url + "/_emulator/clock", json={"advance": 2 * 86400}) as response:
                assert response.status == 200
        topics = [e["metadata"]["topic"] for e in received]
        assert topics[-1] == "gateway.transaction.recipient.payment.status.returned", topics
        assert received[-1]["data"]["ancillary"]["participant_unique_id1"] == "returns-later"
    finally:
        await runner.cleanup()


# -- a damaged data folder is refused at start, in one sentence --------------------------------------------------

DATABASE = "ingopay-emulator.sqlite3"


def start_on(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Start an emulator on ``data_dir`` that is expected to refuse (it would otherwise serve until the timeout)."""
    return subprocess.run([sys.executable, "-m", "emulator", "--port", str(free_port()), "--quiet", "--data-dir",
                           str(data_dir)], capture_output=True, text=True, timeout=60)


def assert_refused(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # one sentence
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def test_an_empty_database_file_is_refused_not_taken_for_a_new_store(tmp_path):
    (tmp_path / DATABASE).write_bytes(b"")
    assert_refused(start_on(tmp_path), "is empty (0 bytes)", "move it aside")


def test_a_file_of_another_kind_is_refused(tmp_path):
    (tmp_path / DATABASE).write_text("user,amount\nalice,10\n", encoding="utf-8")
    assert_refused(start_on(tmp_path), "is not a SQLite database", "move it aside")


async def test_a_read_only_database_is_refused_at_start_not_at_the_first_payment(servers, tmp_path):
    server = servers()
    server.stop()
    database = tmp_path / "data" / DATABASE
    if os.geteuid() == 0:  # root writes through file modes: make the file immutable instead
        subprocess.run(["chattr", "+i", str(database)], check=True)
    else:
        database.chmod(0o444)
    try:
        assert_refused(start_on(tmp_path / "data"), "cannot be written by this user", "choose another --data-dir")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(database)], check=True)
        database.chmod(0o644)


async def test_garbage_in_the_middle_of_the_database_is_refused_and_nothing_is_paid_twice(servers, tmp_path):
    server = servers()
    async with aiohttp.ClientSession() as session:
        token = (await post(session, server.url, "/gateway/verify",
                            {**CARD, "timestamp": int(time.time())}))["data"]["customer_account_token"]
        for index in range(200):  # enough records for a database of many pages
            paid = await post(session, server.url, "/gateway/process", process_body(token, f"payment-{index}"))
            assert paid["status"] == 100, paid
    server.stop()
    database = tmp_path / "data" / DATABASE
    size = database.stat().st_size
    with open(database, "r+b") as file:
        file.seek(size // 2)
        file.write(os.urandom(64 * 1024))
    assert_refused(start_on(tmp_path / "data"), "is damaged", "move it aside")
