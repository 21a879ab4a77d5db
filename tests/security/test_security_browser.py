"""Web pages against the admin API, in a real browser (Debian's Chromium): a page on another origin sends the
"simple" requests a browser lets it send without asking, and a rebinding host name reaches the emulator itself.
Neither may change or read anything. A recorder in front of the app proves the requests arrived and were refused.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from emulator.app import create_app
from tests.support.app import Signed, runtime_for
from tests.support.bodies import CARD, v11
from tests.support.browser import ATTACKER_DOMAIN

#: The attacker's page: fetches the browser sends without a preflight, a text/plain form, a JSON fetch that needs
#: a preflight, then a title that says it is done.
ATTACK_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>attacking</title></head><body>
<iframe name="sink" style="display:none"></iframe>
<form id="form" method="POST" enctype="text/plain" target="sink" action="{emulator}/_emulator/reset">
  <input name='{{"participant_id": 12345, "x": "' value='"}}'></form>
<script>
  const emulator = "{emulator}";
  const simple = (path, body, type) => fetch(emulator + path, {{method: "POST", mode: "no-cors", body,
      headers: type ? {{"Content-Type": type}} : {{}}}}).catch(() => null);
  (async () => {{
    await simple("/_emulator/webhooks/endpoints", JSON.stringify({{url: "http://127.0.0.1:9/steal"}}), "text/plain");
    await simple("/_emulator/reset", "{{}}", "application/x-www-form-urlencoded");
    await simple("/_emulator/clock", JSON.stringify({{advance: 86400}}));
    let preflighted = "sent";
    try {{
      await fetch(emulator + "/_emulator/reset", {{method: "POST", body: "{{}}",
                                                 headers: {{"Content-Type": "application/json"}}}});
    }} catch (e) {{ preflighted = "blocked"; }}
    let read = "read";
    try {{ await (await fetch(emulator + "/_emulator/state")).json(); }} catch (e) {{ read = "blocked"; }}
    const answered = new Promise(resolve => document.querySelector("iframe").addEventListener("load", resolve));
    document.getElementById("form").submit();
    await answered;  // the form's POST was answered (its answer, in the frame, is not readable)
    document.title = "done " + preflighted + " " + read;
  }})();
</script></body></html>"""


def recorder(seen: list[dict[str, Any]]) -> Any:
    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        seen.append({"method": request.method, "path": request.path, "origin": request.headers.get("Origin"),
                     "host": request.headers.get("Host"), "status": response.status})
        return response
    return record


async def emulator_with_recorder(aiohttp_client: Any, clock: Any, seen: list[dict[str, Any]]) -> Signed:
    runtime = runtime_for(clock)
    app = create_app(runtime=runtime)
    app.middlewares.insert(0, recorder(seen))  # outermost: sees every request, and what it was answered
    emu = Signed(await aiohttp_client(app), runtime)
    status, body, _ = await emu.post("/gateway/verify", v11(**CARD))
    assert status == 200 and body["status"] == 100, body
    return emu


async def state_of(emu: Signed) -> tuple[list[str], list[Any], float]:
    state = await (await emu.client.get("/_emulator/state")).json()
    endpoints = await (await emu.client.get("/_emulator/webhooks/endpoints")).json()
    return [t["token"] for t in state["tokens"]], endpoints["endpoints"], emu.runtime.clock.now()


async def test_a_page_on_another_origin_can_neither_change_nor_read_the_emulator(aiohttp_client, clock, chromium):
    seen: list[dict[str, Any]] = []
    emu = await emulator_with_recorder(aiohttp_client, clock, seen)
    before = await state_of(emu)
    emulator_origin = str(emu.client.make_url("")).rstrip("/")

    async def attack(request: web.Request) -> web.Response:
        return web.Response(text=ATTACK_PAGE.format(emulator=emulator_origin), content_type="text/html")

    attacker = web.Application()
    attacker.router.add_get("/", attack)
    server = TestServer(attacker, host="127.0.0.1")
    await server.start_server()
    attacker_origin = str(server.make_url("")).rstrip("/")
    try:
        page = await chromium.new_page()
        await page.goto(str(server.make_url("/")))
        await page.wait_for_function("document.title.startsWith('done')")
        title = await page.title()
    finally:
        await server.close()
    assert title == "done blocked blocked", title  # the JSON POST needed a preflight, the read a CORS grant
    arrived = [(r["method"], r["path"], r["status"]) for r in seen if r["origin"] == attacker_origin]
    for path in ("/_emulator/webhooks/endpoints", "/_emulator/reset", "/_emulator/clock"):
        assert ("POST", path, 403) in arrived, arrived  # the requests reached the emulator, and were refused
    assert len([1 for method, path, _ in arrived if (method, path) == ("POST", "/_emulator/reset")]) == 2  # + form
    assert all(status in (403, 405) for _, _, status in arrived), arrived
    assert await state_of(emu) == before  # no reset, no receiver, no time travel


async def test_a_rebinding_host_name_reaches_the_emulator_and_gets_nothing(aiohttp_client, clock, rebinding_chromium):
    seen: list[dict[str, Any]] = []
    emu = await emulator_with_recorder(aiohttp_client, clock, seen)
    before = await state_of(emu)
    port = emu.client.port
    page = await rebinding_chromium.new_page()
    rebound = f"http://rebind.{ATTACKER_DOMAIN}:{port}"
    response = await page.goto(f"{rebound}/_emulator/ui")
    assert response is not None and response.status == 403
    assert "--allowed-hosts" in json.loads(await response.text())["message"]
    # the page is now same-origin with the emulator, under the attacker's name: it may read and write freely
    answers = await page.evaluate("""async () => {
        const state = await fetch("/_emulator/state");
        const reset = await fetch("/_emulator/reset", {method: "POST", body: "{}",
                                                       headers: {"Content-Type": "application/json"}});
        return [state.status, reset.status];
    }""")
    assert answers == [403, 403], answers
    assert {r["host"] for r in seen if r["status"] == 403} == {f"rebind.{ATTACKER_DOMAIN}:{port}"}
    assert await state_of(emu) == before
