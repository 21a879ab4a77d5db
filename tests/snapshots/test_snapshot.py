"""Repro capsules: GET /_emulator/snapshot after real activity, restored into a fresh emulator by POST and by
``--restore FILE`` in a process of its own, and checked by behaviour (replays, follow-ups on the clock, rule counts,
the journal and findings); no archive holds a secret. Refused archives: test_snapshot_refusals.py."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emulator.app import create_app
from emulator.core.clock import Clock
from emulator.core.credentials import DEFAULT_SECRET
from emulator.snapshots.format import FORMAT, VERSION
from emulator.snapshots.records import KINDS
from emulator.store import Contents, Stored, StoreUnavailable
from emulator.store.sqlite import SqliteStore
from tests.support.app import NOW, frozen_at_now, runtime_for
from tests.support.bodies import ACH, CARD, debit_body, risk_session, score_body, v11
from tests.support.iframe import GOOD_CARD, SESSION_PATH, create
from tests.support.paths import ROOT
from tests.support.snapshots import CLEAN_ENV, FAST, Emulator, start
from tests.support.webhook_receiver import Receiver, start_receiver

SUSPENDED = "gateway.transaction.recipient.verification.ofac.status.suspended"
FAILURE = "gateway.transaction.recipient.verification.ofac.status.failure"
PAID = "gateway.transaction.recipient.payment.status.success"
WEBHOOK_SECRET = "whsec-snapshot-test-5f1c0a"
ENDPOINT_SECRET = "endpoint-secret-9b27e4"
ADMIN_TOKEN = "admin-token-snapshot-7d3e"
CVV = "9876"
#: A rule that answers only the second push of .77 a participant sends: its count must survive a restore.
SCENARIO = """\
scenarios:
- name: second-push-declined
  active: false
  rules:
  - name: decline-the-second
    match: {endpoint: process, amount: {cents: 77}, nth: 2}
    respond: {status: 1042}
