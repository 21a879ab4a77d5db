"""Each tenant's time is its own, as parallel workers sharing one emulator meet it: a real emulator process, tenants
minted over HTTP, requests signed with the standard library, each tenant's webhooks at a receiver of its own. A
tenant that moves its clock sees its own follow-ups, retries, posting dates and idempotency windows move, and no
other tenant's; the emulator clock still moves everyone who has no clock of their own."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from emulator.testing import WebhookReceiver
from tests.support.outside import Client, admin, call
from tests.support.processes import Emulator
from tests.support.sockets import free_port

DAY = 86_400
RETURNED = "gateway.transaction.recipient.payment.status.returned"
#: The bundled magic card whose push is paid (100) and returned by the issuer (1114) two days later.
RETURNED_CARD = "4000000111400000"
SESSIONS = "/api/v1/sessions/point-in-time/plugin"
SESSION = {"participant_unique_id1": "session-1",
           "recipient_information": {"first_name": "Jane", "last_name": "Doe", "address_line1": "1 Main St",
                                     "city": "Atlanta", "state": "GA", "zip_code": "30301",
                                     "email_address": "jane.doe@example.com", "mobile_number": "5555550100"}}
#: A Friday noon (UTC) for a tenant's clock.
FRIDAY = datetime(2030, 1, 4, 12, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    running = Emulator(None)
    yield running
    running.stop()


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, WebhookReceiver]]:
    pair = WebhookReceiver(), WebhookReceiver()
    yield pair
    for receiver in pair:
        receiver.stop()


def clock(url: str, participant_id: int | None = None) -> dict[str, Any]:
    status, shown = admin(url, "GET", "/_emulator/clock" + ("" if participant_id is None
                                                             else f"?participant_id={participant_id}"))
    assert status == 200, shown
    return dict(shown)


def move(url: str, **change: Any) -> dict[str, Any]:
    status, moved = admin(url, "POST", "/_emulator/clock", change)
    assert status == 200, moved
    return dict(moved)


def pay_to_be_returned(client: Client) -> dict[str, Any]:
    """A card push that is paid now and returned (1114) two days later on the tenant's business time."""
    status, _, paid = client.push(client.token(account=RETURNED_CARD), 12.5, f"order-{uuid.uuid4().hex[:8]}")
    assert status == 200 and paid["status"] == 100, paid
    return dict(paid)


def delivered(url: str, participant_id: int, topic: str) -> list[dict[str, Any]]:
    """The participant's deliveries of ``topic`` acknowledged by its receiver, waited for (at least one)."""
    status, seen = admin(url, "POST", "/_emulator/webhooks/wait", {
        "match": {"participant_id": participant_id, "topic": topic, "status": "delivered"}, "timeout": 10})
    assert status == 200, seen
    return list(seen["deliveries"])


def deliveries(url: str, participant_id: int, topic: str) -> list[dict[str, Any]]:
    status, listing = admin(url, "GET", f"/_emulator/webhooks?participant_id={participant_id}&topic={topic}")
    assert status == 200, listing
    return list(listing["deliveries"])


def topics(receiver: WebhookReceiver) -> list[str]:
    return [json.loads(body)["metadata"]["topic"] for body in list(receiver.received)]


