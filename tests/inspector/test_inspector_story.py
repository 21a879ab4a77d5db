"""The inspector as a person debugging a payments integration uses it, in Debian's Chromium, against an emulator on
127.0.0.1 that a client of the test's own (tests/support/outside.py: urllib and hand-written hmac-sha512, the real
clock) drives: outcomes at a glance, one request's whole story, acting on it (curl, replay, redeliver, scenarios, clock,
reset), filters kept in the address bar, live updates, and the page at 1280 and 390 px with and without the admin
token. Screenshots are written to build/screenshots/inspector (or $INGOPAY_SCREENSHOTS) for a person to look at."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.settings import Settings
from emulator.testing import EmulatorServer
from tests.support.outside import CARD_VERIFY, Client, admin, call
from tests.support.paths import ROOT

SHOTS = Path(os.environ.get("INGOPAY_SCREENSHOTS", ROOT / "build" / "screenshots")) / "inspector"
DECLINE_CARD = "4000000085100008"  # magic values: verify approves, process declines 851
SECRET = "ingopay-emulator-secret"  # the documented default credential: test / ingopay-emulator-secret
PENDING_CENTS = 7.02  # magic values: 102, then a success webhook 60 s later on the emulator clock
OUTCOMES_SCENARIO = """
version: 1
scenarios:
- name: inspector-outcomes
  active: true
  rules:
  - name: ingo-500
    match: {endpoint: process, participant_unique_id1: boom-500}
    respond: {status: 500}
  - name: load-balancer-502
    match: {endpoint: process, participant_unique_id1: boom-502}
    respond: {fault: {type: http_502}}
  - name: prefixed-decline
    match: {endpoint: process, participant_unique_id1: {prefix: prefixed-}}
    respond: {status: 851}
- name: everything-declines
  active: false
  rules:
  - name: decline-all
    match: {endpoint: process}
    respond: {status: 851}
"""


class FailsThenAcknowledges:
    """A webhook receiver on 127.0.0.1: 500 to the first delivery attempt, 200 to the others."""

    def __init__(self) -> None:
        self.attempts = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.attempts += 1
                self.send_response(500 if outer.attempts == 1 else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[FailsThenAcknowledges]:
    running = FailsThenAcknowledges()
    yield running
    running.stop()


@pytest.fixture
def server(receiver: FailsThenAcknowledges) -> Iterator[EmulatorServer]:
    running = EmulatorServer(Settings(rate_limit=0, webhook_url=(receiver.url,))).start()
    status, answer = admin(running.url, "POST", "/_emulator/scenarios", OUTCOMES_SCENARIO.encode(),
                           headers={"Content-Type": "application/yaml"})
    assert status == 201, answer
    yield running
    running.stop()


@pytest.fixture
def client(server: EmulatorServer) -> Client:
    return Client(server.url, "test", SECRET, 12345)


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


class Page:
    """A Chromium page on the inspector that collects the page's errors and every URL it loads."""

    def __init__(self, page: Any, origin: str) -> None:
        self.page, self.origin = page, origin
        self.errors: list[str] = []
        self.urls: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("request", lambda request: self.urls.append(request.url))


@pytest.fixture
async def open_inspector(chromium: Any) -> AsyncIterator[Any]:
    pages: list[Page] = []

    async def opened(url: str, *, width: int = 1280, height: int = 900, **context: Any) -> Any:
        from playwright.async_api import expect

        browser_context = await chromium.new_context(viewport={"width": width, "height": height}, **context)
        watched = Page(await browser_context.new_page(), url.split("/_emulator", 1)[0])
        pages.append(watched)
        await watched.page.goto(url)
        await expect(watched.page.locator("body[data-loaded=true]")).to_have_count(1)
        return watched.page

    yield opened
    for watched in pages:
        assert watched.errors == [], watched.errors
        # offline: everything the page loaded came from the emulator itself (no CDN, no font service)
        assert all(u.startswith((watched.origin + "/", "data:")) for u in watched.urls), watched.urls


async def shoot(target: Any, path: Path) -> None:
    """A screenshot of a page or one of its elements, without the sticky status bar drawn over an element."""
    page = getattr(target, "page", target)
    await page.evaluate("() => { document.querySelector('.statusbar').style.position = 'static'; }")
    try:
        await target.screenshot(path=str(path))
    finally:
        await page.evaluate("() => { document.querySelector('.statusbar').style.position = ''; }")


def entries(server: EmulatorServer) -> list[dict[str, Any]]:
    status, answer = admin(server.url, "GET", "/_emulator/requests")
    assert status == 200, answer
    return list(answer["requests"])


