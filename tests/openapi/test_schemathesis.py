"""Schemathesis against a live emulator: every request signed exactly, no server error, every answer as documented.

The schema is docs/openapi.json (tests/openapi/test_openapi.py checks that the server serves exactly that file). The
server runs as a user would start it (``python -m emulator``) on 127.0.0.1 and a free port, without rate limiting
and without the bundled scenarios, whose magic values would script answers beyond the documented defaults.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from emulator.client import encode_body, sign
from emulator.core.credentials import DEFAULT_SECRET, DEFAULT_USERNAME
from tests.support.paths import ROOT
from tests.support.sockets import free_port

pytestmark = pytest.mark.slow

DOCUMENT = ROOT / "docs" / "openapi.json"
PARTICIPANT_ID = 12345
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

#: What is fuzzed: the signed API, the session page, this document, and the admin API's reads and signing oracle.
#: Admin writes (reset, clock, scenarios, webhook endpoints, events) change the server's state or make it call
#: URLs: they are covered by their own tests.
SAFE_ADMIN = {"/_emulator/sign"}

#: Cases per operation and the coverage phase are bounded for CI (about 20 s on two cores); a deeper local run:
#: INGOPAY_SCHEMATHESIS_EXAMPLES=300 INGOPAY_SCHEMATHESIS_COVERAGE=1 python -m pytest tests/openapi/test_schemathesis.py
EXAMPLES = int(os.environ.get("INGOPAY_SCHEMATHESIS_EXAMPLES", "50"))
CONFIG = schemathesis.Config.from_dict({
    "generation": {"mode": "all", "max-examples": EXAMPLES},
    "phases": {"coverage": {"enabled": bool(os.environ.get("INGOPAY_SCHEMATHESIS_COVERAGE"))},
               "stateful": {"enabled": False}},
})
schema = schemathesis.openapi.from_path(DOCUMENT, config=CONFIG)


def fuzzed(context: Any) -> bool:
    operation = context.operation
    definition = operation.definition.raw
    path, method = operation.path, operation.method.upper()
    if any(scheme == {"hmac": []} for scheme in definition.get("security", [])):
        return True
    if path.startswith("/_emulator/"):
        return method == "GET" and path != "/_emulator/ui/{name}" and path != "/_emulator/ui" or path in SAFE_ADMIN
    return (method, path) in {("GET", "/openapi.json"), ("GET", "/plugin/session/{session_id}")}




@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port), "--rate-limit", "0",
         "--quiet", "--no-default-scenarios"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/_emulator/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"the emulator did not start:\n{output}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


@pytest.fixture(scope="module")
def http() -> Iterator[Any]:
    with requests.Session() as session:
        yield session


def with_current_timestamp(body: Any) -> Any:
    """The body with its timestamp made current and its participant the credential's, for half the cases.

    Generated (and example) timestamps are almost never within the 300 s window, so without this every case
    would stop at Ingo status 402. An even timestamp is replaced (so are the examples'), an odd one is kept, so
    both the refusal and the checks behind it are exercised.
    """
    if not isinstance(body, dict):
        return body
    body = dict(body)
    if isinstance(body.get("timestamp"), int) and not isinstance(body["timestamp"], bool) \
            and body["timestamp"] % 2 == 0:
        body.update(timestamp=int(time.time()), participant_id=PARTICIPANT_ID)
    request = body.get("request")
    if isinstance(request, dict) and isinstance(request.get("timestamp"), str) \
            and request["timestamp"][-1:] in tuple("02468"):
        body["request"] = dict(request, timestamp=str(int(time.time())), participant_id=str(PARTICIPANT_ID))
    return body


def send_signed(http: Any, base_url: str, case: Any) -> Any:
    """Send ``case`` signed with the built-in credential: the body serialised once, and those bytes sent."""
    url = base_url + case.formatted_path
    body = with_current_timestamp(case.body)
    if body is NOT_SET:
        raw = b""
    elif isinstance(body, (dict, bytes)):
        raw = encode_body(body)  # a JSON object, or the raw bytes some negative cases carry
    else:  # negative cases: any JSON value
        raw = encode_body(json.dumps(body, separators=(",", ":")))
    headers = {name: value for name, value in case.headers.items()
               if name.lower() not in ("authorization", "x-date", "content-sha512", "content-type",
                                       "content-length")}
    headers.update(sign(case.method, url, raw, username=DEFAULT_USERNAME, secret=DEFAULT_SECRET))
    return http.request(case.method, url, data=raw, headers=headers, params=case.query or None, timeout=10)


def signed(case: Any) -> bool:
    return any(scheme == {"hmac": []} for scheme in case.operation.definition.raw.get("security", []))


def ingo_status(response: Any) -> str | None:
    """The Ingo status of an answer in any envelope (v11 and session: ``status``; v12: ``response.status``)."""
    try:
        document = response.json()
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    found = document.get("response", {}).get("status") if isinstance(document.get("response"), dict) \
        else document.get("status")
    return None if found is None else str(found)


#: Operations whose examples (timestamps made current) succeed: at least one of their cases must answer 100, so
#: that the checks behind validation are exercised too, not only the refusals.
SUCCEEDING = {"/gateway/verify", "/gateway/v1/biller/search", "/risk/risksession/v2",
              "/api/v1/sessions/point-in-time/plugin"}


@pytest.fixture
def answered() -> Iterator[dict[str, set[str | None]]]:
    """The Ingo statuses the operation's signed cases answered, by path; once all its cases have run (one test item
    per operation, whichever process runs it), some case of each operation of SUCCEEDING answered 100."""
    seen: dict[str, set[str | None]] = {}
    yield seen
    for path in SUCCEEDING & set(seen):
        assert "100" in seen[path], f"no case of {path} succeeded: Ingo statuses {seen[path]}"


@schema.include(fuzzed).parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=EXAMPLES)
def test_api_conforms_to_its_schema(case: Any, live_url: str, http: Any, answered: dict[str, set[str | None]]) -> None:
    if signed(case):
        response = send_signed(http, live_url, case)
        # a refused signature would make every case a (documented) 401 and this test empty
        assert response.status_code != 401, f"the emulator refused the signature: {response.text}"
        answered.setdefault(case.path, set()).add(ingo_status(response))
    else:
        response = case.call(base_url=live_url, session=http, timeout=10)
    case.validate_response(response, checks=CHECKS)
