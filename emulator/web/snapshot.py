"""Repro capsules: a running emulator as one versioned JSON archive, and bringing an emulator to the point an archive
was taken (``GET``/``POST /_emulator/snapshot``, ``--restore FILE``; docs/snapshots.md).

An archive never holds a secret: no credential or webhook endpoint secret, no admin token, no CVV, and not the key that
signs session URLs (the store's ``meta`` records: a restored emulator keeps its own). Card and account numbers are
masked to their last four (``emulator.core.masking.mask``), so in a restored emulator a rule that matches a whole
account number no longer matches the tokens the archive brought.

A restore checks the whole archive before it touches anything: a refused archive changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from emulator import __version__
from emulator.core.clock import ClockOutOfRange, Position, checked
from emulator.core.configuration import ConfigurationError
from emulator.core.journal import Entry
from emulator.core.masking import mask
from emulator.core.validation import describe, field_path, pydantic_sentence
from emulator.findings.models import FindingJson
from emulator.scenarios.engine import EngineState
from emulator.scenarios.loader import Loaded
from emulator.scenarios.schema import Scenario
from emulator.settings import named
from emulator.store import Contents, Record, Stored, StoreUnavailable
from emulator.tenants.models import TenantJson
from emulator.web.answers import JSON_CONTENT_TYPE, dumps
from emulator.web.serving import ChunkTooLarge
from emulator.web.state import RUNTIME, Runtime
from emulator.webhooks import delivery, followups
from emulator.webhooks.events import KeptEvent
from emulator.webhooks.topics import TOPICS

LOG = logging.getLogger("ingopay_emulator")

#: What an archive says it is, and the layout this code writes and reads. Bump VERSION with every change to the
#: layout, and read the older one (or refuse it with a sentence that says what to do).
FORMAT = "ingopay-emulator-snapshot"
VERSION = 1
#: Store kinds that belong to the emulator holding them, never archived nor restored: the key that signs session
#: URLs and the count of runs a durable store has seen (which varies --seed).
OWN_KINDS = ("meta",)


class SnapshotRefused(Exception):
    """An archive this emulator cannot restore; the message names the section and what is wrong (answered 400)."""


class SnapshotTooLarge(Exception):
    """A restore's body is larger than the emulator takes (answered 413); the message names the setting."""


class SnapshotFileError(ConfigurationError):
    """``--restore FILE`` cannot be restored: the CLI prints the message (the flag, the file, the problem), exits 2."""


# -- the format ------------------------------------------------------------------------------------------------------


class StoredRecord(BaseModel):
    """One store record of an archive: the participant it belongs to, its key and the record (masked)."""

    model_config = ConfigDict(extra="forbid")

    participant_id: int
    key: str
    record: dict[str, Any]


class StoreSection(BaseModel):
    """The store: records by kind (token, transaction, session, webhook_delivery, scheduled_event, ...) and the last
    number each sequence handed out (transaction ids, check numbers)."""

    model_config = ConfigDict(extra="forbid")

    records: dict[str, list[StoredRecord]]
    sequences: dict[str, Annotated[int, Field(ge=0)]]


class Archive(BaseModel):
    """A snapshot archive, version 1: what GET /_emulator/snapshot answers and POST /_emulator/snapshot takes
    (``check`` refuses sections it does not know)."""

    format: Literal["ingopay-emulator-snapshot"]
    version: int
    emulator_version: str
    taken_at: Annotated[str, Field(description="when the snapshot was taken, in real time (ISO 8601, UTC)")]
    seed: Annotated[int | None, Field(description="--seed of the emulator the snapshot was taken from")]
    clock: Position
    store: StoreSection
    scenarios: EngineState
    journal: Annotated[list[dict[str, Any]], Field(description="the request journal, oldest first (masked)")]
    events: Annotated[list[KeptEvent], Field(description="the webhook events emitted, oldest first")]
    findings: list[FindingJson]
    tenants: Annotated[list[TenantJson], Field(description="minted tenants, without their secrets (re-mint them)")]
    webhook_endpoints: Annotated[list[dict[str, Any]], Field(description="webhook endpoints, without secrets")]


class _Kept(BaseModel):
    """A record the emulator reads back by itself: the keys it reads must be there, with their types."""

    model_config = ConfigDict(extra="allow", strict=True)


class _FollowUp(_Kept):
    """A scheduled follow-up event (``webhooks.followups``): what resuming and firing it read."""

    id: str
    due: float
    topic: str
    participant_id: int
    ancillary: dict[str, Any]
    event: dict[str, Any]
    status: int | None
    message: str | None
    source: str
    label: str