def push(client: Client, token: str, amount: float, puid1: str) -> Any:
    return client.push(token, amount, puid1)[2]


# -- outcome at a glance -------------------------------------------------------------------------------------------


def contrast_ratios(page: Any) -> Any:
    """The WCAG contrast ratio of each outcome badge's text on its background, as the browser renders them."""
    return page.evaluate("""() => {
      const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
      const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92
        : Math.pow((c + 0.055) / 1.055, 2.4); }).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
      return [...document.querySelectorAll('.outcome')].map((node) => {
        const style = getComputedStyle(node);
        const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))].sort((x, y) => y - x);
        return [node.dataset.outcome, (a + 0.05) / (b + 0.05), style.backgroundColor];
      });
    }""")


async def test_every_outcome_family_reads_in_words_a_symbol_and_its_own_colour(
        server: EmulatorServer, client: Client, open_inspector: Any, shots: Path) -> None:
    from playwright.async_api import expect

    token = client.token()
    assert push(client, token, 25.00, "ok-1")["status"] == 100  # approved
    assert push(client, token, 25.00, "ok-1")["status"] == 101  # idempotent replay
    assert push(client, token, PENDING_CENTS, "pending-1")["status"] == 102  # pending
    declined = client.token(account=DECLINE_CARD, participant_unique_id1="verify-2")
    assert push(client, declined, 10.00, "declined-1")["status"] == 851  # declined
    assert push(client, token, 10.00, "boom-500")["status"] == 500  # system error
    assert call(server.url, "POST", "/gateway/process", b"{}", headers=client.headers("/gateway/process", b"{}")
                )[0] == 200  # an Ingo validation error (400) in an HTTP 200
    assert client.post("/gateway/process", {"account_type": "CA", "amount": 1, "customer_account_token": token,
                                            "source_of_funds": 1, "participant_unique_id1": "boom-502"})[0] == 502
    assert Client(server.url, "test", "not-the-secret", 12345).post("/gateway/verify", CARD_VERIFY)[0] == 401
    assert admin(server.url, "POST", "/_emulator/ratelimit", {"username": "test", "refuse_next": 1})[0] == 200
    assert client.post("/gateway/verify", CARD_VERIFY)[0] == 429

    # The journal says the family of each answer, the same words the page shows.
    families = {e["path"] + " " + str(e["ingo_status"] or e["http_status"]): e["outcome"] for e in entries(server)}
    assert families["/gateway/process 851"] == "declined" and families["/gateway/process 100"] == "approved"
    assert families["/gateway/process 400"] == "validation_error" and families["/gateway/process 500"] == "system_error"
    assert families["/gateway/process 502"] == "injected_fault" and families["/gateway/verify 401"] == "auth_refused"
    assert families["/gateway/verify 429"] == "throttled" and families["/gateway/process 101"] == "idempotent_replay"
    assert families["/gateway/process 102"] == "pending"

    page = await open_inspector(server.url + "/_emulator/ui")
    labels = {"approved": "✓ Approved", "pending": "◷ Pending", "idempotent_replay": "↻ Idempotent replay",
              "declined": "✕ Declined", "validation_error": "! Validation error", "auth_refused": "⊘ Auth refused",
              "throttled": "‖ Throttled", "system_error": "✱ System error", "injected_fault": "⚡ Injected fault"}
    for family, label in labels.items():
        badge = page.locator(f"tr.request[data-outcome={family}] .outcome").first
        await expect(badge).to_have_text(label)
    # The HTTP status stays neutral: a decline is an HTTP 200 too, and must not wear an approval's green.
    await expect(page.locator("tr.request[data-outcome=declined] td[data-label=HTTP] .badge")).to_have_class("badge")
    ratios = await contrast_ratios(page)
    assert ratios and all(ratio >= 4.5 for _, ratio, _ in ratios), ratios  # WCAG AA for text
    background = {family: colour for family, _, colour in ratios}
    assert background["declined"] != background["approved"] != background["pending"]
    await page.screenshot(path=str(shots / "outcomes-1280.png"), full_page=True)
    # The legend explains each family.
    await page.get_by_text("What the outcomes mean").click()
    await expect(page.locator("#legend dd")).to_have_count(13)


# -- a request's whole story ---------------------------------------------------------------------------------------


