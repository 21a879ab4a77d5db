"""The iFrame plugin in a real browser: Debian's Chromium, headless, driven by Playwright for Python.

Three servers on 127.0.0.1, each on its own port (so each is its own origin): the emulator, a partner's host
page that loads the SDK and mounts the authorized_url, and a webhook receiver. Every step leaves a screenshot in
the test's tmp_path. Waits are on events (never sleeps).

The browser comes from ``tests/support/browser.py`` (Debian's Chromium, never downloaded).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from emulator.app import create_app
from emulator.client import encode_body, sign
from emulator.web.runtime import Runtime
from tests.support.app import CREDENTIALS, runtime_for

SESSION_PATH = "/api/v1/sessions/point-in-time/plugin"
TIMEOUT_MS = 15_000
RECIPIENT = {"first_name": "Jane", "last_name": "Doe", "address_line1": "1 Main St", "city": "Atlanta",
             "state": "GA", "zip_code": "30301", "email_address": "jane.doe@example.com"}

#: The partner's page: loads the SDK from the emulator, mounts ?url= for ?destination=, records every event.
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Partner host page</title>
<script src="{emulator}/plugin/sdk/ingo-instant-payments.js"></script></head>
<body><h1>Partner host page</h1><div id="ingo"></div><ol id="events"></ol>
<script>
  window.__events = [];
  window.__iframeLoaded = false;
  var params = new URLSearchParams(location.search);
  var webPlugin = IngoInstantPayments.create({{container: "#ingo"}});
  Object.keys(IngoInstantPayments.EVENTS).forEach(function (name) {{
    webPlugin.addEventListener(IngoInstantPayments.EVENTS[name], function (data) {{
      window.__events.push(data);
      var li = document.createElement("li");
      li.textContent = name + " " + JSON.stringify(data);
      document.getElementById("events").appendChild(li);
    }});
  }});
  webPlugin.mount(params.get("url"), IngoInstantPayments.FUNDING_DESTINATIONS[params.get("destination")]);
  webPlugin.iframe.addEventListener("load", function () {{ window.__iframeLoaded = true; }});
</script></body></html>
"""


# -- servers on 127.0.0.1 ---------------------------------------------------------------------------------------

class Receiver:
    """A webhook receiver: keeps every delivery and lets a test wait for a topic."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(json.loads(await request.read()))
        self.changed.set()
        return web.Response(status=204)

    async def wait_for(self, topic: str, timeout: float = 10) -> dict[str, Any]:
        async def found() -> dict[str, Any]:
            while True:
                for envelope in self.received:
                    if envelope["metadata"]["topic"] == topic:
                        return envelope
                self.changed.clear()
                await self.changed.wait()
        return await asyncio.wait_for(found(), timeout)

    def topics(self) -> list[str]:
        return [envelope["metadata"]["topic"] for envelope in self.received]


async def _serve(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hooks", found.handle)
    server = await _serve(app)
    yield found, str(server.make_url("/hooks"))
    await server.close()


@pytest.fixture
async def emulator(settings, clock, receiver) -> AsyncIterator[tuple[Runtime, str]]:
    runtime = runtime_for(clock, webhook_url=(receiver[1],))
    server = await _serve(create_app(runtime=runtime))
    yield runtime, str(server.make_url("")).rstrip("/")
    await server.close()


async def _host_server(emulator_origin: str) -> TestServer:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=HOST_PAGE.format(emulator=emulator_origin), content_type="text/html")
    app = web.Application()
    app.router.add_get("/", page)
    return await _serve(app)


@pytest.fixture
async def host(emulator) -> AsyncIterator[str]:
    server = await _host_server(emulator[1])
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def page(chromium: Any) -> AsyncIterator[Any]:
    context = await chromium.new_context(viewport={"width": 900, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    await context.close()
    assert not errors, errors  # no script error on the host page


class Shots:
    """Numbered screenshots of the host page (with the iFrame in it) in the test's tmp_path."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page, self.folder, self.count = page, folder, 0

    async def __call__(self, name: str) -> None:
        self.count += 1
        await self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


@pytest.fixture
def shot(page, tmp_path: Path) -> Shots:
    return Shots(page, tmp_path)


# -- helpers ------------------------------------------------------------------------------------------------------

