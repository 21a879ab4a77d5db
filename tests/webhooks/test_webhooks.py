"""Webhook delivery against a real aiohttp receiver on 127.0.0.1.

Every test drives time with the emulator clock (frozen at NOW by the fixture): ``POST /_emulator/clock
{"advance": N}`` fires every attempt and follow-up that falls due and returns once they have finished, so the
retry schedule (30 s, 60 s, ...) and two-day follow-ups run in milliseconds and nothing here waits on wall time.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import json
import logging
import os
import re
import socket
import struct

import pytest
from aiohttp import web

from emulator.store.sqlite import SqliteStore
from emulator.webhooks import verify_signature
from emulator.webhooks.delivery import RESPONSE_KEPT
from tests.support.app import NOW
from tests.support.bodies import CARD, v11
from tests.support.outside import independent_signature_check
from tests.support.sockets import free_port
from tests.support.webhook_receiver import (
    DEFAULT_SECRET,
    Receiver,
    admin,
    advance,
    deliveries,
    emit,
    only_delivery,
    start_emulator,
    start_receiver,
)

SUSPENDED = "gateway.transaction.recipient.verification.ofac.status.suspended"
CLEARED = "gateway.transaction.recipient.verification.ofac.status.cleared"
RETURNED = "gateway.transaction.recipient.payment.status.returned"
PAID = "gateway.transaction.recipient.payment.status.success"
CHECK_PAID = "gateway.transaction.recipient.payment.status.check.paid"
TOKENIZED = "plugin.transaction.account.tokenization.success"


def fails_then_ok(failures: int, status: int = 500, body: str = "receiver broke"):
    """A responder: ``status`` with ``body`` for the first ``failures`` calls, then 200 "thanks"."""
    async def respond(number: int, request: web.Request) -> web.StreamResponse:
        if number <= failures:
            return web.Response(status=status, text=body)
        return web.Response(text="thanks")
    return respond


async def card_token(emu) -> str:
    status, body, _ = await emu.post("/gateway/verify", v11(**CARD))
    assert status == 200 and body["status"] == 100, body
    return body["data"]["customer_account_token"]


def push(token: str, amount: float) -> dict:
    return v11(account_type="CA", amount=amount, customer_account_token=token, source_of_funds=4,
               participant_unique_id1="payment-1")


# -- delivery failures and retries --------------------------------------------------------------------------


async def test_receiver_down_then_up(aiohttp_client, aiohttp_server, clock):
    port = free_port()  # nothing listens here yet
    emu = await start_emulator(aiohttp_client, clock, (f"http://127.0.0.1:{port}/hook",))
    event = await emit(emu, CHECK_PAID, event={"check_number": "0600001017", "check_amount": "20.78"})
    await advance(emu, 0)

    delivery = await only_delivery(emu)
    assert delivery["status"] == "pending"
    assert delivery["event_id"] == event["id"]
    [first] = delivery["attempts"]
    assert first["attempt"] == 1 and first["time"] == NOW and first["ok"] is False
    assert first["http_status"] is None and first["response_body"] is None
    assert first["error"] == "cannot connect: Connection refused"
    assert delivery["next_attempt_at"] == NOW + 30
    clock_view = await admin(emu, "GET", "/_emulator/clock")
    assert clock_view["pending"] == [{"due": NOW + 30, "label": f"webhook {delivery['id']} attempt 2",
                                      "participant_id": 12345}]

    # Still down at the second attempt (30 s later).
    await advance(emu, 30)
    delivery = await only_delivery(emu)
    assert [a["ok"] for a in delivery["attempts"]] == [False, False]
    assert delivery["attempts"][1]["error"] == "cannot connect: Connection refused"
    assert delivery["next_attempt_at"] == NOW + 30 + 60

    # The receiver comes up on that port; nothing is sent until the next retry falls due.
    receiver = Receiver()
    await start_receiver(aiohttp_server, receiver, port=port)
    await advance(emu, 59)
    assert receiver.received == []
    await advance(emu, 1)
    assert len(receiver.received) == 1
    assert receiver.received[0].event_id == event["id"]
    assert receiver.received[0].headers["X-Ingo-Delivery-Attempt"] == "3"

    delivery = await only_delivery(emu)
    assert delivery["status"] == "succeeded" and delivery["next_attempt_at"] is None
    assert [(a["attempt"], a["time"], a["http_status"], a["ok"]) for a in delivery["attempts"]] == [
        (1, NOW, None, False), (2, NOW + 30, None, False), (3, NOW + 90, 200, True)]
    assert delivery["attempts"][2]["error"] is None
    assert delivery["attempts"][2]["response_body"] == "ok"


async def test_500s_then_200_records_every_attempt(aiohttp_client, aiohttp_server, clock):
    receiver = Receiver(fails_then_ok(2, body="boom: database unavailable" + "x" * 3000))
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),))
    await emit(emu, CHECK_PAID)
    await advance(emu, 0)
    assert len(receiver.received) == 1
    await advance(emu, 30)
    assert len(receiver.received) == 2
    await advance(emu, 60)
    assert len(receiver.received) == 3

    delivery = await only_delivery(emu)
    assert delivery["status"] == "succeeded"
    attempts = delivery["attempts"]
    assert [(a["attempt"], a["time"], a["http_status"], a["error"], a["ok"]) for a in attempts] == [
        (1, NOW, 500, "HTTP 500", False), (2, NOW + 30, 500, "HTTP 500", False), (3, NOW + 90, 200, None, True)]
    # The start of the response body is kept (1 KB), not all of it.
    assert attempts[0]["response_body"] == ("boom: database unavailable" + "x" * 3000)[:RESPONSE_KEPT]
    assert attempts[2]["response_body"] == "thanks"
    assert all(isinstance(a["latency_ms"], float) and a["latency_ms"] >= 0 for a in attempts)

    # The detail view shows the same delivery, with the payload parsed back.
    detail = await admin(emu, "GET", f"/_emulator/webhooks/{delivery['id']}")
    assert detail["attempts"] == attempts
    assert detail["payload"] == receiver.received[0].json
    await admin(emu, "GET", "/_emulator/webhooks/whd_nope", status=404)


async def test_receiver_slower_than_the_timeout(aiohttp_client, aiohttp_server, clock):
    async def slow_first(number: int, request: web.Request) -> web.StreamResponse:
        if number == 1:
            await asyncio.sleep(1)
        return web.Response(text="late but fine")

    receiver = Receiver(slow_first)
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),),
                               webhook_timeout=0.3)
    await emit(emu, CHECK_PAID)
    await advance(emu, 0)
    delivery = await only_delivery(emu)
    assert delivery["status"] == "pending"
    [first] = delivery["attempts"]
    assert first["error"] == "no complete response within 0.3 s"
    assert first["http_status"] is None and first["ok"] is False
    assert first["latency_ms"] >= 300

    await advance(emu, 30)
    delivery = await only_delivery(emu)
    assert delivery["status"] == "succeeded"
    assert [a["ok"] for a in delivery["attempts"]] == [False, True]
    assert delivery["attempts"][1]["response_body"] == "late but fine"
    assert [r.event_id for r in receiver.received] == [delivery["event_id"]] * 2


async def test_connection_reset_is_recorded_and_retried(aiohttp_client, aiohttp_server, clock):
    async def reset_first(number: int, request: web.Request) -> web.StreamResponse:
        if number == 1:
            assert request.transport is not None
            request.transport.abort()  # drop the connection: no status line, no body
            await asyncio.sleep(0.1)
        return web.Response(text="ok")

    receiver = Receiver(reset_first)
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),))
    await emit(emu, CHECK_PAID)
    await advance(emu, 0)
    delivery = await only_delivery(emu)
    [first] = delivery["attempts"]
    assert first["ok"] is False and first["http_status"] is None
    assert first["error"] == "the receiver closed the connection without a response"
    assert delivery["status"] == "pending" and delivery["next_attempt_at"] == NOW + 30

    await advance(emu, 30)
    delivery = await only_delivery(emu)
    assert delivery["status"] == "succeeded"
    assert [a["http_status"] for a in delivery["attempts"]] == [None, 200]


async def test_a_tcp_reset_is_recorded_and_retried(aiohttp_client, clock):
    """A raw TCP receiver: the first connection is reset (RST, SO_LINGER 0) once the request has arrived; the
    next one gets a well-formed 200."""
    connections: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        assert length is not None, head
        body = await reader.readexactly(int(length.group(1)))
        connections.append(body)
        if len(connections) == 1:
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        emu = await start_emulator(aiohttp_client, clock, (f"http://127.0.0.1:{port}/hook",))
        await emit(emu, CHECK_PAID)
        await advance(emu, 0)
        delivery = await only_delivery(emu)
        assert [(a["http_status"], a["error"]) for a in delivery["attempts"]] == [
            (None, f"ClientOSError: [Errno {errno.ECONNRESET}] {os.strerror(errno.ECONNRESET)}")]
        assert delivery["status"] == "pending"
        await advance(emu, 30)
        delivery = await only_delivery(emu)
        assert delivery["status"] == "succeeded"
        assert [(a["http_status"], a["response_body"]) for a in delivery["attempts"]] == [(None, None), (200, "ok")]
        assert len(connections) == 2 and connections[0] == connections[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_a_redirect_is_a_failed_attempt_not_followed(aiohttp_client, aiohttp_server, clock):
    elsewhere: list[str] = []

    async def moved(number: int, request: web.Request) -> web.StreamResponse:
        if number == 1:
            raise web.HTTPFound("/moved")
        return web.Response(text="ok")

    async def landing(request: web.Request) -> web.StreamResponse:
        elsewhere.append(request.method)
        return web.Response(text="a page that is not a webhook receiver")

    receiver = Receiver(moved)
    app = receiver.app()
    app.router.add_route("*", "/moved", landing)
    server = await aiohttp_server(app, host="127.0.0.1")
    emu = await start_emulator(aiohttp_client, clock, (str(server.make_url("/hook")),))
    await emit(emu, CHECK_PAID)
    await advance(emu, 0)
    delivery = await only_delivery(emu)
    assert elsewhere == []
    assert [(a["http_status"], a["error"], a["ok"]) for a in delivery["attempts"]] == [(302, "HTTP 302", False)]
    assert delivery["status"] == "pending"
    await advance(emu, 30)
    assert (await only_delivery(emu))["status"] == "succeeded"
    assert elsewhere == []


async def test_exhausted_delivery_is_failed_stays_listed_and_can_be_redelivered(aiohttp_client, aiohttp_server,
                                                                                 clock):
    healthy = False

    async def respond(number: int, request: web.Request) -> web.StreamResponse:
        return web.Response(text="recovered") if healthy else web.Response(status=500, text="still down")

    receiver = Receiver(respond)
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),),
                               webhook_retry_schedule=(1, 2))
    await emit(emu, CHECK_PAID)
    await advance(emu, 10)  # attempt 1 now, 2 at +1 s, 3 at +3 s: all inside the window, in order
    delivery = await only_delivery(emu)
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None
    assert [(a["time"], a["http_status"]) for a in delivery["attempts"]] == [(NOW, 500), (NOW + 1, 500),
                                                                              (NOW + 3, 500)]
    assert len(receiver.received) == 3
    # Nothing more is scheduled, however far the clock goes.
    assert (await advance(emu, 86400))["fired"] == 0
    assert len(receiver.received) == 3

    failed = await deliveries(emu, status="failed")
    assert [d["id"] for d in failed] == [delivery["id"]]
    assert await deliveries(emu, status="succeeded") == []

    healthy = True
    replayed = await admin(emu, "POST", f"/_emulator/webhooks/{delivery['id']}/redeliver")
    assert replayed["status"] == "succeeded"
    assert [(a["attempt"], a["http_status"]) for a in replayed["attempts"]] == [(1, 500), (2, 500), (3, 500),
                                                                                (4, 200)]
    assert replayed["attempts"][3]["response_body"] == "recovered"
    assert len(receiver.received) == 4
    assert receiver.received[3].raw == receiver.received[0].raw
    assert receiver.received[3].headers["X-Ingo-Delivery-Attempt"] == "4"
    assert await deliveries(emu, status="failed") == []
    assert [d["id"] for d in await deliveries(emu, status="succeeded")] == [delivery["id"]]
    await admin(emu, "POST", "/_emulator/webhooks/whd_nope/redeliver", status=404)


async def test_retries_carry_the_same_id_and_a_fresh_timestamp(aiohttp_client, aiohttp_server, clock):
    receiver = Receiver(fails_then_ok(2, status=503))
    real = [float(NOW)]  # the receiver's (real) time, which passes here as the emulator clock does
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),),
                               wall=lambda: real[0])
    event = await emit(emu, RETURNED, event={"transaction_id": "2000001", "amount": "10.14"})
    await advance(emu, 0)
    real[0] += 30
    await advance(emu, 30)
    real[0] += 60
    await advance(emu, 60)
    assert len(receiver.received) == 3

    first, second, third = receiver.received
    assert {r.event_id for r in receiver.received} == {event["id"]}
    assert {r.headers["X-Ingo-Event-Id"] for r in receiver.received} == {event["id"]}
    assert {r.headers["X-Ingo-Topic"] for r in receiver.received} == {RETURNED}
    assert [r.headers["X-Ingo-Delivery-Attempt"] for r in receiver.received] == ["1", "2", "3"]
    # The payload is byte for byte the same (metadata.timestamp is when the event happened)...
    assert first.raw == second.raw == third.raw
    assert first.json["metadata"]["timestamp"] == NOW
    # ...but each attempt is signed afresh at the (real) time it is sent.
    assert [r.t for r in receiver.received] == [NOW, NOW + 30, NOW + 90]
    assert len({r.signature for r in receiver.received}) == 3
    for received in receiver.received:
        assert verify_signature(received.raw, received.signature, DEFAULT_SECRET, now=received.t)


# -- signatures ------------------------------------------------------------------------------------------------


async def test_signature_verifies_with_the_helper_and_independently(aiohttp_client, aiohttp_server, clock):
    receiver = Receiver()
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),))
    await emit(emu, SUSPENDED, event={"transaction_id": "2000001"})
    await advance(emu, 0)
    [received] = receiver.received
    raw, header = received.raw, received.signature

    assert received.headers["Content-Type"] == "application/json"
    assert header.startswith(f"t={NOW},v1=")
    signature = header.split(",v1=", 1)[1]
    assert len(base64.b64decode(signature, validate=True)) == 64  # a SHA-512 HMAC, Base64

    assert verify_signature(raw, header, DEFAULT_SECRET, now=NOW)
    assert verify_signature(raw.decode(), header, DEFAULT_SECRET, now=NOW)  # the body as text works too
    assert independent_signature_check(raw, header, DEFAULT_SECRET, now=NOW)

    # A tampered body, a wrong secret, a stale or future timestamp are refused by both.
    tampered = raw.replace(b'"2000001"', b'"2000002"')
    assert tampered != raw
    for body, secret, now in [(tampered, DEFAULT_SECRET, NOW), (raw, "not-the-secret", NOW),
                              (raw, DEFAULT_SECRET, NOW + 301), (raw, DEFAULT_SECRET, NOW - 301)]:
        assert not verify_signature(body, header, secret, now=now)
        assert not independent_signature_check(body, header, secret, now=now)
    # Within the tolerance (300 s by default, either way) it is accepted; the tolerance is a parameter.
    assert verify_signature(raw, header, DEFAULT_SECRET, now=NOW + 300)
    assert verify_signature(raw, header, DEFAULT_SECRET, now=NOW - 300)
    assert not verify_signature(raw, header, DEFAULT_SECRET, now=NOW + 61, tolerance=60)
    assert verify_signature(raw, header, DEFAULT_SECRET, now=NOW + 10**6, tolerance=0)  # 0: no age check
    # A timestamp moved by a replayer breaks the HMAC even when it is fresh.
    forged = header.replace(f"t={NOW}", f"t={NOW + 1000}")
    assert not verify_signature(raw, forged, DEFAULT_SECRET, now=NOW + 1000)
    assert not independent_signature_check(raw, forged, DEFAULT_SECRET, now=NOW + 1000)
    # Malformed headers are refused, not raised.
    for bad in ["", "v1=abc", f"t={NOW}", "t=soon,v1=abc", signature]:
        assert verify_signature(raw, bad, DEFAULT_SECRET, now=NOW) is False


async def test_webhook_secret_setting_signs_deliveries(aiohttp_client, aiohttp_server, clock):
    receiver = Receiver()
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),),
                               webhook_secret="whsec-from-the-command-line")
    await emit(emu, CHECK_PAID)
    await advance(emu, 0)
    [received] = receiver.received
    assert verify_signature(received.raw, received.signature, "whsec-from-the-command-line", now=NOW)
    assert not verify_signature(received.raw, received.signature, DEFAULT_SECRET, now=NOW)


# -- the envelope and scripted follow-ups ---------------------------------------------------------------------------


async def test_follow_up_due_in_two_days_fires_when_the_clock_reaches_it(aiohttp_client, aiohttp_server, clock):
    receiver = Receiver()
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),))
    token = await card_token(emu)
    status, body, _ = await emu.post("/gateway/process", push(token, 10.14))  # cents .14: returned in 2 days
    assert status == 200 and body["status"] == 100, body
    transaction_id = body["data"]["transaction_id"]
    await advance(emu, 0)
    # The payment's final outcome arrives at once; its return is due in two days.
    assert [r.json["metadata"]["topic"] for r in receiver.received] == [PAID]
    pending = (await admin(emu, "GET", "/_emulator/clock"))["pending"]
    assert [p["due"] for p in pending] == [NOW + 2 * 86400]

    after_one_day = await advance(emu, 86400)
    assert after_one_day["fired"] == 0 and after_one_day["now"] == NOW + 86400
    assert len(receiver.received) == 1
    await advance(emu, 86400 - 1)
    assert len(receiver.received) == 1
    assert [d["topic"] for d in await deliveries(emu)] == [PAID]

    reply = await advance(emu, 1)
    # Delivered before the clock call returned: no waiting, no polling.
    assert reply["now"] == NOW + 2 * 86400
    assert reply["pending_count"] == 0
    [_, received] = receiver.received
    envelope = received.json
    assert envelope["metadata"]["topic"] == RETURNED
    assert envelope["metadata"]["timestamp"] == NOW + 2 * 86400  # when it happened, on the emulator clock
    assert received.t == NOW  # signed at the receiver's own time, so its tolerance check passes after an advance
    assert envelope["data"]["event"]["status"] == "1114"
    assert envelope["data"]["event"]["transaction_id"] == str(transaction_id)
    assert envelope["data"]["event"]["amount"] == "10.14"
    assert envelope["data"]["ancillary"]["participant_unique_id1"] == "payment-1"
    delivery = await only_delivery(emu, topic=RETURNED)
    assert delivery["status"] == "succeeded"


async def test_envelope_is_in_ingos_shape(aiohttp_client, aiohttp_server, clock):
    receiver = Receiver()
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),))
    await emit(emu, TOKENIZED, ancillary={"participant_unique_id1": "customer-1", "tracer_token": "tr-1"},
               event={"last_4": "1111", "customer_account_token": "tok-1", "account_type": "CA"})
    await emit(emu, SUSPENDED, status=1106, message="Success - OFAC suspended")
    await advance(emu, 0)
    tokenized, suspended = sorted((r.json for r in receiver.received), key=lambda e: e["metadata"]["topic"],
                                  reverse=True)

    for envelope in (tokenized, suspended):
        assert list(envelope) == ["metadata", "data"]
        assert list(envelope["metadata"]) == ["id", "timestamp", "topic", "topic_description", "version"]
        assert list(envelope["data"]) == ["ancillary", "event"]
        assert envelope["metadata"]["id"].startswith("sb01-") and len(envelope["metadata"]["id"]) == 5 + 36
        assert envelope["metadata"]["timestamp"] == NOW and isinstance(envelope["metadata"]["timestamp"], int)
        assert isinstance(envelope["metadata"]["version"], str)
        assert isinstance(envelope["data"]["event"]["status"], str)
    assert tokenized["metadata"]["id"] != suspended["metadata"]["id"]

    assert tokenized["metadata"]["topic"] == TOKENIZED
    assert tokenized["metadata"]["topic_description"] == (
        "This event reports successful tokenization of a recipient disbursement account. Includes the token and "
        "other account information.")
    assert tokenized["metadata"]["version"] == "3"
    assert tokenized["data"]["ancillary"] == {"participant_unique_id1": "customer-1", "participant_unique_id2": "",
                                              "session_id": "", "tracer_token": "tr-1"}
    assert tokenized["data"]["event"] == {"last_4": "1111", "customer_account_token": "tok-1",
                                          "account_type": "CA", "status": "100", "client_message": "Success"}

    assert suspended["metadata"]["topic"] == SUSPENDED
    assert suspended["metadata"]["version"] == "1"
    assert suspended["data"]["event"] == {"status": "1106", "client_message": "Success - OFAC suspended"}


async def test_events_endpoint_refuses_what_it_cannot_send(aiohttp_client, clock):
    emu = await start_emulator(aiohttp_client, clock)
    for body, message in [
        ({"topic": "gateway.no.such.topic", "participant_id": 12345},
         "topic: unknown webhook topic 'gateway.no.such.topic'; expected one of: "),
        ({"topic": CHECK_PAID, "participant_id": "12345"}, "participant_id: must be an integer"),
        ({"topic": CHECK_PAID, "participant_id": 12345, "event": []}, "event: must be an object"),
        ({"topic": CHECK_PAID, "participant_id": 12345, "status": "100"}, "status: must be an integer"),
    ]:
        document = await admin(emu, "POST", "/_emulator/events", body, status=400)
        assert document["message"].startswith(message)


# -- listing, filters and endpoints ---------------------------------------------------------------------------------


async def test_listing_filters_by_topic_status_and_participant(aiohttp_client, aiohttp_server, clock):
    async def refuse_returns(number: int, request: web.Request) -> web.StreamResponse:
        if (await request.json())["metadata"]["topic"] == RETURNED:
            return web.Response(status=500)
        return web.Response(text="ok")

    receiver = Receiver(refuse_returns)
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),))
    paid = await emit(emu, CHECK_PAID, 12345)
    returned = await emit(emu, RETURNED, 12345)
    other = await emit(emu, CHECK_PAID, 54321)
    await advance(emu, 0)

    def events(found):
        return sorted(d["event_id"] for d in found)

    assert events(await deliveries(emu)) == sorted([paid["id"], returned["id"], other["id"]])
    assert events(await deliveries(emu, topic=CHECK_PAID)) == sorted([paid["id"], other["id"]])
    assert events(await deliveries(emu, topic=RETURNED)) == [returned["id"]]
    assert events(await deliveries(emu, status="succeeded")) == sorted([paid["id"], other["id"]])
    assert events(await deliveries(emu, status="pending")) == [returned["id"]]
    assert events(await deliveries(emu, participant_id=54321)) == [other["id"]]
    assert events(await deliveries(emu, participant_id=12345, topic=CHECK_PAID, status="succeeded")) == [paid["id"]]
    assert await deliveries(emu, participant_id=99999) == []
    assert events(await deliveries(emu, event_id=returned["id"])) == [returned["id"]]
    # Newest first.
    assert [d["event_id"] for d in await deliveries(emu)][-1] == paid["id"]

    assert (await admin(emu, "GET", "/_emulator/webhooks?status=lost", status=400))["message"] == (
        "the query parameter status must be one of pending, delivering, succeeded, failed, delivered, not 'lost'")
    assert (await admin(emu, "GET", "/_emulator/webhooks?participant_id=x", status=400))["message"] == (
        "the query parameter participant_id must be an integer, not 'x'")


async def test_endpoints_through_the_admin_api_with_topic_filters_and_secrets(aiohttp_client, aiohttp_server,
                                                                            clock):
    everything, ofac_only, partner = Receiver(), Receiver(), Receiver()
    everything_url = await start_receiver(aiohttp_server, everything)
    ofac_url = await start_receiver(aiohttp_server, ofac_only)
    partner_url = await start_receiver(aiohttp_server, partner)
    emu = await start_emulator(aiohttp_client, clock, (everything_url,))

    [cli_endpoint] = (await admin(emu, "GET", "/_emulator/webhooks/endpoints"))["endpoints"]
    assert cli_endpoint == {"id": cli_endpoint["id"], "url": everything_url, "topics": [], "participant_id": None,
                            "source": "cli", "secret": "default"}

    response = await emu.client.post("/_emulator/webhooks/endpoints", json={
        "url": ofac_url, "secret": "whsec-ofac-only", "topics": ["gateway.*.ofac.status.*"]})
    text = await response.text()
    assert response.status == 201, text
    assert "whsec-ofac-only" not in text
    added = json.loads(text)
    assert added == {"id": added["id"], "url": ofac_url, "topics": ["gateway.*.ofac.status.*"],
                     "participant_id": None, "source": "api", "secret": "configured"}
    partner_endpoint = await admin(emu, "POST", "/_emulator/webhooks/endpoints",
                                   {"url": partner_url, "participant_id": 54321, "topics": ["*.check.*"]},
                                   status=201)
    assert partner_endpoint["secret"] == "default"

    listing = await emu.client.get("/_emulator/webhooks/endpoints")
    listing_text = await listing.text()
    assert "whsec-ofac-only" not in listing_text and DEFAULT_SECRET not in listing_text
    assert {e["id"] for e in json.loads(listing_text)["endpoints"]} == {cli_endpoint["id"], added["id"],
                                                                         partner_endpoint["id"]}

    await emit(emu, SUSPENDED, 12345)
    await emit(emu, CLEARED, 54321)
    await emit(emu, CHECK_PAID, 12345)
    await emit(emu, CHECK_PAID, 54321)
    await advance(emu, 0)
    assert sorted(everything.topics()) == sorted([SUSPENDED, CLEARED, CHECK_PAID, CHECK_PAID])
    assert sorted(ofac_only.topics()) == sorted([SUSPENDED, CLEARED])
    assert [(r.json["metadata"]["topic"], r.json["data"]["event"]["status"]) for r in partner.received] == [
        (CHECK_PAID, "100")]
    # Each endpoint's deliveries are signed with its own secret.
    for received in ofac_only.received:
        assert verify_signature(received.raw, received.signature, "whsec-ofac-only", now=NOW)
        assert not verify_signature(received.raw, received.signature, DEFAULT_SECRET, now=NOW)
    for received in everything.received + partner.received:
        assert verify_signature(received.raw, received.signature, DEFAULT_SECRET, now=NOW)

    assert (await admin(emu, "DELETE", f"/_emulator/webhooks/endpoints/{added['id']}")) == {"removed": added["id"]}
    await admin(emu, "DELETE", f"/_emulator/webhooks/endpoints/{added['id']}", status=404)
    await emit(emu, SUSPENDED, 12345)
    await advance(emu, 0)
    assert len(ofac_only.received) == 2  # removed: nothing more
    assert len(everything.received) == 5

    for bad, named in [({"url": "ftp://127.0.0.1/x"}, "url: "), ({"url": ofac_url, "topics": "gateway.*"}, "topics: "),
                       ({"url": ofac_url, "surprise": 1}, "surprise is not a key"),
                       ({"url": ofac_url, "secret": ""}, "secret: "),
                       ({"url": ofac_url, "participant_id": None}, "participant_id is null")]:
        document = await admin(emu, "POST", "/_emulator/webhooks/endpoints", bad, status=400)
        assert document["message"].startswith(named), document
    response = await emu.client.post("/_emulator/webhooks/endpoints", data="not json",
                                     headers={"Content-Type": "application/json"})
    assert response.status == 400


async def test_a_pending_delivery_to_a_removed_endpoint_fails_visibly(aiohttp_client, clock):
    emu = await start_emulator(aiohttp_client, clock)
    endpoint = await admin(emu, "POST", "/_emulator/webhooks/endpoints",
                           {"url": f"http://127.0.0.1:{free_port()}/hook"}, status=201)
    await emit(emu, CHECK_PAID)
    await advance(emu, 0)
    assert (await only_delivery(emu))["status"] == "pending"
    await admin(emu, "DELETE", f"/_emulator/webhooks/endpoints/{endpoint['id']}")
    await advance(emu, 30)
    delivery = await only_delivery(emu, status="failed")
    assert [(a["time"], a["error"]) for a in delivery["attempts"]] == [
        (NOW, "cannot connect: Connection refused"), (NOW + 30, "the endpoint was removed")]


async def test_webhooks_config_file(aiohttp_client, aiohttp_server, clock, tmp_path):
    ofac, checks = Receiver(), Receiver()
    ofac_url = await start_receiver(aiohttp_server, ofac)
    checks_url = await start_receiver(aiohttp_server, checks)
    config = tmp_path / "webhooks.yaml"
    config.write_text(f"""
