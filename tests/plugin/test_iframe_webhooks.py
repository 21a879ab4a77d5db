"""The iFrame's webhooks against Ingo's description of them (issue 23 item 10): the emulator is driven through the
iFrame flow (session, mount, submit) to send every plugin.* event it can, and each payload is checked against
tests/data/iframe-webhooks.json (the members, types and required members Ingo's event pages give, each page cited
there): no member missing, none of another type, none the pages do not list unless it is a documented addition.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from emulator.webhooks.events import WebhookEnvelope
from emulator.webhooks.topics import TOPICS
from tests.support.app import Signed
from tests.support.iframe import ADDRESS, GOOD_CARD, create
from tests.support.paths import DATA

DESCRIPTION = json.loads((DATA / "iframe-webhooks.json").read_text(encoding="utf-8"))
DESCRIBED = DESCRIPTION["topics"]


def schema_of(topic: str) -> dict[str, Any]:
    """The whole envelope of ``topic`` as Ingo's pages give it, with the emulator's documented additions."""
    described = DESCRIBED[topic]
    metadata = copy.deepcopy(DESCRIPTION["metadata"])
    metadata["properties"]["topic"] = {"const": topic}
    for name in ("version", "topic_description"):
        if described[name] is not None:  # printed by the page
            metadata["properties"][name] = {"const": described[name]}
    event = copy.deepcopy(described["event"])
    for name, addition in DESCRIPTION["emulator_additions"]["event"].items():
        if topic in addition["topics"]:
            event["properties"][name] = addition["schema"]
    data = {"type": "object", "properties": {"ancillary": described["ancillary"], "event": event},
            "required": ["ancillary", "event"], "additionalProperties": False}
    return {"type": "object", "properties": {"metadata": metadata, "data": data}, "required": ["metadata", "data"],
            "additionalProperties": False}


def problems(envelope: Mapping[str, Any]) -> list[str]:
    """Where ``envelope`` departs from Ingo's description of its topic (none: it conforms)."""
    topic = envelope["metadata"]["topic"]
    if topic not in DESCRIBED:
        return [f"{topic}: no description of this topic in tests/data/iframe-webhooks.json"]
    validator = Draft202012Validator(schema_of(topic))
    return [f"{topic} at {'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
            for error in validator.iter_errors(envelope)]


def test_the_description_is_valid_json_schema_and_cites_a_page_per_topic():
    for topic, described in DESCRIBED.items():
        Draft202012Validator.check_schema(schema_of(topic))
        assert described["pages"] and all(p.startswith("https://developers.ingopayments.com/")
                                          for p in described["pages"]), topic
    # every plugin.* topic the emulator can send is described (a new one must be added to the file with its page)
    assert {name for name in TOPICS if name.startswith("plugin.")} == set(DESCRIBED)


def test_the_check_finds_what_departs_from_the_pages():
    """The check can fail: a missing member, a number where the page prints a string, an unlisted member."""
    envelope = {"metadata": {"id": "x", "timestamp": 1, "topic": "plugin.transaction.session.request.terminated",
                             "topic_description": "Overall max account verification attempts limit exceeded",
                             "version": "1"},
                "data": {"ancillary": {"participant_unique_id1": "a", "participant_unique_id2": "",
                                       "session_id": "s", "tracer_token": "t"},
                         "event": {"status": "1127", "client_message": "Overall max account verification attempts "
                                                                       "limit exceeded"}}}
    assert problems(envelope) == []
    broken: dict[str, Any] = copy.deepcopy(envelope)
    broken["data"]["event"]["status"] = 1127
    del broken["data"]["ancillary"]["tracer_token"]
    broken["data"]["event"]["session_state"] = "Terminated"
    found = "\n".join(problems(broken))
    assert "1127 is not of type 'string'" in found and "'tracer_token' is a required property" in found
    assert "'session_state' was unexpected" in found


async def advance(emulator: Signed, seconds: float = 0) -> None:
    response = await emulator.client.post("/_emulator/clock", json={"advance": seconds})
    assert response.status == 200


async def submit(emulator: Signed, destination: str, form: dict[str, Any], **recipient: Any) -> dict[str, Any]:
    url = await create(emulator, **recipient)
    await url.mount(destination)
    _, body = await url.submit(form)
    return body


