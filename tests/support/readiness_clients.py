"""A payout application written without the project's code, as a team would bring it to a readiness rehearsal: its
own HMAC signer (tests/outside.py), its own webhook receiver that verifies X-Ingo-Signature as docs/webhooks.md
describes and deduplicates on metadata.id, and the handling Ingo's pages ask for. Each seeded defect turns one of
those behaviours wrong; nothing here imports the emulator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import threading
import time
import urllib.error
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.support.outside import CARD_VERIFY, Client, admin, call

#: The defects a client can be seeded with, each breaking one rule of Ingo's pages.
DEFECTS = ("pays_again_after_pending", "retries_decline", "accepts_forged_webhook", "new_id_after_ambiguous",
           "ignores_429")
#: Ingo asks for at most five requests a second: this client spaces its own.
PACE = 0.25
#: Ingo's wait before an idempotent retry (3-4 s), with a margin.
RETRY_WAIT = 3.3
#: How long the client waits for an answer before it gives up (its own timeout).
TIMEOUT = 1.0
#: Bundled magic values (README): cards whose push gets an OFAC review or a return, and amount cents.
OFAC_CLEARED_CARD = "4000000110700004"
OFAC_FAILED_CARD = "4000000110800002"
RETURNED_CARD = "4000000111400000"
IFRAME_CARD = {"card_number": "4111 1111 1111 1111", "expiration": "12/29", "cvv": "123", "first_name": "Jane",
               "last_name": "Doe", "address_line1": "1 Main St", "city": "Atlanta", "state": "GA",
               "zip_code": "30301"}
RECIPIENT = {"first_name": "Jane", "last_name": "Doe", "address_line1": "1 Main St", "city": "Atlanta",
             "state": "GA", "zip_code": "30301", "email_address": "jane.doe@example.com"}


def verify_signature(raw: bytes, header: str, secret: str, tolerance: int = 300) -> bool:
    """X-Ingo-Signature as docs/webhooks.md defines it: t=<seconds>,v1=Base64(HMAC-SHA512(secret, "t." + body))."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.encode("ascii", "replace"))
    if timestamp is None or not signatures or abs(time.time() - timestamp) > tolerance:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha512).digest())
    return any(hmac.compare_digest(expected, given) for given in signatures)


