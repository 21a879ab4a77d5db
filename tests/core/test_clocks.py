"""Two clocks, one rule, as a partner's application meets them: a real emulator process, requests signed with the
standard library and the test process's own clock, and the emulator clock moved through the admin API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from tests.support.bodies import CARD
from tests.support.sockets import free_port

pytestmark = pytest.mark.slow

SECRET = "ingopay-emulator-secret"
INGO_EXAMPLE_DATE = "Fri, 17 Jan 2020 19:59:29 GMT"  # the X-Date of Ingo's authentication example
INGO_EXAMPLE_TIMESTAMP = 1579291169


def signed(url: str, body: bytes, *, secret: str = SECRET, date: str | None = None) -> urllib.request.Request:
    """A request signed the way Ingo's page says, with hashlib and hmac only (not the project's signer)."""
    path = "/" + url.split("/", 3)[3]
    x_date = date or formatdate(time.time(), usegmt=True)
    digest = base64.b64encode(hashlib.sha512(body).digest()).decode()
    names = "request-line x-date content-type content-sha512 content-length"
    lines = [f"POST {path} HTTP/1.1", f"x-date: {x_date}", "content-type: application/json",
             f"content-sha512: {digest}", f"content-length: {len(body)}"]
    signature = base64.b64encode(hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha512).digest())
    return urllib.request.Request(url, data=body, method="POST", headers={
        "X-Date": x_date, "Content-Type": "application/json", "Content-sha512": digest,
        "Content-Length": str(len(body)),
        "Authorization": f'hmac username="test", algorithm="hmac-sha512", headers="{names}", '
                         f'signature="{signature.decode()}"'})


def send(request: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def admin(base: str, path: str, document: dict[str, Any]) -> Any:
    request = urllib.request.Request(base + path, data=json.dumps(document).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Any]:
    """Start ``python -m emulator`` with extra arguments; stopped after the test."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> str:
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--quiet",
                                    "--rate-limit", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        started.append(process)
        assert process.stdout is not None and "ready on" in process.stdout.readline()
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


def verify_body(timestamp: int, puid1: str = "customer-1") -> bytes:
    return json.dumps({"participant_id": 12345, "timestamp": timestamp, "version": 11,
                       **CARD, "participant_unique_id1": puid1}).encode()


def test_after_a_two_day_advance_a_client_signing_with_its_own_clock_is_still_served(emulator):
    base = emulator()
    status, verified = send(signed(base + "/gateway/verify", verify_body(int(time.time()))))
    assert status == 200 and verified["status"] == 100, verified
    moved = admin(base, "/_emulator/clock", {"advance": 172800})
    assert moved["offset_seconds"] >= 172800
    body = json.dumps({"participant_id": 12345, "timestamp": int(time.time()), "version": 11, "account_type": "CA",
                       "amount": 10.5, "customer_account_token": verified["data"]["customer_account_token"],
                       "source_of_funds": 4, "participant_unique_id1": "payment-after-advance"}).encode()
    status, paid = send(signed(base + "/gateway/process", body))
    assert status == 200 and paid["status"] == 100, paid
    # business time is the emulator's: the payment is dated two days ahead
    assert paid["data"]["request_timestamp"] >= int(time.time()) + 172800 - 5


def test_with_the_emulator_signature_clock_an_advance_dates_signatures_too(emulator):
    base = emulator("--signature-clock", "emulator")
    admin(base, "/_emulator/clock", {"advance": 172800})
    status, refused = send(signed(base + "/gateway/verify", verify_body(int(time.time()))))
    assert status == 401 and refused["diagnosis"]["code"] == "date_out_of_window", refused
    assert refused["diagnosis"]["offset_seconds"] <= -172800 + 5


def test_a_frozen_clock_at_ingos_example_date_accepts_a_request_signed_then(emulator, tmp_path):
    credentials = tmp_path / "credentials.yaml"
    credentials.write_text("- {username: test, secret: example-secret, participant_id: 12345}\n", encoding="utf-8")
    base = emulator("--signature-clock", "emulator", "--credentials", str(credentials))
    admin(base, "/_emulator/clock", {"set": INGO_EXAMPLE_DATE, "freeze": True})
    # the reference's known-answer request, byte for byte: authenticated (its 44-byte body then lacks fields)
    reference = json.dumps({"participant_id": 12345, "account_type": "CA"}, separators=(",", ":")).encode()
    status, answer = send(signed(base + "/gateway/verify", reference, secret="example-secret",
                                 date=INGO_EXAMPLE_DATE))
    assert status == 200 and answer["status"] == 400, answer
    assert signed(base + "/gateway/verify", reference, secret="example-secret", date=INGO_EXAMPLE_DATE) \
        .headers["Authorization"].endswith('signature="83vG3QgfvjMatKMJPvLGUprKoOKefFYX/qHAUd1TZtJTYyw50vrvpcdTefYFPm'
                                           'dcTD32gBd1c5L8xb7n51mD2Q=="')
    status, verified = send(signed(base + "/gateway/verify", verify_body(INGO_EXAMPLE_TIMESTAMP),
                                   secret="example-secret", date=INGO_EXAMPLE_DATE))
    assert status == 200 and verified["status"] == 100, verified
    assert verified["data"]["request_timestamp"] == INGO_EXAMPLE_TIMESTAMP


def test_without_the_setting_a_request_dated_at_the_frozen_clock_is_refused(emulator):
    base = emulator()
    admin(base, "/_emulator/clock", {"set": INGO_EXAMPLE_DATE, "freeze": True})
    status, refused = send(signed(base + "/gateway/verify", verify_body(INGO_EXAMPLE_TIMESTAMP),
                                  date=INGO_EXAMPLE_DATE))
    assert status == 401 and refused["diagnosis"]["code"] == "date_out_of_window", refused
    status, served = send(signed(base + "/gateway/verify", verify_body(int(time.time()), "customer-2")))
    assert status == 200 and served["status"] == 100, served  # real time still signs, at a frozen 2020 clock