async def drive_every_plugin_event(emulator: Signed) -> None:
    """Each way the iFrame flow sends a plugin.* webhook: matching passed, soft and hard (to the last attempt), every
    funding destination tokenized, the NAV magic value, and the RVDM magic values typed into the page."""
    assert (await submit(emulator, "debit", GOOD_CARD))["outcome"] == "token_success"  # 1103 + tokenized (CA)
    assert (await submit(emulator, "credit", {**GOOD_CARD, "first_name": "Janet"}))["outcome"] == "token_success"
    url = await create(emulator)  # three hard mismatches: 1105 three times, then the session is terminated (1127)
    await url.mount("debit")
    for _ in range(3):
        await url.submit({**GOOD_CARD, "last_name": "Smith"})
    bank = {"routing_number": "011000015", "account_kind": "checking", **ADDRESS}
    assert (await submit(emulator, "ach", {**bank, "account_number": "22222222"}))["outcome"] == "token_success"
    nav = await submit(emulator, "ach", {**bank, "account_number": "99007770"})  # magic value: NAV failure
    assert (nav["outcome"], nav["event"]["error"]) == ("terminal_failure", "777")
    billpay = {**ADDRESS, "biller_id": "123460", "account_number": "AB123456"}
    assert (await submit(emulator, "billpay", billpay))["outcome"] == "token_success"
    assert (await submit(emulator, "paypal", {**ADDRESS, "email": "jane.doe@example.com"}))["outcome"] == \
        "token_success"
    for code in (1103, 1104, 1105):  # the RVDM magic values: the session's and the typed last name are MagicCODE
        body = await submit(emulator, "debit", {**GOOD_CARD, "last_name": f"Magic{code}"}, last_name=f"Magic{code}")
        assert body["outcome"] == "token_success", body
    await advance(emulator)  # the rules' follow-up events, due at once


@pytest.fixture
async def sent(emulator: Signed) -> list[WebhookEnvelope]:
    await drive_every_plugin_event(emulator)
    return [event.envelope for event in emulator.runtime.services.outbox.events if event.topic.startswith("plugin.")]


async def test_every_plugin_event_the_emulator_sends_is_as_ingos_pages_describe_it(sent):
    found = [problem for envelope in sent for problem in problems(envelope)]
    assert not found, "\n".join(found)


async def test_the_flow_sends_every_described_topic_and_status(sent):
    seen = {(e["metadata"]["topic"], e["data"]["event"]["status"]) for e in sent}
    assert seen == {(topic, status) for topic, described in DESCRIBED.items() for status in described["statuses"]}
    # what only Ingo's examples show beside the members: the four funding destinations' account types, and a
    # bank's issuer with its address as empty strings (Ingo's ACH verify answer prints null there)
    tokenized = [e["data"]["event"] for e in sent
                 if e["metadata"]["topic"] == "plugin.transaction.account.tokenization.success"]
    assert sorted(t["account_type"] for t in tokenized) == ["AC", "BP", "CA", "CA", "CA", "CA", "CA", "PD"]
    [bank] = [t for t in tokenized if t["account_type"] == "AC"]
    assert bank["issuers"][0]["payee_address"] == "" and bank["issuers"][0]["payee_zip"] == ""


async def test_the_magic_values_events_in_the_iframe_carry_the_attempt(sent):
    """The members only the page knows (attempt counts, the field results) are in the events a rule sends too."""
    scripted = [e["data"]["event"] for e in sent if "customer_account_token" in e["data"]["event"]
                and e["metadata"]["topic"] != "plugin.transaction.account.tokenization.success"]
    assert sorted(e["status"] for e in scripted) == ["1103", "1104", "1105"]
    assert {e["status"]: e["has_passed"] for e in scripted} == {"1103": True, "1104": True, "1105": False}
    assert all(len(e["field_results"]) == 7 and e["max_attempts"] == 3 for e in scripted)
    [nav] = [e["data"]["event"] for e in sent
             if e["metadata"]["topic"] == "plugin.transaction.account.verification.ach.nav.failure"]
    assert (nav["attempt_count"], nav["max_attempts"]) == (1, 3)
