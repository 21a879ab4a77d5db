"""The iFrame plugin without a browser: page states, mounting, submissions, RVDM, events and webhooks."""

from __future__ import annotations

import json
import re
import time
import uuid

import aiohttp
import pytest

from emulator.app import build_runtime
from emulator.plugin import rvdm
from emulator.plugin.models import EVENTS, host_allows
from emulator.scenarios.engine import Engine
from emulator.scenarios.facts import Facts
from emulator.scenarios.loader import load_text
from emulator.settings import SettingsError, from_sources
from tests.support.app import runtime_for, serve
from tests.support.bodies import CARD, v11
from tests.support.iframe import ADDRESS, GOOD_CARD, HOST, RECIPIENT, SESSION_PATH, create

#: The bundled magic value for 750 "Invalid card number" (a verify-level refusal).
DECLINED_CARD = "4000000075000002"


def topics(emulator) -> list[str]:
    return [e.topic for e in emulator.runtime.services.outbox.events]


def last_event(emulator, topic: str):
    return [e for e in emulator.runtime.services.outbox.events if e.topic == topic][-1].envelope


# -- RVDM -----------------------------------------------------------------------------------------------------

def test_rvdm_defaults_and_overrides():
    rules = rvdm.parse_rules(rvdm.DEFAULT_RULES)
    assert rules["LastName"] == "hard" and rules["FirstName"] == "soft" and rules["ZipCode"] == "soft"
    assert rvdm.parse_rules("lastname=soft, City=BYPASS")["LastName"] == "soft"
    assert rvdm.parse_rules("City=bypass")["City"] == "bypass"
    assert rvdm.parse_rules("City=bypass")["LastName"] == "hard"  # unnamed fields keep their default
    for bad in ("Surname=hard", "LastName", "LastName=sometimes"):
        with pytest.raises(ValueError):
            rvdm.parse_rules(bad)
    with pytest.raises(SettingsError, match="PLUGIN_RVDM"):
        build_runtime(from_sources(environ={"INGOPAY_EMULATOR_PLUGIN_RVDM": "Surname=hard"}))
    with pytest.raises(SettingsError, match="plugin-max-attempts"):
        from_sources(environ={"INGOPAY_EMULATOR_PLUGIN_MAX_ATTEMPTS": "0"})


def test_rvdm_matching_ignores_case_punctuation_spacing_and_zip4():
    rules = rvdm.parse_rules(rvdm.DEFAULT_RULES)
    result = rvdm.evaluate(rules, RECIPIENT, {"first_name": " jane ", "last_name": "DOE", "address_line1": "1 main st.",
                                              "city": "atlanta", "state": "ga", "zip_code": "30301-1234"})
    assert result.status == rvdm.SUCCESS and result.passed
    assert result.topic == "plugin.transaction.recipient.verification.rvdm.success"
    entry = next(f for f in result.event(0, 3)["field_results"] if f["field_name"] == "LastName")
    assert entry == {"was_evaluated": True, "client_provided_value": "Doe", "is_matching": True,
                     "field_name": "LastName", "hard_fail_on_mismatch": True, "is_enabled": True,
                     "customer_provided_value": "DOE"}


def test_rvdm_soft_hard_bypass_and_fields_not_asked():
    rules = rvdm.parse_rules("City=bypass")
    soft = rvdm.evaluate(rules, RECIPIENT, {"first_name": "Janet", "last_name": "Doe", "city": "Elsewhere"})
    assert soft.status == rvdm.SOFT_FAILURE and soft.passed and soft.soft_mismatches == ["FirstName"]
    city = next(f for f in soft.fields if f.field_name == "City")
    assert not city.was_evaluated and city.is_matching and city.as_json()["is_enabled"] is False
    # Fields the form does not ask (PayPal asks names only) and fields the partner did not send are not evaluated.
    address = next(f for f in soft.fields if f.field_name == "AddressLine1")
    assert not address.was_evaluated
    business = next(f for f in soft.fields if f.field_name == "BusinessName")
    assert not business.was_evaluated
    hard = rvdm.evaluate(rules, RECIPIENT, {"first_name": "Jane", "last_name": "Smith"})
    assert hard.status == rvdm.FAILURE and not hard.passed and hard.hard_mismatches == ["LastName"]
    event = hard.event(2, 3)
    assert event["has_passed"] is False and event["attempt_count"] == 2 and event["max_attempts"] == 3
    assert event["was_skipped"] is False
    assert rvdm.evaluate(rules, RECIPIENT, {"last_name": ""}).hard_mismatches == ["LastName"]