async def test_a_401_shows_the_headers_as_received_and_what_was_signed_beside_what_the_server_expected(
        server: EmulatorServer, open_inspector: Any, shots: Path) -> None:
    from playwright.async_api import expect

    # A client that signs the request line without its query string: the emulator reproduces what it signed.
    body = json.dumps({"participant_id": 12345, "timestamp": 0, "version": 11, **CARD_VERIFY}).encode()
    headers = Client(server.url, "test", SECRET, 12345).headers("/gateway/verify", body)
    status, _, refused = call(server.url, "POST", "/gateway/verify?trace=1", body, headers=headers)
    assert status == 401 and refused["diagnosis"]["code"] == "signature_mismatch", refused
    # And one with the wrong secret: nobody can know what it signed.
    assert Client(server.url, "test", "wrong", 12345).post("/gateway/verify", CARD_VERIFY)[0] == 401
    secret_id, query_id = (e["id"] for e in entries(server)[:2])

    page = await open_inspector(f"{server.url}/_emulator/ui?request={query_id}")
    detail = page.locator("#detail")
    await expect(detail.locator("#detail-summary .outcome")).to_have_text("⊘ Auth refused")
    headers_table = page.locator("#detail-headers")
    def header_row(name: str) -> Any:
        return headers_table.locator("tr", has=page.locator("th", has_text=re.compile(f"^{name}$")))

    await expect(header_row("X-Date")).to_contain_text(headers["X-Date"])
    authorization = header_row("Authorization")
    await expect(authorization).to_contain_text('signature="[redacted]"')
    await expect(authorization).to_contain_text('headers="request-line x-date content-type content-sha512')
    assert headers["Authorization"].split('signature="')[1].rstrip('"') not in await page.content()
    comparison = page.locator(".comparison")
    await expect(comparison.locator("pre").first).to_contain_text("POST /gateway/verify HTTP/1.1")
    await expect(comparison.locator("pre").nth(1)).to_contain_text("POST /gateway/verify?trace=1 HTTP/1.1")
    await expect(comparison.locator("mark.first-difference").first).to_have_text(" HTTP/1.1")
    await expect(comparison.locator("mark.first-difference").nth(1)).to_have_text("?trace=1 HTTP/1.1")
    await expect(comparison.locator(".verdict")).to_have_text("First difference at line 1, column 21 (character 20).")
    await expect(page.locator("#signing-string")).to_contain_text("x-date: " + headers["X-Date"])
    # The body a 401 refused is kept, masked, and so is the answer.
    await expect(page.locator("#detail-request-body")).to_contain_text("************1111")
    await expect(page.locator("#detail-response-body")).to_contain_text("HMAC signature does not match")
    assert CARD_VERIFY["account"] not in await page.content()
    await shoot(detail, shots / "401-side-by-side.png")

    # The wrong secret: the client's side is unknown until the person pastes the string their client signed.
    await page.locator(f"tr.request[data-id='{secret_id}'] a.open-detail").click()
    await expect(page.locator("#detail-id")).to_have_text(str(secret_id))
    await expect(page.locator(".comparison")).to_contain_text("unknown")
    server_string = await page.locator("#signing-string").inner_text()
    pasted = server_string.replace("content-type: application/json", "content-type: application/json; charset=utf-8")
    await page.get_by_label("Paste your client's signing string").fill(pasted)
    await expect(page.locator(".comparison .verdict")).to_contain_text("First difference at line 3, column 31")
    await expect(page.locator(".comparison mark.first-difference").first).to_have_text("; charset=utf-8")
    await shoot(page.locator("#detail"), shots / "401-pasted.png")


