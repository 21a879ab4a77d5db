"""The journal and its observers (findings, waits, the live view, snapshots) are served after the answer, from
references the request path hands over; nothing a user can observe changes: a wait ends when its request is
answered, findings appear, everything shown or kept is masked, and a snapshot taken right after a request holds
it."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from emulator.core.journal import Entry, Journal
from emulator.findings.models import Findings
from emulator.findings.watch import Watcher
from emulator.web.runtime import Runtime
from tests.support.app import Signed, frozen_at_now
from tests.support.bodies import CARD, v11
from tests.support.waiting import eventually

CARD_NUMBER = CARD["account"]
CVV = CARD["cvv"]


def holds_no_payment_data(document: Any) -> None:
    """Neither the full card number nor the CVV's key with its value appear anywhere in ``document``."""
    text = json.dumps(document)
    assert CARD_NUMBER not in text
    assert f'"cvv": "{CVV}"' not in text


async def test_a_request_is_in_the_journal_as_soon_as_its_answer_is_read(emulator: Signed) -> None:
    status, body, _ = await emulator.post("/gateway/verify", v11(**CARD))
    assert status == 200 and body["status"] == 100, body
    response = await emulator.client.get("/_emulator/requests", params={"path": "/gateway/verify"})
    listing = await response.json()
    (entry,) = listing["requests"]
    assert entry["request_body"]["account"] == "************1111"
    assert entry["request_body"]["cvv"] == "[removed]"
    assert entry["facts"]["account"] == "************1111"
    assert entry["response_body"]["data"]["customer_account_token"] == body["data"]["customer_account_token"]
    holds_no_payment_data(listing)


async def test_a_snapshot_taken_right_after_a_request_holds_it_masked(emulator: Signed) -> None:
    status, body, _ = await emulator.post("/gateway/verify", v11(**CARD))
    assert status == 200 and body["status"] == 100, body
    archive = await (await emulator.client.get("/_emulator/snapshot")).json()
    verifies = [e for e in archive["journal"] if e["path"] == "/gateway/verify"]
    assert len(verifies) == 1
    assert verifies[0]["request_body"]["account"] == "************1111"
    holds_no_payment_data(archive)


async def test_a_wait_filed_before_its_request_ends_when_the_request_is_answered(emulator: Signed) -> None:
    waits = emulator.runtime.services.request_waits
    waiting = asyncio.ensure_future(emulator.client.post(
        "/_emulator/requests/wait", json={"match": {"endpoint": "verify"}, "timeout": 60}))
    await eventually(lambda: len(waits) == 1, "the wait registered")
    status, body, _ = await emulator.post("/gateway/verify", v11(**CARD))
    assert status == 200 and body["status"] == 100, body
    answer = await (await waiting).json()
    assert answer["matched"] == 1, answer
    assert answer["requests"][0]["facts"]["account"] == "************1111"
    holds_no_payment_data(answer)


async def test_findings_appear_once_the_request_is_answered(emulator: Signed) -> None:
    status, body, _ = await emulator.post("/gateway/verify", v11(**CARD))
    token = body["data"]["customer_account_token"]
    status, body, _ = await emulator.post("/gateway/verify", v11(**CARD, customer_account_token=token))
    assert status == 200
    findings = (await (await emulator.client.get("/_emulator/findings")).json())["findings"]
    assert [f["code"] for f in findings] == ["raw_account_with_token"]
    holds_no_payment_data(findings)


async def test_the_live_view_hears_of_each_answered_request(emulator: Signed) -> None:
    watcher = emulator.runtime.changes.subscribe()
    assert watcher is not None
    await emulator.post("/gateway/verify", v11(**CARD))
    assert await watcher.next(timeout=30) == {"requests"}


async def test_a_reset_right_after_a_request_leaves_neither_its_entry_nor_its_findings(
        emulator: Signed, runtime: Runtime) -> None:
    _, body, _ = await emulator.post("/gateway/verify", v11(**CARD))
    await emulator.post("/gateway/verify", v11(**CARD, customer_account_token=body["data"]["customer_account_token"]))
    runtime.reset()
    assert len(runtime.journal) == 0
    assert runtime.services.findings.export() == []


# -- the journal's drain, in process ---------------------------------------------------------------------------


