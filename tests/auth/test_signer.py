"""The client-side signer pinned to known answers computed outside the project, and the ``sign`` command.

The reference vector (contract section 3.2) is a literal; the other vectors are computed at run time with
``openssl dgst`` from a signing string this file writes out by hand, then compared with ``emulator.client.sign``,
the pure functions of ``emulator.auth.kong_signing``, and the server's verdict.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from emulator.app import create_app
from emulator.auth.kong_signing import (
    authorization_header,
    body_digest,
    compute_signature,
    encode_signature,
    request_line,
    signing_string,
)
from emulator.client import request_target, sign
from emulator.core.clock import Clock
from emulator.core.credentials import Credential
from tests.support.app import runtime_for, serve
from tests.support.bodies import CARD
from tests.support.paths import ROOT
from tests.support.reference_vector import (
    REF_BODY,
    REF_DATE,
    REF_DIGEST,
    REF_SECRET,
    REF_SIGNATURE,
    REF_SIGNING_STRING,
    REF_TIMESTAMP,
)

AUTH_PAGE_ORDER = ("request-line", "x-date", "content-type", "content-sha512", "content-length")
SESSION_PAGE_ORDER = ("request-line", "x-date", "content-type", "content-length", "content-sha512")


# --- openssl, outside the project -------------------------------------------------------------------------


def _openssl(arguments: str, data: bytes, key: str | None = None) -> str:
    assert shutil.which("openssl"), "openssl is needed to compute the known answers"
    env = {**os.environ, "KAT_KEY": key or ""}
    result = subprocess.run(["sh", "-c", f"openssl dgst {arguments} -binary | openssl base64 -A"], input=data,
                            capture_output=True, env=env, check=True, timeout=30)
    return result.stdout.decode("ascii").strip()


def openssl_digest(body: bytes) -> str:
    """Base64 of the raw SHA-512 of ``body``: ``openssl dgst -sha512 -binary | base64``."""
    return _openssl("-sha512", body)


def openssl_hmac(algorithm: str, secret: str, message: str) -> str:
    """``openssl dgst -sha512 -hmac KEY -binary | base64`` (or -sha256)."""
    option = {"hmac-sha512": "-sha512", "hmac-sha256": "-sha256"}[algorithm]
    return _openssl(f'{option} -hmac "$KAT_KEY"', message.encode("utf-8"), key=secret)


# --- the reference vector (contract 3.2), literally: tests/support/reference_vector.py ----------------------


def test_reference_vector_is_what_openssl_computes():
    assert len(REF_BODY) == 44
    assert openssl_digest(REF_BODY) == REF_DIGEST
    assert openssl_hmac("hmac-sha512", REF_SECRET, REF_SIGNING_STRING) == REF_SIGNATURE


def test_reference_vector_with_the_signing_functions():
    assert body_digest(REF_BODY) == REF_DIGEST
    assert request_line("POST", "/gateway/verify") == "POST /gateway/verify HTTP/1.1"
    sent = {"x-date": REF_DATE, "content-type": "application/json", "content-sha512": REF_DIGEST,
            "content-length": "44"}
    message = signing_string(AUTH_PAGE_ORDER, method="POST", target="/gateway/verify", headers=sent)
    assert message == REF_SIGNING_STRING
    assert encode_signature(compute_signature(REF_SECRET, "hmac-sha512", message)) == REF_SIGNATURE
    assert encode_signature(compute_signature(REF_SECRET.encode(), "hmac-sha512", message)) == REF_SIGNATURE
    assert authorization_header("test", "hmac-sha512", AUTH_PAGE_ORDER, REF_SIGNATURE) == (
        'hmac username="test", algorithm="hmac-sha512", '
        'headers="request-line x-date content-type content-sha512 content-length", '
        'signature="83vG3QgfvjMatKMJPvLGUprKoOKefFYX/qHAUd1TZtJTYyw50vrvpcdTefYFPmdcTD32gBd1c5L8xb7n51mD2Q=="')


def test_reference_vector_with_client_sign():
    headers = sign("POST", "https://payapi-sandbox.ingo.money/gateway/verify", REF_BODY, username="test",
                   secret=REF_SECRET, date=REF_DATE)
    assert headers == {
        "X-Date": "Fri, 17 Jan 2020 19:59:29 GMT",
        "Content-Type": "application/json",
        "Content-sha512": REF_DIGEST,
        "Content-Length": "44",
        "Authorization": ('hmac username="test", algorithm="hmac-sha512", '
                          'headers="request-line x-date content-type content-sha512 content-length", '
                          f'signature="{REF_SIGNATURE}"'),
    }
    assert list(headers) == ["X-Date", "Content-Type", "Content-sha512", "Content-Length", "Authorization"]
    # the same instant given as a timestamp gives the same headers
    assert sign("POST", "/gateway/verify", REF_BODY, secret=REF_SECRET, now=REF_TIMESTAMP) == headers


def test_signing_string_emits_absent_headers_as_name_colon():
    """Kong's create_hash: a listed header the request lacks becomes 'name:' with nothing after it."""
    message = signing_string(("request-line", "x-date", "digest"), method="GET", target="/a?b=c",
                             headers={"x-date": REF_DATE})
    assert message == "GET /a?b=c HTTP/1.1\nx-date: Fri, 17 Jan 2020 19:59:29 GMT\ndigest:"