async def test_one_payment_from_its_request_to_its_last_webhook_on_one_time_axis(
        server: EmulatorServer, client: Client, receiver: FailsThenAcknowledges, open_inspector: Any,
        shots: Path) -> None:
    from playwright.async_api import expect

    token = client.token()
    assert push(client, token, PENDING_CENTS, "story-1")["status"] == 102  # a success webhook is due in 60 s
    assert push(client, token, PENDING_CENTS, "story-1")["status"] == 101  # the client retried: same payment
    payment = next(e for e in entries(server) if e["ingo_status"] == 102)

    page = await open_inspector(f"{server.url}/_emulator/ui?request={payment['id']}")
    timeline = page.locator("#timeline")
    await expect(timeline.locator("li[data-kind=scheduled]")).to_contain_text("payment.status.success")
    await expect(timeline.locator("li[data-kind=scheduled]")).to_contain_text("(not yet)")
    await expect(timeline.locator("li[data-kind=related_request]")).to_contain_text("Ingo 101")
    await expect(page.locator("#detail-rule")).to_contain_text("magic-values/cents-02")
    await expect(page.locator("#detail-rule")).to_contain_text("active for every participant")
    # The clock's "next due event" fires the follow-up: the event and its attempts join the story; the receiver
    # under test fails its first (EmulatorServer's own receiver, a second endpoint, acknowledges at once).
    ours = timeline.locator("li[data-kind=attempt]", has_text=receiver.url)
    await page.get_by_role("button", name="Next due event").click()
    await expect(timeline.locator("li[data-kind=event]")).to_contain_text("payment.status.success")
    await expect(ours).to_have_count(1)
    await expect(ours.locator(".outcome")).to_have_text("◷ Retrying")  # failed, and another attempt is due
    await expect(timeline.locator("li[data-kind=next_attempt]")).to_have_count(1)
    # Next due again: the retry, which the receiver acknowledges; nothing is left to happen.
    await page.get_by_role("button", name="Next due event").click()
    await expect(ours).to_have_count(2)
    await expect(ours.nth(1).locator(".outcome")).to_have_text("✓ Delivered")
    await expect(timeline.locator("li[data-kind=next_attempt]")).to_have_count(0)
    assert receiver.attempts == 2
    # One time axis, in order: the retry came after the advance, so it comes last.
    kinds = await timeline.locator("li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds == ["request", "answer", "related_request", "event", "attempt", "attempt", "attempt"], kinds
    await expect(timeline.locator("li").last).to_contain_text(receiver.url)
    await expect(timeline.locator("li[data-kind=event] .moment-times")).to_contain_text("wall ")
    await expect(page.get_by_role("button", name="Next due event")).to_be_disabled()
    await shoot(page.locator("#detail"), shots / "payment-timeline.png")


# -- act on it -----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_copy_as_curl_signs_afresh_when_it_runs_and_reproduces_the_request(
        server: EmulatorServer, client: Client) -> None:
    token = client.token()
    assert push(client, token, 12.34, "curl-1")["status"] == 100
    payment = entries(server)[0]
    status, story = admin(server.url, "GET", f"/_emulator/requests/{payment['id']}")
    assert status == 200, story
    command = story["curl"]
    assert "ingopay-emulator sign --curl" in command and "signature=" not in command and SECRET in command
    # Run it as a person would paste it into a shell, later: the emulator's bin is on the PATH.
    bin_dir = str(Path(sys.executable).parent)
    ran = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]})
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["status"] == 101  # the same participant_unique_id1: Ingo's idempotent replay
    again = entries(server)[0]
    assert again["id"] > payment["id"] and again["http_status"] == 200 and again["outcome"] == "idempotent_replay"
    assert again["request_body"]["participant_unique_id1"] == "curl-1"


async def test_replay_with_the_same_or_a_new_participant_unique_id1_and_masked_values_typed_in(
        server: EmulatorServer, client: Client, open_inspector: Any, shots: Path) -> None:
    from playwright.async_api import expect

    token = client.token()
    assert push(client, token, 12.34, "replay-1")["status"] == 100
    payment = entries(server)[0]
    page = await open_inspector(f"{server.url}/_emulator/ui?request={payment['id']}",
                                permissions=["clipboard-read", "clipboard-write"])
    await page.get_by_role("button", name="Copy as curl").click()
    await expect(page.locator("#action-status")).to_have_text("curl command copied to the clipboard.")
    assert "ingopay-emulator sign --curl" in await page.evaluate("() => navigator.clipboard.readText()")

    await page.get_by_role("button", name="Replay (same participant_unique_id1)").click()
    await expect(page.locator("#replay-result")).to_contain_text("Ingo 101")
    await page.get_by_role("button", name="Replay with a new participant_unique_id1").click()
    await expect(page.locator("#replay-result")).to_contain_text("Ingo 100")
    newest, same = entries(server)[:2]
    assert same["request_body"]["participant_unique_id1"] == "replay-1" and same["ingo_status"] == 101
    assert newest["request_body"]["participant_unique_id1"] not in ("replay-1", "")
    assert newest["extra"]["replay_of"] == same["extra"]["replay_of"] == payment["request_id"]
    await page.locator("#replay-result a.open-detail").click()
    await expect(page.locator("#detail-id")).to_have_text(str(newest["id"]))

    # A verify: the journal masked the card, so the page asks for it; it is sent once and never kept.
    verify = next(e for e in entries(server) if e["path"] == "/gateway/verify")
    await page.goto(f"{server.url}/_emulator/ui?request={verify['id']}")
    await expect(page.locator("#detail-id")).to_have_text(str(verify["id"]))
    await page.get_by_role("button", name="Replay (same participant_unique_id1)").click()
    await page.get_by_label("account").fill(CARD_VERIFY["account"])
    await shoot(page.locator("#replay-fill"), shots / "replay-fill.png")
    await page.get_by_role("button", name="Send the replay").click()
    await expect(page.locator("#replay-result")).to_contain_text("HTTP 200, Ingo 100")
    assert entries(server)[0]["request_body"]["account"] == "************1111"
    assert CARD_VERIFY["account"] not in await page.content()