class _Delivery(_Kept):
    """A webhook delivery with its attempts (``webhooks.delivery``): what resuming and attempting it read."""

    id: str
    event_id: str
    topic: str
    participant_id: int
    endpoint_id: str
    url: str
    body: str
    status: Literal["pending", "delivering", "succeeded", "failed"]
    attempts: list[dict[str, Any]]
    created: float
    next_attempt_at: float | None


class _Token(_Kept):
    """A tokenized account (``gateway.models``): what verify, process and debit read."""

    token: str
    account_type: str
    last_4: str


class _Transaction(_Kept):
    """A payment with its idempotency key (``gateway.models``): what a replay answers with."""

    transaction_id: int | str
    data: dict[str, Any]


#: The kinds whose records are checked before they are restored, and whether their key is the record's ``id``.
CHECKED: dict[str, tuple[type[_Kept], bool]] = {
    followups.KIND: (_FollowUp, True), delivery.KIND: (_Delivery, True), "token": (_Token, False),
    "transaction": (_Transaction, False)}
ENTRY = TypeAdapter(Entry)


# -- taking a snapshot -------------------------------------------------------------------------------------------------


def capture(runtime: Runtime) -> dict[str, Any]:
    """The archive of ``runtime`` as it is now (JSON): no secret, card and account numbers masked."""
    services = runtime.services
    contents = runtime.store.dump()
    records: dict[str, list[dict[str, Any]]] = {}
    for kind, participant, key, record in contents.records:
        if kind not in OWN_KINDS:
            records.setdefault(kind, []).append({"participant_id": participant, "key": key, "record": _masked(record)})
    return {
        "format": FORMAT, "version": VERSION, "emulator_version": __version__,
        "taken_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "seed": runtime.settings.seed,
        "clock": runtime.clock.position(),
        "store": {"records": records, "sequences": contents.sequences},
        "scenarios": services.engine.export(),
        "journal": mask(runtime.journal.export()),
        "events": mask(services.outbox.export()),
        "findings": services.findings.export(),
        "tenants": services.tenants.export(),
        "webhook_endpoints": [endpoint.as_json() for endpoint in services.deliveries.endpoints.values()],
    }


def _masked(record: Record) -> Record:
    """A record with account numbers masked and secrets removed, also inside a delivery's JSON ``body``."""
    masked: Record = mask(record)
    body = masked.get("body")
    if isinstance(body, str):
        try:
            payload = json.loads(body)
        except ValueError:
            return masked
        if mask(payload) != payload:
            masked["body"] = json.dumps(mask(payload), separators=(",", ":"))
    return masked


# -- checking an archive --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A checked archive: everything a restore puts in place, built before anything is touched."""

    archive: Archive
    contents: Contents
    loaded: list[Loaded]
    journal: list[dict[str, Any]]


def parse(raw: bytes) -> Any:
    """The JSON document of an archive's bytes; SnapshotRefused naming what is wrong."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SnapshotRefused(f"the snapshot is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x})") from None
    if not text.strip():
        raise SnapshotRefused("the snapshot is empty; send what GET /_emulator/snapshot answered")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise SnapshotRefused(f"the snapshot is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                              ) from None
    except RecursionError:
        raise SnapshotRefused("the snapshot is nested too deeply to be one this emulator wrote") from None
    except ValueError:  # an integer longer than Python converts
        raise SnapshotRefused(f"the snapshot holds an integer of more than {sys.get_int_max_str_digits()} digits"
                              ) from None


def _no_constant(name: str) -> Any:
    raise SnapshotRefused(f"the snapshot holds {name}, which is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400: Python reads infinity, which no JSON answer could carry back
        raise SnapshotRefused(f"the snapshot holds the number {text[:40]}, which is too large for a double")
    return value


def check(document: Any, runtime: Runtime) -> Plan:
    """Check a whole archive against this emulator's format; SnapshotRefused naming the first problem."""
    if not isinstance(document, dict):
        raise SnapshotRefused(f"a snapshot is a JSON object with format, version and its sections, not "
                              f"{_json_type(document)}")
    given = document.get("format")
    if given != FORMAT:
        found = "it has no format" if given is None else f"its format is {_shown(given)}"
        raise SnapshotRefused(f"this is not an ingopay-emulator snapshot: {found}, expected {FORMAT!r}")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SnapshotRefused(f"snapshot version {_shown(version)} is not a version number (this emulator reads "
                              f"{VERSION})")
    if version > VERSION:
        raise SnapshotRefused(f"snapshot version {version} is newer than this emulator reads ({VERSION}): "
                              "upgrade ingopay-emulator")
    unknown = sorted(set(document) - set(Archive.model_fields))
    if unknown:
        raise SnapshotRefused(f"the snapshot has a section this emulator does not know: {_shown(unknown[0])}")
    try:
        archive = Archive.model_validate(document)
    except ValidationError as exc:
        raise _refusal(exc) from None
    try:
        checked(archive.clock["now"])
    except ClockOutOfRange as exc:
        raise SnapshotRefused(f"snapshot section 'clock' is malformed: clock.now: {exc}") from None
    return Plan(archive, _contents(archive.store), _scenarios(archive.scenarios, runtime),
                _journal(archive.journal))