class Receiver:
    """The application's webhook endpoint: verify, deduplicate on metadata.id, acknowledge at once."""

    def __init__(self, secret: str, *, verifies: bool = True) -> None:
        self.secret, self.verifies = secret, verifies
        self.seen: set[str] = set()
        self.events: list[dict[str, Any]] = []  # the envelopes processed, each once
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.verifies and not verify_signature(raw, self.headers.get("X-Ingo-Signature", ""),
                                                               receiver.secret):
                    self.send_response(401)
                    self.end_headers()
                    return
                envelope = json.loads(raw)
                with receiver.lock:
                    first = envelope["metadata"]["id"] not in receiver.seen
                    receiver.seen.add(envelope["metadata"]["id"])
                    if first:
                        receiver.events.append(envelope)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/ingo/webhooks"

    def tokenized(self) -> str | None:
        """The token of the iFrame's tokenization webhook, once it came."""
        with self.lock:
            return next((e["data"]["event"]["customer_account_token"] for e in self.events
                         if e["metadata"]["topic"] == "plugin.transaction.account.tokenization.success"), None)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class PayoutApp:
    """The application under test: verify, pay, handle every answer; ``defect`` names the one rule it breaks."""

    url: str
    defect: str | None = None
    secret: str = "webhook-secret-of-this-app"
    client: Client = field(init=False)
    receiver: Receiver = field(init=False)
    last_sent: float = 0.0

    def __post_init__(self) -> None:
        assert self.defect in (None, *DEFECTS), self.defect
        self.receiver = Receiver(self.secret, verifies=self.defect != "accepts_forged_webhook")
        self.client = Client.minted(self.url, webhook_url=self.receiver.url, webhook_secret=self.secret)

    @property
    def participant_id(self) -> int:
        return self.client.participant_id

    def _paced(self) -> None:
        wait = self.last_sent + PACE - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_sent = time.monotonic()

    def send(self, path: str, fields: dict[str, Any], *, timeout: float = 30) -> tuple[int | None, Any, dict[str, str]]:
        """A signed request: (HTTP status, answer, headers), or (None, None, {}) when no answer came."""
        self._paced()
        try:
            status, headers, answer = self.client.post(path, fields, timeout=timeout)
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError):
            return None, None, {}
        return status, answer, headers

    def verify(self, account: str, puid1: str) -> str:
        status, answer, _ = self.send("/gateway/verify", {**CARD_VERIFY, "account": account,
                                                          "participant_unique_id1": puid1})
        assert status == 200 and answer["status"] == 100, answer
        return str(answer["data"]["customer_account_token"])

    def push(self, token: str, amount: float, puid1: str, *, timeout: float = 30) -> tuple[int | None, Any,
                                                                                             dict[str, str]]:
        return self.send("/gateway/process", {"account_type": "CA", "amount": amount, "customer_account_token": token,
                                              "source_of_funds": 1, "participant_unique_id1": puid1},
                         timeout=timeout)

    # -- the journey: every scenario of the plan, without a clock step (the harness moves the clock) -----------

    def run(self) -> None:
        token = self.verify("4111111111111111", "verify-1")
        status, answer, _ = self.send("/gateway/verify", {"account_type": "CA", "customer_account_token": token,
                                                          "participant_unique_id1": "verify-2"})
        assert status == 200 and answer["status"] == 100, answer
        status, answer, _ = self.push(token, 10.00, "payout-1")
        assert answer["status"] == 100, answer
        self.pending(token)
        self.ambiguous(token)
        self.declined(token)
        self.throttled(token)
        for card, puid1 in ((OFAC_CLEARED_CARD, "ofac-cleared"), (OFAC_FAILED_CARD, "ofac-failed"),
                            (RETURNED_CARD, "returned")):
            status, answer, _ = self.push(self.verify(card, f"verify-{puid1}"), 20.00, puid1)
            assert answer["status"] == 100, answer
        self.iframe()

    def pending(self, token: str) -> None:
        """102: a success. The defect pays the payout again under a new id."""
        status, answer, _ = self.push(token, 10.02, "payout-pending")
        assert answer["status"] == 102, answer
        if self.defect == "pays_again_after_pending":
            self.push(token, 10.02, "payout-pending-again")

    def ambiguous(self, token: str) -> None:
        """No answer (the connection dropped): wait, then retry with the same id. The defect uses a new id."""
        status, _, _ = self.push(token, 10.44, "payout-dropped")
        assert status is None
        time.sleep(RETRY_WAIT)
        again = "payout-dropped-2" if self.defect == "new_id_after_ambiguous" else "payout-dropped"
        self.push(token, 10.44, again)
        status, _, _ = self.push(token, 10.45, "payout-slow", timeout=TIMEOUT)  # its own timeout
        assert status is None
        time.sleep(RETRY_WAIT)
        if self.defect != "new_id_after_ambiguous":
            status, answer, _ = self.push(token, 10.45, "payout-slow")
            assert answer["status"] in (101, 104), answer

    def declined(self, token: str) -> None:
        """851: never retried. The defect retries it."""
        status, answer, _ = self.push(token, 10.51, "payout-declined")
        assert answer["status"] == 851, answer
        if self.defect == "retries_decline":
            self.push(token, 10.51, "payout-declined")

    def throttled(self, token: str) -> None:
        """429: wait its Retry-After. The defect sends again at once."""
        status: int | None
        status, answer = admin(self.url, "POST", "/_emulator/ratelimit",
                               {"username": self.client.username, "refuse_next": 1})
        assert status == 200, answer
        status, answer, headers = self.push(token, 10.00, "payout-throttled")
        assert status == 429, answer
        if self.defect != "ignores_429":
            time.sleep(float(headers["Retry-After"]))
        status, answer, _ = self.push(token, 10.00, "payout-throttled")
        assert status == 200 and answer["status"] == 100, answer

    def iframe(self) -> None:
        """An iFrame session: the recipient enters a card, the app pays the token of the tokenization webhook."""
        host = "http://127.0.0.1:9999"
        body = json.dumps({"participant_unique_id1": "iframe-1", "recipient_information": RECIPIENT,
                           "host_uri": host}).encode()
        path = "/api/v1/sessions/point-in-time/plugin"
        self._paced()
        status, _, answer = call(self.url, "POST", path, body, headers=self.client.headers(path, body))
        assert status == 200, answer
        page = urlsplit(answer["data"]["authorized_url"])
        for action, form in (("mount", {"origin": host, "funding_destination": "debit"}), ("submit", IFRAME_CARD)):
            status, _, shown = call(self.url, "POST", f"{page.path}/{action}?{page.query}", form)
            assert status == 200, shown
        deadline = time.monotonic() + 20
        while (token := self.receiver.tokenized()) is None:
            assert time.monotonic() < deadline, "no tokenization webhook"
            time.sleep(0.05)
        _, answer, _ = self.push(token, 30.00, "payout-iframe")
        assert answer["status"] == 100, answer

    def stop(self) -> None:
        self.receiver.stop()