def test_replay_refusals_name_what_to_change(server: EmulatorServer, client: Client) -> None:
    client.token()
    verify = entries(server)[0]
    status, answer = admin(server.url, "POST", f"/_emulator/requests/{verify['id']}/replay", {})
    assert status == 400 and "account was masked" in answer["message"], answer
    status, answer = admin(server.url, "POST", f"/_emulator/requests/{verify['id']}/replay",
                           {"fill": {"routing_number": "1"}})
    assert status == 400 and "routing_number" in answer["message"], answer
    status, answer = admin(server.url, "POST", f"/_emulator/requests/{verify['id']}/replay", {"nope": 1})
    assert status == 400 and answer["message"].startswith("nope is not a key this call knows"), answer
    assert admin(server.url, "POST", "/_emulator/requests/999999/replay", {})[0] == 404
    assert admin(server.url, "GET", "/_emulator/requests/abc")[0] == 404


async def test_scenarios_switch_the_clock_steps_and_reset_from_the_page(
        server: EmulatorServer, client: Client, open_inspector: Any, shots: Path) -> None:
    from playwright.async_api import expect

    token = client.token()
    page = await open_inspector(server.url + "/_emulator/ui")
    row = page.locator("#scenarios-body tr", has_text="everything-declines")
    await expect(row).to_contain_text("inactive")
    await row.get_by_role("button", name="Activate everything-declines").click()
    await expect(row).to_contain_text("active for everyone")
    assert push(client, token, 10.00, "after-switch")["status"] == 851
    await expect(page.locator("tr.request[data-outcome=declined]")).to_have_count(1)
    await row.get_by_role("button", name="Deactivate everything-declines").click()
    await expect(row).to_contain_text("inactive")
    assert push(client, token, 10.00, "after-switch-off")["status"] == 100

    for button, seconds in (("+1 min", 60), ("+1 h", 3600), ("+1 day", 86400)):
        await page.get_by_role("button", name="Freeze").click()
        await expect(page.locator("#clock-frozen")).to_have_text("yes")
        shown = await page.locator("#clock-now").get_attribute("data-now")
        await page.get_by_role("button", name=button, exact=True).click()
        await expect(page.locator("#clock-now")).not_to_have_attribute("data-now", shown)
        before, after = float(shown), float(await page.locator("#clock-now").get_attribute("data-now"))
        assert round(after - before) == seconds
        await page.get_by_role("button", name="Unfreeze").click()
        await expect(page.locator("#clock-frozen")).to_have_text("no")
    await shoot(page.locator("#clock"), shots / "clock.png")

    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Reset the emulator…").click()
    await expect(page.locator("tr.request")).to_have_count(0)
    assert entries(server) == []


# -- find it -------------------------------------------------------------------------------------------------------


async def test_filters_live_in_the_address_bar_so_a_view_can_be_shared(
        server: EmulatorServer, client: Client, open_inspector: Any) -> None:
    from playwright.async_api import expect

    token = client.token()
    declined = client.token(account=DECLINE_CARD, participant_unique_id1="verify-2")
    push(client, token, 10.00, "share-1")
    push(client, declined, 10.00, "share-2")
    push(client, declined, 11.00, "share-3")
    page = await open_inspector(server.url + "/_emulator/ui")
    await expect(page.locator("tr.request")).to_have_count(5)
    await page.get_by_label("Outcome", exact=True).select_option("declined")
    await expect(page.locator("tr.request")).to_have_count(2)
    await page.get_by_label("participant_unique_id1", exact=True).fill("share-3")
    await expect(page.locator("tr.request")).to_have_count(1)
    assert "outcome=declined" in page.url and "puid1=share-3" in page.url
    shared = page.url
    await page.get_by_label("Endpoint", exact=True).select_option("verify")
    await expect(page.locator("tr.request")).to_have_count(0)
    await page.get_by_role("button", name="Clear filters").click()
    await expect(page.locator("tr.request")).to_have_count(5)

    # Someone opens the shared link: the same filters, the same rows.
    other = await open_inspector(shared)
    await expect(other.locator("tr.request")).to_have_count(1)
    await expect(other.get_by_label("Outcome", exact=True)).to_have_value("declined")
    await expect(other.get_by_label("participant_unique_id1", exact=True)).to_have_value("share-3")
    await expect(other.locator("tr.request .rule")).to_have_text("magic-values/card-851")
    for name, value, rows in (("Rule", "card-851", 2), ("Participant", "12345", 5), ("Participant", "1", 0)):
        await other.get_by_role("button", name="Clear filters").click()
        await other.get_by_label(name, exact=True).fill(value)
        await expect(other.locator("tr.request")).to_have_count(rows)
    await other.get_by_role("button", name="Clear filters").click()
    await other.get_by_label("Time", exact=True).select_option("60")
    await expect(other.locator("tr.request")).to_have_count(5)
    # A day later on the emulator clock, a shared "last minute" link shows none of them, from its first load.
    assert admin(server.url, "POST", "/_emulator/clock", {"advance": 86400})[0] == 200
    later = await open_inspector(server.url + "/_emulator/ui?since=60")
    await expect(later.locator("#requests-count")).to_have_text("(0 of 5)")