def _refusal(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> SnapshotRefused:
    """pydantic's first problem as a sentence that names the section and the key within it (never the value)."""
    first = exc.errors(include_url=False)[0]
    location, kind = (*prefix, *first["loc"]), first["type"]
    if not location:
        return SnapshotRefused(f"the snapshot is malformed: {describe(first) or pydantic_sentence(first)}")
    section, where = location[0], field_path(location)
    if len(location) == 1 and kind == "missing":
        return SnapshotRefused(f"the snapshot has no {section!r} section")
    if kind == "missing":
        detail = f"{where} is required"
    elif kind == "extra_forbidden":
        detail = f"{where} is not a key of this section"
    elif kind == "value_error":
        detail = f"{where}: {(first.get('ctx') or {}).get('error') or first['msg']}"
    else:
        detail = f"{where} {describe(first) or pydantic_sentence(first)}"
    return SnapshotRefused(f"snapshot section {section!r} is malformed: {detail}")


def _contents(section: StoreSection) -> Contents:
    """The records to load, each checked where the emulator reads it back by itself (follow-ups, deliveries,
    tokens, payments); never the emulator's own kinds."""
    records: list[Stored] = []
    for kind, items in section.records.items():
        seen: set[tuple[int, str]] = set()
        model, keyed_by_id = CHECKED.get(kind, (None, False))
        for index, item in enumerate(items):
            where = ("store", "records", kind, index)
            if (item.participant_id, item.key) in seen:
                raise SnapshotRefused(f"snapshot section 'store' is malformed: {field_path(where)}: participant "
                                      f"{item.participant_id} has two {kind} records with the key {item.key!r}")
            seen.add((item.participant_id, item.key))
            if model is not None:
                try:
                    model.model_validate(item.record)
                except ValidationError as exc:
                    raise _refusal(exc, (*where, "record")) from None
                if keyed_by_id and (item.record["id"], item.record["participant_id"]) != (item.key,
                                                                                          item.participant_id):
                    raise SnapshotRefused(f"snapshot section 'store' is malformed: {field_path(where)}: the "
                                          f"record's id and participant_id must be its key and participant_id")
                if kind == followups.KIND and item.record["topic"] not in TOPICS:
                    raise SnapshotRefused(f"snapshot section 'store' is malformed: {field_path(where)}: "
                                          f"unknown webhook topic {_shown(item.record['topic'])}")
            if kind not in OWN_KINDS:
                records.append(Stored(kind, item.participant_id, item.key, item.record))
    return Contents(records, dict(section.sequences))


def _scenarios(state: EngineState, runtime: Runtime) -> list[Loaded]:
    """The archive's scenarios, validated as scenario files are (one this engine holds unchanged is reused), and
    every name its activations and counts use."""
    current = runtime.services.engine.scenarios
    loaded: list[Loaded] = []
    rules: dict[str, set[str]] = {}
    for index, item in enumerate(state["loaded"]):
        name = item["definition"].get("name")
        same = current.get(name) if isinstance(name, str) else None
        if same is not None and same.model_dump(mode="json", by_alias=True) == item["definition"]:
            scenario = same
        else:
            try:
                scenario = Scenario.model_validate(item["definition"])
            except ValidationError as exc:
                raise _refusal(exc, ("scenarios", "loaded", index, "definition")) from None
        if scenario.name in rules:
            raise SnapshotRefused(f"snapshot section 'scenarios' is malformed: scenarios.loaded.{index}: scenario "
                                  f"{scenario.name!r} is loaded twice")
        rules[scenario.name] = {rule.name for rule in scenario.rules}
        loaded.append(Loaded(scenario, item["source"]))
    named_here = [("active", name) for name in state["active"]]
    named_here += [(f"active_for.{i}", name) for i, a in enumerate(state["active_for"]) for name in a["scenarios"]]
    named_here += [(f"counts.{i}", c["scenario"]) for i, c in enumerate(state["counts"])]
    for where, name in named_here:
        if name not in rules:
            raise SnapshotRefused(f"snapshot section 'scenarios' is malformed: scenarios.{where} names scenario "
                                  f"{_shown(name)}, which the snapshot does not load")
    for i, count in enumerate(state["counts"]):
        if count["rule"] not in rules[count["scenario"]]:
            raise SnapshotRefused(f"snapshot section 'scenarios' is malformed: scenarios.counts.{i} names rule "
                                  f"{_shown(count['rule'])}, which scenario {count['scenario']!r} does not have")
    return loaded


def _journal(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The journal's entries, each checked as the journal keeps them (without a digest: those are per run)."""
    entries = []
    for index, item in enumerate(items):
        try:
            entry = ENTRY.validate_python(item)
        except ValidationError as exc:
            raise _refusal(exc, ("journal", index)) from None
        entry.account_digest = None
        entries.append(asdict(entry))
    return entries


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")


# -- restoring ---------------------------------------------------------------------------------------------------------


class MissingEndpoint(TypedDict):
    """A webhook endpoint the archive names that this emulator does not have (add it to deliver there again)."""

    id: str
    url: str
    participant_id: int | None


@dataclass(frozen=True)
class Restored:
    """What a restore put in place, and what it could not bring back."""

    archive: Archive
    records: dict[str, int]
    journal: int
    events: int
    findings: int
    scenarios: int
    tenants_without_secrets: list[TenantJson]
    webhook_endpoints_missing: list[MissingEndpoint]
    this_seed: int | None = None
    rescheduled_events: int = 0
    rescheduled_deliveries: int = 0
    notes: list[str] = field(default_factory=list)


def apply(runtime: Runtime, plan: Plan) -> Restored:
    """Put a checked archive in place: store, clock, scenarios, journal, events, findings (scheduling nothing: the
    caller resumes what is pending, or the app does when it starts)."""
    services = runtime.services
    archive = plan.archive
    runtime.store.load(plan.contents, keep=OWN_KINDS)  # first: the one step that can fail (a full disk)
    runtime.clock.restore(archive.clock)
    services.engine.restore(plan.loaded, archive.scenarios)
    runtime.journal.restore(plan.journal)
    services.findings.restore(dict(finding) for finding in archive.findings)
    services.watcher.forget()
    for event in services.outbox.restore(archive.events):  # what the findings watch (OFAC reviews) follows events
        services.watcher.on_event(event.topic, event.participant_id, event.envelope["data"]["event"], event.id)
    runtime.rate_limiter.reset()
    for tenant in services.tenants.clear():  # minted after the snapshot's point, or in another run
        runtime.rate_limiter.reset(tenant.credential.username)
    services.tenants.reserve({stored.participant for stored in plan.contents.records}
                             | {e["participant_id"] for e in plan.journal if isinstance(e.get("participant_id"), int)}
                             | {t["participant_id"] for t in archive.tenants})
    return Restored(
        archive=archive, records=dict(Counter(stored.kind for stored in plan.contents.records)),
        journal=len(plan.journal), events=len(archive.events), findings=len(services.findings),
        scenarios=len(plan.loaded),
        tenants_without_secrets=[{"username": t["username"], "participant_id": t["participant_id"],
                                  "webhook_endpoint": t["webhook_endpoint"], "created": t["created"]}
                                 for t in archive.tenants],
        webhook_endpoints_missing=_missing_endpoints(runtime, archive.webhook_endpoints),
        this_seed=runtime.settings.seed, notes=_notes(runtime, archive))


def _missing_endpoints(runtime: Runtime, archived: Iterable[dict[str, Any]]) -> list[MissingEndpoint]:
    here = runtime.services.deliveries.endpoints
    return [{"id": str(e.get("id")), "url": str(e.get("url")), "participant_id": e.get("participant_id")}
            for e in archived if e.get("id") not in here]


def _notes(runtime: Runtime, archive: Archive) -> list[str]:
    """What a user of the restored emulator should know: credentials to mint again, endpoints to add, the seed."""
    notes = []
    if archive.tenants:
        ids = ", ".join(str(t["participant_id"]) for t in archive.tenants)
        notes.append(f"tenants are never archived with their secrets: to act for participant {ids}, mint a credential "
                     'for it with POST /_emulator/credentials {"participant_id": N}')
    if _missing_endpoints(runtime, archive.webhook_endpoints):
        notes.append("webhook endpoints of the snapshot are missing here: add each (POST /_emulator/webhooks/endpoints "
                     "with the same url and participant_id gives the same id) or its deliveries fail")
    if archive.seed != runtime.settings.seed:
        notes.append(f"the snapshot was taken with --seed {archive.seed}, this emulator runs with "
                     f"{runtime.settings.seed}: ids drawn from now on differ from the original run's either way")
    return notes


async def restore(runtime: Runtime, plan: Plan) -> Restored:
    """Bring a running emulator to the point of a checked archive: pending jobs cancelled (attempts under way too),
    everything replaced, then the follow-ups and deliveries the archive left pending scheduled again."""
    services = runtime.services
    services.scheduler.cancel()
    await services.scheduler.shutdown()
    try:
        restored = apply(runtime, plan)
    except StoreUnavailable:
        services.followups.resume()  # nothing was replaced: what was pending stays pending
        services.deliveries.resume()
        raise
    events, deliveries = services.followups.resume(), services.deliveries.resume()
    LOG.info("restored the snapshot taken at %s (%s records, %d requests, %d events)", plan.archive.taken_at,
             sum(restored.records.values()), restored.journal, restored.events)
    return replace(restored, rescheduled_events=events, rescheduled_deliveries=deliveries)


def restore_file(runtime: Runtime, path: Path) -> Restored:
    """``--restore FILE`` at start-up, before the app runs (it schedules what is pending when it starts);
    SnapshotFileError naming the flag, the file and the problem."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SnapshotFileError(f"{named('restore')} {path}: cannot read the file: {exc.strerror or exc}") from None
    try:
        restored = apply(runtime, check(parse(raw), runtime))
    except SnapshotRefused as exc:
        raise SnapshotFileError(f"{named('restore')} {path}: {exc}") from None
    LOG.info("restored %s, the snapshot taken at %s (%s records, %d requests, %d events)", path,
             restored.archive.taken_at, sum(restored.records.values()), restored.journal, restored.events)
    for note in restored.notes:
        LOG.warning("%s", note)
    return restored


# -- reading a restore's body ------------------------------------------------------------------------------------------


async def read_archive(request: web.Request) -> bytes:
    """A restore's body: up to --snapshot-max-bytes (which may exceed --max-body-size), within --body-timeout;
    SnapshotTooLarge naming the setting."""
    settings = request.app[RUNTIME].settings
    limit = settings.snapshot_max_bytes
    length = request.content_length
    if length is not None and length > limit:
        raise SnapshotTooLarge(_too_large(f"{length} bytes", limit))
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(settings.body_timeout):
            async for chunk in request.content.iter_chunked(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise SnapshotTooLarge(_too_large(f"more than {limit} bytes", limit))
                chunks.append(chunk)
    except ChunkTooLarge as exc:
        raise _chunk_refusal(exc, settings.max_body_size) from None
    except TimeoutError:
        raise web.HTTPRequestTimeout(
            text=dumps({"message": f"the snapshot did not arrive within {settings.body_timeout:g} s "
                                   f"({named('body_timeout')}); the connection is closed"}),
            content_type=JSON_CONTENT_TYPE, headers={"Connection": "close"}) from None
    cut = request.content.exception()  # a chunk refused before this handler read: the body ends early
    if isinstance(cut, ChunkTooLarge):
        raise _chunk_refusal(cut, settings.max_body_size)
    return b"".join(chunks)


def _chunk_refusal(exc: ChunkTooLarge, max_body_size: int) -> Exception:
    """A chunked body the server refused at a chunk's size line (the connection guard knows no route)."""
    if exc.absurd:
        return web.HTTPBadRequest(text=dumps({"message": str(exc)}), content_type=JSON_CONTENT_TYPE)
    return SnapshotTooLarge(f"a chunked snapshot may have at most {max_body_size} bytes ({named('max_body_size')}); "
                            "send it with a Content-Length (curl --data-binary @snapshot.json) to be taken up to "
                            f"{named('snapshot_max_bytes')}")


def _too_large(size: str, limit: int) -> str:
    return (f"the snapshot is {size}; this emulator takes at most {limit} bytes: raise "
            f"{named('snapshot_max_bytes')}")