def test_host_origin_rules():
    assert host_allows("https://shop.example.com", "https://shop.example.com")
    assert not host_allows("https://shop.example.com", "https://shop.example.com:8443")
    assert not host_allows("https://shop.example.com", "http://shop.example.com")
    assert host_allows("http://localhost", "http://localhost:3000")  # the default host_uri: any localhost port
    assert not host_allows("http://localhost", "http://127.0.0.1:3000")


# -- the page and its states ------------------------------------------------------------------------------------

async def test_active_page_is_framed_only_by_the_host(emulator):
    url = await create(emulator)
    status, text, headers = await url.get()
    assert status == 200 and url.session_id in text
    assert "frame-ancestors http://127.0.0.1:9999" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    found = re.search(r'<script type="application/json" id="iip-config">(.*?)</script>', text)
    assert found is not None, text
    config = json.loads(found.group(1))
    assert config["state"]["state"] == "active" and config["host_uri"] == HOST
    assert config["events"]["TOKEN_SUCCESS"] == "iip.webplugin.token_success"
    default = await create(emulator, host_uri=None)
    assert "frame-ancestors http://localhost:*" in (await default.get())[2]["Content-Security-Policy"]


async def test_unmounted_url_expires_after_30_seconds_and_reissue_mounts_again(emulator):
    key = str(uuid.uuid4())
    url = await create(emulator, key=key)
    emulator.clock.advance(31)
    status, text, _ = await url.get()
    assert status == 410 and "Link expired" in text
    assert url.session()["status"] == "Expired"
    status, body = await url.mount()
    assert status == 200 and body["state"] == "expired"
    assert body["event"]["event_name"] == "iip.webplugin.terminal_failure"
    assert body["event"]["error"] == "session_expired"
    again = await create(emulator, key=key)
    assert again.session_id == url.session_id and url.session()["status"] == "Active"
    assert (await again.get())[0] == 200
    status, body = await again.mount()
    assert status == 200 and body["state"] == "active"
    emulator.clock.advance(600)  # a mounted URL does not expire
    assert (await again.get())[0] == 200
    assert (await url.get())[0] == 410  # the older URL stays dead


async def test_mount_checks_the_host_origin(emulator):
    url = await create(emulator)
    status, body = await url.mount(origin="http://127.0.0.1:9998")
    assert status == 403 and body["state"] == "wrong_origin"
    assert url.session()["mounted"] is False
    status, body = await url.mount(destination="cash")
    assert status == 400
    status, body = await url.mount("debit")
    assert status == 200
    assert body["event"] == {"session_identifier": url.session_id, "tracer_token": url.session()["tracer_token"],
                             "event_name": "iip.webplugin.page_load", "funding_destination": "debit",
                             "content": {"page": "DebitFunding"}}
    assert body["recipient"]["last_name"] == "Doe" and body["max_attempts"] == 3 and body["attempts"] == 0
    assert url.session()["mounted"] is True


async def test_submit_before_mount_is_refused(emulator):
    url = await create(emulator)
    status, body = await url.submit(GOOD_CARD)
    assert status == 409 and body["state"] == "not_mounted"