async def create_session(emulator: tuple[Runtime, str], host_uri: str, *, key: str | None = None,
                         **recipient: str) -> dict[str, Any]:
    runtime, base = emulator
    credential = CREDENTIALS["test"]
    body = encode_body({"participant_unique_id1": f"browser-{key or uuid.uuid4()}", "host_uri": host_uri,
                        "recipient_information": {**RECIPIENT, **recipient}})
    headers = sign("POST", base + SESSION_PATH, body, username=credential.username, secret=credential.secret,
                   now=runtime.clock.now())
    if key:
        headers["Idempotency-Key"] = key
    async with aiohttp.ClientSession() as client:
        async with client.post(base + SESSION_PATH, data=body, headers=headers) as response:
            document = await response.json()
    assert document["status"] in (100, 101), document
    return document["data"]


async def open_host(page: Any, host: str, authorized_url: str, destination: str) -> None:
    query = quote(authorized_url, safe="")
    await page.goto(f"{host}/?destination={destination}&url={query}")


async def wait_event(page: Any, event_name: str) -> dict[str, Any]:
    """The first SDK event called ``event_name`` that reached the host page (waits for it)."""
    handle = await page.wait_for_function(
        "name => (window.__events || []).find(e => e.event_name === name)", arg=event_name)
    return await handle.json_value()


async def event_names(page: Any) -> list[str]:
    return await page.evaluate("(window.__events || []).map(e => e.event_name)")


def frame(page: Any) -> Any:
    return page.frame_locator("#ingo iframe")


def session_record(runtime: Runtime, session_id: str) -> dict[str, Any]:
    found = runtime.store.find("session", session_id)
    assert found is not None, session_id
    return found[1]


# -- the tests ------------------------------------------------------------------------------------------------------

async def test_card_entered_by_keyboard_token_success_reaches_host_and_webhook(emulator, host, page, shot, receiver):
    runtime, _ = emulator
    data = await create_session(emulator, host)
    await open_host(page, host, data["authorized_url"], "DEBIT")
    loaded = await wait_event(page, "iip.webplugin.page_load")
    assert loaded["session_identifier"] == data["session_identifier"]
    assert loaded["funding_destination"] == "debit" and loaded["content"] == {"page": "DebitFunding"}
    iframe = frame(page)
    await iframe.get_by_role("heading", name="Debit card").wait_for()
    assert await iframe.get_by_label("Last name").input_value() == "Doe"  # prefilled from recipient_information
    assert await iframe.get_by_label("State").input_value() == "GA"
    await shot("mounted")

    card = iframe.get_by_label("Card number")
    await card.wait_for()
    assert await card.evaluate("node => node === document.activeElement")  # the form starts on the first field
    await page.keyboard.type("4111 1111 1111 1112")  # fails the Luhn check
    await page.keyboard.press("Tab")
    await page.keyboard.type("12/29")
    await page.keyboard.press("Tab")
    await page.keyboard.type("123")
    await page.keyboard.press("Enter")
    await iframe.get_by_text("This card number is not valid (check digit)").wait_for()
    assert await card.get_attribute("aria-invalid") == "true"
    assert await card.evaluate("node => node === document.activeElement")  # focus goes to the field at fault
    await shot("luhn-refused-in-the-browser")
    assert runtime.store.find("session", data["session_identifier"])[1].get("customer_account_token") is None

    await card.fill("")
    await page.keyboard.type("4111111111111111")
    await page.keyboard.press("Enter")
    success = await wait_event(page, "iip.webplugin.token_success")
    await iframe.get_by_role("heading", name="Account added").wait_for()
    await shot("token-success")
    session = session_record(runtime, data["session_identifier"])
    assert success == {"session_identifier": data["session_identifier"], "tracer_token": session["tracer_token"],
                       "event_name": "iip.webplugin.token_success",
                       "customer_account_token": session["customer_account_token"], "funding_destination": "debit"}
    webhook = await receiver[0].wait_for("plugin.transaction.account.tokenization.success")
    assert webhook["data"]["event"]["customer_account_token"] == success["customer_account_token"]
    assert webhook["data"]["event"]["last_4"] == "1111" and webhook["data"]["event"]["status"] == "100"
    assert webhook["data"]["ancillary"]["session_id"] == data["session_identifier"]
    assert webhook["data"]["ancillary"]["tracer_token"] == success["tracer_token"]
    await receiver[0].wait_for("plugin.transaction.recipient.verification.rvdm.success")
    assert session["status"] == "Completed"