def test_request_target_keeps_the_query_string():
    assert request_target("http://127.0.0.1:8080/gateway/verify?foo=bar&x=1") == "/gateway/verify?foo=bar&x=1"
    assert request_target("http://127.0.0.1:8080") == "/"
    assert request_target("/risk/riskscore/v2") == "/risk/riskscore/v2"


# --- more vectors, computed by openssl at run time ----------------------------------------------------------


@dataclass(frozen=True)
class Vector:
    name: str
    method: str
    url: str
    body: bytes
    secret: str
    algorithm: str
    order: tuple[str, ...]
    date: str
    timestamp: int
    signing_lines: tuple[str, ...]  # the signing string, written by hand; "{digest}" stands for Content-sha512


VECTORS = [
    Vector(
        name="query-string-and-session-page-order",
        method="POST",
        url="http://127.0.0.1:8080/gateway/process?trace=abc&x=1",
        body='{"participant_id":12345,"amount":10.5,"recipient_first_name":"Zoë"}'.encode(),
        secret="kat-secret-two",
        algorithm="hmac-sha512",
        order=SESSION_PAGE_ORDER,
        date="Tue, 01 Dec 2026 08:30:00 GMT",
        timestamp=1796113800,
        signing_lines=(
            "POST /gateway/process?trace=abc&x=1 HTTP/1.1",
            "x-date: Tue, 01 Dec 2026 08:30:00 GMT",
            "content-type: application/json",
            "content-length: 68",
            "content-sha512: {digest}",
        ),
    ),
    Vector(
        name="legacy-hmac-sha256",
        method="POST",
        url="http://127.0.0.1:8080/risk/riskscore/v2",
        body=b'{"participant_id":54321,"version":12}',
        secret="legacy secret with spaces",
        algorithm="hmac-sha256",
        order=AUTH_PAGE_ORDER,
        date="Fri, 17 Jan 2020 19:59:29 GMT",
        timestamp=REF_TIMESTAMP,
        signing_lines=(
            "POST /risk/riskscore/v2 HTTP/1.1",
            "x-date: Fri, 17 Jan 2020 19:59:29 GMT",
            "content-type: application/json",
            "content-sha512: {digest}",
            "content-length: 37",
        ),
    ),
]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_vector_against_openssl(vector: Vector):
    assert f"content-length: {len(vector.body)}" in vector.signing_lines  # the hand-written string is consistent
    digest = openssl_digest(vector.body)
    assert len(base64.b64decode(digest)) == 64
    message = "\n".join(vector.signing_lines).replace("{digest}", digest)
    expected_signature = openssl_hmac(vector.algorithm, vector.secret, message)
    assert len(base64.b64decode(expected_signature)) == {"hmac-sha512": 64, "hmac-sha256": 32}[vector.algorithm]

    # the pure functions
    assert body_digest(vector.body) == digest
    sent = {"x-date": vector.date, "content-type": "application/json", "content-sha512": digest,
            "content-length": str(len(vector.body))}
    assert signing_string(vector.order, method=vector.method, target=request_target(vector.url),
                          headers=sent) == message
    assert encode_signature(compute_signature(vector.secret, vector.algorithm, message)) == expected_signature

    # the client
    headers = sign(vector.method, vector.url, vector.body, username="kat", secret=vector.secret,
                   algorithm=vector.algorithm, headers=vector.order, date=vector.date)
    assert headers == {
        "X-Date": vector.date,
        "Content-Type": "application/json",
        "Content-sha512": digest,
        "Content-Length": str(len(vector.body)),
        "Authorization": (f'hmac username="kat", algorithm="{vector.algorithm}", '
                          f'headers="{" ".join(vector.order)}", signature="{expected_signature}"'),
    }