async def test_card_success_completes_the_session_with_event_and_webhooks(emulator):
    url = await create(emulator)
    await url.mount("debit")
    status, body = await url.submit(GOOD_CARD)
    assert status == 200 and body["outcome"] == "token_success", body
    session = url.session()
    token = session["customer_account_token"]
    assert body["event"] == {"session_identifier": url.session_id, "tracer_token": session["tracer_token"],
                             "event_name": "iip.webplugin.token_success", "customer_account_token": token,
                             "funding_destination": "debit"}
    assert session["status"] == "Completed" and body["last_4"] == "1111"
    assert topics(emulator) == ["plugin.transaction.recipient.verification.rvdm.success",
                                "plugin.transaction.account.tokenization.success"]
    envelope = last_event(emulator, "plugin.transaction.account.tokenization.success")
    assert envelope["metadata"]["version"] == "3"
    assert envelope["data"]["ancillary"] == {"participant_unique_id1": "plugin-1", "participant_unique_id2": "",
                                             "session_id": url.session_id,
                                             "tracer_token": session["tracer_token"]}
    event = envelope["data"]["event"]
    assert list(event) == ["last_4", "issuers", "status", "customer_account_token", "account_type", "attempt_count",
                           "max_attempts", "client_message", "account_id"]
    assert event["status"] == "100" and event["customer_account_token"] == token and event["account_type"] == "CA"
    assert event["last_4"] == "1111" and event["attempt_count"] == 0 and event["max_attempts"] == 3
    assert event["issuers"][0]["payee_name"] and event["account_id"]
    rvdm_event = last_event(emulator, "plugin.transaction.recipient.verification.rvdm.success")["data"]["event"]
    assert rvdm_event["status"] == "1103" and rvdm_event["has_passed"] is True
    # The token is a real gateway token: process can pay it.
    status, paid, _ = await emulator.post("/gateway/process", v11(account_type="CA", participant_unique_id1="pay-1",
                                                                    customer_account_token=token, amount=10.0,
                                                                    source_of_funds=4))
    assert paid["status"] == 100, paid
    # A completed session shows its page and the same TOKEN_SUCCESS, and never mounts again.
    status, text, _ = await url.get()
    assert status == 410 and "Already completed" in text
    status, body = await url.mount()
    assert body["state"] == "completed" and body["event"]["customer_account_token"] == token


async def test_card_number_and_cvv_are_not_kept(emulator):
    url = await create(emulator)
    await url.mount("debit")
    await url.submit(GOOD_CARD)
    kept = json.dumps([record for kind in ("session", "token")
                       for _, _, record in emulator.runtime.store.records(kind)])
    assert '"123"' not in kept and "cvv" not in kept
    assert "4111 1111 1111 1111" not in kept
    session = json.dumps(url.session())
    assert "4111111111111111" not in session
    entry = next(e for e in emulator.runtime.journal.entries() if e.path.endswith("/submit"))
    assert entry.request_body["card_number"].endswith("1111") and "4111 1111" not in entry.request_body["card_number"]
    assert entry.request_body["cvv"] == "[removed]"
    assert not [e for e in emulator.runtime.journal.entries() if "4111111111111111" in json.dumps(e.as_json())]


async def test_magic_value_declines_inside_the_iframe(emulator):
    key = str(uuid.uuid4())
    url = await create(emulator, key=key)
    await url.mount("credit")
    status, body = await url.submit({**GOOD_CARD, "card_number": DECLINED_CARD})
    assert status == 200 and body["outcome"] == "terminal_failure"
    assert body["event"]["event_name"] == "iip.webplugin.terminal_failure"
    assert body["event"]["error"] == "750" and body["event"]["funding_destination"] == "credit"
    assert body["message"] == "Invalid card number"
    assert "plugin.transaction.account.tokenization.success" not in topics(emulator)
    # The session stays Active (reference 6); this URL is closed; acknowledging fires the event.
    assert url.session()["status"] == "Active"
    status, text, _ = await url.get()
    assert status == 410 and "This link has ended" in text
    status, body = await url.call("acknowledge")
    assert status == 200 and body["event"]["event_name"] == "iip.webplugin.terminal_failure_acknowledged"
    assert body["event"]["error"] == "750"
    status, body = await url.submit(GOOD_CARD)
    assert status == 409 and body["state"] == "closed"
    again = await create(emulator, key=key)  # re-issued with its Idempotency-Key: a new URL that mounts
    assert (await again.mount("debit"))[1]["state"] == "active"
    assert (await again.submit(GOOD_CARD))[1]["outcome"] == "token_success"
    entry = next(e for e in emulator.runtime.journal.entries() if e.path.endswith("/submit"))
    assert entry.endpoint == "plugin"


