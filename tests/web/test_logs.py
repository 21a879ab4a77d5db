"""The request log: one line per request with method, path, HTTP status, Ingo status, latency and diagnosis code;
never a card number, CVV, secret or signature."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from emulator.client import encode_body, sign
from tests.support.bodies import CARD
from tests.support.sockets import free_port

pytestmark = pytest.mark.slow

SECRET = "ingopay-emulator-secret"


def run_and_collect(log_format: str) -> list[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--log-format", log_format],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
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
    ]  # the health probe after them is logged at DEBUG only (tests/cli/test_healthcheck.py)
    assert all(isinstance(r["latency_ms"], (int, float)) and r["latency_ms"] >= 0 for r in requests)


def test_text_log_line_reads_as_a_sentence():
    lines = run_and_collect("text")
    assert any(" INFO POST /gateway/verify 200 ingo=100 " in line and line.endswith("diagnosis=-") for line in lines)
    assert any(" INFO POST /gateway/verify 401 ingo=- " in line and line.endswith("diagnosis=signature_mismatch")
               for line in lines)


#: Raw requests aiohttp cannot parse, each carrying a card number that must not be echoed into the log.
MALFORMED = [
    b"GET /gateway/verify?pan=4111111111111111 HTTP/1.1 EXTRA\r\nHost: x\r\n\r\n",
    b"P\x00ST /x HTTP/1.1\r\nHost: 4111111111111111\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nBad Header 4111111111111111\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4111111111111111fff\r\n",
]


def exchange_raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_with_json_logs_every_line_of_the_process_is_one_json_object_and_no_bad_bytes_are_echoed():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--log-format", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "INGOPAY_EMULATOR_RATELIMIT": "0"})
    assert process.stdout is not None
    try:
        ready = json.loads(process.stdout.readline())
        assert "ready on" in ready["message"] and ready["url"] == f"http://127.0.0.1:{port}"
        assert ready["inspector"].endswith("/_emulator/ui") and ready["demo"].endswith("/plugin/demo")
        answers = [exchange_raw(port, data) for data in MALFORMED]
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    for answer in answers:  # each refused with JSON, and not with the client's bytes
        assert answer.split(b" ", 2)[1] == b"400", answer[:200]
        assert b"application/json" in answer and b"4111111111111111" not in answer, answer
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    documents = [json.loads(line) for line in lines]  # every line is JSON
    assert all(isinstance(d, dict) and d.get("message") for d in documents), documents
    assert "4111111111111111" not in stdout + stderr
    malformed = [d for d in documents if d["message"].startswith("malformed HTTP request from 127.0.0.1")]
    assert len(malformed) == len(MALFORMED), documents
    assert all(d["level"] == "warning" and "exception" not in d for d in malformed), malformed
    assert any("did you mean INGOPAY_EMULATOR_RATE_LIMIT?" in d["message"] for d in documents), documents