def test_get_without_body_signs_request_line_and_x_date_only():
    date = "Mon, 16 Nov 2026 15:00:00 GMT"
    message = "GET /plugin/session/abc?t=1&h=x HTTP/1.1\nx-date: Mon, 16 Nov 2026 15:00:00 GMT"
    expected = openssl_hmac("hmac-sha512", "get-secret", message)
    headers = sign("GET", "http://127.0.0.1:8080/plugin/session/abc?t=1&h=x", secret="get-secret", date=date)
    assert headers == {"X-Date": date, "Authorization": ('hmac username="test", algorithm="hmac-sha512", '
                                                         f'headers="request-line x-date", signature="{expected}"')}


# --- the server agrees with the vectors ------------------------------------------------------------------------


async def _server_for(aiohttp_client, *, username: str, secret: str, timestamp: int):
    clock = Clock(start=timestamp, frozen=True)
    clock.set(timestamp)  # exactly, without the float noise of start=
    runtime = runtime_for(clock, credentials={username: Credential(username, secret, 12345)},
                          algorithms=("hmac-sha512", "hmac-sha256"))  # the vectors include Ingo's legacy one
    return await aiohttp_client(create_app(runtime=runtime))


async def test_server_accepts_the_reference_vector(aiohttp_client):
    client = await _server_for(aiohttp_client, username="test", secret=REF_SECRET, timestamp=REF_TIMESTAMP)
    headers = {"X-Date": REF_DATE, "Content-Type": "application/json", "Content-sha512": REF_DIGEST,
               "Content-Length": "44",
               "Authorization": ('hmac username="test", algorithm="hmac-sha512", '
                                 'headers="request-line x-date content-type content-sha512 content-length", '
                                 f'signature="{REF_SIGNATURE}"')}
    response = await client.post("/gateway/verify", data=REF_BODY, headers=headers)
    document = await response.json()
    assert response.status != 401, document  # authenticated; the 44-byte body then fails field validation
    assert "diagnosis" not in document or document["diagnosis"].get("code") != "signature_mismatch"
    # one changed byte of the signature is refused, so the check above is not vacuous
    headers["Authorization"] = headers["Authorization"].replace('signature="83vG', 'signature="84vG')
    response = await client.post("/gateway/verify", data=REF_BODY, headers=headers)
    assert response.status == 401
    assert (await response.json())["diagnosis"]["code"] == "signature_mismatch"


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
async def test_server_accepts_the_openssl_vectors(aiohttp_client, vector: Vector):
    client = await _server_for(aiohttp_client, username="kat", secret=vector.secret, timestamp=vector.timestamp)
    digest = openssl_digest(vector.body)
    message = "\n".join(vector.signing_lines).replace("{digest}", digest)
    signature = openssl_hmac(vector.algorithm, vector.secret, message)
    headers = {"X-Date": vector.date, "Content-Type": "application/json", "Content-sha512": digest,
               "Content-Length": str(len(vector.body)),
               "Authorization": (f'hmac username="kat", algorithm="{vector.algorithm}", '
                                 f'headers="{" ".join(vector.order)}", signature="{signature}"')}
    response = await client.post(request_target(vector.url), data=vector.body, headers=headers)
    document = await response.json()
    assert response.status != 401, document


# --- the `sign` command -----------------------------------------------------------------------------------