class Unmasked:
    """An answered request as the request path hands it over: payment data unmasked until the drain."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def entry(self, journal: Journal) -> Entry:
        from emulator.core.masking import mask

        return Entry(id=journal.new_id(), request_id="r", time=0.0, method="POST", path="/gateway/verify",
                     request_body=mask(self.body))


class Broken:
    def entry(self, journal: Journal) -> Entry:
        raise ValueError("no entry")


async def test_every_reader_of_the_journal_sees_what_was_answered_masked() -> None:
    journal = Journal(10)
    told: list[Entry] = []
    journal.listeners.append(told.append)
    journal.defer(Unmasked({"account": CARD_NUMBER, "cvv": CVV}))
    assert told == []  # the drain runs once the event loop is free...
    assert journal.last_id() == 1  # ...or before anyone reads
    assert [e.id for e in told] == [1]
    journal.defer(Unmasked({"account": CARD_NUMBER}))
    exported = journal.export()
    assert [e["id"] for e in exported] == [1, 2]
    holds_no_payment_data(exported)
    journal.defer(Unmasked({"account": CARD_NUMBER}))
    await eventually(lambda: len(told) == 3, "the drain after the answer")


async def test_a_request_whose_entry_cannot_be_built_is_logged_and_the_next_one_journaled(
        caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal(10)
    journal.defer(Broken())
    journal.defer(Unmasked({"account": CARD_NUMBER}))
    with caplog.at_level(logging.ERROR, "ingopay_emulator"):
        entries = journal.entries()
    assert len(entries) == 1
    assert "could not be journaled" in caplog.text


def test_a_push_started_after_another_was_answered_does_not_overlap_it() -> None:
    """Two pushes of the same amount to one token under different participant_unique_id1s, the second started after
    the first was answered (but before the first was journaled): no double payout risk, as when they follow each
    other; started while the first was still under way, they are flagged."""
    findings = Findings()
    times = iter([10.0, 30.0])
    watcher = Watcher(findings, clock=frozen_at_now(), requests_per_second=100, now=lambda: next(times))
    push = {"customer_account_token": "tok", "amount": 10.5}
    watcher.push_started(1, {**push, "participant_unique_id1": "a"}, "req-a")  # at 10.0
    watcher.push_started(1, {**push, "participant_unique_id1": "b"}, "req-b")  # at 30.0, after a's answer (20.0)
    watcher.on_entry(_push_entry("req-a", "a", answered=20.0))
    assert findings.export() == []
    watcher.on_entry(_push_entry("req-b", "b", answered=40.0))
    assert findings.export() == []

    overlapping = Watcher(findings, clock=frozen_at_now(), requests_per_second=100, now=iter([10.0, 15.0]).__next__)
    overlapping.push_started(1, {**push, "participant_unique_id1": "a"}, "req-a")
    overlapping.push_started(1, {**push, "participant_unique_id1": "b"}, "req-b")  # while a was under way
    overlapping.on_entry(_push_entry("req-a", "a", answered=20.0))
    assert [f["code"] for f in findings.export()] == ["double_payout_risk"]


def _push_entry(request_id: str, puid1: str, *, answered: float) -> Entry:
    return Entry(id=1, request_id=request_id, time=0.0, method="POST", path="/gateway/process", http_status=200,
                 participant_id=1, username="u", ingo_status=100, endpoint="process",
                 request_body={"customer_account_token": "tok", "amount": 10.5, "participant_unique_id1": puid1},
                 answered=answered)


# -- the health probe's short way --------------------------------------------------------------------------------


async def test_a_health_probe_is_answered_logged_and_never_journaled(
        emulator: Signed, caplog: pytest.LogCaptureFixture) -> None:
    access = logging.getLogger("ingopay_emulator.access")
    was_disabled, access.disabled = access.disabled, False  # a quiet emulator earlier in the run turned it off
    try:
        with caplog.at_level(logging.DEBUG, "ingopay_emulator.access"):
            response = await emulator.client.get("/_emulator/health")
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
    finally:
        access.disabled = was_disabled
    assert [(r.levelno, r.getMessage().split(" ")[:3]) for r in caplog.records] == [
        (logging.DEBUG, ["GET", "/_emulator/health", "200"])]
    assert emulator.runtime.journal.entries() == []


async def test_a_health_probe_under_a_foreign_host_is_refused_as_every_admin_call_is(emulator: Signed) -> None:
    response = await emulator.client.get("/_emulator/health", headers={"Host": "attacker.example"})
    assert response.status == 403
    assert "DNS rebinding" in (await response.json())["message"]
