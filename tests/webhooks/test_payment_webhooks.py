"""A webhook after every payment (issue 23 item 6): Ingo's quick-start says a real-time webhook with the final
outcome follows a process call. Ingo's own example bodies, signed by the independent signer of
tests/support/outside.py, against a real emulator process on default settings and a receiver of its own; the
choices around it (declines, pending pushes, checks, the setting) in process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from emulator.settings import SettingsError, from_sources
from tests.support.app import Signed
from tests.support.bodies import CARD, v11
from tests.support.ingo_examples import EXAMPLES, now_dated, send
from tests.support.outside import independent_signature_check
from tests.support.sockets import free_port

pytestmark = pytest.mark.slow

PAID = "gateway.transaction.recipient.payment.status.success"
TERMINATED = "gateway.transaction.recipient.payment.status.terminated"
CHECK_ISSUED = "gateway.transaction.recipient.payment.status.check.issued"
WEBHOOK_SECRET = "ingopay-emulator-webhook-secret"  # the documented default


@dataclass
class Received:
    """What the test's receiver got: each delivery's raw body and headers."""

    deliveries: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(raw) for raw, _ in self.deliveries]


@dataclass
class Running:
    """The emulator process and its receiver."""

    url: str
    received: Received


def receiver(received: Received) -> ThreadingHTTPServer:
    """A webhook receiver on 127.0.0.1 and a free port: keeps every delivery, answers 200 at once."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with received.lock:
                received.deliveries.append((raw, dict(self.headers.items())))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    """``python -m emulator`` on its default settings (payment webhooks on), delivering to the test's receiver."""
    received = Received()
    server = receiver(received)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = free_port()
    hook = f"http://127.0.0.1:{server.server_address[1]}/ingo"
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--quiet",
                                "--webhook-url", hook], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and "ready on" in process.stdout.readline()
        yield Running(f"http://127.0.0.1:{port}", received)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
        server.shutdown()
        server.server_close()


@pytest.fixture
def emulator(running: Running) -> Running:
    """The running emulator, reset, and a receiver that has received nothing yet."""
    admin(running.url, "POST", "/_emulator/reset", {})
    with running.received.lock:
        running.received.deliveries.clear()
    return running