def run_sign(*arguments: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "emulator", "sign", *arguments], capture_output=True,
                            text=True, cwd=ROOT, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def parse_headers(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        name, _, value = line.partition(": ")
        found[name] = value
    return found


def real_time_body(participant_unique_id1: str = "cli-1") -> tuple[str, int]:
    """A verify body stamped with real time: the command signs with the wall clock, not the emulator's."""
    now = int(time.time())
    body = {"participant_id": 12345, "timestamp": now, "version": 11, **CARD,
            "participant_unique_id1": participant_unique_id1}
    return json.dumps(body, separators=(",", ":")), now


@pytest.fixture
async def real_emulator(aiohttp_client, clock):
    """The emulator as a separate signer meets it: its clients live in real time (the emulator clock is frozen);
    it also accepts Ingo's legacy hmac-sha256, which one test signs with."""
    return await serve(aiohttp_client, runtime_for(clock, real_time=True, algorithms=("hmac-sha512", "hmac-sha256")))


async def test_sign_command_prints_headers_that_verify(real_emulator):
    emulator = real_emulator
    body, now = real_time_body()
    url = str(emulator.client.make_url("/gateway/verify"))
    assert url.startswith("http://127.0.0.1:")
    headers = parse_headers(run_sign(url, "-d", body))
    assert list(headers) == ["X-Date", "Content-Type", "Content-sha512", "Content-Length", "Authorization"]
    assert headers["Content-sha512"] == base64.b64encode(hashlib.sha512(body.encode()).digest()).decode()
    assert headers["Content-Length"] == str(len(body.encode()))
    assert headers["Authorization"].startswith(
        'hmac username="test", algorithm="hmac-sha512", '
        'headers="request-line x-date content-type content-sha512 content-length", signature="')
    response = await emulator.client.post("/gateway/verify", data=body.encode(), headers=headers)
    document = await response.json()
    assert response.status == 200 and document["status"] == 100, document
    # the printed headers sign exactly this body: another body with them is refused
    response = await emulator.client.post("/gateway/verify", data=body.replace("Jane", "June").encode(),
                                          headers=headers)
    assert response.status == 401
    assert (await response.json())["diagnosis"]["code"] == "body_digest_mismatch"


async def test_sign_command_with_query_string_order_and_sha256(real_emulator):
    emulator = real_emulator
    body, now = real_time_body("cli-2")
    url = str(emulator.client.make_url("/gateway/verify?foo=bar"))
    output = run_sign(url, "-d", body, "--algorithm", "hmac-sha256", "--headers",
                      "request-line x-date content-type content-length content-sha512", "--json")
    headers = json.loads(output)
    assert 'algorithm="hmac-sha256"' in headers["Authorization"]
    assert 'headers="request-line x-date content-type content-length content-sha512"' in headers["Authorization"]
    response = await emulator.client.post("/gateway/verify?foo=bar", data=body.encode(), headers=headers)
    assert response.status == 200 and (await response.json())["status"] == 100
    # the query string is in the signature: the same headers on the bare path are refused
    response = await emulator.client.post("/gateway/verify", data=body.encode(), headers=headers)
    assert response.status == 401


async def test_sign_command_curl_runs_against_the_emulator(real_emulator, tmp_path):
    emulator = real_emulator
    body, now = real_time_body("cli-3")
    url = str(emulator.client.make_url("/gateway/verify"))
    command = run_sign(url, "-d", body, "--curl").strip()
    words = shlex.split(command)
    # the body travels on stdin, byte for byte, so a body starting with @ is never read as a file name
    assert words[:4] == ["printf", "%s", body, "|"]
    assert words[4:8] == ["curl", "-sS", "-X", "POST"]
    assert url in words
    assert any(w.startswith('Authorization: hmac username="test", algorithm="hmac-sha512", headers="request-line '
                            'x-date content-type content-sha512 content-length", signature="') for w in words)
    assert words[words.index("--data-binary") + 1] == "@-"
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed; the command's content was checked above")
    # run it (127.0.0.1 only: proxies are disabled) while the test server keeps serving
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    env["HOME"] = env["CURL_HOME"] = str(tmp_path)  # no ~/.curlrc
    process = await asyncio.create_subprocess_exec("sh", "-c", command, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE, env=env)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr
    document = json.loads(stdout)
    assert document["status"] == 100, document


def test_sign_command_default_headers_match_the_library():
    output = run_sign("http://127.0.0.1:8080/gateway/verify", "-d", REF_BODY.decode(), "--secret", REF_SECRET)
    headers = parse_headers(output)
    assert headers["Content-sha512"] == REF_DIGEST
    assert headers["Content-Length"] == "44"
    # X-Date is the wall clock; recompute the signature with openssl for the date it printed
    message = REF_SIGNING_STRING.replace(REF_DATE, headers["X-Date"])
    assert headers["Authorization"].endswith(f'signature="{openssl_hmac("hmac-sha512", REF_SECRET, message)}"')