def eventually(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """``check()`` once it is true, polled (an observable, never a fixed sleep); fails naming ``what``."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout:g} s")
        time.sleep(0.02)
    return found


def session(client: Client, key: str, puid1: str) -> dict[str, Any]:
    """Create an iFrame session with an Idempotency-Key, signed as the tenant."""
    body = json.dumps({**SESSION, "participant_unique_id1": puid1}).encode()
    status, _, answer = call(client.url, "POST", SESSIONS, body,
                             headers={**client.headers(SESSIONS, body), "Idempotency-Key": key})
    assert status == 200, answer
    return dict(answer)


def test_a_tenant_that_moves_its_clock_gets_its_return_and_no_other_tenant_does(
        emulator: Emulator, receivers: tuple[WebhookReceiver, WebhookReceiver]) -> None:
    url = emulator.url
    first, second = (Client.minted(url, webhook_url=receiver.url) for receiver in receivers)
    paid = {client.participant_id: pay_to_be_returned(client) for client in (first, second)}
    for client in (first, second):
        shown = clock(url, client.participant_id)
        assert (shown["participant_id"], shown["own_clock"]) == (client.participant_id, False)
        (job,) = shown["pending"]
        assert job["participant_id"] == client.participant_id and RETURNED in job["label"]
        assert shown["pending_count"] == 1

    moved = move(url, participant_id=first.participant_id, advance=2 * DAY)
    # two jobs fired: the return, and its delivery to the tenant's receiver
    assert (moved["participant_id"], moved["own_clock"], moved["fired"]) == (first.participant_id, True, 2)
    (returned,) = delivered(url, first.participant_id, RETURNED)
    assert returned["payload"]["data"]["event"]["transaction_id"] == \
        str(paid[first.participant_id]["data"]["transaction_id"])
    assert returned["payload"]["metadata"]["timestamp"] >= clock(url)["now"] + 2 * DAY - 60  # its own time

    # the second tenant's time did not move: its return still waits on its clock, which is the emulator clock
    shown = clock(url, second.participant_id)
    assert not shown["own_clock"] and abs(shown["now"] - clock(url)["now"]) < 60
    assert [job["participant_id"] for job in shown["pending"]] == [second.participant_id]
    assert deliveries(url, second.participant_id, RETURNED) == []
    assert RETURNED not in topics(receivers[1])
    emulator_clock = clock(url)
    assert not emulator_clock["own_clock"] and emulator_clock["participant_clocks"] >= 1
    assert second.participant_id in {job["participant_id"] for job in emulator_clock["pending"]}
    assert first.participant_id not in {job["participant_id"] for job in emulator_clock["pending"]}

    assert move(url, participant_id=second.participant_id, advance=2 * DAY)["fired"] == 2
    (returned,) = delivered(url, second.participant_id, RETURNED)
    assert returned["payload"]["data"]["event"]["transaction_id"] == \
        str(paid[second.participant_id]["data"]["transaction_id"])
    assert topics(receivers[0]).count(RETURNED) == 1 and topics(receivers[1]).count(RETURNED) == 1


def test_a_tenants_posting_dates_and_idempotency_windows_follow_its_own_time(
        emulator: Emulator, receivers: tuple[WebhookReceiver, WebhookReceiver]) -> None:
    url = emulator.url
    first, second = (Client.minted(url, webhook_url=receiver.url) for receiver in receivers)
    moved = move(url, participant_id=first.participant_id, set="2030-01-04T12:00:00Z", freeze=True)
    assert (moved["now"], moved["frozen"], moved["iso"]) == (FRIDAY, True, "2030-01-04T12:00:00Z")
    assert not clock(url)["frozen"]  # the emulator clock runs on

    answers = {}
    for client in (first, second):
        status, _, answer = client.push(client.token(), 10.0, "order-1")
        assert status == 200 and answer["status"] == 100, answer
        answers[client.participant_id] = answer["data"]
    assert answers[first.participant_id]["request_timestamp"] == int(FRIDAY)
    assert answers[first.participant_id]["estimated_posting_date"] == "01/04/2030"
    today = datetime.fromtimestamp(clock(url)["now"], tz=UTC)
    assert abs(answers[second.participant_id]["request_timestamp"] - clock(url)["now"]) < 60
    assert answers[second.participant_id]["estimated_posting_date"] in {
        today.strftime("%m/%d/%Y"), datetime.fromtimestamp(clock(url)["now"] - 60, tz=UTC).strftime("%m/%d/%Y")}

    # an Idempotency-Key is kept two hours of each tenant's own time
    key = f"key-{uuid.uuid4()}"
    for client in (first, second):
        assert session(client, key, "session-1")["status"] == 100
    move(url, participant_id=first.participant_id, advance=3 * 3600)
    assert session(first, key, "session-2")["status"] == 100  # its window has passed: a new session
    assert session(second, key, "session-2")["status"] == 13723  # still within the window on its time


def test_the_emulator_clock_moves_every_tenant_without_a_clock_of_its_own(
        emulator: Emulator, receivers: tuple[WebhookReceiver, WebhookReceiver]) -> None:
    url = emulator.url
    own, follower = (Client.minted(url, webhook_url=receiver.url) for receiver in receivers)
    mine = move(url, participant_id=own.participant_id, freeze=True)  # a clock of its own, where it stood
    assert mine["own_clock"] and mine["frozen"]
    for client in (own, follower):
        pay_to_be_returned(client)

    move(url, advance=2 * DAY)
    delivered(url, follower.participant_id, RETURNED)
    shown = clock(url, own.participant_id)
    assert (shown["now"], shown["frozen"]) == (mine["now"], True)  # untouched by the emulator clock
    assert [RETURNED in job["label"] for job in shown["pending"]] == [True]
    assert deliveries(url, own.participant_id, RETURNED) == []


def test_a_tenants_webhook_retries_wait_on_its_own_clock(emulator: Emulator) -> None:
    url = emulator.url
    tenant = Client.minted(url, webhook_url=f"http://127.0.0.1:{free_port()}/nobody-listens")
    move(url, participant_id=tenant.participant_id, freeze=True)
    status, event = admin(url, "POST", "/_emulator/events", {"topic": RETURNED,
                                                             "participant_id": tenant.participant_id})
    assert status == 201, event
    retry = eventually(lambda: [job for job in clock(url, tenant.participant_id)["pending"]
                                if "attempt 2" in job["label"]], "the first attempt failing and a retry scheduled")
    (attempted,) = deliveries(url, tenant.participant_id, RETURNED)
    assert len(attempted["attempts"]) == 1

    move(url, advance=DAY)  # the emulator clock: not this tenant's
    assert [job for job in clock(url, tenant.participant_id)["pending"] if "attempt 2" in job["label"]] == retry
    assert len(deliveries(url, tenant.participant_id, RETURNED)[0]["attempts"]) == 1

    assert move(url, participant_id=tenant.participant_id, advance=30)["fired"] >= 1
    assert len(deliveries(url, tenant.participant_id, RETURNED)[0]["attempts"]) == 2


def test_a_reset_or_a_removal_of_a_tenant_drops_its_clock(emulator: Emulator) -> None:
    url = emulator.url
    kept, removed = Client.minted(url), Client.minted(url)
    for client in (kept, removed):
        assert move(url, participant_id=client.participant_id, advance=DAY)["own_clock"]
    before = clock(url)["participant_clocks"]

    status, answer = admin(url, "POST", "/_emulator/reset", {"participant_id": kept.participant_id})
    assert status == 200, answer
    shown = clock(url, kept.participant_id)
    assert not shown["own_clock"] and abs(shown["now"] - clock(url)["now"]) < 60

    status, answer = admin(url, "DELETE", f"/_emulator/credentials/{removed.username}")
    assert status == 200, answer
    assert not clock(url, removed.participant_id)["own_clock"]
    assert clock(url)["participant_clocks"] == before - 2


@pytest.mark.parametrize(("change", "named"), [
    ({"participant_id": 777, "advance": 60}, "participant_id 777 has no credential: mint one for it"),
    ({"participant_id": "{pid}"}, "expected an object with any of: set, freeze, advance"),
    ({"participant_id": None, "advance": 60}, "participant_id is null"),
    ({"participantId": "{pid}", "advance": 60}, "did you mean participant_id?"),
    ({"participant_id": "{pid}", "advance": "next_due"}, "nothing is scheduled on participant {pid}'s clock"),
    ({"participant_id": "{pid}", "advance": 60, "set": "soon"}, "'soon' is not an ISO 8601 time"),
])
def test_a_clock_change_for_a_tenant_it_cannot_make_is_a_400_and_moves_nothing(
        emulator: Emulator, change: dict[str, Any], named: str) -> None:
    url = emulator.url
    tenant = Client.minted(url)
    sent = {key: tenant.participant_id if value == "{pid}" else value for key, value in change.items()}
    before = clock(url)
    status, answer = admin(url, "POST", "/_emulator/clock", sent)
    assert status == 400, answer
    assert named.format(pid=tenant.participant_id) in answer["message"], answer
    assert not clock(url, tenant.participant_id)["own_clock"]
    after = clock(url)
    assert after["participant_clocks"] == before["participant_clocks"] and abs(after["now"] - before["now"]) < 60


def test_a_snapshot_keeps_each_tenants_clock_and_a_version_1_snapshot_still_restores() -> None:
    emulator = Emulator(None)
    try:
        url = emulator.url
        tenant = Client.minted(url)
        pay_to_be_returned(tenant)
        moved = move(url, participant_id=tenant.participant_id, advance=DAY, freeze=True)
        status, archive = admin(url, "GET", "/_emulator/snapshot")
        assert status == 200 and archive["version"] == 2
        (kept,) = archive["clock"]["participants"]
        assert (kept["participant_id"], kept["now"], kept["frozen"]) == (tenant.participant_id, moved["now"], True)

        assert admin(url, "POST", "/_emulator/reset", {})[0] == 200
        assert not clock(url, tenant.participant_id)["own_clock"]
        status, restored = admin(url, "POST", "/_emulator/snapshot", archive)
        assert status == 200, restored
        assert restored["clock"]["participants"] == [kept]
        shown = clock(url, tenant.participant_id)
        assert (shown["own_clock"], shown["now"], shown["frozen"]) == (True, moved["now"], True)
        assert [RETURNED in job["label"] for job in shown["pending"]] == [True]
        assert clock(url)["pending_count"] == 0  # its return waits on its own clock, not the emulator's
        assert move(url, participant_id=tenant.participant_id, advance=DAY)["fired"] == 1  # no endpoint: no delivery

        older = {**archive, "version": 1, "clock": {k: v for k, v in archive["clock"].items() if k != "participants"}}
        status, restored = admin(url, "POST", "/_emulator/snapshot", older)
        assert status == 200, restored
        assert not clock(url, tenant.participant_id)["own_clock"]  # it follows the emulator clock, as in version 1
        assert tenant.participant_id in {job["participant_id"] for job in clock(url)["pending"]}

        twice = {**archive, "clock": {**archive["clock"], "participants": [kept, kept]}}
        status, refused = admin(url, "POST", "/_emulator/snapshot", twice)
        assert status == 400
        assert refused["message"] == ("snapshot section 'clock' is malformed: clock.participants.1.participant_id: "
                                      f"participant {tenant.participant_id} has two clocks")
    finally:
        emulator.stop()
