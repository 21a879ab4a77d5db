"""Money-safety findings, seen from outside: a client makes each mistake that would lose money against Ingo and the
emulator records a finding (code, participant, the journal's request ids or the deliveries, a message that names the
mistake) while answering exactly as it would anyway; a careful client doing the same business gets none.

Every test mints a tenant of its own (tests/support/outside.py: raw urllib, its own signing) on an emulator serving from
a thread. Nothing sleeps before asserting that nothing happened: a request's findings are recorded before its answer
is sent, and webhook findings before a wait on the delivery answers. A client that honours Retry-After or paces
itself sleeps as part of its own behaviour.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.error
from collections import Counter, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from emulator.settings import Settings
from emulator.testing import EmulatorServer
from tests.support.outside import CARD_VERIFY, Client, admin, call

pytestmark = pytest.mark.slow

OFAC = "gateway.transaction.recipient.verification.ofac.status."
SUSPENDED, CLEARED, FAILED = OFAC + "suspended", OFAC + "cleared", OFAC + "failure"
PAID = "gateway.transaction.recipient.payment.status.success"
#: Magic cents (docs/testing-scenarios.md): 102 now; OFAC suspended now, then cleared (.06) or failed (.08) in 1 h.
PENDING, OFAC_CLEARS, OFAC_FAILS = 10.02, 30.06, 30.08
HOUR = 3600
#: The slow first push of the in-flight tests: the emulator takes this long, the client gives up after GIVE_UP.
LATENCY, GIVE_UP = 3, 1
#: How long the webhook emulator waits for a receiver, and how long the slow receiver takes the first time.
WEBHOOK_TIMEOUT, SLOW_RECEIVER = 0.5, 1.5


# -- emulators and a webhook receiver ------------------------------------------------------------------------------

def serving(settings: Settings) -> Iterator[str]:
    server = EmulatorServer(settings).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    """Rate limiting off: over_rate_limit is still watched for (five a second, Ingo's pace)."""
    yield from serving(Settings(rate_limit=0))


@pytest.fixture(scope="module")
def limited() -> Iterator[str]:
    """Rate limiting on, at Ingo's five a second: forced 429s carry Retry-After: 1."""
    yield from serving(Settings(rate_limit=5))


@pytest.fixture(scope="module")
def hooks() -> Iterator[str]:
    """Webhooks give up on a receiver after WEBHOOK_TIMEOUT and make one retry 0.2 s later."""
    yield from serving(Settings(rate_limit=0, webhook_timeout=WEBHOOK_TIMEOUT, webhook_retry_schedule=(0.2,)))


class Hook(BaseHTTPRequestHandler):
    """Answers by the first path segment: ack (200 at once), refuse (500), refuse-once (500, then 200), slow-once
    (SLOW_RECEIVER seconds, then 200 at once). The rest of the path tells tenants apart."""

    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        behaviour = self.path.split("/")[1]
        first = self.server.arrived(self.path) == 1
        if behaviour == "slow-once" and first:
            time.sleep(SLOW_RECEIVER)  # the receiver's own slowness
        status = 500 if behaviour == "refuse" or (behaviour == "refuse-once" and first) else 200
        try:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            pass  # the emulator gave up on a slow answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Hook)
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def arrived(self, path: str) -> int:
        with self.lock:
            self.calls[path] += 1
            return self.calls[path]

    def url(self, behaviour: str, tenant: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{behaviour}/{tenant}"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def unreachable() -> Iterator[str]:
    """A receiver URL that refuses connections: its port is bound (so nobody takes it) but never listened on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


# -- helpers -------------------------------------------------------------------------------------------------------

def the_finding(client: Client, code: str) -> dict[str, Any]:
    """The client's only finding, which must be of ``code`` and its participant."""
    found = client.findings()
    assert [f["code"] for f in found] == [code], found
    assert found[0]["participant_id"] == client.participant_id
    return found[0]


def journal(client: Client) -> list[dict[str, Any]]:
    """The client's journal entries, oldest first."""
    status, answer = admin(client.url, "GET", f"/_emulator/requests?participant_id={client.participant_id}")
    assert status == 200, answer
    return list(reversed(answer["requests"]))


def pushes(client: Client, puid1: str) -> list[dict[str, Any]]:
    """The journal entries of the client's pushes under ``puid1``, oldest first."""
    return [e for e in journal(client)
            if e["endpoint"] == "process" and (e["request_body"] or {}).get("participant_unique_id1") == puid1]


def assert_names(finding: dict[str, Any], *entries: dict[str, Any]) -> None:
    """The finding names these journal entries' request ids, and the last (the offending request) names it back."""
    assert finding["requests"] == [e["request_id"] for e in entries]
    assert finding["deliveries"] == []
    assert finding["id"] in entries[-1]["extra"]["findings"]


def wait_request(url: str, match: dict[str, Any], count: Any = 1) -> list[dict[str, Any]]:
    status, answer = admin(url, "POST", "/_emulator/requests/wait", {"match": match, "count": count, "timeout": 10})
    assert status == 200, answer
    return list(answer["requests"])


def wait_webhook(url: str, match: dict[str, Any], count: Any = 1) -> list[dict[str, Any]]:
    status, answer = admin(url, "POST", "/_emulator/webhooks/wait", {"match": match, "count": count, "timeout": 10})
    assert status == 200, answer
    return list(answer["deliveries"])


def advance(url: str, seconds: float) -> None:
    status, answer = admin(url, "POST", "/_emulator/clock", {"advance": seconds})
    assert status == 200, answer


def slow_first_push(client: Client, puid1: str) -> None:
    """For this tenant only, the first push under ``puid1`` takes LATENCY seconds to answer."""
    name = f"slow-first-push-{client.participant_id}"
    document = (f"version: 1\nscenarios:\n  - name: {name}\n    active: false\n    rules:\n"
                f"      - name: slow\n"
                f"        match: {{endpoint: process, participant_unique_id1: {puid1}, nth: 1}}\n"
                f"        respond: {{latency: {LATENCY}}}\n")
    status, _, answer = call(client.url, "POST", "/_emulator/scenarios", document.encode(),
                             headers={"Content-Type": "application/yaml"})
    assert status == 201, answer
    status, answer = admin(client.url, "POST", f"/_emulator/scenarios/{name}/activate",
                           {"participant_id": client.participant_id})
    assert status == 200, answer


def give_up_on(client: Client, token: str, amount: float, puid1: str) -> None:
    """A push the client stops waiting for after GIVE_UP seconds: it does not know whether it was paid."""
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        client.push(token, amount, puid1, timeout=GIVE_UP)


def paid(answer: tuple[int, dict[str, str], Any], ingo_status: int = 100) -> dict[str, Any]:
    """The data of a push answered HTTP 200 with ``ingo_status``."""
    status, _, body = answer
    assert (status, body["status"]) == (200, ingo_status), body
    return dict(body["data"])


def under_ofac_review(url: str, client: Client, amount: float) -> tuple[str, str]:
    """Pay a magic amount that opens an OFAC review of the recipient; (token, the suspended event's id) once the
    suspended event has been delivered."""
    token = client.token()
    paid(client.push(token, amount, "ofac-1"))
    [delivery] = wait_webhook(url, {"participant_id": client.participant_id, "topic": SUSPENDED,
                                    "status": "delivered"})
    return token, str(delivery["event_id"])


def ofac_ends(url: str, client: Client, topic: str) -> str:
    """Move the clock past the review's hour; the id of its last event once delivered."""
    advance(url, HOUR)
    [delivery] = wait_webhook(url, {"participant_id": client.participant_id, "topic": topic, "status": "delivered"})
    return str(delivery["event_id"])


def verify_with_token(client: Client, token: str, **raw: Any) -> tuple[int, dict[str, str], Any]:
    return client.post("/gateway/verify", {"account_type": "CA", "participant_unique_id1": "verify-2",
                                           "customer_account_token": token, **raw})


def tenant_with_hook(url: str, hook_url: str) -> tuple[Client, str]:
    """A tenant whose events also go to a webhook endpoint of its own; the client and that endpoint's id."""
    status, tenant = admin(url, "POST", "/_emulator/credentials", {"webhook_url": hook_url})
    assert status == 201, tenant
    return Client(url, tenant["username"], tenant["secret"], tenant["participant_id"]), tenant["webhook_endpoint"]


def emit(client: Client) -> str:
    """A payment-success event for the client's participant; its event id."""
    status, event = admin(client.url, "POST", "/_emulator/events",
                          {"topic": PAID, "participant_id": client.participant_id,
                           "event": {"transaction_id": "2000001"}})
    assert status == 201, event
    return str(event["id"])


def raw_with_token(client: Client) -> tuple[int, dict[str, str], Any]:
    """The mistake most tests use when they need one: re-verifying with the card's raw fields and its token."""
    return verify_with_token(client, client.token(), **CARD_VERIFY)


# -- double_payout_risk --------------------------------------------------------------------------------------------

def test_a_new_id_after_an_ambiguous_102_is_a_double_payout_risk(emulator):
    client = Client.minted(emulator)
    token = client.token()
    first = paid(client.push(token, PENDING, "pay-1"), 102)
    second = paid(client.push(token, PENDING, "pay-2"), 102)
    assert second["transaction_id"] != first["transaction_id"]  # paid twice, as Ingo would
    finding = the_finding(client, "double_payout_risk")
    assert_names(finding, *pushes(client, "pay-1"), *pushes(client, "pay-2"))
    assert finding["username"] == client.username
    assert "a second push of 10.02" in finding["message"] and token in finding["message"]
    assert "'pay-2'" in finding["message"] and "('pay-1') got no clear answer" in finding["message"]
    assert "retry with participant_unique_id1 'pay-1'" in finding["message"]
    assert "findings" not in pushes(client, "pay-1")[0]["extra"]


def test_a_new_id_while_the_first_push_is_in_flight_is_a_double_payout_risk(emulator):
    client = Client.minted(emulator)
    slow_first_push(client, "slow-1")
    token = client.token()
    give_up_on(client, token, 20.00, "slow-1")
    paid(client.push(token, 20.00, "slow-2"))
    finding = the_finding(client, "double_payout_risk")
    assert "('slow-1') is still unanswered" in finding["message"] and "can pay twice" in finding["message"]
    wait_request(emulator, {"participant_id": client.participant_id, "participant_unique_id1": "slow-1"})
    assert_names(finding, *pushes(client, "slow-1"), *pushes(client, "slow-2"))
    assert the_finding(client, "double_payout_risk") == finding  # the first push's late answer adds none


def test_a_new_id_after_a_push_the_client_gave_up_on_is_a_double_payout_risk_even_once_it_finished(emulator):
    client = Client.minted(emulator)
    slow_first_push(client, "slow-1")
    token = client.token()
    give_up_on(client, token, 20.00, "slow-1")
    # the emulator finishes the abandoned push (paid, 100) before the client tries again: the client never saw it
    (abandoned,) = wait_request(emulator, {"participant_id": client.participant_id,
                                           "participant_unique_id1": "slow-1"})
    assert abandoned["ingo_status"] == 100 and abandoned["extra"]["client_gone"] is True
    paid(client.push(token, 20.00, "slow-2"))
    finding = the_finding(client, "double_payout_risk")
    assert "('slow-1') got no clear answer" in finding["message"]


def test_a_new_id_after_an_ingo_system_error_in_a_200_is_a_double_payout_risk(emulator):
    client = Client.minted(emulator)
    token = client.token()
    status, _, answer = client.push(token, 30.80, "err-1")  # .80: Ingo's 500 "System Error - Please retry"
    assert (status, answer["status"]) == (200, 500)  # --error-http-status 200: the error is in the body only
    client.push(token, 30.80, "err-2")
    assert "('err-1') got no clear answer" in the_finding(client, "double_payout_risk")["message"]


def test_a_retry_under_the_same_id_after_102_gets_101_and_no_finding(emulator):
    client = Client.minted(emulator)
    token = client.token()
    first = paid(client.push(token, PENDING, "pay-1"), 102)
    again = paid(client.push(token, PENDING, "pay-1"), 101)
    assert again["transaction_id"] == first["transaction_id"]
    assert client.findings() == []


def test_a_retry_under_the_same_id_while_the_first_is_in_flight_gets_101_and_no_finding(emulator):
    client = Client.minted(emulator)
    slow_first_push(client, "slow-1")
    token = client.token()
    give_up_on(client, token, 20.00, "slow-1")
    paid(client.push(token, 20.00, "slow-1"), 101)
    wait_request(emulator, {"participant_id": client.participant_id, "participant_unique_id1": "slow-1"}, 2)
    assert client.findings() == []


def test_a_payment_of_another_amount_after_102_is_not_a_double_payout_risk(emulator):
    client = Client.minted(emulator)
    token = client.token()
    paid(client.push(token, PENDING, "pay-1"), 102)
    paid(client.push(token, 12.00, "pay-2"))
    assert client.findings() == []


# -- retry_before_retry_after --------------------------------------------------------------------------------------

def refused(client: Client, token: str) -> int:
    """A push the rate limiter refuses (forced): the Retry-After it gives, after checking Kong's 429."""
    status, answer = admin(client.url, "POST", "/_emulator/ratelimit", {"username": client.username, "refuse_next": 1})
    assert status == 200, answer
    status, headers, body = client.push(token, 15.00, "retry-1")
    assert (status, body["message"], headers["Retry-After"]) == (429, "API rate limit exceeded", "1")
    return int(headers["Retry-After"])


def test_a_retry_sooner_than_retry_after_is_flagged(limited):
    client = Client.minted(limited)
    token = client.token()
    refused(client, token)
    status, headers, body = client.push(token, 15.00, "retry-1")
    assert (status, body["status"]) == (200, 100)  # admitted as the limiter would admit it
    assert headers["RateLimit-Limit"] == "5" and "Retry-After" not in headers
    finding = the_finding(client, "retry_before_retry_after")
    refusal = [e for e in journal(client) if e["http_status"] == 429]
    assert_names(finding, *refusal, *pushes(client, "retry-1"))
    assert finding["message"].startswith(f"{client.username} sent again ")
    assert f"before the Retry-After of its 429 (request {refusal[0]['request_id']})" in finding["message"]


def test_a_client_that_waits_retry_after_is_not_flagged(limited):
    client = Client.minted(limited)
    token = client.token()
    time.sleep(refused(client, token))  # the client honours Retry-After
    paid(client.push(token, 15.00, "retry-1"))
    assert client.findings() == []


# -- over_rate_limit -----------------------------------------------------------------------------------------------

def test_six_requests_within_one_second_are_over_the_rate_limit(emulator):
    client = Client.minted(emulator)
    tokens = {client.token() for _ in range(6)}  # rate limiting is off: each is answered
    assert len(tokens) == 1
    finding = the_finding(client, "over_rate_limit")
    assert_names(finding, *journal(client))
    assert finding["message"] == (f"{client.username} sent 6 requests within one second; Ingo allows 5 a second "
                                  "per client and throttles the rest with 429")


def test_a_client_pacing_itself_at_five_a_second_is_not_flagged(emulator):
    client = Client.minted(emulator)
    sent: deque[float] = deque(maxlen=5)
    for _ in range(11):
        if len(sent) == 5:  # the client's own limiter: five in any second, with a little margin
            time.sleep(max(0.0, sent[0] + 1.1 - time.monotonic()))
        sent.append(time.monotonic())
        client.token()
    assert len(journal(client)) == 11
    assert client.findings() == []


# -- push_to_ofac_suspended / push_to_ofac_failed ------------------------------------------------------------------

def test_a_push_while_the_recipient_is_under_ofac_review_is_flagged(emulator):
    client = Client.minted(emulator)
    token, suspended = under_ofac_review(emulator, client, OFAC_CLEARS)
    paid(client.push(token, 25.00, "ofac-2"))  # paid as usual: a finding never changes an answer
    finding = the_finding(client, "push_to_ofac_suspended")
    assert_names(finding, *pushes(client, "ofac-2"))
    assert f"a push to token {token} came while its OFAC review is suspended (1106, event {suspended})" \
        in finding["message"]
    assert "wait for ...ofac.status.cleared" in finding["message"]


def test_a_client_that_waits_for_ofac_cleared_before_paying_is_not_flagged(emulator):
    client = Client.minted(emulator)
    token, _ = under_ofac_review(emulator, client, OFAC_CLEARS)
    ofac_ends(emulator, client, CLEARED)
    paid(client.push(token, 25.00, "ofac-2"))
    assert client.findings() == []


def test_a_push_after_ofac_failed_is_flagged(emulator):
    client = Client.minted(emulator)
    token, _ = under_ofac_review(emulator, client, OFAC_FAILS)
    failed = ofac_ends(emulator, client, FAILED)
    paid(client.push(token, 25.00, "ofac-2"))
    finding = the_finding(client, "push_to_ofac_failed")
    assert_names(finding, *pushes(client, "ofac-2"))
    assert f"a push to token {token} came after its OFAC review failed (1108, event {failed})" in finding["message"]
    assert "must not be paid" in finding["message"]


def test_a_client_that_stops_paying_a_recipient_who_failed_ofac_can_pay_others(emulator):
    client = Client.minted(emulator)
    token, _ = under_ofac_review(emulator, client, OFAC_FAILS)
    ofac_ends(emulator, client, FAILED)
    other = client.token(account="4012888888881881", recipient_last_name="Byron")
    assert other != token
    paid(client.push(other, 25.00, "ofac-2"))
    assert client.findings() == []


# -- webhook_never_acknowledged / webhook_ack_too_slow -------------------------------------------------------------

def test_a_receiver_that_answers_500_never_acknowledges(hooks, receiver):
    url = receiver.url("refuse", "500")
    client, endpoint = tenant_with_hook(hooks, url)
    emit(client)
    [delivery] = wait_webhook(hooks, {"participant_id": client.participant_id, "endpoint_id": endpoint,
                                      "status": "failed"})
    finding = the_finding(client, "webhook_never_acknowledged")
    assert (finding["deliveries"], finding["requests"], finding["username"]) == ([delivery["id"]], [], None)
    assert [a["http_status"] for a in delivery["attempts"]] == [500, 500]
    assert finding["message"].startswith(f"the webhook receiver at {url} never acknowledged {PAID} in 2 attempts "
                                         "(last: HTTP 500)")


def test_an_unreachable_receiver_never_acknowledges(hooks, unreachable):
    client, endpoint = tenant_with_hook(hooks, unreachable)
    emit(client)
    [delivery] = wait_webhook(hooks, {"participant_id": client.participant_id, "endpoint_id": endpoint,
                                      "status": "failed"})
    finding = the_finding(client, "webhook_never_acknowledged")
    assert finding["deliveries"] == [delivery["id"]]
    assert f"the webhook receiver at {unreachable} never acknowledged" in finding["message"]
    assert "(last: cannot connect" in finding["message"]


def test_a_receiver_slower_than_the_timeout_acks_too_slow(hooks, receiver):
    url = receiver.url("slow-once", "slow")
    client, endpoint = tenant_with_hook(hooks, url)
    emit(client)
    [delivery] = wait_webhook(hooks, {"participant_id": client.participant_id, "endpoint_id": endpoint,
                                      "status": "delivered"})
    assert [a["ok"] for a in delivery["attempts"]] == [False, True]  # the retry was acknowledged: only too slow
    finding = the_finding(client, "webhook_ack_too_slow")
    assert (finding["deliveries"], finding["requests"]) == ([delivery["id"]], [])
    assert finding["message"] == (f"the webhook receiver at {url} did not answer within the delivery timeout "
                                  f"(no complete response within {WEBHOOK_TIMEOUT:g} s), so the event is sent again: "
                                  "acknowledge first, then process")


def test_a_receiver_that_answers_200_at_once_is_not_flagged(hooks, receiver):
    client, endpoint = tenant_with_hook(hooks, receiver.url("ack", "at-once"))
    emit(client)
    [delivery] = wait_webhook(hooks, {"participant_id": client.participant_id, "endpoint_id": endpoint,
                                      "status": "delivered"})
    assert len(delivery["attempts"]) == 1
    assert client.findings() == []


def test_a_receiver_that_acknowledges_the_retry_is_not_flagged(hooks, receiver):
    client, endpoint = tenant_with_hook(hooks, receiver.url("refuse-once", "recovers"))
    emit(client)
    [delivery] = wait_webhook(hooks, {"participant_id": client.participant_id, "endpoint_id": endpoint,
                                      "status": "delivered"})
    assert [a["http_status"] for a in delivery["attempts"]] == [500, 200]
    assert client.findings() == []


# -- raw_account_with_token ----------------------------------------------------------------------------------------

def test_a_verify_with_raw_fields_and_a_token_is_flagged_and_refused_as_usual(emulator):
    client = Client.minted(emulator)
    status, _, body = raw_with_token(client)
    assert status == 200 and body["status"] == 401 and body["data"] == {}
    assert body["diagnosis"]["code"] == "invalid_parameter"
    assert body["diagnosis"]["field"] == "customer_account_token"
    finding = the_finding(client, "raw_account_with_token")
    assert_names(finding, journal(client)[-1])
    assert finding["message"] == (
        "a verify sent raw account data (account, expiration_date, recipient_address1, recipient_city, "
        "recipient_first_name, recipient_last_name, recipient_state, recipient_zip) together with "
        "customer_account_token: send the token alone; raw account data travels once, to tokenize")


def test_a_push_with_a_raw_account_and_a_token_is_flagged(emulator):
    client = Client.minted(emulator)
    status, _, _ = client.post("/gateway/process", {"account_type": "CA", "amount": 5.00, "source_of_funds": 1,
                                                    "customer_account_token": client.token(),
                                                    "participant_unique_id1": "raw-1",
                                                    "account": CARD_VERIFY["account"]})
    assert status == 200
    finding = the_finding(client, "raw_account_with_token")
    assert_names(finding, *pushes(client, "raw-1"))
    assert finding["message"].startswith("a process sent raw account data (account) together with "
                                         "customer_account_token")


def test_a_verify_and_a_push_with_the_token_alone_are_not_flagged(emulator):
    client = Client.minted(emulator)
    token = client.token()
    status, _, body = verify_with_token(client, token)
    assert (status, body["status"], body["data"]["customer_account_token"]) == (200, 100, token)
    paid(client.push(token, 5.00, "token-1"))
    assert client.findings() == []


# -- how findings are kept -----------------------------------------------------------------------------------------

def test_a_finding_is_logged_as_a_warning(emulator, caplog):
    caplog.set_level(logging.WARNING, logger="ingopay_emulator.findings")
    client = Client.minted(emulator)
    raw_with_token(client)
    finding = the_finding(client, "raw_account_with_token")
    [line] = [r for r in caplog.records if r.name == "ingopay_emulator.findings"
              and f"(participant {client.participant_id})" in r.getMessage()]
    assert line.levelno == logging.WARNING
    assert line.getMessage() == (f"finding raw_account_with_token (participant {client.participant_id}): "
                                 f"{finding['message']}")


def test_a_reset_of_the_participant_clears_its_findings_and_no_one_elses(emulator):
    careless, other = Client.minted(emulator), Client.minted(emulator)
    raw_with_token(careless)
    raw_with_token(other)
    kept = the_finding(other, "raw_account_with_token")
    status, answer = admin(emulator, "POST", "/_emulator/reset", {"participant_id": careless.participant_id})
    assert status == 200, answer
    assert careless.findings() == []
    assert the_finding(other, "raw_account_with_token") == kept


def test_the_same_mistake_right_after_a_reset_is_found_again(emulator):
    client = Client.minted(emulator)
    for _ in range(6):
        client.token()
    the_finding(client, "over_rate_limit")
    status, answer = admin(emulator, "POST", "/_emulator/reset", {"participant_id": client.participant_id})
    assert status == 200, answer
    for _ in range(6):
        client.token()
    the_finding(client, "over_rate_limit")


def test_findings_of_one_tenant_are_not_shown_under_another(emulator):
    careless, careful = Client.minted(emulator), Client.minted(emulator)
    raw_with_token(careless)
    verify_with_token(careful, careful.token())
    finding = the_finding(careless, "raw_account_with_token")
    assert careful.findings() == []
    status, everyone = admin(emulator, "GET", "/_emulator/findings")
    assert status == 200
    assert finding in everyone["findings"]
    assert all(f["participant_id"] != careful.participant_id for f in everyone["findings"])
    by_code = f"/_emulator/findings?participant_id={careless.participant_id}&code="
    assert admin(emulator, "GET", by_code + "raw_account_with_token")[1]["findings"] == [finding]
    assert admin(emulator, "GET", by_code + "over_rate_limit")[1] == {"count": 0, "findings": []}
    status, refusal = admin(emulator, "GET", by_code + "no_such_code")
    assert status == 400 and refusal["message"].startswith("code must be one of double_payout_risk")