async def test_the_ach_name_and_address_magic_value_fails_inside_the_iframe_with_ingos_nav_webhook(emulator):
    url = await create(emulator)
    await url.mount("ach")
    status, body = await url.submit({"routing_number": "011000015", "account_number": "99007770",
                                     "account_kind": "checking", **ADDRESS})
    assert status == 200 and body["outcome"] == "terminal_failure"
    assert (body["event"]["error"], body["message"]) == ("777", "Address did not match")
    response = await emulator.client.post("/_emulator/clock", json={"advance": 0})
    assert response.status == 200
    envelope = last_event(emulator, "plugin.transaction.account.verification.ach.nav.failure")
    assert (envelope["metadata"]["version"], envelope["metadata"]["topic_description"]) == (
        "1", "This event reports Name on Account Validation (NAV) validation failure on an ACH payment request.")
    event = envelope["data"]["event"]
    assert (event["status"], event["client_message"]) == ("777", "Address did not match")
    assert envelope["data"]["ancillary"] == {
        "participant_unique_id1": "plugin-1", "participant_unique_id2": "", "session_id": url.session_id,
        "tracer_token": url.session()["tracer_token"]}
    assert "plugin.transaction.account.tokenization.success" not in topics(emulator)


async def test_plugin_rules_win_over_verify_rules_and_apply_only_in_the_iframe(emulator):
    document = ("scenarios:\n  - name: iframe-only\n    rules:\n"
                "      - {name: decline, match: {endpoint: plugin, funding_destination: debit, "
                "account: {last4: '1111'}}, respond: {status: 851}}\n")
    response = await emulator.client.post("/_emulator/scenarios", data=document.encode(),
                                          headers={"Content-Type": "application/yaml"})
    assert response.status == 201, await response.text()
    url = await create(emulator)
    await url.mount("debit")
    status, body = await url.submit(GOOD_CARD)
    assert body["outcome"] == "terminal_failure" and body["error"] == "851"
    status, verified, _ = await emulator.post("/gateway/verify", v11(**CARD))
    assert verified["status"] == 100  # the same card through /gateway/verify is not a plugin submission


def test_a_submission_is_answered_by_plugin_rules_first_then_by_verify_rules():
    rules = """
scenarios:
  - name: both
    rules:
      - name: verify-decline
        match: {endpoint: verify, account: {last4: "1111"}}
        respond: {status: 753}
      - name: plugin-decline
        match: {endpoint: plugin, account: {last4: "2222"}}
        respond: {status: 754}
"""
    engine = Engine(load_text(rules, "both.yaml"))
    submission = Facts("plugin", 12345, account_type="CA", account="4111111111111111", fallback="verify")
    assert engine.decide(submission).rule == "verify-decline"  # no plugin rule matches: verify's rules answer
    own = Facts("plugin", 12345, account_type="CA", account="4000000000002222", fallback="verify")
    assert engine.decide(own).rule == "plugin-decline"
    assert engine.decide(Facts("verify", 12345, account_type="CA", account="4000000000002222")).rule is None


