"""Waiting for what happened, over raw HTTP as a suite in any language would: POST /_emulator/requests/wait and
/_emulator/webhooks/wait answer as soon as the journal or the deliveries show it, or say how what came differed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from yarl import URL

from emulator.settings import Settings
from emulator.testing import EmulatorServer
from tests.support.app import Signed
from tests.support.outside import Client, admin
from tests.support.sockets import raise_fd_limit
from tests.support.waiting import eventually
from tests.support.waits import Later, wait


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    running = EmulatorServer(Settings(rate_limit=0)).start()
    yield running
    running.stop()


@pytest.fixture
def client(server: EmulatorServer) -> Client:
    """A tenant of its own for each test: what one test sends, another never counts."""
    return Client.minted(server.url)


def registered(check: Any) -> None:
    """Return once the server holds the wait just started (an AssertionError if it never does)."""
    asyncio.run(eventually(check, "the wait registered"))


def waiting_count(server: EmulatorServer) -> int:
    assert server.runtime is not None
    return len(server.runtime.services.request_waits)


def test_a_wait_answers_when_the_request_it_waits_for_arrives(server: EmulatorServer, client: Client) -> None:
    later = Later(server.url, {"match": {"endpoint": "verify", "participant_id": client.participant_id},
                               "timeout": 30})
    later.start()
    later.started.wait()
    registered(lambda: waiting_count(server) == 1)  # what follows is what the wait waits for
    token = client.token()
    status, answer = later.result()
    assert status == 200
    assert answer["matched"] == 1
    (entry,) = answer["requests"]
    assert entry["response_body"]["data"]["customer_account_token"] == token
    assert entry["facts"]["account"] == "************1111"  # masked, even in the facts rules matched on
    assert waiting_count(server) == 0


def test_a_wait_already_met_answers_at_once_with_the_matching_entries(server: EmulatorServer, client: Client) -> None:
    token = client.token()
    client.push(token, 12.5, "order-1")
    status, answer = wait(server.url, {"match": {"endpoint": "process", "amount": 12.5, "ingo_status": 100,
                                                 "participant_unique_id1": "order-1",
                                                 "participant_id": client.participant_id,
                                                 "body": {"customer_account_token": token}}})
    assert status == 200 and answer["matched"] == 1
    assert answer["requests"][0]["path"] == "/gateway/process"


def test_a_timed_out_wait_names_each_key_a_near_miss_got_wrong(server: EmulatorServer, client: Client) -> None:
    token = client.token()
    client.push(token, 10.0, "order-2")
    status, answer = wait(server.url, {"match": {"endpoint": "process", "amount": 10.5,
                                                 "participant_id": client.participant_id}, "timeout": 0.2})
    assert status == 409
    assert answer["reason"] == "timeout" and answer["matched"] == 0
    assert "waited 0.2 s for at least 1 request matching" in answer["message"]
    closest = answer["near_misses"][0]
    assert closest["request"]["path"] == "/gateway/process"
    assert closest["differences"] == [{"key": "amount", "expected": 10.5, "actual": 10.0}]
    # the verify missed more keys, so it comes after the process
    assert [m["request"]["path"] for m in answer["near_misses"]] == ["/gateway/process", "/gateway/verify"]


def test_more_than_at_most_fails_at_once_without_waiting(server: EmulatorServer, client: Client) -> None:
    token = client.token()
    client.push(token, 1.0, "a")
    client.push(token, 2.0, "b")
    status, answer = wait(server.url, {"match": {"endpoint": "process", "participant_id": client.participant_id},
                                       "count": 1, "timeout": 300})
    assert status == 409 and answer["reason"] == "too_many" and answer["matched"] == 2
    assert "more than the exactly 1 asked for" in answer["message"]
    status, answer = wait(server.url, {"match": {"endpoint": "process", "participant_id": client.participant_id},
                                       "count": {"at_least": 2, "at_most": 3}})
    assert status == 200 and answer["matched"] == 2


def test_since_counts_only_what_came_after(server: EmulatorServer, client: Client) -> None:
    token = client.token()
    client.push(token, 3.0, "first")
    status, answer = wait(server.url, {"match": {"participant_id": client.participant_id}, "count": {"at_least": 0}})
    assert status == 200
    mark = answer["last_id"]
    client.push(token, 3.0, "second")
    status, answer = wait(server.url, {"match": {"endpoint": "process", "participant_id": client.participant_id},
                                       "since": mark, "count": 1})
    assert status == 200
    assert [e["request_body"]["participant_unique_id1"] for e in answer["requests"]] == ["second"]


def test_an_account_matches_by_full_number_or_last_four_though_the_journal_keeps_neither(
        server: EmulatorServer, client: Client) -> None:
    client.token(account="4000000000000002")
    base = {"endpoint": "verify", "participant_id": client.participant_id}
    assert wait(server.url, {"match": {**base, "account": "4000000000000002"}})[0] == 200
    assert wait(server.url, {"match": {**base, "account": {"last4": "0002"}}})[0] == 200
    status, answer = wait(server.url, {"match": {**base, "account": "4000000000001002"}, "timeout": 0})
    assert status == 409
    assert answer["near_misses"][0]["differences"] == [
        {"key": "account", "expected": "************1002", "actual": "************0002"}]
    status, answer = wait(server.url, {"match": {**base, "account": {"prefix": "4000"}}})
    assert status == 400 and "masked" in answer["message"]


@pytest.mark.parametrize(("body", "named"), [
    ({"match": {"endpont": "verify"}}, "match.endpont is not a key this call knows"),
    ({"match": {"endpoint": "payout"}}, "match.endpoint"),
    ({"match": {"http_status": "200"}}, "match.http_status"),
    ({"count": {"at_least": 3, "at_most": 1}}, "at_most must not be less than at_least"),
    ({"count": -1}, "count"),
    ({"timeout": 301}, "timeout: must be at most 300"),
    ({"match": {"nth": 2}}, "nth"),
    ({"surprise": 1}, "surprise is not a key this call knows"),
])
def test_a_wait_that_cannot_be_met_as_asked_is_a_400_naming_the_key(server: EmulatorServer, body: dict[str, Any],
                                                                     named: str) -> None:
    status, answer = wait(server.url, body)
    assert status == 400
    assert named in answer["message"]


def test_a_body_that_is_not_json_is_a_400(server: EmulatorServer) -> None:
    from tests.support.outside import call

    status, _, answer = call(server.url, "POST", "/_emulator/requests/wait", b"{not json")
    assert status == 400 and "JSON" in answer["message"]


async def test_many_concurrent_waits_are_all_answered_by_one_request(server: EmulatorServer, client: Client) -> None:
    match = {"match": {"endpoint": "verify", "participant_id": client.participant_id}, "timeout": 60}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:  # one connection each
        async def one() -> int:
            async with session.post(server.url + "/_emulator/requests/wait", json=match) as answer:
                return answer.status

        waits = [asyncio.ensure_future(one()) for _ in range(300)]
        await eventually(lambda: waiting_count(server) == len(waits), "every wait registered")
        await asyncio.to_thread(client.token)
        assert await asyncio.gather(*waits) == [200] * len(waits)
    assert waiting_count(server) == 0


def test_a_wait_for_a_webhook_answers_once_it_is_delivered(server: EmulatorServer, client: Client) -> None:
    token = client.token()
    status, _, paid = client.push(token, 20.08, "ofac-1")  # .08: an OFAC suspension now, a failure an hour later
    assert status == 200
    transaction = str(paid["data"]["transaction_id"])
    status, answer = wait(server.url, {"match": {"transaction_id": transaction, "event_status": 1106,
                                                 "status": "delivered"}}, "webhooks")
    assert status == 200 and answer["matched"] == 1
    (delivery,) = answer["deliveries"]
    assert delivery["payload"]["data"]["event"]["transaction_id"] == transaction
    assert delivery["attempts"][-1]["ok"] is True
    # the failure is an hour away on the emulator clock: not yet, and the near miss says what differs
    status, answer = wait(server.url, {"match": {"transaction_id": transaction, "event_status": 1108},
                                       "timeout": 0.2}, "webhooks")
    assert status == 409
    assert {"key": "event_status", "expected": 1108, "actual": 1106} in answer["near_misses"][0]["differences"]


def test_a_webhook_wait_started_first_is_answered_by_the_delivery(server: EmulatorServer, client: Client) -> None:
    token = client.token()
    later = Later(server.url, {"match": {"participant_id": client.participant_id, "topic": "*.ofac.status.*",
                                         "status": "delivered"}, "timeout": 30}, "webhooks")
    later.start()
    later.started.wait()
    assert server.runtime is not None
    registered(lambda: len(server.runtime.services.delivery_waits) == 1)
    client.push(token, 7.08, "ofac-2")
    status, answer = later.result()
    assert status == 200
    assert answer["deliveries"][0]["topic"] == "gateway.transaction.recipient.verification.ofac.status.suspended"


def test_a_webhook_wait_rejects_unknown_statuses(server: EmulatorServer) -> None:
    status, answer = wait(server.url, {"match": {"status": "arrived"}}, "webhooks")
    assert status == 400 and "match.status" in answer["message"]


#: Clients that start a long wait and go away: each must be let go with its connection, not at its timeout.
ABANDONED = 2000


def open_waits(url: str, participant_id: int) -> dict[str, Any]:
    status, answer = admin(url, "GET", f"/_emulator/waits?participant_id={participant_id}")
    assert status == 200, answer
    return dict(answer)


@pytest.mark.slow
async def test_waits_whose_clients_went_away_are_let_go_at_once(server: EmulatorServer, client: Client) -> None:
    raise_fd_limit(2 * ABANDONED + 300)  # both ends of every connection live in this process
    port = URL(server.url).port
    assert port is not None
    body = json.dumps({"match": {"participant_id": client.participant_id, "endpoint": "process"},
                       "timeout": 300}).encode()
    request = (b"POST /_emulator/requests/wait HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (port, len(body), body))
    staying = Client.minted(server.url)  # another tenant's wait, whose client stays: it is answered as usual
    later = Later(server.url, {"match": {"participant_id": staying.participant_id, "endpoint": "verify"},
                               "timeout": 120})
    later.start()
    writers: list[asyncio.StreamWriter] = []
    try:
        for _ in range(ABANDONED):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            writers.append(writer)
        listing = await eventually(lambda: (found := open_waits(server.url, client.participant_id))["count"]
                                   == ABANDONED and found, "every wait open", timeout=120)
        assert listing["waits"][0] == {"kind": "requests", "participant_id": client.participant_id,
                                       "match": {"participant_id": client.participant_id, "endpoint": ["process"]},
                                       "count": "at least 1", "matched": 0, "timeout": 300,
                                       "waited": listing["waits"][0]["waited"]}
        assert len(listing["waits"]) == 100  # a listing shows at most 100; count says how many there are
    finally:
        for writer in writers:
            writer.transport.abort()  # gone without a word, as a killed test run's connections go
    await eventually(lambda: open_waits(server.url, client.participant_id)["count"] == 0,
                     "the abandoned waits let go", timeout=60)
    assert open_waits(server.url, staying.participant_id)["count"] == 1
    await asyncio.to_thread(staying.token)
    status, answer = later.result()
    assert status == 200 and answer["matched"] == 1


async def test_a_wait_is_let_go_when_its_client_goes_on_a_server_the_app_is_embedded_in(emulator: Signed) -> None:
    """create_app served by another runner (here pytest-aiohttp's): the wait looks at its connection instead."""
    waits = emulator.runtime.services.request_waits
    asking = asyncio.ensure_future(emulator.client.post("/_emulator/requests/wait",
                                                        json={"match": {"endpoint": "process"}, "timeout": 300}))
    await eventually(lambda: len(waits) == 1, "the wait open")
    asking.cancel()  # the client gives up: its connection closes
    await eventually(lambda: len(waits) == 0, "the wait let go")


def test_the_open_waits_listing_shows_what_each_waits_for_with_account_numbers_masked(
        server: EmulatorServer, client: Client) -> None:
    later = Later(server.url, {"match": {"participant_id": client.participant_id, "endpoint": "verify",
                                         "account": "4111111111111111"}, "timeout": 60})
    later.start()
    listing = asyncio.run(eventually(lambda: (found := open_waits(server.url, client.participant_id))["count"]
                                     and found, "the wait listed"))
    (shown,) = listing["waits"]
    assert shown["match"] == {"participant_id": client.participant_id, "endpoint": ["verify"],
                              "account": {"exact": "************1111"}}
    assert "4111111111111111" not in json.dumps(listing)
    client.token()
    assert later.result()[0] == 200
    assert open_waits(server.url, client.participant_id)["count"] == 0


async def test_a_wait_beyond_the_most_open_is_a_503_saying_so(emulator: Signed,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Open waits are bounded: past the limit a wait is refused at once (503, Retry-After), the open ones go on."""
    monkeypatch.setattr("emulator.waits.waiting.MOST_OPEN", 2)
    waits = emulator.runtime.services.request_waits
    asking = [asyncio.ensure_future(emulator.client.post(
        "/_emulator/requests/wait", json={"match": {"endpoint": "process"}, "timeout": 300})) for _ in range(2)]
    await eventually(lambda: len(waits) == 2, "two waits open")
    refused = await emulator.client.post("/_emulator/requests/wait",
                                         json={"match": {"endpoint": "process"}, "timeout": 300})
    assert refused.status == 503
    assert refused.headers["Retry-After"] == "1"
    assert (await refused.json())["message"].startswith("2 waits on requests are open, the most the emulator keeps")
    assert len(waits) == 2
    for ask in asking:
        ask.cancel()
    await asyncio.gather(*asking, return_exceptions=True)
    await eventually(lambda: len(waits) == 0, "the waits let go")
