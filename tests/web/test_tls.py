"""HTTPS like the real hosts: a certificate made at start (its CA printed), the user's own, HTTPS receivers."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from emulator.app import create_app
from emulator.client import encode_body, sign
from emulator.core.tls import make_certificates, server_context
from tests.support.app import runtime_for
from tests.support.bodies import CARD
from tests.support.sockets import free_port


def start(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(free_port()), "--quiet", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    ready = process.stdout.readline().strip()
    if "ready on" not in ready:
        process.kill()
        raise AssertionError(f"not ready: {ready!r} {process.stderr.read()}")
    return process, ready.split("ready on ", 1)[1].split()[0], ready


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


async def signed_verify(base: str, context: ssl.SSLContext) -> dict:
    body = encode_body({"participant_id": 12345, "timestamp": int(time.time()), "version": 11, **CARD})
    async with aiohttp.ClientSession() as session:
        async with session.post(base + "/gateway/verify", data=body,
                                headers=sign("POST", base + "/gateway/verify", body), ssl=context) as response:
            assert response.status == 200
            return await response.json()


@pytest.mark.slow
async def test_tls_makes_a_certificate_and_prints_its_ca():
    process, base, ready = start("--tls")
    try:
        assert base.startswith("https://127.0.0.1:")
        assert ", trust the CA " in ready, ready  # the ready line names the CA to trust
        ca = Path(ready.rsplit(", trust the CA ", 1)[1].removesuffix(")"))
        context = ssl.create_default_context(cafile=str(ca))  # hostname checked: 127.0.0.1 is in the certificate
        answer = await signed_verify(base, context)
        assert answer["status"] == 100
        with pytest.raises(aiohttp.ClientConnectorCertificateError):  # without the CA the client refuses it
            await signed_verify(base, ssl.create_default_context())
        port = base.rsplit(":", 1)[1]
        health = subprocess.run([sys.executable, "-m", "emulator", "healthcheck", "--port", port, "--scheme", "https",
                                 "--cafile", str(ca)], capture_output=True, text=True, timeout=30)
        assert health.returncode == 0, health.stderr
    finally:
        stop(process)


@pytest.mark.slow
async def test_the_users_own_certificate(tmp_path):
    own = make_certificates(tmp_path / "own", ("127.0.0.1", "localhost"))
    process, base, _ = start("--tls-cert", str(own.cert), "--tls-key", str(own.key))
    try:
        answer = await signed_verify(base, ssl.create_default_context(cafile=str(own.ca)))
        assert answer["status"] == 100
    finally:
        stop(process)


@pytest.mark.slow
def test_a_certificate_without_its_key_is_refused_with_a_sentence(tmp_path):
    own = make_certificates(tmp_path / "own", ("127.0.0.1",))
    done = subprocess.run([sys.executable, "-m", "emulator", "--tls-cert", str(own.cert), "--port", "0"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "--tls-cert (INGOPAY_EMULATOR_TLS_CERT) and --tls-key (INGOPAY_EMULATOR_TLS_KEY) go together" in done.stderr


@pytest.mark.parametrize("trusted", [True, False])
async def test_webhooks_to_an_https_receiver_trust_the_given_ca_bundle(aiohttp_client, tmp_path, trusted):
    certificates = make_certificates(tmp_path / "receiver", ("127.0.0.1",))
    received: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read()))
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port,
                      ssl_context=server_context(certificates.cert, certificates.key)).start()
    try:
        runtime = runtime_for(webhook_url=(f"https://127.0.0.1:{port}/hook",),
                              webhook_ca_bundle=certificates.ca if trusted else None)
        client = await aiohttp_client(create_app(runtime=runtime))
        response = await client.post("/_emulator/events", json={
            "topic": "gateway.transaction.recipient.payment.status.check.paid", "participant_id": 12345})
        assert response.status == 201
        await runtime.services.scheduler.run_due()
        deliveries = (await (await client.get("/_emulator/webhooks")).json())["deliveries"]
        if trusted:
            assert deliveries[0]["status"] == "succeeded" and len(received) == 1
        else:
            assert deliveries[0]["status"] == "pending" and received == []
            assert "certificate" in deliveries[0]["attempts"][0]["error"].lower()
    finally:
        await runner.cleanup()
