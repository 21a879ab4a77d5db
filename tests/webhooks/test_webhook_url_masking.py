"""A webhook receiver URL that carries credentials (user and password, a token in its query) is shown masked wherever
it is listed, kept for display, snapshotted or logged, and used whole to deliver."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from aiohttp import web

from emulator.core.masking import masked_url
from tests.support.sockets import free_port
from tests.support.webhook_receiver import admin, advance, emit, start_emulator

#: What a receiver URL may carry that must never be shown.
SECRETS = ("hook-user", "hook-pass", "tok-123", "dead-pass", "key-456", "flag-789")


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pass@hooks.example/in?token=abc&team=a", "https://[redacted]@hooks.example/in?token=[redacted]&team=a"),
    ("https://hooks.example/in?api_key=1&access_token=2&X-Signature=3&sig=4#top",
     "https://hooks.example/in?api_key=[redacted]&access_token=[redacted]&X-Signature=[redacted]&sig=[redacted]#top"),
    ("http://127.0.0.1:9000/webhooks", "http://127.0.0.1:9000/webhooks"),
    ("http://token@[::1]:80/?key=&secret=s&page=2", "http://[redacted]@[::1]:80/?key=[redacted]&secret=[redacted]&page=2"),
])
def test_the_masking_rule(url: str, shown: str) -> None:
    assert masked_url(url) == shown
    assert masked_url(shown) == shown


async def test_a_receiver_url_with_credentials_is_shown_masked_and_used_whole(aiohttp_client, aiohttp_server, clock,
                                                                              caplog: pytest.LogCaptureFixture) -> None:
    seen: list[web.Request] = []

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        seen.append(request)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    receiver = await aiohttp_server(app, host="127.0.0.1")
    real = f"http://hook-user:hook-pass@127.0.0.1:{receiver.port}/hook?token=tok-123&team=a"
    dead = f"http://dead-pass@127.0.0.1:{free_port()}/x?api_key=key-456"
    from_settings = f"http://127.0.0.1:{receiver.port}/hook?signature=flag-789"
    emu = await start_emulator(aiohttp_client, clock, (from_settings,), webhook_retry_schedule=())
    caplog.set_level(logging.INFO)

    added = await admin(emu, "POST", "/_emulator/webhooks/endpoints", {"url": real, "participant_id": 12345},
                        status=201)
    assert added["url"] == f"http://[redacted]@127.0.0.1:{receiver.port}/hook?token=[redacted]&team=a"
    await admin(emu, "POST", "/_emulator/webhooks/endpoints", {"url": dead, "participant_id": 12345}, status=201)
    await emit(emu, "gateway.transaction.recipient.payment.status.check.paid", 12345)
    await advance(emu, 0)

    # delivered with the URL as given: the token in the query, the user and password as Basic authentication
    to_real = [r for r in seen if r.query.get("token") == "tok-123"]
    assert len(to_real) == 1 and to_real[0].query["team"] == "a"
    assert to_real[0].headers["Authorization"] == "Basic " + base64.b64encode(b"hook-user:hook-pass").decode()
    assert [r.query.get("signature") for r in seen if "signature" in r.query] == ["flag-789"]

    endpoints = await admin(emu, "GET", "/_emulator/webhooks/endpoints")
    deliveries = await admin(emu, "GET", "/_emulator/webhooks")
    detail = await admin(emu, "GET", f"/_emulator/webhooks/{deliveries['deliveries'][0]['id']}")
    snapshot = await (await emu.client.get("/_emulator/snapshot")).text()
    assert {d["status"] for d in deliveries["deliveries"]} == {"succeeded", "failed"}
    assert sorted(d["url"] for d in deliveries["deliveries"]) == sorted(e["url"] for e in endpoints["endpoints"])
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ingopay_emulator"))
    shown = json.dumps([endpoints, deliveries, detail]) + snapshot + logged
    assert "[redacted]" in json.dumps(endpoints) and "[redacted]" in logged  # the failed delivery's warning
    for secret in SECRETS:
        assert secret not in shown, secret