async def test_live_updates_come_by_server_sent_events(server: EmulatorServer, client: Client,
                                                        open_inspector: Any) -> None:
    from playwright.async_api import expect

    page = await open_inspector(server.url + "/_emulator/ui")
    await expect(page.locator("body[data-live=live]")).to_have_count(1)
    await expect(page.locator("#live")).to_have_text("● Live")
    client.token()
    await expect(page.locator("tr.request")).to_have_count(1)  # no reload, no poll: the stream said so
    await page.get_by_role("button", name="Pause updates").click()
    await expect(page.locator("body[data-live=paused]")).to_have_count(1)
    await page.get_by_role("button", name="Resume updates").click()
    await expect(page.locator("body[data-live=live]")).to_have_count(1)


async def test_the_event_stream_says_what_changed(server: EmulatorServer, client: Client) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(server.url + "/_emulator/stream") as stream:
        assert stream.status == 200 and stream.content_type == "text/event-stream"
        assert await stream.content.readuntil(b"\n\n") == b"retry: 2000\nevent: ready\ndata: {}\n\n"
        await session.post(server.url + "/_emulator/clock", json={"advance": 0})
        assert await stream.content.readuntil(b"\n\n") == b'event: change\ndata: ["admin"]\n\n'
    # A page on another origin cannot read it.
    status, _, answer = call(server.url, "GET", "/_emulator/stream", headers={"Origin": "http://evil.example"})
    assert status == 403 and "another origin" in answer["message"]


# -- always visible, offline, token, narrow ------------------------------------------------------------------------