async def test_client_checks_are_repeated_on_the_server(emulator):
    url = await create(emulator)
    await url.mount("debit")
    status, body = await url.submit({**GOOD_CARD, "card_number": "4111111111111112", "expiration": "10/26",
                                     "cvv": "12", "zip_code": "3030", "first_name": ""})
    assert status == 422 and body["outcome"] == "invalid"
    assert set(body["errors"]) == {"card_number", "expiration", "cvv", "zip_code", "first_name"}
    assert body["errors"]["expiration"] == "This card has expired"  # the emulator clock is November 2026
    assert (await url.submit({**GOOD_CARD, "expiration": "11/26"}))[1]["outcome"] == "token_success"
    ach = await create(emulator)
    await ach.mount("ach")
    status, body = await ach.submit({"routing_number": "011000016", "account_number": "12", "account_kind": "x",
                                     **ADDRESS})
    assert set(body["errors"]) == {"routing_number", "account_number", "account_kind"}


async def test_rvdm_hard_failures_up_to_max_attempts(emulator):
    url = await create(emulator)
    await url.mount("debit")
    for attempt in (1, 2):
        status, body = await url.submit({**GOOD_CARD, "last_name": "Smith"})
        assert body["outcome"] == "retry" and body["attempts"] == attempt and body["remaining"] == 3 - attempt
        assert body["errors"] == {"last_name": "Does not match our records"}
        assert "Last name" in body["message"]
    status, body = await url.submit({**GOOD_CARD, "last_name": "Smith"})
    assert body["outcome"] == "max_attempts"
    assert body["event"]["event_name"] == "iip.webplugin.max_verification_attempts_exceeded"
    assert body["event"]["funding_destination"] == "debit"
    assert url.session()["status"] == "Terminated"
    assert topics(emulator) == ["plugin.transaction.recipient.verification.rvdm.failure"] * 3 + [
        "plugin.transaction.session.request.terminated"]
    event = last_event(emulator, "plugin.transaction.recipient.verification.rvdm.failure")["data"]["event"]
    assert event["status"] == "1105" and event["attempt_count"] == 3 and event["has_passed"] is False
    status, text, _ = await url.get()
    assert status == 410 and "Too many attempts" in text
    assert (await url.submit(GOOD_CARD))[0] == 409


async def test_a_session_terminated_for_too_many_attempts_sends_ingos_session_terminated_webhook(emulator):
    url = await create(emulator, key="terminated-1")
    await url.mount("debit")
    for _ in range(2):
        assert (await url.submit({**GOOD_CARD, "last_name": "Smith"}))[1]["outcome"] == "retry"
    assert "plugin.transaction.session.request.terminated" not in topics(emulator)  # not before the last attempt
    assert (await url.submit({**GOOD_CARD, "last_name": "Smith"}))[1]["outcome"] == "max_attempts"
    envelope = last_event(emulator, "plugin.transaction.session.request.terminated")
    # Ingo's example (api-reference/websockets/session-terminated): metadata version "1", this description,
    # an event of status and client_message only, and the iFrame's ancillary data.
    metadata = envelope["metadata"]
    assert (metadata["topic"], metadata["version"], metadata["topic_description"]) == (
        "plugin.transaction.session.request.terminated", "1",
        "Overall max account verification attempts limit exceeded")
    assert envelope["data"]["event"] == {"status": "1127",
                                         "client_message": "Overall max account verification attempts limit exceeded"}
    session = url.session()
    assert envelope["data"]["ancillary"] == {
        "participant_unique_id1": "plugin-1", "participant_unique_id2": "", "session_id": url.session_id,
        "tracer_token": session["tracer_token"]}
    status, text, _ = await url.get()  # a terminated page sends nothing more
    assert status == 410
    assert topics(emulator).count("plugin.transaction.session.request.terminated") == 1


async def test_a_session_that_succeeds_after_failed_attempts_is_not_terminated(emulator):
    url = await create(emulator)
    await url.mount("debit")
    assert (await url.submit({**GOOD_CARD, "last_name": "Smith"}))[1]["outcome"] == "retry"
    assert (await url.submit(GOOD_CARD))[1]["outcome"] == "token_success"
    assert "plugin.transaction.session.request.terminated" not in topics(emulator)