async def test_magic_value_declines_inside_the_iframe(emulator, host, page, shot):
    data = await create_session(emulator, host)
    await open_host(page, host, data["authorized_url"], "CREDIT")
    await wait_event(page, "iip.webplugin.page_load")
    iframe = frame(page)
    await iframe.get_by_label("Card number").fill("4000 0000 7500 0002")  # magic value: 750 Invalid card number
    await iframe.get_by_label("Expiration (MM/YY)").fill("12/29")
    await iframe.get_by_label("Security code (CVV)").fill("123")
    await shot("magic-card-entered")
    await iframe.get_by_role("button", name="Add account").click()
    failure = await wait_event(page, "iip.webplugin.terminal_failure")
    assert failure["error"] == "750" and failure["funding_destination"] == "credit"
    await iframe.get_by_text("Invalid card number (750)").wait_for()
    await shot("terminal-failure")
    await iframe.get_by_role("button", name="Continue").click()
    acknowledged = await wait_event(page, "iip.webplugin.terminal_failure_acknowledged")
    assert acknowledged["error"] == "750"
    await shot("terminal-failure-acknowledged")
    assert "iip.webplugin.token_success" not in await event_names(page)


async def test_rvdm_soft_failure_then_hard_failures_up_to_max_attempts(emulator, host, page, shot, receiver):
    runtime, _ = emulator
    # Soft: another first name is reported (webhook 1104) but the account is still added.
    data = await create_session(emulator, host)
    await open_host(page, host, data["authorized_url"], "ACH")
    await wait_event(page, "iip.webplugin.page_load")
    iframe = frame(page)
    await iframe.get_by_label("Routing number").fill("011000015")
    await iframe.get_by_label("Account number").fill("22222222")
    await iframe.get_by_label("Savings").check()
    await iframe.get_by_label("First name").fill("Janet")
    await shot("rvdm-soft-entered")
    await iframe.get_by_role("button", name="Add account").click()
    await wait_event(page, "iip.webplugin.token_success")
    soft = await receiver[0].wait_for("plugin.transaction.recipient.verification.rvdm.success")
    assert soft["data"]["event"]["status"] == "1104" and soft["data"]["event"]["has_passed"] is True
    await shot("rvdm-soft-token-success")

    # Hard: another last name, three times (the default maximum), terminates the session.
    data = await create_session(emulator, host)
    await open_host(page, host, data["authorized_url"], "DEBIT")
    await wait_event(page, "iip.webplugin.page_load")
    iframe = frame(page)
    await iframe.get_by_label("Card number").fill("4111111111111111")
    await iframe.get_by_label("Expiration (MM/YY)").fill("12/29")
    await iframe.get_by_label("Security code (CVV)").fill("123")
    await iframe.get_by_label("Last name").fill("Smith")
    for left in (2, 1):
        await iframe.get_by_role("button", name="Add account").click()
        await iframe.get_by_role("alert").get_by_text(f"{left} attempt{'s' if left > 1 else ''} left").wait_for()
        assert await iframe.get_by_label("Last name").get_attribute("aria-invalid") == "true"
        await shot(f"rvdm-hard-{left}-left")
    await iframe.get_by_role("button", name="Add account").click()
    exceeded = await wait_event(page, "iip.webplugin.max_verification_attempts_exceeded")
    assert exceeded["session_identifier"] == data["session_identifier"]
    assert exceeded["funding_destination"] == "debit"
    await iframe.get_by_role("heading", name="Too many attempts").wait_for()
    await shot("rvdm-max-attempts")
    assert session_record(runtime, data["session_identifier"])["status"] == "Terminated"
    assert "iip.webplugin.token_success" not in await event_names(page)
    await receiver[0].wait_for("plugin.transaction.recipient.verification.rvdm.failure")