async def test_findings_and_the_clock_stay_in_view_at_1280_and_390_px_with_no_overflow(
        server: EmulatorServer, client: Client, open_inspector: Any, shots: Path) -> None:
    from playwright.async_api import expect

    token = client.token()
    push(client, token, PENDING_CENTS, "view-1")
    push(client, token, PENDING_CENTS, "view-2")  # a new id after a stand-in answer: a finding
    for width in (1280, 390):
        page = await open_inspector(server.url + "/_emulator/ui", width=width, height=800)
        await expect(page.locator("#bar-findings-count")).to_have_text("1")
        await page.locator("#ratelimit").scroll_into_view_if_needed()
        bar = await page.locator(".statusbar").bounding_box()
        assert bar is not None and bar["y"] == 0, bar  # still at the top after scrolling to the last section
        await expect(page.locator("#bar-clock-now")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$"))
        await expect(page.locator("#bar-findings-latest")).to_have_text("double_payout_risk")
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= width
        await page.screenshot(path=str(shots / f"page-{width}.png"))  # the status bar still at the top
        # every table's cells name their column, so that at 390 px each row reads as a card
        await expect(page.locator("#findings-body td[data-label=Participant]")).to_have_text("12345")
        shown = await page.locator("#findings-body td[data-label=Participant]").evaluate(
            "(cell) => getComputedStyle(cell).display")
        assert shown == ("block" if width == 390 else "table-cell"), shown
        await page.locator("tr.request a.open-detail").first.click()
        await expect(page.locator("#detail-headers tr").first).to_be_visible()
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= width
        await page.screenshot(path=str(shots / f"detail-{width}.png"), full_page=True)


async def test_with_an_admin_token_offline_under_the_strict_csp(open_inspector: Any) -> None:
    from playwright.async_api import expect

    running = EmulatorServer(Settings(rate_limit=0, admin_token="s3cret-admin")).start()
    try:
        Client(running.url, "test", SECRET, 12345).token()
        page = await open_inspector(running.url + "/_emulator/ui?token=s3cret-admin")
        await expect(page.locator("body[data-live=live]")).to_have_count(1)  # the stream carries the token too
        await expect(page.locator("tr.request")).to_have_count(1)
        await page.locator("tr.request a.open-detail").click()
        await expect(page.locator("#detail-headers")).to_contain_text("X-Date")
        Client(running.url, "test", SECRET, 12345).token(participant_unique_id1="verify-2")
        await expect(page.locator("tr.request")).to_have_count(2)
        assert "token" not in page.url
        # The stream without the token is refused like every admin call.
        assert call(running.url, "GET", "/_emulator/stream")[0] == 401
    finally:
        running.stop()


def test_what_a_refused_request_sent_is_kept_masked_with_its_credentials_redacted(server: EmulatorServer) -> None:
    form = b"account=4111 1111 1111 1111&cvv=123&routing=021000021&date=2026-11-16"
    status, _, refused = call(server.url, "POST", "/gateway/verify", form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": "session=abc123",
        "Authorization": "Bearer eyJ-not-an-hmac-token", "X-Emulator-Admin-Token": "guess"})
    assert status == 401
    [entry] = entries(server)
    assert entry["request_body"] == "account=************1111&cvv=123&routing=*****0021&date=2026-11-16"
    headers = dict(entry["request_headers"])
    assert headers["Authorization"] == "Bearer [redacted]" and headers["Cookie"] == "[redacted]"
    assert headers["X-Emulator-Admin-Token"] == "[redacted]"
    assert entry["response_body"] == refused and entry["outcome"] == "auth_refused"
    # A snapshot carries the same redacted headers, and a restore masks them again whatever the archive says.
    status, archive = admin(server.url, "GET", "/_emulator/snapshot")
    assert status == 200 and "abc123" not in json.dumps(archive) and "eyJ-not" not in json.dumps(archive)
    archive["journal"][0]["request_headers"].append(["Cookie", "planted=secret"])
    assert admin(server.url, "POST", "/_emulator/snapshot", archive)[0] == 200
    assert ["Cookie", "[redacted]"] in entries(server)[0]["request_headers"]


def test_payment_data_in_headers_the_query_and_any_json_string_is_masked(server: EmulatorServer) -> None:
    body = json.dumps({"participant_id": 12345, "nested": {"pan": "4111111111111111"},
                       "memo": "card 4111 1111 1111 1111, thanks", "account": "4111111111111111"}).encode()
    status, _, _ = call(server.url, "POST", "/gateway/verify?account=4111111111111111&trace=1", body,
                        headers={"X-Card": "4111111111111111", "X-Note": "pay 4111-1111-1111-1111 now"})
    assert status == 401
    raw = json.dumps(admin(server.url, "GET", "/_emulator/requests")[1])
    story = json.dumps(admin(server.url, "GET", f"/_emulator/requests/{entries(server)[0]['id']}")[1])
    snapshot = json.dumps(admin(server.url, "GET", "/_emulator/snapshot")[1])
    for text in (raw, story, snapshot):
        assert "4111111111111111" not in text and "4111 1111 1111 1111" not in text
        assert "4111-1111-1111-1111" not in text
    entry = entries(server)[0]
    assert entry["target"] == "/gateway/verify?account=************1111&trace=1"
    assert dict(entry["request_headers"])["X-Card"] == "************1111"
    assert entry["request_body"]["nested"]["pan"] == "************1111"
    assert entry["request_body"]["memo"] == "card ************1111, thanks"


def test_a_replay_keeps_what_steered_the_first_answer(server: EmulatorServer, client: Client) -> None:
    token = client.token()
    # a rule matching a prefix still matches the new participant_unique_id1
    assert push(client, token, 10.00, "prefixed-1")["status"] == 851
    declined = entries(server)[0]
    status, replayed = admin(server.url, "POST", f"/_emulator/requests/{declined['id']}/replay",
                             {"participant_unique_id1": "new"})
    assert status == 200 and replayed["body"]["status"] == 851, replayed
    assert entries(server)[0]["request_body"]["participant_unique_id1"].startswith("prefixed-1-r")
    # X-Emulator-Scenario: none turned the rules off for the first request: the replay and curl send it again
    body = json.dumps({"participant_id": 12345, "timestamp": int(time.time()), "version": 11, "account_type": "CA",
                       "amount": 10.0, "customer_account_token": token, "source_of_funds": 1,
                       "participant_unique_id1": "prefixed-2"}).encode()
    headers = {**client.headers("/gateway/process", body), "X-Emulator-Scenario": "none"}
    assert call(server.url, "POST", "/gateway/process", body, headers=headers)[2]["status"] == 100
    plain = entries(server)[0]
    status, replayed = admin(server.url, "POST", f"/_emulator/requests/{plain['id']}/replay",
                             {"participant_unique_id1": "new"})
    assert status == 200 and replayed["body"]["status"] == 100, replayed
    story = admin(server.url, "GET", f"/_emulator/requests/{plain['id']}")[1]
    assert "--header 'X-Emulator-Scenario: none'" in story["curl"]