- url: {ofac_url}
  secret: whsec-config
  topics: ["*.ofac.*"]
- url: {checks_url}
  topics: ["*.check.*"]
  participant_id: 12345
""")
    emu = await start_emulator(aiohttp_client, clock, webhooks_config=config)
    await emit(emu, SUSPENDED)
    await emit(emu, CHECK_PAID, 12345)
    await emit(emu, CHECK_PAID, 54321)
    await advance(emu, 0)
    assert ofac.topics() == [SUSPENDED]
    assert checks.topics() == [CHECK_PAID]
    assert verify_signature(ofac.received[0].raw, ofac.received[0].signature, "whsec-config", now=NOW)
    sources = {e["source"] for e in (await admin(emu, "GET", "/_emulator/webhooks/endpoints"))["endpoints"]}
    assert sources == {"config"}


# -- load, concurrency and never blocking the API ----------------------------------------------------------------------


@pytest.mark.slow
async def test_a_burst_of_1000_events_is_delivered_without_loss_within_the_concurrency_bound(
        aiohttp_client, aiohttp_server, clock):
    async def busy(number: int, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.002)  # long enough for deliveries to overlap
        return web.Response(text="ok")

    receiver = Receiver(busy)
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),),
                               webhook_concurrency=4)
    emitted: list[str] = []
    for batch in range(20):
        replies = await asyncio.gather(*(emit(emu, CHECK_PAID, event={"check_number": f"{batch}-{i}"})
                                         for i in range(50)))
        emitted.extend(reply["id"] for reply in replies)
    assert len(set(emitted)) == 1000
    await advance(emu, 0)  # fires whatever is still due and waits for every attempt under way

    unique = {r.event_id for r in receiver.received}
    assert unique == set(emitted)
    assert len(receiver.received) == 1000  # each exactly once: every first attempt succeeded
    assert receiver.max_in_flight == 4
    succeeded = await deliveries(emu, status="succeeded")
    assert len(succeeded) == 1000
    assert await deliveries(emu, status="pending") == []


async def test_the_api_answers_before_the_receiver_does(aiohttp_client, aiohttp_server, clock):
    release = asyncio.Event()
    receiver = Receiver()

    async def hold(number: int, request: web.Request) -> web.StreamResponse:
        receiver.log.append(f"received {number}")
        await release.wait()
        receiver.log.append(f"answered {number}")
        return web.Response(text="ok")

    receiver.respond = hold
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),),
                               webhook_timeout=5)
    token = await card_token(emu)
    status, body, _ = await emu.post("/gateway/process", push(token, 10.06))  # cents .06: OFAC suspended now
    receiver.log.append("api answered")
    assert status == 200 and body["status"] == 100, body
    assert "answered 1" not in receiver.log  # the receiver is still holding the delivery
    await asyncio.wait_for(receiver.arrived.wait(), 10)
    release.set()
    await advance(emu, 0)

    assert receiver.log.index("api answered") < receiver.log.index("answered 1")
    delivery = await only_delivery(emu)
    # Had the API waited for the receiver, the receiver would have been released only after the webhook
    # timeout and the attempt would have failed.
    assert delivery["topic"] == SUSPENDED and delivery["status"] == "succeeded"
    assert [a["http_status"] for a in delivery["attempts"]] == [200]

    # The scripted follow-ups (cleared after an hour, then the payment completes) arrive when the clock gets there.
    await advance(emu, 3600)
    assert receiver.topics() == [SUSPENDED, CLEARED, PAID]


# -- durability ------------------------------------------------------------------------------------------------------


async def test_pending_deliveries_survive_a_restart_with_a_data_dir(aiohttp_client, aiohttp_server, clock,
                                                                     tmp_path, caplog):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    first = await start_emulator(aiohttp_client, clock, (url,), data_dir=tmp_path)
    assert isinstance(first.runtime.store, SqliteStore)
    retried = await emit(first, RETURNED)
    await advance(first, 0)  # the receiver is down: attempt 1 fails, attempt 2 is due at NOW + 30
    [delivery] = await deliveries(first)
    assert delivery["status"] == "pending" and len(delivery["attempts"]) == 1
    caplog.set_level(logging.WARNING, logger="ingopay_emulator.webhooks")
    await first.client.close()
    # Shutdown reports what it leaves undone.
    assert any(record.getMessage() == "1 webhook deliveries not completed at shutdown (kept for the next run when "
               f"--data-dir is set): {delivery['id']}" for record in caplog.records)

    receiver = Receiver()
    await start_receiver(aiohttp_server, receiver, port=port)
    second = await start_emulator(aiohttp_client, clock, (url,), data_dir=tmp_path)
    await advance(second, 29)
    assert receiver.received == []
    await advance(second, 1)
    assert [r.event_id for r in receiver.received] == [retried["id"]]
    [delivery] = await deliveries(second)
    assert delivery["status"] == "succeeded"
    assert [(a["attempt"], a["time"], a["ok"]) for a in delivery["attempts"]] == [(1, NOW, False),
                                                                                   (2, NOW + 30, True)]
