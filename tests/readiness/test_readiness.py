"""Readiness rehearsals as a user meets them in one process: the bundled plan and a team's own plan file, the admin
calls and their refusals, the report and its evidence pack, the probes, the bounds, the pytest plugin, the command
and the inspector's view. tests/readiness/test_readiness_clients.py proves the judging with independent clients."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from typing import Any

import pytest
from aiohttp import web

from emulator.app import build_runtime
from emulator.readiness import rehearsal as rehearsal_module
from emulator.readiness.judges import JUDGES
from emulator.readiness.plan import PlanError, load_plan, load_plan_text
from emulator.readiness.render import plan_table
from emulator.settings import Settings
from emulator.webhooks import verify_signature
from tests.support.app import Signed, runtime_for, serve
from tests.support.bodies import CARD, v11
from tests.support.paths import ROOT
from tests.support.sockets import free_port
from tests.support.webhook_receiver import DEFAULT_SECRET, Receiver, start_receiver

#: The scenarios issue 25 asks the bundled plan for.
ASKED = ("verify-tokenization", "token-reuse", "process-with-token", "idempotent-retry", "pending-is-success",
         "retry-spacing", "no-retry-on-decline", "rate-limit-respected", "webhook-acknowledged",
         "webhook-signature-verified", "webhook-duplicate-acknowledged", "ofac-suspended-cleared", "payment-returned",
         "iframe-tokenization")
INGO_SITES = ("https://developers.ingopayments.com/", "https://developer.ingo.money/",
              "https://developer-payments.ingomoney.com/")
OFAC_SUSPENDED = "gateway.transaction.recipient.verification.ofac.status.suspended"
A_PLAN = """version: 1
plan: {name: Acme's certification, version: "3"}
scenarios:
  - id: tokenize
    title: Tokenize a card
    category: self-service
    source: https://developers.ingopayments.com/docs/ingopay/testing
    judge: verify-tokenization
    passes_when: a verify answered 100
    trigger: verify 4111111111111111
  - id: live-walkthrough
    title: Walk through the integration with Ingo
    category: guided
    source: https://developers.ingopayments.com/docs/ingopay/testing
    judge: manual
    passes_when: Ingo's team signs it off
    trigger: book a session with your integration manager
"""


async def call(emu: Signed, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = await emu.client.request(method, path, data=b"" if body is None else json.dumps(body),
                                        headers={"Content-Type": "application/json"})
    text = await response.text()
    return response.status, json.loads(text) if response.content_type == "application/json" else text


async def start(emu: Signed, participant: int = 12345) -> dict[str, Any]:
    status, report = await call(emu, "POST", "/_emulator/readiness", {"participant_id": participant})
    assert status == 201, report
    return report


async def judged(emu: Signed, participant: int = 12345) -> dict[str, Any]:
    status, report = await call(emu, "GET", f"/_emulator/readiness?participant_id={participant}")
    assert status == 200, report
    return report


def scenario(report: dict[str, Any], identifier: str) -> dict[str, Any]:
    return next(s for s in report["scenarios"] if s["id"] == identifier)


async def verify(emu: Signed, account: str = CARD["account"], puid1: str = "verify-1") -> str:
    status, body, _ = await emu.post("/gateway/verify", v11(**{**CARD, "account": account,
                                                              "participant_unique_id1": puid1}))
    assert status == 200 and body["status"] == 100, body
    return str(body["data"]["customer_account_token"])


async def push(emu: Signed, token: str, amount: float, puid1: str) -> dict[str, Any]:
    status, body, _ = await emu.post("/gateway/process", v11(account_type="CA", amount=amount, source_of_funds=1,
                                                            customer_account_token=token, participant_unique_id1=puid1))
    assert status == 200, body
    return body


# -- the plan -----------------------------------------------------------------------------------------------------


def test_the_bundled_plan_holds_every_asked_scenario_each_citing_an_ingo_page():
    plan = load_plan()
    ids = [s.id for s in plan.scenarios]
    assert set(ASKED) <= set(ids) and len(ids) == len(set(ids))
    for item in plan.scenarios:
        assert item.source.startswith(INGO_SITES), item
        assert item.rule in JUDGES and item.trigger and item.passes_when
    controlled = {s.id for s in plan.scenarios if s.category == "controlled"}
    assert {"ofac-suspended-cleared", "payment-returned"} <= controlled
    assert {s.category for s in plan.scenarios} <= {"self-service", "controlled", "guided"}
    page = (ROOT / "docs" / "readiness.md").read_text(encoding="utf-8")
    assert plan_table(plan) in page, "docs/readiness.md's plan table is stale: run scripts/regenerate"


def test_a_plan_file_is_checked_like_a_scenario_file(tmp_path):
    good, bad = tmp_path / "acme.yaml", tmp_path / "broken.yaml"
    good.write_text(A_PLAN, encoding="utf-8")
    bad.write_text(A_PLAN.replace("judge: verify-tokenization", "judge: verify-tokenisation")
                   .replace("id: live-walkthrough", "id: tokenize").replace("category: guided", "category: guided\n"
                                                                                              "    owner: me"),
                   encoding="utf-8")
    checked = subprocess.run([sys.executable, "-m", "emulator", "check", str(good)], capture_output=True, text=True)
    assert checked.returncode == 0 and "plan \"Acme's certification\" version 3, 2 scenarios" in checked.stdout, \
        checked
    checked = subprocess.run([sys.executable, "-m", "emulator", "check", str(bad)], capture_output=True, text=True)
    assert checked.returncode == 1, checked
    lines = checked.stdout.splitlines()
    assert lines[0].startswith(f"{bad}:8:12: scenarios.0.judge: 'verify-tokenisation' is no rule the emulator judges "
                               "with; did you mean verify-tokenization?"), lines
    assert lines[1] == f"{bad}:11:9: the id 'tokenize' is given to two scenarios; each id names one"
    assert lines[2].startswith(f"{bad}:14:5: scenarios.1.owner is not a key of a readiness plan (known: category,")
    assert "3 problems found" in checked.stderr


def test_the_emulator_refuses_an_invalid_plan_and_judges_against_a_given_one(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nplan: {name: x, version: '1'}\nscenarios: []\n", encoding="utf-8")
    with pytest.raises(PlanError) as refused:
        build_runtime(Settings(readiness_plan=broken))
    assert refused.value.problems == [f"{broken}:3:12: scenarios must have at least 1 item, got []"] or \
        refused.value.problems[0].startswith(f"{broken}:3:12: scenarios"), refused.value.problems
    started = subprocess.run([sys.executable, "-m", "emulator", "--readiness-plan", str(tmp_path / "missing.yaml"),
                              "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert started.returncode == 2 and "missing.yaml:1:1: cannot read the file" in started.stderr, started


async def test_a_teams_own_plan_is_judged_and_a_guided_scenario_is_left_to_a_person(aiohttp_client, clock,
                                                                                    tmp_path):
    plan = tmp_path / "acme.yaml"
    plan.write_text(A_PLAN, encoding="utf-8")
    emu = await serve(aiohttp_client, runtime_for(clock, readiness_plan=plan))
    await start(emu)
    await verify(emu)
    report = await judged(emu)
    assert report["plan"] == {"name": "Acme's certification", "version": "3", "source": None, "file": str(plan)}
    assert [(s["id"], s["status"]) for s in report["scenarios"]] == [("tokenize", "passed"),
                                                                     ("live-walkthrough", "not_run")]
    assert "judged by a person" in scenario(report, "live-walkthrough")["next"]


# -- the admin calls ----------------------------------------------------------------------------------------------


async def test_starting_and_reading_a_rehearsal_say_what_is_wrong(emulator):
    assert (await call(emulator, "POST", "/_emulator/readiness", {}))[1]["message"] == "participant_id is required"
    status, refused = await call(emulator, "POST", "/_emulator/readiness", {"participantId": 12345})
    assert status == 400 and "did you mean participant_id?" in refused["message"]
    status, refused = await call(emulator, "POST", "/_emulator/readiness", {"participant_id": 777})
    assert status == 404 and "no credential acts for participant 777" in refused["message"]
    await start(emulator)
    status, refused = await call(emulator, "GET", "/_emulator/readiness")
    assert status == 400 and refused["message"] == "name the participant: ?participant_id=N (rehearsals under way: " \
                                                   "12345)"
    status, refused = await call(emulator, "GET", "/_emulator/readiness?participant_id=54321")
    assert status == 404 and 'POST /_emulator/readiness {"participant_id": 54321}' in refused["message"]
    status, refused = await call(emulator, "GET", "/_emulator/readiness/report?participant_id=12345&format=pdf")
    assert status == 400 and "md, html, json" in refused["message"]


async def test_a_fresh_rehearsal_is_not_run_throughout_each_scenario_saying_how_to_run_it(emulator):
    report = await start(emulator)
    assert report["summary"] == {"passed": 0, "failed": 0, "not_run": len(report["scenarios"])}
    for item in report["scenarios"]:
        assert item["status"] == "not_run" and item["next"] == f"to run it: {item['trigger']}" and not item["why"]
    assert report["started"]["time"] == emulator.clock.now() and report["started"]["wall_time"] > 0
    status, listed = await call(emulator, "GET", "/_emulator/readiness/rehearsals")
    assert status == 200 and listed["rehearsals"] == [{"participant_id": 12345, "started": report["started"],
                                                       "requests": 0, "deliveries": 0}]


async def test_a_client_that_only_ever_saw_approvals_is_told_so_by_name(emulator):
    await start(emulator)
    await push(emulator, await verify(emulator), 10.00, "payout-1")
    report = await judged(emulator)
    coverage = report["coverage"]
    assert coverage["summary"].startswith("The traffic only ever saw approvals: it never met Pending (102), "
                                          "Queued (103), Idempotent replay, Declined: validation and velocity")
    issuer = next(i for i in coverage["items"] if i["code"] == "issuer_decline")
    assert issuer["met"] is False
    assert issuer["how"] == "magic value 851: amount cents .51 on process or a token verified with recipient last " \
                            "name Magic851"
    approved = next(i for i in coverage["items"] if i["code"] == "approved")
    assert approved["met"] and approved["count"] == 2 and len(approved["examples"]) == 2
    # the final-outcome webhook of each push is the one topic met (docs/webhooks.md, a webhook after every payment)
    assert coverage["met"] == ["approved", "gateway.transaction.recipient.payment.status.success"]
    assert scenario(report, "process-with-token")["status"] == "passed"


async def test_a_second_payment_after_a_pending_push_fails_that_scenario_with_the_rule_and_its_page(emulator):
    await start(emulator)
    token = await verify(emulator)
    first = await push(emulator, token, 7.02, "payout-1")
    second = await push(emulator, token, 7.02, "payout-2")
    assert first["status"] == second["status"] == 102
    report = await judged(emulator)
    failed = scenario(report, "pending-is-success")
    assert failed["status"] == "failed" and report["summary"]["failed"] == 1
    assert failed["why"].startswith("a second push of 7.02 to token") and failed["why"].endswith(
        "treat 102 (pending issuer response) as a success: never pay the payout again, and take its final status "
        "from the webhook (https://developers.ingopayments.com/docs/hub/retry-logic)")
    kinds = [item["kind"] for item in failed["evidence"]]
    assert kinds == ["finding", "request", "request"]
    assert [item.get("participant_unique_id1") for item in failed["evidence"][1:]] == ["payout-1", "payout-2"]
    assert [f["code"] for f in report["findings"]] == ["double_payout_risk"]


async def test_the_evidence_pack_comes_in_three_formats_with_no_card_number(emulator):
    await start(emulator)
    await push(emulator, await verify(emulator), 10.00, "payout-1")
    report = await judged(emulator)
    answers = {}
    for shape in ("md", "html", "json"):
        response = await emulator.client.get(f"/_emulator/readiness/report?participant_id=12345&format={shape}")
        assert response.status == 200
        assert response.headers["Content-Disposition"] == f'inline; filename="readiness-participant-12345.{shape}"'
        answers[shape] = (response.content_type, await response.text())
    assert answers["md"][0] == "text/markdown" and answers["html"][0] == "text/html"
    markdown, html = answers["md"][1], answers["html"][1]
    assert markdown.startswith("# Readiness of participant 12345: IngoPay sandbox testing\n")
    assert "| `process-with-token` | self-service | passed |" in markdown and "## Outcome coverage" in markdown
    assert "ingopay-emulator " in markdown and "- Date: " in markdown
    assert html.startswith("<!doctype html>") and "<script" not in html
    assert "/_emulator/ui?request=" in html  # each request links to its story
    body = json.loads(answers["json"][1])
    assert body["scenarios"] == report["scenarios"] and body["plan"] == report["plan"]
    default = await emulator.client.get("/_emulator/readiness/report?participant_id=12345")
    assert default.content_type == "text/markdown"
    for text in (markdown, html, answers["json"][1]):
        evidence = text.split("## Outcome coverage")[0].split("Outcome coverage")[0]
        assert CARD["account"] not in evidence and "cvv" not in evidence.lower()


async def test_a_reset_leaves_the_rehearsal_running_and_starting_again_begins_afresh(emulator):
    await start(emulator)
    await verify(emulator)
    assert (await call(emulator, "POST", "/_emulator/reset", {}))[0] == 200
    report = await judged(emulator)
    assert scenario(report, "verify-tokenization")["status"] == "passed"  # kept across the reset
    await verify(emulator, puid1="verify-2")
    assert len(scenario(await judged(emulator), "verify-tokenization")["evidence"]) == 2
    again = await start(emulator)
    assert scenario(again, "verify-tokenization")["status"] == "not_run"


async def test_one_participants_rehearsal_never_sees_anothers_traffic(emulator):
    await start(emulator, 54321)
    await verify(emulator)  # participant 12345
    report = await judged(emulator, 54321)
    assert report["kept"]["requests"] == 0 and report["summary"]["passed"] == 0


# -- probes -------------------------------------------------------------------------------------------------------


async def test_probes_test_the_receiver_once_marked_as_probes_and_never_count_as_events_findings_or_waits(
        aiohttp_client, aiohttp_server, clock):
    async def verifies(number: int, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        ok = verify_signature(raw, request.headers.get("X-Ingo-Signature", ""), DEFAULT_SECRET, tolerance=0)
        return web.Response(status=200 if ok else 401)

    receiver = Receiver(respond=verifies)
    url = await start_receiver(aiohttp_server, receiver)
    emu = await serve(aiohttp_client, runtime_for(clock, webhook_url=(url,)))
    await start(emu)
    token = await verify(emu, "4000000110600006")  # magic 1106: an OFAC review suspends the push at once
    await push(emu, token, 10.00, "payout-1")

    def probes(listing: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {d["probe"]: d for d in listing if d.get("probe") and d["attempts"]}

    for _ in range(500):
        status, listed = await call(emu, "GET", "/_emulator/webhooks?participant_id=12345")
        if len(probes(listed["deliveries"])) == 2:
            break
        await receiver.arrived.wait()
        receiver.arrived.clear()
    found = probes(listed["deliveries"])
    real = [d for d in listed["deliveries"] if not d.get("probe")]
    assert len(real) == 1 and found["duplicate"]["event_id"] == real[0]["event_id"]
    assert found["duplicate"]["attempts"][0]["http_status"] == 200
    assert found["forged_signature"]["event_id"] != real[0]["event_id"]
    assert found["forged_signature"]["attempts"][0]["http_status"] == 401
    assert found["forged_signature"]["status"] == "failed" and len(found["forged_signature"]["attempts"]) == 1
    assert [r.event_id for r in receiver.received].count(real[0]["event_id"]) == 2 and len(receiver.received) == 3
    status, events = await call(emu, "GET", "/_emulator/events?participant_id=12345")
    assert [e["topic"] for e in events["events"]] == [OFAC_SUSPENDED]
    assert (await call(emu, "GET", "/_emulator/findings"))[1]["findings"] == []
    status, waited = await call(emu, "POST", "/_emulator/webhooks/wait", {
        "match": {"participant_id": 12345, "topic": OFAC_SUSPENDED}, "count": {"at_least": 1, "at_most": 1},
        "timeout": 1})
    assert status == 200 and waited["matched"] == 1, waited
    report = await judged(emu)
    assert [(s["id"], s["status"]) for s in report["scenarios"] if s["id"].startswith("webhook-")] == [
        ("webhook-acknowledged", "passed"), ("webhook-signature-verified", "passed"),
        ("webhook-duplicate-acknowledged", "passed")]
    assert {p["probe"] for p in report["probes"]} == {"duplicate", "forged_signature"}


# -- bounds -------------------------------------------------------------------------------------------------------


async def test_every_collection_of_a_rehearsal_is_bounded(emulator, monkeypatch):
    monkeypatch.setattr(rehearsal_module, "MOST_REHEARSALS", 2)
    monkeypatch.setattr(rehearsal_module, "ENTRIES_KEPT", 22)
    for participant in (54321, 12345):
        await start(emulator, participant)
    for number in range(25):
        await verify(emulator, puid1=f"verify-{number}")
    report = await judged(emulator)
    assert report["kept"]["requests"] == 22 and report["kept"]["dropped"]["requests"] == 3
    passed = scenario(report, "verify-tokenization")
    assert len(passed["evidence"]) == 20 and passed["evidence_omitted"] == 2
    status, tenant = await call(emulator, "POST", "/_emulator/credentials", {})
    await start(emulator, tenant["participant_id"])  # a third: the rehearsal started longest ago is forgotten
    status, listed = await call(emulator, "GET", "/_emulator/readiness/rehearsals")
    assert [r["participant_id"] for r in listed["rehearsals"]] == [12345, tenant["participant_id"]]


# -- the pytest plugin and the command ------------------------------------------------------------------------------

SUITE = '''
CARD = {"account_type": "CA", "participant_unique_id1": "c-1", "account": "4111111111111111",
        "recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
        "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}

def test_verify_then_pay(ingopay_client):
    token = ingopay_client.post("/gateway/verify", ingopay_client.base(**CARD))["data"]["customer_account_token"]
    paid = ingopay_client.post("/gateway/process", ingopay_client.base(
        account_type="CA", amount=10.0, source_of_funds=4, customer_account_token=token, participant_unique_id1="p-1"))
    assert paid["status"] == 100

def test_a_second_test_after_the_reset(ingopay_client):
    assert ingopay_client.post("/gateway/verify", ingopay_client.base(**CARD))["status"] == 100
'''


def test_the_pytest_plugin_rehearses_writes_the_pack_and_fails_the_session_on_required_scenarios(pytester):
    pytester.makepyfile(test_payouts=SUITE)
    report = pytester.path / "readiness.json"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", f"--ingopay-readiness-report={report}",
                                           "--ingopay-require-readiness=verify-tokenization,process-with-token")
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    # the tokenization, the token reused and paid, and the plugin's receiver: acknowledged, verifying signatures,
    # taking a duplicate
    result.stdout.fnmatch_lines(["*ingopay readiness of participant 12345 (IngoPay sandbox testing): 6 passed, "
                                 "0 failed, 9 not run*", f"*readiness report written to {report}*"])
    written = json.loads(report.read_text(encoding="utf-8"))
    assert len(scenario(written, "verify-tokenization")["evidence"]) == 2  # both tests, across the reset

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--ingopay-require-readiness=all")
    result.assert_outcomes(passed=2)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*9 required readiness scenario(s) did not pass:*",
                                 "*idempotent-retry: not run: to run it: the readiness-triggers scenario*"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--ingopay-require-readiness=tokenise")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*tokenise: no scenario of the plan has this id (the plan's: verify-tokenization,*"])


async def test_the_command_writes_the_pack_or_says_in_one_line_why_not(emulator, tmp_path):
    async def command(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "emulator", "readiness", *args,
                                                       stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, stderr.decode()

    url = str(emulator.client.make_url("/")).rstrip("/")
    assert await command("--url", url, "--participant-id", "12345") == (
        1, "ingopay-emulator readiness: the emulator answered 404: participant 12345 has no rehearsal: start one "
           'with POST /_emulator/readiness {"participant_id": 12345}\n')
    await start(emulator)
    output = tmp_path / "pack.html"
    assert await command("--url", url, "--participant-id", "12345", "--format", "html", "--output", str(output)) \
        == (0, f"wrote {output}\n")
    assert output.read_text(encoding="utf-8").startswith("<!doctype html>")
    code, said = await command("--url", f"http://127.0.0.1:{free_port()}", "--participant-id", "12345")
    assert code == 2 and said.startswith("ingopay-emulator readiness: cannot reach"), said
    code, said = await command("--url", "ftp://example", "--participant-id", "12345")
    assert code == 2 and "--url 'ftp://example' has the scheme ftp://, which is not supported" in said, said
    code, said = await command("--url", url, "--participant-id", "12345", "--output", str(tmp_path / "no" / "x.md"))
    assert code == 2 and "cannot write" in said


# -- the inspector ------------------------------------------------------------------------------------------------


async def test_the_inspector_shows_the_rehearsal_and_each_request_opens_its_story(aiohttp_client, clock, chromium,
                                                                                 tmp_path):
    from playwright.async_api import expect

    emu = await serve(aiohttp_client, runtime_for(clock))
    await start(emu)
    token = await verify(emu)
    for puid1 in ("payout-1", "payout-2"):
        await push(emu, token, 7.02, puid1)
    page = await chromium.new_page(accept_downloads=True)
    await page.goto(str(emu.client.make_url("/_emulator/ui#readiness")))
    failed = page.locator("#readiness-body tr[data-scenario=pending-is-success]")
    await expect(failed).to_have_attribute("data-status", "failed")
    await expect(failed.locator("td.why")).to_contain_text("docs/hub/retry-logic")
    await expect(page.locator("#readiness-summary")).to_contain_text("1 failed")
    await expect(page.locator("#readiness-participant")).to_have_value("12345")
    await expect(page.locator("#readiness-coverage")).to_contain_text("Pending (102)")
    await expect(page.locator("#readiness-body tr[data-scenario=idempotent-retry] td.next")).to_contain_text(
        "readiness-triggers")
    async with page.expect_download() as download:
        await page.locator("button.readiness-pack[data-format=md]").click()
    saved = tmp_path / "pack.md"
    await (await download.value).save_as(saved)
    assert saved.read_text(encoding="utf-8").startswith("# Readiness of participant 12345")
    await failed.locator("a.open-detail").first.click()
    await expect(page.locator("#detail")).to_be_visible()
    await expect(page.locator("#detail-summary")).to_contain_text("Ingo 102")
    assert re.search(r"request=\d+", page.url)


def test_the_docs_plan_example_is_a_valid_plan_and_the_indexes_link_the_page():
    page = (ROOT / "docs" / "readiness.md").read_text(encoding="utf-8")
    example = page.split("## Your integration manager's plan", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    plan = load_plan_text(example, "docs/readiness.md")
    assert [(s.id, s.rule) for s in plan.scenarios] == [("no-double-payouts", "pending-is-success"),
                                                        ("walkthrough", "manual")]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[docs/readiness.md](docs/readiness.md)" in readme.split("## Documentation", 1)[1].split("\n## ")[0]
    assert "[readiness.md](readiness.md)" in (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
