"""Latency, sequences and transport faults, observed by a real HTTP client over a real socket on 127.0.0.1."""

from __future__ import annotations

import json
import textwrap
import time
from typing import Any

import aiohttp
import pytest

from emulator.app import create_app
from emulator.client import encode_body, sign
from tests.support.app import CREDENTIALS, runtime_for
from tests.support.bodies import CARD, v11
from tests.support.waiting import eventually

FAULTS = """\
    scenarios:
      - name: transport
        rules:
          - {name: slow, match: {endpoint: process, amount: 3.31}, respond: {latency: 0.3}}
          - {name: slow-range, match: {endpoint: process, amount: 3.32}, respond: {latency: {min: 0.2, max: 0.35}}}
          - {name: slow-decline, match: {endpoint: process, amount: 3.33}, respond: {status: 852, latency: 0.25}}
          - {name: reset, match: {endpoint: process, amount: 3.34}, respond: {fault: connection_reset}}
          - {name: empty, match: {endpoint: process, amount: 3.35}, respond: {fault: empty_reply}}
          - {name: hang, match: {endpoint: process, amount: 3.36}, respond: {fault: {type: hang, seconds: 1}}}
          - {name: bad-gateway, match: {endpoint: process, amount: 3.37}, respond: {fault: http_502}}
          - {name: unavailable, match: {endpoint: process, amount: 3.38}, respond: {fault: http_503}}
          - {name: gateway-timeout, match: {endpoint: process, amount: 3.39}, respond: {fault: http_504}}
          - name: reset-after-processing
            match: {endpoint: process, amount: 4.31, nth: 1}
            respond: {fault: {type: connection_reset, after_processing: true}}
          - name: reset-before-processing
            match: {endpoint: process, amount: 4.32, nth: 1}
            respond: {fault: {type: connection_reset}}
          - name: empty-after-processing
            match: {endpoint: process, amount: 4.33, nth: 1}
            respond: {fault: {type: empty_reply, after_processing: true}}
          - name: unavailable-twice
            match: {endpoint: process, amount: 4.34, nth: [1, 2]}
            respond: {fault: http_503}
          - name: slow-verify
            match: {endpoint: verify, account: {last4: "5556"}}
            respond: {latency: 0.2}
"""