def admin(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def wait_for_webhooks(base: str, match: dict[str, Any], count: int = 1) -> list[dict[str, Any]]:
    """POST /_emulator/webhooks/wait: the deliveries that match, once there are ``count``."""
    status, answer = admin(base, "POST", "/_emulator/webhooks/wait",
                           {"match": match, "count": count, "timeout": 20})
    assert status == 200, answer
    deliveries: list[dict[str, Any]] = answer["deliveries"]
    return deliveries


def events(base: str) -> list[dict[str, Any]]:
    status, answer = admin(base, "GET", "/_emulator/events")
    assert status == 200, answer
    found: list[dict[str, Any]] = answer["events"]
    return found


def test_ingos_card_process_example_is_followed_by_its_final_webhook(emulator: Running) -> None:
    example = EXAMPLES["card process"]
    body = now_dated(example)
    status, answer = send(emulator.url, example["path"], body)
    assert (status, answer["status"]) == (200, 100), answer
    transaction_id = str(answer["data"]["transaction_id"])
    # "the webhook of this payment", by the client's own id, then by Ingo's transaction id
    [delivery] = wait_for_webhooks(emulator.url, {"participant_unique_id1": body["participant_unique_id1"],
                                                  "status": "delivered"})
    assert wait_for_webhooks(emulator.url, {"transaction_id": transaction_id}) == [delivery]
    assert delivery["topic"] == PAID
    envelope = delivery["payload"]
    assert envelope["metadata"]["topic"] == PAID and envelope["metadata"]["version"] == "1"
    assert envelope["metadata"]["topic_description"] == (
        "This event reports that the payment to the customer was completed. (Terminal)")  # Ingo's words
    assert envelope["data"]["ancillary"] == {
        "participant_unique_id1": body["participant_unique_id1"],
        "participant_unique_id2": body["participant_unique_id2"],
        "session_id": "00000000-0000-0000-0000-000000000001"}
    assert envelope["data"]["event"] == {
        "transaction_id": transaction_id, "customer_account_token": body["customer_account_token"],
        "amount": "1010.50", "status": "1125", "client_message": "Success"}
    # The receiver got it signed, as the documented rule computes it independently.
    [(raw, headers)] = emulator.received.deliveries
    assert json.loads(raw) == envelope
    assert independent_signature_check(raw, headers["X-Ingo-Signature"], WEBHOOK_SECRET,
                                       now=int(headers["X-Ingo-Signature"].split(",")[0][2:]))
    # A repeat answers 101 and sends nothing more: the payment has its final webhook already.
    status, again = send(emulator.url, example["path"], body)
    assert again["status"] == 101
    assert [e["topic"] for e in events(emulator.url)] == [PAID]


def test_ingos_ach_debit_example_is_followed_by_its_final_webhook(emulator: Running) -> None:
    example = EXAMPLES["ACH debit"]
    body = now_dated(example)
    status, answer = send(emulator.url, example["path"], body)
    assert status == 200 and answer["response"]["status"] == "100", answer
    ids = body["transaction"]["participant_unique_ids"]
    [delivery] = wait_for_webhooks(emulator.url, {"participant_unique_id1": ids["participant_unique_id1"]})
    event = delivery["payload"]["data"]["event"]
    assert delivery["topic"] == PAID and event["status"] == "1125"
    assert event["transaction_id"] == answer["transaction"]["transaction_id"] and event["amount"] == "101.96"
    assert delivery["payload"]["data"]["ancillary"]["participant_unique_id2"] == ids["participant_unique_id2"]


def test_ingos_check_process_example_announces_itself_with_check_issued_only(emulator: Running) -> None:
    example = EXAMPLES["check process"]
    body = now_dated(example)
    status, answer = send(emulator.url, example["path"], body)
    assert answer["status"] == 100, answer
    [delivery] = wait_for_webhooks(emulator.url, {"participant_unique_id1": body["participant_unique_id1"]})
    assert delivery["topic"] == CHECK_ISSUED
    assert delivery["payload"]["data"]["event"]["check_number"] == answer["data"]["check_number"]
    assert [e["topic"] for e in events(emulator.url)] == [CHECK_ISSUED]  # sent as the push was answered


def token_for(base: str, card: str, puid1: str) -> str:
    example = EXAMPLES["card verify"]
    body = {**now_dated(example), "account": card, "participant_unique_id1": puid1}
    status, answer = send(base, example["path"], body)
    assert answer["status"] == 100, answer
    token: str = answer["data"]["customer_account_token"]
    return token


def push(base: str, token: str, puid1: str, amount: float) -> dict[str, Any]:
    example = EXAMPLES["card process"]
    body = {**now_dated(example), "customer_account_token": token, "participant_unique_id1": puid1,
            "amount": amount}
    status, answer = send(base, example["path"], body)
    assert status == 200, answer
    return answer


def test_a_declined_push_ends_with_a_terminated_webhook_naming_the_decline(emulator: Running) -> None:
    token = token_for(emulator.url, "4000000085100008", "customer-851")  # magic value: process declines 851
    assert push(emulator.url, token, "declined-1", 20.0)["status"] == 851
    [delivery] = wait_for_webhooks(emulator.url, {"participant_unique_id1": "declined-1"})
    event = delivery["payload"]["data"]["event"]
    assert delivery["topic"] == TERMINATED
    assert (event["status"], event["client_message"], event["reason_code"]) == (
        "1113", "Disbursement / Payment has been terminated", "851")


def test_a_pending_push_gets_one_final_webhook_when_it_settles(emulator: Running) -> None:
    token = token_for(emulator.url, CARD["account"], "customer-1")
    answer = push(emulator.url, token, "pending-1", 20.02)  # cents .02: a stand-in (102), settled 60 s on
    assert answer["status"] == 102, answer
    assert events(emulator.url) == []  # not final yet: nothing was emitted as it was answered
    status, _ = admin(emulator.url, "POST", "/_emulator/clock", {"advance": 60})
    assert status == 200
    [delivery] = wait_for_webhooks(emulator.url, {"participant_unique_id1": "pending-1"})
    assert (delivery["topic"], delivery["payload"]["data"]["event"]["status"]) == (PAID, "1125")
    assert [e["topic"] for e in events(emulator.url)] == [PAID]  # one final, not two


def test_errors_that_are_no_outcome_send_no_webhook(emulator: Running) -> None:
    token = token_for(emulator.url, CARD["account"], "customer-1")
    assert push(emulator.url, token, "system-1", 20.80)["status"] == 500  # cents .80: retry to learn the outcome
    example = EXAMPLES["card process"]
    body = {**now_dated(example), "customer_account_token": token, "participant_unique_id1": "invalid-1"}
    del body["amount"]
    status, refused = send(emulator.url, example["path"], body)
    assert refused["status"] in (400, 401), refused
    assert push(emulator.url, token, "paid-1", 20.0)["status"] == 100
    wait_for_webhooks(emulator.url, {"participant_unique_id1": "paid-1"})
    assert [e["envelope"]["data"]["ancillary"]["participant_unique_id1"] for e in events(emulator.url)] == ["paid-1"]


# -- in process: the setting, and what a run without an endpoint leaves --------------------------------------------


async def verified_card(emulator: Signed) -> str:
    status, body, _ = await emulator.post("/gateway/verify", v11(**CARD))
    assert status == 200 and body["status"] == 100, body
    token: str = body["data"]["customer_account_token"]
    return token


async def test_payment_webhooks_off_sends_none(make_emulator) -> None:
    emulator = await make_emulator(payment_webhooks="off")
    token = await verified_card(emulator)
    status, answer, _ = await emulator.post("/gateway/process", v11(
        account_type="CA", participant_unique_id1="pay-1", customer_account_token=token, amount=10.0,
        source_of_funds=4))
    assert answer["status"] == 100, answer
    assert list(emulator.runtime.services.outbox.events) == []
    # what Ingo's testing page describes still comes: a return two days on (cents .14)
    await emulator.post("/gateway/process", v11(account_type="CA", participant_unique_id1="pay-2",
                                                customer_account_token=token, amount=10.14, source_of_funds=4))
    response = await emulator.client.post("/_emulator/clock", json={"advance": 2 * 86400})
    assert response.status == 200
    assert [e.topic for e in emulator.runtime.services.outbox.events] == [
        "gateway.transaction.recipient.payment.status.returned"]


def test_the_setting_names_its_flag_and_variable_when_its_value_is_wrong() -> None:
    assert from_sources(environ={"INGOPAY_EMULATOR_PAYMENT_WEBHOOKS": "off"}).payment_webhooks == "off"
    with pytest.raises(SettingsError, match="INGOPAY_EMULATOR_PAYMENT_WEBHOOKS='yes'.*expected one of on, off"):
        from_sources(environ={"INGOPAY_EMULATOR_PAYMENT_WEBHOOKS": "yes"})


async def test_without_an_endpoint_the_event_is_kept_and_nothing_is_delivered_or_found(make_emulator) -> None:
    emulator = await make_emulator()
    token = await verified_card(emulator)
    for number in range(3):
        status, answer, _ = await emulator.post("/gateway/process", v11(
            account_type="CA", participant_unique_id1=f"pay-{number}", customer_account_token=token,
            amount=10.0 + number, source_of_funds=4))
        assert answer["status"] == 100, answer
    response = await emulator.client.post("/_emulator/clock", json={"advance": 3 * 86400})  # past every retry
    assert response.status == 200
    assert [e.topic for e in emulator.runtime.services.outbox.events] == [PAID] * 3
    deliveries = await (await emulator.client.get("/_emulator/webhooks")).json()
    findings = await (await emulator.client.get("/_emulator/findings")).json()
    assert (deliveries["count"], findings["findings"]) == (0, [])