async def test_rvdm_soft_failure_still_tokenizes_and_counts_earlier_attempts(emulator):
    url = await create(emulator)
    await url.mount("debit")
    assert (await url.submit({**GOOD_CARD, "last_name": "Smith"}))[1]["outcome"] == "retry"
    status, body = await url.submit({**GOOD_CARD, "first_name": "Janet"})
    assert body["outcome"] == "token_success" and body["soft_mismatches"] == ["FirstName"]
    soft = last_event(emulator, "plugin.transaction.recipient.verification.rvdm.success")["data"]["event"]
    assert soft["status"] == "1104" and soft["has_passed"] is True
    success = last_event(emulator, "plugin.transaction.account.tokenization.success")["data"]["event"]
    assert success["attempt_count"] == 1


async def test_rvdm_is_configurable(aiohttp_client, runtime):
    emulator = await serve(aiohttp_client, runtime_for(runtime.clock, plugin_rvdm="LastName=soft,FirstName=hard",
                                                       plugin_max_attempts=1))
    url = await create(emulator)
    await url.mount("debit")
    assert (await url.submit({**GOOD_CARD, "last_name": "Smith"}))[1]["outcome"] == "token_success"
    other = await create(emulator)
    await other.mount("debit")
    status, body = await other.submit({**GOOD_CARD, "first_name": "Janet"})
    assert body["outcome"] == "max_attempts"  # one attempt allowed


async def test_cancel(emulator):
    url = await create(emulator)
    await url.mount("paypal")
    status, body = await url.call("cancel")
    assert status == 200 and body["state"] == "canceled"
    assert body["event"] == {"session_identifier": url.session_id, "tracer_token": url.session()["tracer_token"],
                             "event_name": "iip.webplugin.funding_canceled", "funding_destination": "paypal"}
    assert url.session()["status"] == "Canceled"
    assert (await url.get())[0] == 410
    assert (await url.call("cancel"))[0] == 409


@pytest.mark.parametrize("destination, form, account_type", [
    ("ach", {"routing_number": "011000015", "account_number": "22222222", "account_kind": "savings"}, "AC"),
    ("billpay", {"biller_id": "123460", "account_number": "AB123456"}, "BP"),
    ("paypal", {"email": "jane.doe@example.com"}, "PD"),
    ("credit", {"card_number": "5555555555554444", "expiration": "01/30", "cvv": "1234"}, "CA"),
])
async def test_each_funding_destination_tokenizes(emulator, destination, form, account_type):
    url = await create(emulator)
    await url.mount(destination)
    status, body = await url.submit({**ADDRESS, **form})
    assert body["outcome"] == "token_success", body
    event = last_event(emulator, "plugin.transaction.account.tokenization.success")["data"]["event"]
    assert event["account_type"] == account_type
    token = emulator.runtime.store.get("token", 12345, event["customer_account_token"])
    assert token["account_type"] == account_type


async def test_biller_search_inside_the_page(emulator):
    url = await create(emulator)
    await url.mount("billpay")
    response = await emulator.client.get(f"{url.path}/billers?{url.query}&q=water")
    found = (await response.json())["billers"]
    assert [b["id"] for b in found] == ["123460"]
    status, body = await url.submit({**ADDRESS, "biller_id": "123460", "account_number": "1234567890"})
    assert body["errors"] == {"account_number": "This is not a Anytown Water Authority account number"}


async def test_sdk_static_files_and_demo_are_served(emulator):
    response = await emulator.client.get("/plugin/sdk/ingo-instant-payments.js")
    text = await response.text()
    assert response.status == 200 and response.content_type == "application/javascript"
    for name, value in EVENTS.items():
        assert f'{name}: "{value}"' in text
    for name in ("DEBIT", "CREDIT", "ACH", "BILLPAY", "PAYPAL"):
        assert f'{name}: "{name.lower()}"' in text
    for name in ("page.js", "page.css", "demo.js", "demo.css"):
        assert (await emulator.client.get(f"/plugin/static/{name}")).status == 200
    assert (await emulator.client.get("/plugin/static/page.html")).status == 404
    response = await emulator.client.get("/plugin/demo")
    assert response.status == 200 and "ingo-instant-payments.js" in await response.text()


