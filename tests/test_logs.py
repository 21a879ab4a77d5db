"""The request log: one line per request with method, path, HTTP status, Ingo status, latency and diagnosis code;
never a card number, CVV, secret or signature."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

from emulator.client import encode_body, sign
from tests.conftest import CARD
from tests.conftest import free_port

SECRET = "ingopay-emulator-secret"


def run_and_collect(log_format: str) -> list[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--log-format", log_format],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "ready on" in process.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        body = encode_body({"participant_id": 12345, "timestamp": int(time.time()), "version": 11, **CARD})
        headers = sign("POST", "/gateway/verify", body)
        urllib.request.urlopen(urllib.request.Request(base + "/gateway/verify", data=body, headers=headers))
        wrong = sign("POST", "/gateway/verify", body, secret="not-the-secret")
        try:
            urllib.request.urlopen(urllib.request.Request(base + "/gateway/verify", data=body, headers=wrong))
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
        urllib.request.urlopen(base + "/_emulator/health")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    for secret_thing in (CARD["account"], CARD["account"][-8:], f'"{CARD["cvv"]}"', "cvv", SECRET, "not-the-secret",
                         headers["Authorization"], wrong["Authorization"].split('signature="')[1]):
        assert secret_thing not in stderr, secret_thing
    return [line for line in stderr.splitlines() if line.strip()]


def test_json_log_has_one_object_per_request_with_the_documented_fields():
    lines = [json.loads(line) for line in run_and_collect("json")]
    requests = [line for line in lines if line["logger"] == "ingopay_emulator.access"]
    assert [(r["method"], r["path"], r["http_status"], r["ingo_status"], r["diagnosis"], r["participant_id"])
            for r in requests] == [
        ("POST", "/gateway/verify", 200, 100, None, 12345),
        ("POST", "/gateway/verify", 401, None, "signature_mismatch", None),
    ]  # the health probe after them is logged at DEBUG only (tests/test_healthcheck.py)
    assert all(isinstance(r["latency_ms"], (int, float)) and r["latency_ms"] >= 0 for r in requests)


def test_text_log_line_reads_as_a_sentence():
    lines = run_and_collect("text")
    assert any(" INFO POST /gateway/verify 200 ingo=100 " in line and line.endswith("diagnosis=-") for line in lines)
    assert any(" INFO POST /gateway/verify 401 ingo=- " in line and line.endswith("diagnosis=signature_mismatch")
               for line in lines)
