"""Refused snapshots change nothing: hostile archives written as a user would (a string where a number belongs in
each section, nested garbage, unknown keys and kinds, huge arrays) answer 400 naming the place in the archive, and
the emulator is exactly as it was (state, clock, pending jobs: the follow-up it had scheduled still fires);
``--restore`` of the same files stops the emulator with one line and exit status 2; a 60 MB archive is restored while
the emulator keeps answering its health checks."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.app import build_runtime
from emulator.core.logs import HEALTH_PATH
from emulator.snapshots.format import FORMAT, HEADER, Archive
from tests.support.app import frozen_at_now, settings_for
from tests.support.bodies import CARD
from tests.support.paths import ROOT
from tests.support.snapshots import CLEAN_ENV, Emulator, start

FAILURE = "gateway.transaction.recipient.verification.ofac.status.failure"
Change = Callable[[dict[str, Any]], Any]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def busy(aiohttp_server: Any, session: aiohttp.ClientSession) -> Emulator:
    """A frozen emulator with a token, payments, an event, a finding-free journal, and a follow-up event (an OFAC
    failure) due in an hour; small limits."""
    emu = await start(aiohttp_server, session, frozen_at_now(), snapshot_max_bytes=512 * 1024)
    card = await emu.call("/gateway/verify", **CARD)
    token = card["data"]["customer_account_token"]
    assert (await emu.push(10.50, "pay-1", token))["status"] == 100
    assert (await emu.push(10.08, "pay-ofac", token))["status"] == 100  # OFAC suspended now, failed in an hour
    await emu.admin("POST", "/_emulator/clock", {"advance": 0})  # fires what is due now: the suspension
    return emu


def _comparable(raw: bytes) -> dict[str, Any]:
    archive = json.loads(raw)
    del archive["taken_at"], archive["clock"]["offset"]  # real time moves on
    return archive


def _changed(raw: bytes, change: Change) -> bytes:
    archive = json.loads(raw)
    change(archive)
    return json.dumps(archive).encode()


def _record(archive: dict[str, Any], kind: str) -> dict[str, Any]:
    record: dict[str, Any] = archive["store"]["records"][kind][0]["record"]
    return record


def _bad_rule(archive: dict[str, Any]) -> None:
    archive["scenarios"]["loaded"][0]["definition"]["rules"][0]["respond"]["latency"] = {"min": 5, "max": 1}


def _count(archive: dict[str, Any], count: Any) -> None:
    rule = archive["scenarios"]["loaded"][0]["definition"]["rules"][0]["name"]
    archive["scenarios"]["counts"] = [{"participant_id": 12345, "scenario": "magic-values", "rule": rule,
                                       "count": count}]


def _finding(**changes: Any) -> Change:
    finding = {"id": "fnd_000001", "code": "double_payout_risk", "participant_id": 12345, "username": "test",
               "message": "a second push", "rule": "r", "reference": "https://example.invalid", "requests": [],
               "deliveries": [], "occurrences": 1, "time": 1.0e9, "wall_time": None, **changes}
    return lambda archive: archive.update(findings=[finding])


def _nested(depth: int) -> Any:
    value: Any = "garbage"
    for _ in range(depth):
        value = [value]
    return value


#: Hostile archives: the change a user made to a real snapshot, and the start of the 400's message.
HOSTILE: list[tuple[str, Change, str]] = [
    ("token created as text", lambda a: _record(a, "token").update(created="yesterday"),
     "snapshot section 'store' is malformed: store.records.token.0.record.created must be a number"),
    ("token created out of range", lambda a: _record(a, "token").update(created=1e300),
     "snapshot section 'store' is malformed: store.records.token.0.record.created: the clock would show"),
    ("token account type unknown", lambda a: _record(a, "token").update(account_type="ZZ"),
     "snapshot section 'store' is malformed: store.records.token.0.record.account_type: 'ZZ' is not an account "
     "type this emulator knows"),
    ("token key unknown", lambda a: _record(a, "token").update(nickname="mine"),
     "snapshot section 'store' is malformed: store.records.token.0.record.nickname is not a key of the snapshot "
     "format"),
    ("payment amount as text", lambda a: _record(a, "transaction").update(amount="10.50"),
     "snapshot section 'store' is malformed: store.records.transaction.0.record.amount must be a number"),
    ("payment answer not an object", lambda a: _record(a, "transaction").update(data="paid"),
     "snapshot section 'store' is malformed: store.records.transaction.0.record.data must be an object"),
    ("follow-up due as text", lambda a: _record(a, "scheduled_event").update(due="in an hour"),
     "snapshot section 'store' is malformed: store.records.scheduled_event.0.record.due must be a number"),
    ("follow-up event nested garbage", lambda a: _record(a, "scheduled_event").update(event={"x": _nested(100)}),
     "snapshot section 'store' is malformed: store.records.scheduled_event.0.record.event.x: nests deeper than 64"),
    ("record participant as text", lambda a: a["store"]["records"]["token"][0].update(participant_id="12345"),
     "snapshot section 'store' is malformed: store.records.token.0.participant_id must be an integer"),
    ("unknown kind of record", lambda a: a["store"]["records"].update(vault=[]),
     "snapshot section 'store' is malformed: store.records.vault is not a kind of record this emulator keeps"),
    ("huge array of garbage", lambda a: a["store"]["records"].update(token=[1] * 100_000),
     "snapshot section 'store' is malformed: store.records.token.0 must be an object"),
    ("sequence below zero", lambda a: a["store"]["sequences"].update(transaction=-1),
     "snapshot section 'store' is malformed: store.sequences.transaction must be at least 0"),
    ("clock as text", lambda a: a["clock"].update(now="noon"),
     "snapshot section 'clock' is malformed: clock.now must be a number"),
    ("journal latency as text", lambda a: a["journal"][0].update(latency_ms="fast"),
     "snapshot section 'journal' is malformed: journal.0.latency_ms must be a number"),
    ("journal body nested garbage", lambda a: a["journal"][0].update(request_body=_nested(200)),
     "snapshot section 'journal' is malformed: journal.0.request_body: nests deeper than 64 levels"),
    ("journal flag as text", lambda a: a["journal"][0]["extra"].update(client_gone="yes"),
     "snapshot section 'journal' is malformed: journal.0.extra.client_gone must be true or false"),
    ("event data not an object", lambda a: a["events"][0]["envelope"].update(data="garbage"),
     "snapshot section 'events' is malformed: events.0.envelope.data must be an object"),
    ("event created as text", lambda a: a["events"][0].update(created="now"),
     "snapshot section 'events' is malformed: events.0.created must be a number"),
    ("finding of an unknown kind", _finding(code="made_up"),
     "snapshot section 'findings' is malformed: findings.0.code 'made_up' is not a kind of finding"),
    ("finding naming 10,000 requests", _finding(requests=[f"req-{n}" for n in range(10_000)]),
     "snapshot section 'findings' is malformed: findings.0.requests names more than 20"),
    ("finding time as text", _finding(time="today"),
     "snapshot section 'findings' is malformed: findings.0.time must be a number"),
    ("tenant with a secret", lambda a: a.update(tenants=[{"username": "t", "participant_id": 90000,
                                                          "webhook_endpoint": None, "created": 1.0e9,
                                                          "secret": "s3cr3t"}]),
     "snapshot section 'tenants' is malformed: tenants.0.secret is not a key of the snapshot format"),
    ("rule count as text", lambda a: _count(a, "2"),
     "snapshot section 'scenarios' is malformed: scenarios.counts.0.count must be an integer"),
    ("invalid scenario rule", _bad_rule,
     "snapshot section 'scenarios' is malformed: scenarios.loaded.0.definition.rules.0.respond.latency: "
     "max must not be less than min"),
    ("endpoint as text", lambda a: a.update(webhook_endpoints=["https://hooks.example.invalid"]),
     "snapshot section 'webhook_endpoints' is malformed: webhook_endpoints.0 must be an object"),
    ("section of the wrong type", lambda a: a.update(findings={}),
     "snapshot section 'findings' is malformed: findings must be a list"),
    ("unknown section", lambda a: a.update(extras={}),
     "the snapshot has a section this emulator does not know: 'extras'"),
    ("seed as text", lambda a: a.update(seed="42"), "snapshot section 'seed' is malformed: seed must be an integer"),
]


@pytest.mark.parametrize("name, change, message", HOSTILE, ids=[case[0] for case in HOSTILE])
async def test_a_hostile_archive_is_a_400_naming_the_place_and_changes_nothing(busy: Emulator, name: str,
                                                                              change: Change, message: str) -> None:
    before = await busy.snapshot()
    pending = (await busy.admin("GET", "/_emulator/clock"))["pending"]
    assert [job["label"] for job in pending] == [f"magic-values/cents-08 event 2: {FAILURE}"]

    refusal = await busy.admin("POST", "/_emulator/snapshot", data=_changed(before, change), status=400)
    assert refusal["message"].startswith(message), refusal

    assert _comparable(await busy.snapshot()) == _comparable(before)
    assert (await busy.admin("GET", "/_emulator/clock"))["pending"] == pending
    await busy.admin("GET", "/_emulator/state")
    await busy.admin("POST", "/_emulator/clock", {"advance": 3600})  # the follow-up it had still fires
    events = (await busy.admin("GET", "/_emulator/events"))["events"]
    assert FAILURE in [event["topic"] for event in events]


@pytest.mark.parametrize("raw, message", [
    (b'{"format": ', "the snapshot is not valid JSON: Expecting value at line 1 column 12"),
    (b"[]", "a snapshot is a JSON object with format, version and its sections, not an array"),
    (b"  \n ", "the snapshot is empty; send what GET /_emulator/snapshot answered"),
    (b'["\xff"]', "the snapshot is not UTF-8 text (byte 2 is 0xff)"),
    (b"[" * 500 + b"]" * 500, "a snapshot is a JSON object"),  # read (as deep as JSON readers go), then refused
    (b'{"format": "ingopay-emulator-snapshot", "version": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     "the snapshot is nested too deeply to be one this emulator wrote"),
    (b'{"format": "ingopay-emulator-snapshot", "version": 1, "n": 1e999}',
     "the snapshot holds the number 1e999, which is too large for a double"),
    (b'{"format": "other"}',
     "this is not an ingopay-emulator snapshot: its format is 'other', expected 'ingopay-emulator-snapshot'"),
    (b'{"format": "ingopay-emulator-snapshot", "version": 3}',
     "snapshot version 3 is newer than this emulator reads (1 to 2): upgrade ingopay-emulator"),
    (b'{"format": "ingopay-emulator-snapshot", "version": 1}', "the snapshot has no 'emulator_version' section"),
])
async def test_an_archive_that_is_no_snapshot_is_a_400_saying_what_it_is(busy: Emulator, raw: bytes,
                                                                         message: str) -> None:
    before = await busy.snapshot()
    refusal = await busy.admin("POST", "/_emulator/snapshot", data=raw, status=400)
    assert refusal["message"].startswith(message), refusal
    assert _comparable(await busy.snapshot()) == _comparable(before)


async def test_a_missing_section_is_named(busy: Emulator) -> None:
    raw = _changed(await busy.snapshot(), lambda a: a.pop("findings"))
    refusal = await busy.admin("POST", "/_emulator/snapshot", data=raw, status=400)
    assert refusal["message"] == "the snapshot has no 'findings' section"


async def test_an_archive_over_the_limit_is_a_413_naming_the_setting(busy: Emulator) -> None:
    before = await busy.snapshot()
    refusal = await busy.admin("POST", "/_emulator/snapshot", data=b" " * (512 * 1024 + 1), status=413)
    assert refusal["message"] == ("the snapshot is 524289 bytes; this emulator takes at most 524288 bytes: raise "
                                  "--snapshot-max-bytes (INGOPAY_EMULATOR_SNAPSHOT_MAX_BYTES)")
    assert _comparable(await busy.snapshot()) == _comparable(before)


def test_the_documented_archive_has_exactly_the_sections_of_the_stateful_parts() -> None:
    runtime = build_runtime(settings_for())
    assert set(Archive.model_fields) == {*HEADER, *runtime.parts.sections}
    assert set(json.loads(json.dumps(runtime.parts.export()))) == set(runtime.parts.sections)


# -- --restore FILE --------------------------------------------------------------------------------------------------


@pytest.fixture
async def hostile_files(busy: Emulator, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """A few hostile archives as files, each with the problem the emulator must name."""
    archive = await busy.snapshot()
    chosen = {name: (change, message) for name, change, message in HOSTILE
              if name in ("token created as text", "event data not an object", "journal body nested garbage",
                          "unknown kind of record", "tenant with a secret")}
    files = {}
    for name, (change, message) in chosen.items():
        path = tmp_path / (name.replace(" ", "-") + ".json")
        path.write_bytes(_changed(archive, change))
        files[name] = (path, message)
    return files


@pytest.mark.slow
async def test_restoring_a_hostile_file_at_start_up_exits_2_with_one_line_naming_the_place(
        hostile_files: dict[str, tuple[Path, str]]) -> None:
    for path, message in hostile_files.values():
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "emulator", "--port", "0", "--restore", str(path)], cwd=ROOT,
            env=CLEAN_ENV, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        assert result.stderr.startswith(f"ingopay-emulator: --restore (INGOPAY_EMULATOR_RESTORE) {path}: {message}")
        assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("content, problem", [
    (json.dumps({"format": FORMAT, "version": 3}), "snapshot version 3 is newer than this emulator reads (1 to 2): "
                                                   "upgrade ingopay-emulator"),
    ("{not json", "the snapshot is not valid JSON: Expecting property name enclosed in double quotes at line 1 "
                  "column 2"),
    (json.dumps({"format": FORMAT, "version": 1}), "the snapshot has no 'emulator_version' section"),
])
def test_a_bad_file_to_restore_at_start_up_exits_2_in_one_line_naming_it(tmp_path: Path, content: str,
                                                                          problem: str) -> None:
    archive = tmp_path / "snapshot.json"
    archive.write_text(content)
    result = subprocess.run([sys.executable, "-m", "emulator", "--port", "0", "--restore", str(archive)], cwd=ROOT,
                            env=CLEAN_ENV, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"ingopay-emulator: --restore (INGOPAY_EMULATOR_RESTORE) {archive}: {problem}\n"


@pytest.mark.slow
def test_a_file_to_restore_over_the_limit_is_refused_naming_the_setting(tmp_path: Path) -> None:
    archive = tmp_path / "snapshot.json"
    archive.write_bytes(b" " * 2048)
    result = subprocess.run([sys.executable, "-m", "emulator", "--port", "0", "--restore", str(archive),
                             "--snapshot-max-bytes", "1024"], cwd=ROOT, env=CLEAN_ENV, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f"ingopay-emulator: --restore (INGOPAY_EMULATOR_RESTORE) {archive}: the file is larger "
                             "than the 1024 bytes a snapshot may have: raise --snapshot-max-bytes "
                             "(INGOPAY_EMULATOR_SNAPSHOT_MAX_BYTES)\n")


@pytest.mark.slow
def test_a_missing_file_to_restore_is_named(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "emulator", "--restore", str(tmp_path / "nowhere.json")],
                            cwd=ROOT, env=CLEAN_ENV, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f"ingopay-emulator: --restore (INGOPAY_EMULATOR_RESTORE): no such file: "
                             f"{tmp_path / 'nowhere.json'}\n")


# -- a large archive ---------------------------------------------------------------------------------------------------


def _large(archive: dict[str, Any], size: int) -> bytes:
    """``archive`` grown to about ``size`` bytes with copies of its token (each its own)."""
    [template] = archive["store"]["records"]["token"]
    each = len(json.dumps(template)) + 2
    tokens = []
    for number in range(size // each):
        item = copy.deepcopy(template)
        item["key"] = item["record"]["token"] = f"token-{number:08d}"
        item["record"]["created"] = 1_700_000_000.0 + number
        tokens.append(item)
    archive["store"]["records"]["token"] = tokens
    archive["store"]["records"]["token_fingerprint"] = []
    return json.dumps(archive).encode()


@pytest.mark.slow
async def test_health_answers_while_a_60_mb_archive_is_restored(session: aiohttp.ClientSession) -> None:
    """Read and checked on a worker thread, a little at a time: the emulator answers its health checks all along."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "--port", "0", "--quiet", cwd=ROOT, env=CLEAN_ENV,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert "ready on" in line, line
        emulator = Emulator(session, line.split("ready on ", 1)[1].split()[0])
        card = await emulator.call("/gateway/verify", **CARD)
        archive = json.loads(await emulator.snapshot())
        raw = await asyncio.to_thread(_large, archive, 60_000_000)
        assert len(raw) > 55_000_000
        tokens = [item["key"] for item in json.loads(raw)["store"]["records"]["token"]]

        sent = asyncio.Event()

        async def body() -> AsyncIterator[bytes]:
            for start in range(0, len(raw), 1 << 20):
                yield raw[start:start + (1 << 20)]
            sent.set()  # the client asks for more once the last piece is written: the body is sent

        # The archive goes on a connection of its own: building it takes seconds (more on a busy machine), and a
        # pooled connection idle that long may be closed by the server (its keep-alive timeout) just as the upload
        # starts on it.
        async with aiohttp.ClientSession() as uploader:
            restore = asyncio.create_task(uploader.post(emulator.url + "/_emulator/snapshot", data=body(),
                                                        headers={"Content-Length": str(len(raw)),
                                                                 "Content-Type": "application/json"}))
            await asyncio.wait([asyncio.create_task(sent.wait()), restore], return_when=asyncio.FIRST_COMPLETED)
            answered = 0  # health checks answered after the whole archive was sent, before the restore's answer
            while not restore.done():
                async with session.get(emulator.url + HEALTH_PATH) as response:
                    assert response.status == 200
                answered += 1 if not restore.done() else 0
                await asyncio.sleep(0.01)
            async with await restore as response:
                restored = await response.json()
                assert response.status == 200, restored
        assert restored["restored"]["records"]["token"] == len(tokens)
        assert answered >= 10, answered

        again = await emulator.call("/gateway/verify", account_type="CA", participant_unique_id1="customer-1",
                                    customer_account_token=tokens[-1])  # memory keeps the newest (--memory-tokens)
        assert (again["status"], again["data"]["last_4"]) == (100, "1111"), again
        assert (await emulator.admin("GET", "/_emulator/state?limit=1"))["tokens"][0]["token"] != \
            card["data"]["customer_account_token"]
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), 30)