async def test_demo_session_helper_signs_a_real_session_request(emulator):
    server = emulator.client.server
    origin = f"http://{server.host}:{server.port}"
    response = await emulator.client.post("/_emulator/plugin/demo-session", json={}, headers={"Origin": origin})
    document = await response.json()
    assert response.status == 200, document
    assert document["response"]["status"] == 100
    assert document["request"]["host_uri"] == origin
    assert document["response"]["data"]["authorized_url"].startswith(origin + "/plugin/session/")
    session_entry = next(e for e in emulator.runtime.journal.entries() if e.path == SESSION_PATH)
    assert session_entry.username == "test" and session_entry.http_status == 200


# -- scenario rules inside the iFrame: applied as at any endpoint -----------------------------------------------

PLUGIN_RULES = """\
scenarios:
  - name: iframe
    rules:
      - name: slow
        match: {endpoint: plugin, account: {last4: "4444"}}
        respond: {latency: 0.3}
      - name: renamed
        match: {endpoint: plugin, account: {last4: "4242"}}
        respond: {data: {last_4: "9999"}}
      - name: answer-lost
        match: {endpoint: plugin, account: {last4: "1881"}}
        respond: {fault: {type: connection_reset, after_processing: true}}
      - name: unreachable
        match: {endpoint: plugin, account: {last4: "1117"}}
        respond: {fault: connection_reset}
"""


@pytest.fixture
async def scripted(aiohttp_client, runtime, tmp_path):
    path = tmp_path / "iframe.yaml"
    path.write_text(PLUGIN_RULES, encoding="utf-8")
    return await serve(aiohttp_client, runtime_for(runtime.clock, scenarios=(path,)))


async def test_a_plugin_rule_with_latency_slows_the_submission(scripted):
    url = await create(scripted)
    await url.mount("credit")
    started = time.monotonic()
    status, body = await url.submit({**GOOD_CARD, "card_number": "5555555555554444"})
    assert body["outcome"] == "token_success" and time.monotonic() - started >= 0.3


async def test_a_plugin_rule_overrides_what_the_tokenization_answers(scripted):
    url = await create(scripted)
    await url.mount("debit")
    status, body = await url.submit({**GOOD_CARD, "card_number": "4242424242424242"})
    assert body["outcome"] == "token_success" and body["last_4"] == "9999"
    success = last_event(scripted, "plugin.transaction.account.tokenization.success")["data"]["event"]
    assert success["last_4"] == "9999"
    assert url.session()["last_4"] == "9999"


async def test_a_late_fault_loses_the_answer_after_the_session_completed(scripted):
    url = await create(scripted)
    await url.mount("debit")
    with pytest.raises(aiohttp.ClientConnectionError):
        await url.submit({**GOOD_CARD, "card_number": "4012888888881881"})
    assert url.session()["status"] == "Completed"  # processed: the page's answer is what was lost
    assert "plugin.transaction.account.tokenization.success" in topics(scripted)
    status, text, _ = await url.get()
    assert status == 410 and "Already completed" in text


async def test_a_fault_before_processing_leaves_the_session_as_it_was(scripted):
    url = await create(scripted)
    await url.mount("debit")
    with pytest.raises(aiohttp.ClientConnectionError):
        await url.submit({**GOOD_CARD, "card_number": "6011111111111117"})
    assert url.session()["status"] == "Active" and url.session().get("attempts", 0) == 0
    assert "plugin.transaction.account.tokenization.success" not in topics(scripted)
    status, body = await url.submit(GOOD_CARD)  # the recipient tries again
    assert body["outcome"] == "token_success"
