"""The inspector page (/_emulator/ui) in a real browser, and the read-only state endpoint it shows.

The browser test drives Debian's Chromium (/usr/bin/chromium) through Playwright for Python, against a real
emulator on 127.0.0.1: a declined payment from the magic-values table, a request with a bad signature, a webhook
delivery that fails then succeeds, and the page showing all of it. Screenshots land in the test's tmp_path.
tests/inspector/test_inspector_story.py drives the rest of the page (a request's story, acting on it, filters, live
updates) from a client of its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from emulator.client import encode_body, sign
from tests.support.app import CREDENTIALS, NOW, Signed, runtime_for, serve
from tests.support.bodies import CARD, SESSION, v11
from tests.support.webhook_receiver import Receiver, start_receiver

DECLINE_CARD = "4000000085100008"  # magic-values.yaml, rule card-851: verify approves, process declines 851
CHECK_PAID = "gateway.transaction.recipient.payment.status.check.paid"
PAID = "gateway.transaction.recipient.payment.status.success"
TERMINATED = "gateway.transaction.recipient.payment.status.terminated"
SESSION_PATH = "/api/v1/sessions/point-in-time/plugin"


async def start(aiohttp_client, clock, **settings: Any) -> Signed:
    return await serve(aiohttp_client, runtime_for(clock, **{"rate_limit": 5, **settings}))


async def verify(emu: Signed, account: str, puid1: str) -> str:
    status, body, _ = await emu.post("/gateway/verify", v11(**{**CARD, "account": account,
                                                              "participant_unique_id1": puid1}))
    assert status == 200 and body["status"] == 100, body
    return body["data"]["customer_account_token"]


async def pay(emu: Signed, token: str, puid1: str) -> dict[str, Any]:
    status, body, _ = await emu.post("/gateway/process", v11(account_type="CA", amount=25.0, source_of_funds=4,
                                                            customer_account_token=token,
                                                            participant_unique_id1=puid1))
    assert status == 200, body
    return body


# -- /_emulator/state (no browser) -------------------------------------------------------------------------------


async def test_state_shows_tokens_sessions_and_transactions_masked(aiohttp_client, clock):
    emu = await start(aiohttp_client, clock, rate_limit=0)
    token = await verify(emu, CARD["account"], "customer-1")
    assert (await pay(emu, token, "payment-1"))["status"] == 100
    other = await emu.as_user("other").post("/gateway/verify", v11(**{**CARD, "participant_id": 54321}))
    assert other[0] == 200 and other[1]["status"] == 100, other
    status, session, _ = await emu.post(SESSION_PATH, SESSION)
    assert status == 200, session

    response = await emu.client.get("/_emulator/state")
    assert response.status == 200
    raw = await response.text()
    document = json.loads(raw)
    # The vault keeps the whole number (scenario rules match it at process time); the admin API never shows it.
    assert CARD["account"] not in raw and "cvv" not in raw and '"account"' not in raw
    assert "routing_number" not in raw and "expiration_date" not in raw and "recipient" not in raw

    mine = [t for t in document["tokens"] if t["participant_id"] == 12345]
    assert mine == [{"token": token, "account_type": "CA", "last_4": "1111", "participant_id": 12345,
                     "created": NOW}]
    assert {t["participant_id"] for t in document["tokens"]} == {12345, 54321}
    [transaction] = document["transactions"]
    assert transaction["kind"] == "process" and transaction["amount"] == 25.0 and transaction["status"] == 100
    assert transaction["last_4"] == "1111" and transaction["participant_unique_id1"] == "payment-1"
    assert transaction["id"]
    [shown] = document["sessions"]
    assert shown["status"] == "Active" and shown["participant_id"] == 12345 and shown["created"] == NOW
    assert shown["participant_unique_id1"] == "session-request-1" and shown["host_uri"]
    assert set(shown) == {"id", "status", "participant_id", "created", "host_uri", "participant_unique_id1"}

    # One participant only, a limit, and bad filters.
    response = await emu.client.get("/_emulator/state", params={"participant_id": "54321", "limit": "5"})
    only = await response.json()
    assert [t["participant_id"] for t in only["tokens"]] == [54321]
    assert only["sessions"] == [] and only["transactions"] == []
    response = await emu.client.get("/_emulator/state", params={"participant_id": "x"})
    assert response.status == 400


async def test_ui_files_are_served_without_the_token_and_the_data_is_not(aiohttp_client, clock):
    emu = await start(aiohttp_client, clock, rate_limit=0, admin_token="s3cret-admin")
    for path, content_type in [("/_emulator/ui", "text/html"), ("/_emulator/ui/", "text/html"),
                               ("/_emulator/ui/app.js", "text/javascript"),
                               ("/_emulator/ui/style.css", "text/css")]:
        response = await emu.client.get(path)
        assert response.status == 200, path
        assert response.content_type == content_type
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    # Nothing else under the UI's path answers, and its prefix opens no admin data.
    for path in ["/_emulator/ui/nope.js", "/_emulator/ui/../state", "/_emulator/ui/..%2Fstate",
                 "/_emulator/ui/%2e%2e/requests", "/_emulator/uistate"]:
        response = await emu.client.get(path)
        assert response.status in (401, 404), path
        assert "tokens" not in await response.text()
    assert (await emu.client.get("/_emulator/state")).status == 401
    response = await emu.client.get("/_emulator/state", headers={"Authorization": "Bearer s3cret-admin"})
    assert response.status == 200
    # The UI's files are not journaled (a path no route serves is, as for any unknown path).
    response = await emu.client.get("/_emulator/requests", headers={"Authorization": "Bearer s3cret-admin"})
    assert [e["path"] for e in (await response.json())["requests"]] == ["/_emulator/uistate"]


# -- the page in Chromium ----------------------------------------------------------------------------------------


async def test_inspector_shows_the_decline_the_401_the_webhook_the_clock_and_the_rate_window(
        aiohttp_client, aiohttp_server, clock, tmp_path, chromium):
    from playwright.async_api import expect

    receiver = Receiver(_fails_then_ok)
    hook = await start_receiver(aiohttp_server, receiver)
    emu = await start(aiohttp_client, clock, rate_limit=50, webhook_url=(hook,))

    # A declined payment from the magic-values table: verify approves the card, process declines 851.
    approved = await verify(emu, CARD["account"], "customer-ok")
    declined_token = await verify(emu, DECLINE_CARD, "customer-declined")
    assert (await pay(emu, approved, "payment-ok"))["status"] == 100
    decline = await pay(emu, declined_token, "payment-declined")
    assert decline["status"] == 851, decline
    # A request signed with the wrong secret: 401 and the emulator's diagnosis.
    raw = encode_body(v11(**CARD))
    headers = sign("POST", "/gateway/verify", raw, username="test", secret="not-the-secret", now=clock.now())
    response = await emu.client.post("/gateway/verify", data=raw, headers=headers)
    refused = await response.json()
    assert response.status == 401 and refused["diagnosis"]["code"], refused
    bad_code = refused["diagnosis"]["code"]
    # A session for the sessions table.
    status, session, _ = await emu.post(SESSION_PATH, SESSION)
    assert status == 200, session
    # A webhook: the receiver answers 500 to the first attempt.
    response = await emu.client.post("/_emulator/events", json={"topic": CHECK_PAID, "participant_id": 12345})
    assert response.status == 201
    response = await emu.client.post("/_emulator/clock", json={"advance": 0})
    assert response.status == 200
    # the check event, and the final outcome of each payment (paid, declined)
    assert sorted(r.json["metadata"]["topic"] for r in receiver.received) == sorted([CHECK_PAID, PAID, TERMINATED])

    shots = tmp_path / "screenshots"
    shots.mkdir()
    url = str(emu.client.make_url("/_emulator/ui"))
    browser = chromium
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    await page.goto(url)
    await expect(page.locator("body[data-loaded=true]")).to_have_count(1)
    await expect(page.get_by_role("heading", name="IngoPay emulator inspector", level=1)).to_be_visible()

    # Requests: the 851 decline with its matched rule, and the 401 with its diagnosis code.
    declined_row = page.locator("tr.request", has=page.locator("td.ingo-status", has_text=re.compile("^851$")))
    await expect(declined_row).to_have_count(1)
    await expect(declined_row.locator("td.rule")).to_have_text("magic-values/card-851")
    await expect(declined_row).to_contain_text("POST /gateway/process")
    refused_row = page.locator("tr.request[data-http-status='401']")
    await expect(refused_row).to_have_count(1)
    await expect(refused_row.locator(".diagnosis-code")).to_have_text(bad_code)
    await expect(refused_row.locator("td.diagnosis")).to_contain_text(refused["diagnosis"]["detail"])
    # A decline never looks like an approval: its own word, symbol and colour.
    await expect(declined_row.locator(".outcome")).to_have_text("✕ Declined")
    await expect(refused_row.locator(".outcome")).to_have_text("⊘ Auth refused")
    # Bodies open in the request's detail view, masked: the card number shows its last four only.
    await declined_row.locator("a.open-detail").click()
    await expect(page.locator("#detail-request-body")).to_contain_text("payment-declined")
    await page.screenshot(path=str(shots / "01-requests.png"), full_page=True)
    await page.get_by_role("button", name="Close").click()
    # The text filter narrows the list.
    await page.get_by_label("Text").fill("card-851")
    await expect(page.locator("tr.request")).to_have_count(1)
    await page.screenshot(path=str(shots / "02-requests-filtered.png"))
    await page.get_by_label("Text").fill("")

    # Sessions and tokens: last four only.
    tokens = page.locator("#tokens-body")
    await expect(tokens).to_contain_text(declined_token)
    await expect(tokens).to_contain_text("…0008")
    session_row = page.locator("#sessions-body tr", has_text=session["data"]["session_identifier"])
    await expect(session_row).to_contain_text("Active")
    await expect(session_row).to_contain_text("session-request-1")
    await expect(page.locator("#transactions-body")).to_contain_text("process")
    await page.locator("#state").screenshot(path=str(shots / "03-state.png"))

    # The webhook delivery with its failed first attempt; Redeliver sends a new one, which succeeds.
    await expect(page.locator("article.delivery")).to_have_count(3)
    delivery = page.locator("article.delivery", has_text=CHECK_PAID)
    await expect(delivery).to_have_count(1)
    await expect(delivery.locator("tr.attempt")).to_have_count(1)
    await expect(delivery.locator("tr.attempt").first).to_contain_text("500")
    await expect(delivery.locator("tr.attempt").first).to_contain_text("HTTP 500")
    await page.locator("#webhooks").screenshot(path=str(shots / "04-webhook-failed.png"))
    redeliver = delivery.get_by_role("button", name=re.compile("^Redeliver"))
    await redeliver.focus()
    await page.keyboard.press("Enter")  # keyboard-usable
    await expect(delivery.locator("tr.attempt")).to_have_count(2)
    await expect(delivery.locator("tr.attempt").nth(1)).to_contain_text("200")
    await expect(page.locator("article.delivery[data-status=succeeded]", has_text=CHECK_PAID)).to_have_count(1)
    assert [r.json["metadata"]["topic"] for r in receiver.received].count(CHECK_PAID) == 2
    await page.locator("#webhooks").screenshot(path=str(shots / "05-webhook-redelivered.png"))

    # The clock: +2 days moves it by 172,800 s.
    await expect(page.locator("#clock-now")).to_have_attribute("data-now", re.compile(r"^\d"))
    before = float(await page.locator("#clock-now").get_attribute("data-now"))
    await expect(page.locator("#clock-frozen")).to_have_text("yes")
    await page.get_by_role("button", name="+2 days").click()
    await expect(page.locator("#clock-now")).to_have_text("2026-11-18T15:00:00Z")
    after = float(await page.locator("#clock-now").get_attribute("data-now"))
    assert after - before == 172_800 and clock.now() == NOW + 172_800
    await page.locator("#clock").screenshot(path=str(shots / "06-clock.png"))

    # Each credential's rate window.
    rows = page.locator("#ratelimit-body tr")
    await expect(rows).to_have_count(len(CREDENTIALS))
    test_row = rows.filter(has=page.locator("code", has_text=re.compile("^test$")))
    await expect(test_row.locator("td").nth(1)).to_have_text("50")
    await expect(page.locator("#ratelimit-summary")).to_contain_text("50 requests a second")
    await page.screenshot(path=str(shots / "07-whole-page.png"), full_page=True)

    # Masked everywhere: no full card number anywhere on the page.
    html = await page.content()
    assert DECLINE_CARD not in html and CARD["account"] not in html
    assert errors == [], errors
    print(f"inspector screenshots: {shots}")
    assert sorted(p.name for p in shots.iterdir()) == [
        "01-requests.png", "02-requests-filtered.png", "03-state.png", "04-webhook-failed.png",
        "05-webhook-redelivered.png", "06-clock.png", "07-whole-page.png"]


async def test_inspector_with_an_admin_token_from_the_url(aiohttp_client, clock, tmp_path, chromium):
    from playwright.async_api import expect

    emu = await start(aiohttp_client, clock, rate_limit=0, admin_token="s3cret-admin")
    await verify(emu, CARD["account"], "customer-1")
    browser = chromium
    page = await browser.new_page()
    # Without the token: the page loads and asks for it.
    await page.goto(str(emu.client.make_url("/_emulator/ui")))
    await expect(page.get_by_label("Admin token")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("401")
    await page.screenshot(path=str(tmp_path / "token-asked.png"))
    # A wrong token is refused; the right one, typed into the form, shows the data.
    await page.get_by_label("Admin token").fill("wrong")
    await page.get_by_label("Admin token").press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("401")
    await page.get_by_label("Admin token").fill("s3cret-admin")
    await page.get_by_role("button", name="Use token").click()
    await expect(page.locator("tr.request")).to_have_count(1)
    await expect(page.get_by_label("Admin token")).to_be_hidden()
    await expect(page.get_by_role("alert")).to_be_hidden()

    # In a fresh tab: ?token= is kept for the tab and taken out of the address bar.
    page = await (await browser.new_context()).new_page()
    await page.goto(str(emu.client.make_url("/_emulator/ui?token=s3cret-admin")))
    await expect(page.locator("tr.request")).to_have_count(1)
    assert "token" not in page.url
    await expect(page.get_by_label("Admin token")).to_be_hidden()
    await page.reload()
    await expect(page.locator("tr.request")).to_have_count(1)


async def _fails_then_ok(number: int, request: web.Request) -> web.StreamResponse:
    """The test receiver: 500 to the first attempt of the check event, 200 to everything else."""
    if request.headers.get("X-Ingo-Topic") == CHECK_PAID and request.headers.get("X-Ingo-Delivery-Attempt") == "1":
        return web.Response(status=500, text="receiver broke")
    return web.Response(text="thanks")



async def test_inspector_shows_findings_with_the_rule_they_break(aiohttp_client, clock, chromium):
    from playwright.async_api import expect

    emu = await start(aiohttp_client, clock, rate_limit=0)
    token = await verify(emu, CARD["account"], "customer-1")
    for puid1 in ("pay-1", "pay-2"):  # .02: a stand-in answer, then a new id: a likely double payout
        status, body, _ = await emu.post("/gateway/process", v11(account_type="CA", amount=7.02, source_of_funds=4,
                                                                customer_account_token=token,
                                                                participant_unique_id1=puid1))
        assert status == 200 and body["status"] == 102, body
    page = await chromium.new_page()
    await page.goto(str(emu.client.make_url("/_emulator/ui")))
    row = page.locator("#findings-body tr")
    await expect(row).to_have_count(1)
    await expect(row.locator("code").first).to_have_text("double_payout_risk")
    await expect(row.locator(".outcome")).to_have_text("⚠ Finding")
    await expect(row).to_contain_text("retry with participant_unique_id1 'pay-1'")
    await expect(row.get_by_role("link", name=re.compile("idempotency|participant_unique_id1", re.I)).first
                 ).to_have_attribute("href", "https://developer.ingo.money/en/ingopay-api/idempotency")
    # Each request the finding names opens that request's story.
    await row.locator("a.open-detail").first.click()
    await expect(page.locator("#timeline li[data-kind=finding]")).to_contain_text("double_payout_risk")
    await expect(page.locator("#findings-count")).to_have_text("(1)")
    await expect(page.locator("#bar-findings-count")).to_have_text("1")


async def test_filtered_to_one_participant_the_inspector_shows_and_moves_its_own_clock(aiohttp_client, clock,
                                                                                         chromium):
    from playwright.async_api import expect

    emu = await start(aiohttp_client, clock)
    page = await chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(str(emu.client.make_url("/_emulator/ui")))
    await expect(page.locator("body[data-loaded=true]")).to_have_count(1)
    await expect(page.locator("#status-participant-clock")).to_be_hidden()  # no participant chosen: one clock

    await page.get_by_label("Participant", exact=True).fill("54321")
    participant = page.locator("#status-participant-clock")
    await expect(participant).to_contain_text("Participant 54321's clock")
    await expect(participant.locator("#bar-participant-kind")).to_have_text("the emulator clock")
    await page.get_by_role("button", name="+1 day").click()
    await expect(participant.locator("#bar-participant-kind")).to_have_text("its own, frozen")
    await expect(page.locator("#clock-now")).to_have_text("2026-11-17T15:00:00Z")  # the panel shows its clock
    await expect(page.locator("#clock-whose")).to_contain_text("Participant 54321's own clock")
    await expect(page.locator("#bar-clock-now")).to_contain_text("2026-11-16")  # the emulator clock did not move
    assert (clock.now(54321), clock.now(), clock.now(12345)) == (NOW + 86_400, NOW, NOW)

    await page.get_by_label("Participant", exact=True).fill("")
    await expect(participant).to_be_hidden()
    await expect(page.locator("#clock-now")).to_have_text("2026-11-16T15:00:00Z")
    assert errors == [], errors