class Real:
    """A plain aiohttp.ClientSession, signing like an Ingo client, against the app's real listening socket."""

    def __init__(self, base: str, runtime, timeout: float = 10.0) -> None:
        self.base = base
        self.runtime = runtime
        self.timeout = timeout

    async def post(self, path: str, body: dict, *, timeout: float | None = None) -> tuple[int, str, str]:
        raw = encode_body(body)
        credential = CREDENTIALS["test"]
        headers = sign("POST", path, raw, username=credential.username, secret=credential.secret,
                       now=self.runtime.clock.now())
        client_timeout = aiohttp.ClientTimeout(total=timeout or self.timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            async with session.post(self.base + path, data=raw, headers=headers) as response:
                return response.status, response.content_type, await response.text()

    async def pay(self, token: str, amount: float, puid1: str, **options) -> tuple[int, str, str]:
        return await self.post("/gateway/process", v11(account_type="CA", amount=amount, customer_account_token=token,
                                                       source_of_funds=4, participant_unique_id1=puid1), **options)


@pytest.fixture
async def real(aiohttp_client, clock, tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text(textwrap.dedent(FAULTS), encoding="utf-8")
    runtime = runtime_for(clock, scenarios=(path,))
    client = await aiohttp_client(create_app(runtime=runtime))
    base = str(client.make_url("")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    return Real(base, runtime)


@pytest.fixture
async def token(real) -> str:
    status, _, text = await real.post("/gateway/verify", v11(**CARD))
    body = json.loads(text)
    assert status == 200 and body["status"] == 100, text
    return body["data"]["customer_account_token"]


async def timed(call) -> tuple[float, Any]:
    started = time.monotonic()
    result = await call
    return time.monotonic() - started, result


# -- latency -----------------------------------------------------------------------------------------------------


async def test_fixed_latency(real, token):
    elapsed, (status, _, text) = await timed(real.pay(token, 3.31, "lat-1"))
    assert status == 200 and json.loads(text)["status"] == 100, text
    assert elapsed >= 0.3


async def test_latency_range(real, token):
    elapsed, (status, _, text) = await timed(real.pay(token, 3.32, "lat-2"))
    assert status == 200 and json.loads(text)["status"] == 100, text
    assert elapsed >= 0.2


async def test_latency_with_a_scripted_decline(real, token):
    elapsed, (status, _, text) = await timed(real.pay(token, 3.33, "lat-3"))
    assert (status, json.loads(text)["status"]) == (200, 852)
    assert elapsed >= 0.25


async def test_latency_at_verify(real):
    elapsed, (status, _, text) = await timed(real.post("/gateway/verify",
                                                       v11(**{**CARD, "account": "4000056655665556"})))
    assert (status, json.loads(text)["status"]) == (200, 100)
    assert elapsed >= 0.2


# -- transport faults --------------------------------------------------------------------------------------------


async def test_connection_reset(real, token):
    with pytest.raises(aiohttp.ClientConnectionError):  # ClientOSError (reset) or ServerDisconnectedError
        await real.pay(token, 3.34, "reset-1")


async def test_an_injected_fault_is_journaled_as_such_not_as_an_emulator_error(real, token, caplog):
    with pytest.raises(aiohttp.ClientConnectionError):
        await real.pay(token, 3.34, "reset-journal")
    # the server journals the request once its side is done, after the client saw the reset
    [entry] = await eventually(lambda: real.runtime.journal.entries(path="/gateway/process", limit=1),
                               "the journal entry of the reset request")
    assert entry.http_status == 444  # nginx's "connection closed without a response"
    assert entry.matched_rule == "transport/reset"
    assert entry.diagnosis == {"code": "scenario_fault",
                               "detail": "connection_reset injected by scenario rule transport/reset"}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_empty_reply(real, token):
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await real.pay(token, 3.35, "empty-1")


async def test_a_hang_holds_the_request_then_closes_without_an_answer(real, token):
    # a client more patient than the rule: it sees the connection closed, without a byte, once the 1 s are up
    started = time.monotonic()
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await real.pay(token, 3.36, "hang-1", timeout=15)
    assert time.monotonic() - started >= 1


@pytest.mark.parametrize("amount, status, title", [
    (3.37, 502, "502 Bad Gateway"),
    (3.38, 503, "503 Service Temporarily Unavailable"),
    (3.39, 504, "504 Gateway Time-out"),
])
async def test_gateway_error_pages(real, token, amount, status, title):
    got, content_type, text = await real.pay(token, amount, f"page-{status}")
    assert (got, content_type) == (status, "text/html")
    assert f"<title>{title}</title>" in text
    assert f"<h1>{title}</h1>" in text
    assert '"status"' not in text  # an HTML page from the load balancer, not an Ingo envelope


async def test_fault_after_processing_still_records_the_payment(real, token):
    with pytest.raises(aiohttp.ClientConnectionError):
        await real.pay(token, 4.31, "late-1")
    status, _, text = await real.pay(token, 4.31, "late-1")  # the client retries with the same id
    body = json.loads(text)
    assert (status, body["status"], body["client_message"]) == (200, 101, "Success - Idempotent Response")
    assert isinstance(body["data"]["transaction_id"], int)


async def test_empty_reply_after_processing_still_records_the_payment(real, token):
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await real.pay(token, 4.33, "late-2")
    status, _, text = await real.pay(token, 4.33, "late-2")
    assert (status, json.loads(text)["status"]) == (200, 101)


async def test_fault_before_processing_records_nothing(real, token):
    with pytest.raises(aiohttp.ClientConnectionError):
        await real.pay(token, 4.32, "early-1")
    status, _, text = await real.pay(token, 4.32, "early-1")
    body = json.loads(text)
    assert (status, body["status"], body["client_message"]) == (200, 100, "Success")


async def test_sequence_of_faults_then_success(real, token):
    seen = []
    for _ in range(3):
        status, content_type, text = await real.pay(token, 4.34, "seq-1")
        seen.append((status, content_type, json.loads(text)["status"] if content_type == "application/json" else None))
    assert seen == [(503, "text/html", None), (503, "text/html", None), (200, "application/json", 100)]


async def test_the_server_keeps_serving_after_faults(real, token):
    for amount in (3.34, 3.35):
        with pytest.raises(aiohttp.ClientConnectionError):
            await real.pay(token, amount, f"after-{amount}")
    status, _, text = await real.pay(token, 10.0, "after-ok")
    assert (status, json.loads(text)["status"]) == (200, 100)
