"""The admin surface against web pages and hostile input: DNS rebinding, cross-site requests, alias bombs, clock
values, deep JSON, stalled connections and absurd chunk sizes. Each test is an attack from outside the project:
raw HTTP with forged headers, not the project's own client.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.app import Signed, runtime_for, serve
from tests.support.bodies import CARD, v11
from tests.support.hardening import ThreadedEmulator, exchange, health, read_response, request_bytes
from tests.support.sockets import free_port

JSON = {"Content-Type": "application/json"}
REBIND = "rebind.attacker.example"
#: A YAML "billion laughs": 337 bytes that expand to 10**9 strings.
ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


async def start(aiohttp_client: Any, clock: Any, **changes: Any) -> Signed:
    return await serve(aiohttp_client, runtime_for(clock, **changes))


async def call(client: TestClient, method: str, path: str, *, headers: dict[str, str] | None = None,
               data: Any = None) -> tuple[int, Any, Any]:
    response = await client.request(method, path, headers=headers or {}, data=data)
    text = await response.text()
    try:
        document = json.loads(text)
    except ValueError:
        document = text
    return response.status, document, response.headers


async def tokens(emu: Signed) -> list[str]:
    status, state, _ = await call(emu.client, "GET", "/_emulator/state")
    assert status == 200, state
    return [t["token"] for t in state["tokens"]]


async def a_token(emu: Signed) -> str:
    status, body, _ = await emu.post("/gateway/verify", v11(**CARD))
    assert status == 200 and body["status"] == 100, body
    return body["data"]["customer_account_token"]


# -- DNS rebinding: the Host must name the emulator ------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", "/_emulator/state"), ("GET", "/_emulator/requests"), ("GET", "/_emulator/ui"),
    ("GET", "/_emulator/clock"), ("POST", "/_emulator/reset"), ("POST", "/_emulator/clock"),
    ("POST", "/_emulator/scenarios"), ("POST", "/_emulator/webhooks/endpoints"),
])
async def test_a_rebinding_host_is_refused_on_the_admin_api_and_the_inspector(aiohttp_client, clock, method, path):
    emu = await start(aiohttp_client, clock)
    token = await a_token(emu)
    data = json.dumps({"advance": 60} if path.endswith("clock") else {"url": "http://127.0.0.1:9/x"})
    status, document, _ = await call(emu.client, method, path, headers={**JSON, "Host": f"{REBIND}:8080"},
                                     data=data if method == "POST" else None)
    assert status == 403, document
    assert REBIND in document["message"] and "--allowed-hosts" in document["message"]
    assert "INGOPAY_EMULATOR_ALLOWED_HOSTS" in document["message"]
    assert await tokens(emu) == [token]  # nothing was reset
    status, endpoints, _ = await call(emu.client, "GET", "/_emulator/webhooks/endpoints")
    assert endpoints["endpoints"] == []


@pytest.mark.parametrize("host", ["localhost:8080", "localhost", "127.0.0.1:8080", "[::1]:8080", "10.1.2.3:8080",
                                  "app.localhost:8080", "LOCALHOST:8080"])
async def test_local_names_and_ip_addresses_are_the_emulators_own(aiohttp_client, clock, host):
    emu = await start(aiohttp_client, clock)
    status, document, _ = await call(emu.client, "GET", "/_emulator/state", headers={"Host": host})
    assert status == 200, document


async def test_allowed_hosts_public_url_and_the_bind_address_name_the_emulator_too(aiohttp_client, clock):
    emu = await start(aiohttp_client, clock, allowed_hosts=("ingopay",), public_url="https://emulator.example.test",
                      host="my-laptop")
    for host in ("ingopay:8080", "emulator.example.test", "my-laptop:8080"):
        status, document, _ = await call(emu.client, "GET", "/_emulator/state", headers={"Host": host})
        assert status == 200, (host, document)
    status, _, _ = await call(emu.client, "GET", "/_emulator/state", headers={"Host": "other:8080"})
    assert status == 403
    anyone = await start(aiohttp_client, clock, allowed_hosts=("*",))
    status, _, _ = await call(anyone.client, "GET", "/_emulator/state", headers={"Host": f"{REBIND}:8080"})
    assert status == 200


async def test_the_signed_ingo_api_answers_whatever_name_the_client_used(aiohttp_client, clock):
    emu = await start(aiohttp_client, clock)
    status, body, _ = await emu.post("/gateway/verify", v11(**CARD),
                                     extra_headers={"Host": "payapi-sandbox.ingo.money"})
    assert status == 200 and body["status"] == 100, body


# -- cross-site requests: a page on another origin drives nothing ------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "http://localhost:3000"},
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
])
async def test_a_request_from_a_page_on_another_origin_is_refused_with_a_403_that_says_why(aiohttp_client, clock,
                                                                                         headers):
    emu = await start(aiohttp_client, clock)
    token = await a_token(emu)
    for method, path in (("POST", "/_emulator/reset"), ("GET", "/_emulator/state")):
        status, document, _ = await call(emu.client, method, path, headers={**JSON, **headers},
                                         data="{}" if method == "POST" else None)
        assert status == 403, document
        assert "another origin" in document["message"] or "page" in document["message"], document
    assert await tokens(emu) == [token]


async def test_the_emulators_own_origin_is_welcome(aiohttp_client, clock):
    emu = await start(aiohttp_client, clock)
    own = str(emu.client.make_url("")).rstrip("/")
    status, document, _ = await call(emu.client, "POST", "/_emulator/reset",
                                     headers={**JSON, "Origin": own, "Sec-Fetch-Site": "same-origin"}, data="{}")
    assert status == 200, document


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "text/plain; charset=utf-8"])
async def test_a_state_change_in_a_content_type_a_page_can_send_is_refused(aiohttp_client, clock, content_type):
    emu = await start(aiohttp_client, clock)
    token = await a_token(emu)
    headers = {"Content-Type": content_type} if content_type else {}
    for path, data in (("/_emulator/reset", "{}"), ("/_emulator/scenarios", "version: 1\nscenarios: []\n"),
                       ("/_emulator/webhooks/endpoints", '{"url": "http://127.0.0.1:9/x"}')):
        status, document, _ = await call(emu.client, "POST", path, headers=headers, data=data)
        assert status == 415, (path, document)
        wanted = "application/yaml" if path.endswith("scenarios") else "application/json"
        assert f"Content-Type: {wanted}" in document["message"], document
    assert await tokens(emu) == [token]
    status, endpoints, _ = await call(emu.client, "GET", "/_emulator/webhooks/endpoints")
    assert endpoints["endpoints"] == []


async def test_json_and_yaml_are_what_admin_calls_send(aiohttp_client, clock):
    emu = await start(aiohttp_client, clock)
    status, _, _ = await call(emu.client, "POST", "/_emulator/reset", headers=JSON)  # no body at all
    assert status == 200
    upload = "version: 1\nscenarios:\n  - {name: s, rules: [{name: r, respond: {status: 851}}]}\n"
    for content_type in ("application/yaml", "application/x-yaml", "text/yaml", "application/json"):
        status, document, _ = await call(emu.client, "POST", "/_emulator/scenarios",
                                         headers={"Content-Type": content_type}, data=upload)
        assert status == 201, (content_type, document)


async def test_no_preflight_is_granted_and_no_response_grants_another_origin_anything(aiohttp_client, clock):
    emu = await start(aiohttp_client, clock)
    preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    for path in ("/_emulator/reset", "/_emulator/state", "/gateway/verify"):
        status, _, headers = await call(emu.client, "OPTIONS", path, headers=preflight)
        assert status in (403, 405), (path, status)
        assert not [h for h in headers if h.lower().startswith("access-control-")], (path, dict(headers))
    for path in ("/plugin/sdk/ingo-instant-payments.js", "/plugin/demo", "/openapi.json", "/_emulator/health"):
        status, _, headers = await call(emu.client, "GET", path)
        assert status == 200, path
        assert not [h for h in headers if h.lower().startswith("access-control-")], (path, dict(headers))


async def test_the_signing_oracle_is_off_beyond_loopback_without_an_admin_token(aiohttp_client, clock):
    body = {"method": "POST", "path": "/gateway/verify", "body": "{}"}
    exposed = await start(aiohttp_client, clock, host="0.0.0.0")
    status, document, _ = await call(exposed.client, "POST", "/_emulator/sign", headers=JSON, data=json.dumps(body))
    assert status == 403 and "--admin-token" in document["message"], document
    assert "INGOPAY_EMULATOR_ADMIN_TOKEN" in document["message"]
    status, _, _ = await call(exposed.client, "GET", "/_emulator/state")
    assert status == 200  # the rest of the admin API stays open (with a warning at start)
    guarded = await start(aiohttp_client, clock, host="0.0.0.0", admin_token="t0ken")
    status, document, _ = await call(guarded.client, "POST", "/_emulator/sign",
                                     headers={**JSON, "Authorization": "Bearer t0ken"}, data=json.dumps(body))
    assert status == 200 and document["signature"], document
    local = await start(aiohttp_client, clock)
    status, document, _ = await call(local.client, "POST", "/_emulator/sign", headers=JSON, data=json.dumps(body))
    assert status == 200, document


# -- bounded YAML ---------------------------------------------------------------------------------------------

async def test_an_alias_bomb_upload_is_refused_with_its_position_and_health_answers(aiohttp_client, clock):
    emu = await start(aiohttp_client, clock)
    upload = asyncio.ensure_future(call(emu.client, "POST", "/_emulator/scenarios?name=bomb.yaml",
                                        headers={"Content-Type": "application/yaml"}, data=ALIAS_BOMB))
    status, document, _ = await call(emu.client, "GET", "/_emulator/health")
    assert status == 200 and document["status"] == "ok"
    status, document, _ = await upload
    assert status == 400, document
    (problem,) = document["problems"]
    assert problem.startswith("bomb.yaml:") and "100000 YAML nodes" in problem, problem
    assert "--scenario-max-nodes" in problem


@pytest.mark.parametrize("document, expected", [
    (ALIAS_BOMB, "expands to more than 100000 YAML nodes"),
    ("a: &a [1]\n" + "".join(f"k{i}: *a\n" for i in range(1001)), "more than 1000 aliases"),
    ("x: " + "[" * 200 + "]" * 200 + "\n", "nest more than 64 deep"),
    ("x: '" + "y" * (1024 * 1024) + "'\n", "at most 1048576 are read"),
    ("scenarios:\n  - name: s\n    rules:\n      - name: r\n        respond:\n          events:\n"
     "            - {after: 1.0e+300, topic: gateway.transaction.recipient.payment.status.check.paid}\n",
     "'after' must be less than or equal to 31622400"),
])
def test_check_refuses_oversized_yaml_before_building_it(tmp_path, document, expected):
    from emulator.scenarios.loader import ScenarioError, load_paths

    path = tmp_path / "hostile.yaml"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(ScenarioError) as refused:
        load_paths([path])
    (problem,) = refused.value.problems
    assert str(problem).startswith(f"{path}:") and expected in str(problem), problem


@pytest.mark.slow
def test_an_alias_bomb_in_a_scenario_file_stops_the_start_with_one_clear_line(tmp_path):
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB, encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "emulator", "--port", "0", "--scenarios", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert re.search(rf"{re.escape(str(tmp_path / 'bomb.yaml'))}:\d+:\d+: the file expands", result.stderr), \
        result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60  # the subprocess timeout, not a speed goal: it did not hang


# -- the clock ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ['{"advance": 1e308}', '{"advance": 3e11}', '{"advance": Infinity}',
                                  '{"set": 1e20}', '{"advance": NaN}', '{"set": -1}', '{"set": "10000-01-01"}',
                                  '{"advance": -5}', '{"set": "soon"}', '{"advance": "1d"}', '{"set": true}'])
async def test_an_out_of_range_clock_value_is_a_400_and_breaks_nothing(aiohttp_client, clock, body):
    emu = await start(aiohttp_client, clock)
    before = emu.runtime.clock.now()
    status, document, _ = await call(emu.client, "POST", "/_emulator/clock", headers=JSON, data=body)
    assert status == 400, document
    assert isinstance(document["message"], str) and document["message"], document
    assert emu.runtime.clock.now() == before  # frozen test clock: not moved at all
    status, answer, _ = await emu.post("/gateway/verify", v11(**CARD))
    assert status == 200 and answer["status"] == 100, answer


async def test_the_clock_runs_to_the_end_of_its_range_and_payments_still_answer(aiohttp_client, clock):
    emu = await start(aiohttp_client, clock)
    token = await a_token(emu)
    status, document, _ = await call(emu.client, "POST", "/_emulator/clock", headers=JSON,
                                     data='{"set": "9998-12-31T23:59:59Z"}')
    assert status == 200, document
    status, paid, _ = await emu.post("/gateway/process", {
        **v11(account_type="CA", amount=12.5, customer_account_token=token, source_of_funds=4,
              participant_unique_id1="last-payment")})
    assert status == 200 and paid["status"] == 100, paid
    assert paid["data"]["estimated_posting_date"].endswith(("/9998", "/9999")), paid


# -- deep JSON anywhere ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/_emulator/reset", "/_emulator/clock", "/_emulator/ratelimit", "/_emulator/sign",
                                  "/_emulator/events", "/_emulator/webhooks/endpoints",
                                  "/_emulator/scenarios/magic-values/activate", "/_emulator/plugin/demo-session"])
@pytest.mark.parametrize("depth", [40, 100_000])
async def test_deep_json_on_admin_endpoints_is_a_400_that_names_it(aiohttp_client, clock, path, depth):
    emu = await start(aiohttp_client, clock)
    status, document, _ = await call(emu.client, "POST", path, headers=JSON, data="[" * depth + "]" * depth)
    assert status == 400, document
    assert "nested too deeply" in document["message"], document


# -- slow and hostile connections -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def impatient() -> Any:
    emulator = ThreadedEmulator(header_timeout=1.0, body_timeout=1.0)
    yield emulator
    emulator.close()


@pytest.mark.slow
async def test_a_connection_that_never_finishes_its_headers_is_closed(impatient):
    reader, writer = await asyncio.open_connection("127.0.0.1", impatient.port)
    writer.write(b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 30) == b""  # closed by the emulator, without an answer
    writer.close()


@pytest.mark.slow
async def test_a_body_that_stops_arriving_is_a_408_and_the_connection_closes(impatient):
    reader, writer = await asyncio.open_connection("127.0.0.1", impatient.port)
    writer.write(request_bytes("POST", "/_emulator/reset", {"Content-Type": b"application/json",
                                                            "Content-Length": b"100"}, b'{"partic', close=False))
    await writer.drain()
    answer = await read_response(reader, timeout=30)
    assert answer is not None and answer[0] == 408, answer
    assert "did not arrive within 1 s" in json.loads(answer[2])["message"]
    assert await asyncio.wait_for(reader.read(), 30) == b""
    writer.close()


@pytest.mark.slow
async def test_health_answers_while_500_stalled_connections_are_open():
    """A real emulator process (its own open-file budget), 500 connections that stop mid-headers, then health."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--quiet",
                                "--header-timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    held = []
    try:
        assert process.stdout is not None and "ready on" in process.stdout.readline()
        for _ in range(500):
            held.append(await asyncio.open_connection("127.0.0.1", port))
            held[-1][1].write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stalled: ")
            await held[-1][1].drain()
        await health(port)
        assert all(not reader.at_eof() for reader, _ in held)  # they are still open: health did not wait them out
    finally:
        for _, writer in held:
            writer.close()
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize("chunks, status", [
    (b"ffffffffffffffff\r\n", 400), (b"ffffffffffffffff", 400), (b"5\r\nabcde\r\nfffffffff\r\n", 400),
    (b"200000\r\nabc", 413), (b"100001\r\n" + b"x" * 100, 413),
])
async def test_a_chunk_larger_than_any_body_is_refused_at_its_size_line(impatient, chunks, status):
    """Refused at once, not after the body timeout: an absurd size is a 400, one over --max-body-size a 413."""
    head = request_bytes("POST", "/gateway/verify", {"Content-Type": b"application/json",
                                                     "Transfer-Encoding": b"chunked"}, chunks, close=False)
    answer = await exchange(impatient.port, head, timeout=30)
    assert answer is not None and answer[0] == status, answer
    message = json.loads(answer[2])["message"]
    assert ("--max-body-size" if status == 400 else "the limit is 1048576 bytes") in message, message
    await health(impatient.port)