async def test_expired_url_shows_a_clear_page_and_tells_the_host(emulator, host, page, shot):
    runtime, _ = emulator
    key = str(uuid.uuid4())
    data = await create_session(emulator, host, key=key)
    runtime.clock.advance(31)
    await open_host(page, host, data["authorized_url"], "DEBIT")
    failure = await wait_event(page, "iip.webplugin.terminal_failure")
    assert failure["error"] == "session_expired"
    await frame(page).get_by_role("heading", name="Link expired").wait_for()
    await shot("expired")
    assert session_record(runtime, data["session_identifier"])["status"] == "Expired"
    # Re-issued with its Idempotency-Key, the session mounts again.
    again = await create_session(emulator, host, key=key)
    assert again["session_identifier"] == data["session_identifier"]
    await open_host(page, host, again["authorized_url"], "PAYPAL")
    loaded = await wait_event(page, "iip.webplugin.page_load")
    assert loaded["content"] == {"page": "PayPalFunding"}
    assert await frame(page).get_by_label("PayPal email").input_value() == "jane.doe@example.com"
    await shot("reissued-mounted")


async def test_cancel(emulator, host, page, shot):
    runtime, _ = emulator
    data = await create_session(emulator, host)
    await open_host(page, host, data["authorized_url"], "BILLPAY")
    await wait_event(page, "iip.webplugin.page_load")
    iframe = frame(page)
    await iframe.get_by_label("Search billers by name").fill("water")
    await iframe.get_by_label("Search billers by name").press("Enter")
    await iframe.get_by_label("Anytown Water Authority (Anytown, OH)").wait_for()
    await shot("billpay-search")
    # The SDK takes events only from its iFrame on the emulator's origin: a forged one posted by another window
    # (here the host page itself) is ignored. It is posted first, so it would arrive before the real cancel.
    await page.evaluate("""() => window.postMessage({iip: 1, type: "event", event: {
        event_name: "iip.webplugin.token_success", customer_account_token: "forged"}}, "*")""")
    await iframe.get_by_role("button", name="Cancel").click()
    canceled = await wait_event(page, "iip.webplugin.funding_canceled")
    assert "iip.webplugin.token_success" not in await event_names(page)
    assert canceled["funding_destination"] == "billpay"
    await iframe.get_by_role("heading", name="Canceled").wait_for()
    await shot("canceled")
    assert session_record(runtime, data["session_identifier"])["status"] == "Canceled"


async def test_a_host_page_on_another_origin_is_refused(emulator, host, page, shot):
    runtime, base = emulator
    data = await create_session(emulator, host)  # host_uri: the first host page's origin
    other = await _host_server(base)  # same page, another port: another origin
    try:
        await open_host(page, str(other.make_url("")).rstrip("/"), data["authorized_url"], "DEBIT")
        await page.wait_for_function("window.__iframeLoaded === true")
        child = page.frames[1]
        # Chromium refuses to render the page (CSP frame-ancestors names only host_uri): no form, no script.
        assert child.url.startswith("chrome-error://"), child.url
        await shot("wrong-origin-refused")
        assert await event_names(page) == []
        assert session_record(runtime, data["session_identifier"])["mounted"] is False
    finally:
        await other.close()
    # The same URL on the right origin still mounts: the refusal was about the origin alone.
    await open_host(page, host, data["authorized_url"], "DEBIT")
    await wait_event(page, "iip.webplugin.page_load")


async def test_demo_page_in_one_click(emulator, page, shot):
    runtime, base = emulator
    await page.goto(f"{base}/plugin/demo")
    await page.get_by_role("button", name="Create session and mount").click()
    iframe = page.frame_locator("#ingo-container iframe")
    await iframe.get_by_label("Card number").fill("4111111111111111")
    await iframe.get_by_label("Expiration (MM/YY)").fill("12/29")
    await iframe.get_by_label("Security code (CVV)").fill("123")
    await iframe.get_by_role("button", name="Add account").click()
    await page.locator("#sdk-events").get_by_text("TOKEN_SUCCESS", exact=True).wait_for()
    await page.locator("#webhook-events").get_by_text("plugin.transaction.account.tokenization.success",
                                                      exact=True).wait_for()
    await shot("demo")
    # At 1280 px, with the events listed, every column ends inside the page: nothing runs past the right edge.
    await page.set_viewport_size({"width": 1280, "height": 900})
    edges = await page.evaluate("() => [innerWidth, document.documentElement.scrollWidth, "
                                "...[...document.querySelectorAll('.layout > section')].map("
                                "(s) => Math.ceil(s.getBoundingClientRect().right))]")
    width, scrolled, *columns = edges
    assert scrolled <= width and all(right <= width for right in columns), edges