@pytest.mark.slow
def test_a_curl_command_without_the_secret_it_needs_stops_and_says_why(server: EmulatorServer) -> None:
    minted = Client.minted(server.url)
    minted.token()
    story = admin(server.url, "GET", f"/_emulator/requests/{entries(server)[0]['id']}")[1]
    assert "INGOPAY_SECRET:?" in story["curl"]
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k != "INGOPAY_SECRET"}
    env["PATH"] = bin_dir + os.pathsep + env["PATH"]
    ran = subprocess.run(["bash", "-c", story["curl"]], capture_output=True, text=True, timeout=60, env=env)
    assert ran.returncode != 0 and "set INGOPAY_SECRET to the secret of " + minted.username in ran.stderr
    before = len(entries(server))
    ran = subprocess.run(["bash", "-c", story["curl"]], capture_output=True, text=True, timeout=60,
                         env={**env, "INGOPAY_SECRET": minted.secret})
    assert ran.returncode == 0, ran.stderr
    assert len(entries(server)) == before + 1 and entries(server)[0]["http_status"] == 200


def test_odd_ids_are_a_404_that_says_so(server: EmulatorServer) -> None:
    for raw in ("9" * 5000, urllib.parse.quote("１９"), "999999", "-1"):
        status, answer = admin(server.url, "GET", f"/_emulator/requests/{raw}")
        assert status == 404 and "no journaled request has the id" in answer["message"], (raw[:10], answer)
        status, answer = admin(server.url, "POST", f"/_emulator/requests/{raw}/replay", {})
        assert status == 404 and "no journaled request has the id" in answer["message"], (raw[:10], answer)


@pytest.mark.slow
async def test_a_closed_live_view_frees_its_slot_at_once(server: EmulatorServer) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        streams = [await session.get(server.url + "/_emulator/stream") for _ in range(32)]
        assert [s.status for s in streams] == [200] * 32
        async with session.get(server.url + "/_emulator/stream") as refused:
            assert refused.status == 503 and "live views are open already" in (await refused.json())["message"]
        for stream in streams:
            stream.close()

        async def opens() -> bool:
            async with session.get(server.url + "/_emulator/stream") as again:
                return again.status == 200

        await eventually_true(opens, "a slot freed after 32 tabs closed", timeout=10)


async def eventually_true(check: Any, what: str, timeout: float) -> None:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.2)


async def test_the_page_says_when_the_emulator_stops_answering(chromium: Any) -> None:
    from playwright.async_api import expect

    running = EmulatorServer(Settings(rate_limit=0)).start()
    page = await chromium.new_page()
    try:
        await page.goto(running.url + "/_emulator/ui")
        await expect(page.locator("body[data-live=live]")).to_have_count(1)
    finally:
        running.stop()
    await expect(page.get_by_role("alert")).to_contain_text("is not answering", timeout=20000)
    await expect(page.locator("#bar-clock-frozen")).to_have_text("not answering")


def test_a_curl_command_works_for_a_secret_and_a_username_that_start_with_a_dash(tmp_path: Path) -> None:
    """A secret (a minted one may) or a username starting with "-" is never read as a flag by the sign command."""
    credentials = tmp_path / "credentials.yaml"
    credentials.write_text('- {username: "-dash", secret: "-dash-secret", participant_id: 777}\n')
    running = EmulatorServer(Settings(rate_limit=0, credentials=credentials)).start()
    try:
        Client(running.url, "-dash", "-dash-secret", 777).token()
        story = admin(running.url, "GET", f"/_emulator/requests/{entries(running)[0]['id']}")[1]
        env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
               "INGOPAY_SECRET": "-dash-secret"}
        ran = subprocess.run(["bash", "-c", story["curl"]], capture_output=True, text=True, timeout=60, env=env)
        assert ran.returncode == 0, ran.stderr
        assert entries(running)[0]["http_status"] == 200 and entries(running)[0]["username"] == "-dash"
    finally:
        running.stop()
