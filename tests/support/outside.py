"""A client the project does not ship: raw HTTP (urllib), Kong hmac-sha512 signing with hashlib and hmac, the
admin API as plain JSON calls, and a webhook receiver's signature check. Tests of the test-control features drive
the emulator through this, as a user's suite in any language would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from email.utils import formatdate
from typing import Any

CARD_VERIFY = {
    "account_type": "CA", "account": "4111111111111111", "expiration_date": "3012",
    "recipient_first_name": "Ada", "recipient_last_name": "Lovelace", "recipient_address1": "1 Main St",
    "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301",
}


def call(url: str, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
         timeout: float = 60) -> tuple[int, dict[str, str], Any]:
    """One HTTP call: (status, headers, parsed JSON or text)."""
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, head, raw = answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, dict(error.headers), error.read()
    try:
        return status, head, json.loads(raw)
    except ValueError:
        return status, head, raw.decode("utf-8", "replace")


def admin(url: str, method: str, path: str, body: Any = None, **options: Any) -> tuple[int, Any]:
    """An admin call: (status, JSON answer)."""
    status, _, document = call(url, method, path, body, **options)
    return status, document


class Client:
    """Signs each request as Ingo's authentication page says, with its own code and the real clock."""

    def __init__(self, url: str, username: str, secret: str, participant_id: int) -> None:
        self.url, self.username, self.secret, self.participant_id = url, username, secret, participant_id

    @classmethod
    def minted(cls, url: str, **fields: Any) -> Client:
        """A client for a tenant minted with POST /_emulator/credentials."""
        status, tenant = admin(url, "POST", "/_emulator/credentials", fields)
        assert status == 201, tenant
        return cls(url, tenant["username"], tenant["secret"], tenant["participant_id"])

    def headers(self, path: str, body: bytes, *, x_date: str | None = None) -> dict[str, str]:
        """The signed headers of a POST of ``body`` to ``path``, dated now (or ``x_date`` as given)."""
        x_date = formatdate(time.time(), usegmt=True) if x_date is None else x_date
        digest = base64.b64encode(hashlib.sha512(body).digest()).decode()
        lines = [f"POST {path} HTTP/1.1", f"x-date: {x_date}", "content-type: application/json",
                 f"content-sha512: {digest}", f"content-length: {len(body)}"]
        signature = base64.b64encode(hmac.new(self.secret.encode(), "\n".join(lines).encode(),
                                              hashlib.sha512).digest()).decode()
        return {"X-Date": x_date, "Content-Type": "application/json", "Content-sha512": digest,
                "Authorization": f'hmac username="{self.username}", algorithm="hmac-sha512", '
                                 f'headers="request-line x-date content-type content-sha512 content-length", '
                                 f'signature="{signature}"'}

    def post(self, path: str, fields: dict[str, Any], *, timeout: float = 60) -> tuple[int, dict[str, str], Any]:
        """A signed v11 POST: participant_id, timestamp and version added to ``fields``."""
        body = json.dumps({"participant_id": self.participant_id, "timestamp": int(time.time()), "version": 11,
                           **fields}).encode()
        return call(self.url, "POST", path, body, headers=self.headers(path, body), timeout=timeout)

    def token(self, **fields: Any) -> str:
        """Verify a card (Ingo's fields, ``fields`` over them) and return its customer_account_token."""
        status, _, answer = self.post("/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": "verify-1",
                                                          **fields})
        assert status == 200 and answer["status"] == 100, answer
        return str(answer["data"]["customer_account_token"])

    def push(self, token: str, amount: float, puid1: str, **options: Any) -> tuple[int, dict[str, str], Any]:
        """A card push (POST /gateway/process) of ``amount`` to ``token`` under ``puid1``."""
        return self.post("/gateway/process", {"account_type": "CA", "amount": amount,
                                              "customer_account_token": token, "source_of_funds": 1,
                                              "participant_unique_id1": puid1}, **options)

    def findings(self) -> list[dict[str, Any]]:
        status, answer = admin(self.url, "GET", f"/_emulator/findings?participant_id={self.participant_id}")
        assert status == 200, answer
        return list(answer["findings"])


def independent_signature_check(raw: bytes, header: str, secret: str, now: float, tolerance: int = 300) -> bool:
    """The documented rule, computed here with the standard library only (not the emulator's code):
    X-Ingo-Signature: t=<unix seconds>,v1=Base64(HMAC-SHA512(secret, "<t>." + raw body))."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(now - timestamp) > tolerance:
        return False
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha512).digest()
    return hmac.compare_digest(base64.b64encode(mac).decode(), fields["v1"])