"""


@dataclass
class Original:
    """The emulator a snapshot is taken of, what was done to it, and the archive."""

    emulator: Emulator
    session_url_key: str
    tenant: dict[str, Any]
    card_token: str
    bank_token: str
    paid: dict[str, Any]
    session: dict[str, Any]
    seen: dict[str, Any]  # what the admin API showed of the journal, events, findings and state
    archive: bytes


#: What the admin API shows of an emulator's past: a restored one must show the same.
SHOWN = ("/_emulator/requests", "/_emulator/events", "/_emulator/findings", "/_emulator/state", "/_emulator/webhooks")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def failing() -> dict[str, bool]:
    return {"on": True}


@pytest.fixture
async def hook(aiohttp_server: Any, failing: dict[str, bool]) -> str:
    """A webhook receiver on 127.0.0.1 that answers 500 while ``failing["on"]``, then 200."""
    receiver = Receiver()

    async def answer(number: int, request: web.Request) -> web.StreamResponse:
        return web.Response(status=500 if failing["on"] else 200, text="down" if failing["on"] else "ok")

    receiver.respond = answer
    return await start_receiver(aiohttp_server, receiver)


@pytest.fixture
async def original(aiohttp_server: Any, session: aiohttp.ClientSession, hook: str) -> Original:
    """An emulator after real activity: a tenant, an endpoint with its own secret, verifies that tokenize, pushes
    (one whose cents .08 schedule an OFAC failure an hour on), a delivery retried to a receiver answering 500, a
    finding, a scenario active for one participant with a rule counted once, the clock moved and frozen."""
    runtime = runtime_for(frozen_at_now(), real_time=True, webhook_url=(hook,), webhook_secret=WEBHOOK_SECRET,
                          admin_token=ADMIN_TOKEN, rate_limit=FAST)
    server = await aiohttp_server(create_app(runtime=runtime), host="127.0.0.1")
    emu = Emulator(session, str(server.make_url("")).rstrip("/"), admin_token=ADMIN_TOKEN)
    tenant = await emu.admin("POST", "/_emulator/credentials", {}, status=201)
    await emu.admin("POST", "/_emulator/webhooks/endpoints", {"url": hook.replace("/hook", "/quiet"),
                                                              "secret": ENDPOINT_SECRET, "topics": ["plugin.none.*"]},
                    status=201)
    card = await emu.call("/gateway/verify", **dict(CARD, cvv=CVV))
    assert card["status"] == 100, card
    bank = await emu.acting_as(tenant).call("/gateway/verify", **ACH)
    assert bank["status"] == 100, bank
    token = card["data"]["customer_account_token"]
    paid = await emu.push(10.50, "pay-1", token)
    assert paid["status"] == 100, paid
    assert (await emu.push(10.08, "pay-ofac", token))["status"] == 100  # OFAC suspended now, failed in an hour
    await emu.admin("POST", "/_emulator/clock", {"advance": 0})  # fires what is due: the suspension, sent once
    [delivery] = (await emu.admin("GET", "/_emulator/webhooks?topic=" + SUSPENDED))["deliveries"]
    assert delivery["status"] == "pending" and [a["http_status"] for a in delivery["attempts"]] == [500]
    assert (await emu.push(10.50, "pay-2", token))["status"] == 100  # a push during the review: a finding
    await emu.admin("POST", "/_emulator/scenarios", data=SCENARIO.encode(), content_type="application/yaml",
                    status=201)
    await emu.admin("POST", "/_emulator/scenarios/second-push-declined/activate", {"participant_id": 12345})
    assert (await emu.push(5.77, "nth-1", token))["status"] == 100  # the rule's first match: not its nth
    iframe_session = await emu.session_for("session-key-1")
    assert iframe_session["status"] == 100, iframe_session
    await emu.admin("POST", "/_emulator/clock", {"advance": 10})
    record = runtime.store.get("meta", 0, "session_url_key")
    assert record is not None
    seen = {path: await emu.admin("GET", path) for path in SHOWN}
    assert [f["code"] for f in seen["/_emulator/findings"]["findings"]] == ["push_to_ofac_suspended"] * 2
    return Original(emu, record["key"], tenant, token, bank["data"]["customer_account_token"], paid,
                    iframe_session["data"], seen, await emu.snapshot())


# -- the archive ---------------------------------------------------------------------------------------------------


async def test_the_archive_is_versioned_and_holds_no_secret_and_no_whole_number(original: Original) -> None:
    text = original.archive.decode("utf-8")
    archive = json.loads(text)
    assert (archive["format"], archive["version"]) == (FORMAT, VERSION) == ("ingopay-emulator-snapshot", 2)
    assert {"emulator_version", "taken_at", "seed", "clock", "store", "scenarios", "journal", "events", "findings",
            "tenants", "webhook_endpoints"} <= set(archive)
    for secret in (DEFAULT_SECRET, original.tenant["secret"], WEBHOOK_SECRET, ENDPOINT_SECRET, ADMIN_TOKEN,
                   original.session_url_key):
        assert secret not in text
    assert f'"{CVV}"' not in text and CARD["account"] not in text and ACH["account"] not in text
    assert "meta" not in archive["store"]["records"]
    tokens = {item["record"]["token"]: item["record"] for item in archive["store"]["records"]["token"]}
    assert tokens[original.card_token]["account"] == "************1111"
    assert tokens[original.bank_token]["account"] == "****2222"
    [verify] = [e for e in archive["journal"] if e["path"] == "/gateway/verify" and e["participant_id"] == 12345]
    assert verify["request_body"]["cvv"] == "[removed]"
    assert archive["clock"]["now"] == NOW + 10 and archive["clock"]["frozen"] is True
    assert [t["participant_id"] for t in archive["tenants"]] == [original.tenant["participant_id"]]
    assert "secret" not in archive["tenants"][0]


# -- restoring -----------------------------------------------------------------------------------------------------


async def test_a_restore_by_post_carries_on_where_the_snapshot_stopped(
        original: Original, aiohttp_server: Any, session: aiohttp.ClientSession, hook: str,
        failing: dict[str, bool]) -> None:
    # A fresh emulator whose request bodies may be far smaller than the archive: the restore has its own limit.
    fresh = await start(aiohttp_server, session, Clock(), webhook_url=(hook,), webhook_secret=WEBHOOK_SECRET,
                        max_body_size=64 * 1024)
    assert len(original.archive) > 64 * 1024
    # What it did before is replaced: a token, a payment, and a follow-up due in two days (cents .14).
    card = await fresh.call("/gateway/verify", **CARD)
    assert (await fresh.push(10.14, "pay-fresh", card["data"]["customer_account_token"]))["status"] == 100
    failing["on"] = False
    answer = await fresh.admin("POST", "/_emulator/snapshot", data=original.archive)
    records = answer["restored"]["records"]
    # deliveries: the suspension and the final outcomes of three pushes, all waiting for their retry
    assert (records["token"], records["transaction"], records["scheduled_event"], records["webhook_delivery"]) == \
        (2, 4, 1, 4)
    assert answer["rescheduled"] == {"scheduled_events": 1, "webhook_deliveries": 4}
    assert [t["participant_id"] for t in answer["tenants_without_secrets"]] == [original.tenant["participant_id"]]
    assert [e["url"] for e in answer["webhook_endpoints_missing"]] == [hook.replace("/hook", "/quiet")]
    await carries_on(fresh, original)

    # A tenant comes back as a participant without a credential: minting one for it acts on its state.
    tenant = await fresh.admin("POST", "/_emulator/credentials", {"participant_id": original.tenant["participant_id"]},
                               status=201)
    again = await fresh.acting_as(tenant).call("/gateway/verify", account_type="AC",
                                               participant_unique_id1="customer-2",
                                               customer_account_token=original.bank_token)
    assert (again["status"], again["data"]["last_4"]) == (100, "2222"), again


async def carries_on(emulator: Emulator, original: Original) -> None:
    """What a restored emulator must show: the clock, the journal, findings, replays, rule counts, follow-ups."""
    clock = await emulator.admin("GET", "/_emulator/clock")
    assert (clock["now"], clock["frozen"]) == (NOW + 10, True)
    # the suspension and the final outcomes of the three pushes paid at once, each retried after the receiver's 500
    retried = original.seen["/_emulator/webhooks"]["deliveries"]
    assert sorted(d["topic"] for d in retried) == sorted([SUSPENDED] + [PAID] * 3)
    assert sorted((job["due"], job["label"]) for job in clock["pending"]) == sorted(
        [(NOW + 30, f"webhook {d['id']} (resumed)") for d in retried]
        + [(NOW + 3600, f"magic-values/cents-08 event 2: {FAILURE}")])
    for path in SHOWN:
        assert await emulator.admin("GET", path) == original.seen[path], path
    journal = original.seen["/_emulator/requests"]["requests"]
    assert [e["path"] for e in reversed(journal)] == ["/gateway/verify"] * 2 + ["/gateway/process"] * 4 + [SESSION_PATH]

    # The URL the session had was signed with the snapshot's key, which stays behind; the Idempotency-Key re-issues
    # the same session with a URL of this emulator's.
    assert await emulator.page(original.session["authorized_url"].replace(original.emulator.url, emulator.url)) == 404
    again = await emulator.session_for("session-key-1")
    assert (again["status"], again["data"]["session_identifier"]) == (101, original.session["session_identifier"])
    assert await emulator.page(again["data"]["authorized_url"]) == 200

    replay = await emulator.push(10.50, "pay-1", original.card_token)
    assert replay["status"] == 101
    assert replay["data"]["transaction_id"] == original.paid["data"]["transaction_id"]
    assert (await emulator.push(5.77, "nth-2", original.card_token))["status"] == 1042  # the rule's 2nd match
    # The findings watch knows the review is still suspended, and numbers new findings after the restored ones.
    newest = (await emulator.admin("GET", "/_emulator/findings"))["findings"][0]
    assert (newest["id"], newest["code"]) == ("fnd_000004", "push_to_ofac_suspended"), newest

    # An hour on: the suspension's retry (due 30 s after its first attempt) and the restored follow-up, delivered.
    await emulator.admin("POST", "/_emulator/clock", {"advance": 3600})
    await emulator.wait_for_delivery(SUSPENDED)
    await emulator.wait_for_delivery(FAILURE)
    [suspension] = (await emulator.admin("GET", "/_emulator/webhooks?topic=" + SUSPENDED))["deliveries"]
    assert [a["http_status"] for a in suspension["attempts"]] == [500, 200]


@pytest.mark.slow
async def test_a_restore_at_start_up_carries_on_where_the_snapshot_stopped(
        original: Original, session: aiohttp.ClientSession, hook: str, failing: dict[str, bool],
        tmp_path: Path) -> None:
    archive = tmp_path / "snapshot.json"
    archive.write_bytes(original.archive)
    failing["on"] = False
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "--port", "0", "--quiet", "--rate-limit", str(FAST),
        "--restore", str(archive), "--webhook-url", hook, "--webhook-secret", WEBHOOK_SECRET, cwd=ROOT, env=CLEAN_ENV,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stderr is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert "ready on" in line, (line, await process.stderr.read())
        url = line.split("ready on ", 1)[1].split()[0]
        await carries_on(Emulator(session, url), original)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, errors
    logged = errors.decode()
    assert f"restored {archive}, the snapshot taken at" in logged
    assert 'POST /_emulator/credentials {"participant_id": N}' in logged  # the tenant to mint again


async def test_a_restore_into_a_data_dir_is_durable(original: Original, aiohttp_server: Any,
                                                    session: aiohttp.ClientSession, tmp_path: Path) -> None:
    runtime = runtime_for(Clock(), real_time=True, data_dir=tmp_path, rate_limit=FAST)
    server = await aiohttp_server(create_app(runtime=runtime), host="127.0.0.1")
    first = Emulator(session, str(server.make_url("")).rstrip("/"))
    await first.admin("POST", "/_emulator/snapshot", data=original.archive)
    await server.close()  # the store is closed with the app

    second = await start(aiohttp_server, session, Clock(), data_dir=tmp_path)
    replay = await second.push(10.50, "pay-1", original.card_token)
    assert (replay["status"], replay["data"]["transaction_id"]) == (101, original.paid["data"]["transaction_id"])


def test_a_durable_store_loads_in_one_transaction(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    store.put("token", 1, "a", {"token": "a"})
    before = store.dump()
    no_kind = Stored(None, 2, "c", {})  # type: ignore[arg-type]  # what a damaged archive could hold
    broken = Contents([Stored("token", 2, "b", {"token": "b"}), no_kind], {"transaction": 7})
    with pytest.raises(StoreUnavailable, match="NOT NULL"):  # the second record has no kind: refused mid-load
        store.load(broken, keep=("meta",))
    assert store.dump() == before
    store.load(Contents([Stored("token", 2, "b", {"token": "b"})], {"transaction": 7}), keep=("meta",))
    store.close()
    reopened = SqliteStore(tmp_path)
    assert [(s.kind, s.participant, s.key) for s in reopened.dump().records if s.kind != "meta"] == [("token", 2, "b")]
    assert reopened.next_id("transaction") == 8
    reopened.close()


async def test_every_kind_of_record_the_emulator_keeps_comes_back(make_emulator: Any) -> None:
    """Every flow that stores something (tokens, payments, a debit with its risk session and assessment, iFrame
    sessions completed and canceled with their Idempotency-Key, deliveries, a follow-up) round-trips: a restore
    checks each record strictly, so a field added to a record without its model in snapshots/records.py fails here."""
    source = await make_emulator(webhook_url=("http://127.0.0.1:9/unreachable",))
    status, bank, _ = await source.post("/gateway/verify", v11(**ACH))
    token = bank["data"]["customer_account_token"]
    risk = await risk_session(source)
    status, scored, _ = await source.post("/risk/riskscore/v2", score_body(token, risk))
    assert status == 200, scored
    assessment = scored["transaction"]["risk_assessment_token"]
    status, pulled, _ = await source.post("/gateway/v12/debit/process",
                                          debit_body(token, risk_assessment_token=assessment))
    assert pulled["response"]["status"] == "100", pulled
    status, pushed, _ = await source.post("/gateway/process", v11(account_type="AC", amount=10.14, source_of_funds=4,
                                                                    customer_account_token=token,
                                                                    participant_unique_id1="returned-later"))
    assert pushed["status"] == 100, pushed  # cents .14: a follow-up event in two days
    completed = await create(source, key="session-key-1")
    await completed.mount("debit")
    assert (await completed.submit(GOOD_CARD))[1]["outcome"] == "token_success"
    canceled = await create(source)
    await canceled.mount("paypal")
    assert (await canceled.call("cancel"))[1]["state"] == "canceled"

    archive = await (await source.client.get("/_emulator/snapshot")).read()
    target = await make_emulator()
    response = await target.client.post("/_emulator/snapshot", data=archive,
                                        headers={"Content-Type": "application/json"})
    answer = await response.json()
    assert response.status == 200, answer
    assert set(answer["restored"]["records"]) == set(KINDS)
    assert (await (await target.client.get("/_emulator/snapshot")).json())["store"] == json.loads(archive)["store"]
