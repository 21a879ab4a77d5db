"""Bringing an emulator to the point an archive was taken: the whole archive checked, every section by its stateful
part, before anything changes (``prepare``: a running emulator does it on a worker thread, while it serves), then
every part loaded (``restore``: the store first, on a worker thread too, then the rest at once) and the jobs the
archive left pending scheduled again."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter
from typing_extensions import TypedDict

from emulator.core.clock import ClockSection
from emulator.core.stateful import ARCHIVED, Plan, Refused, Registry, validated
from emulator.snapshots.format import FORMAT, HEADER, OLDEST, READS, VERSION, SnapshotFileError, SnapshotRefused
from emulator.snapshots.reading import let_go, parse
from emulator.store import StoreUnavailable
from emulator.store.state import counted
from emulator.tenants.models import TenantJson

LOG = logging.getLogger("ingopay_emulator")


class Header(BaseModel):
    """What an archive says of itself."""

    model_config = ARCHIVED

    format: Literal["ingopay-emulator-snapshot"]
    version: int
    emulator_version: Annotated[str, Field(max_length=100)]
    taken_at: Annotated[str, Field(max_length=100)]
    seed: int | None


HEADER_ADAPTER = TypeAdapter(Header)


class MissingEndpoint(TypedDict):
    """A webhook endpoint the archive names that this emulator does not have (add it to deliver there again)."""

    id: str
    url: str
    participant_id: int | None


class Rescheduled(TypedDict):
    """What a restore scheduled again on the emulator clock."""

    scheduled_events: int
    webhook_deliveries: int


@dataclass(frozen=True)
class Prepared:
    """A checked archive: its header and what every stateful part puts in place, built before anything changes."""

    header: Header
    plan: Plan


@dataclass(frozen=True)
class Restored:
    """What a restore put in place, and what it could not bring back."""

    header: Header
    clock: ClockSection
    records: dict[str, int]
    journal: int
    events: int
    findings: int
    scenarios: int
    tenants_without_secrets: list[TenantJson]
    webhook_endpoints_missing: list[MissingEndpoint]
    this_seed: int | None = None
    rescheduled: Rescheduled = field(default_factory=lambda: Rescheduled(scheduled_events=0, webhook_deliveries=0))
    notes: list[str] = field(default_factory=list)


# -- checking --------------------------------------------------------------------------------------------------------


def prepare(raw: Iterable[bytes], parts: Registry) -> Prepared:
    """Read and check a whole archive (its bytes, in pieces) against this emulator's format and every part's
    section; SnapshotRefused naming the first problem (the section and the path to it). Changes nothing; may run on
    a worker thread."""
    with _collector_aside():
        document = parse(raw)
        refused = None
        try:
            header = _header(document, parts.sections)
            plan = parts.check(document)
        except Refused as exc:  # its frames are let go here, before the document: their records are only dropped
            refused = (f"the snapshot has no {exc.where[0]!r} section" if exc.problem == "is missing"
                       and len(exc.where) == 1 else f"snapshot section {exc.where[0]!r} is malformed: {exc.sentence()}")
        finally:
            let_go(document)  # what the plan took stays; the rest is freed a piece at a time
        if refused is not None:
            raise SnapshotRefused(refused)
    return Prepared(header, plan)


def _header(document: Any, sections: list[str]) -> Header:
    if not isinstance(document, dict):
        raise SnapshotRefused(f"a snapshot is a JSON object with format, version and its sections, not "
                              f"{_json_type(document)}")
    given = document.get("format")
    if given != FORMAT:
        found = "it has no format" if given is None else f"its format is {_shown(given)}"
        raise SnapshotRefused(f"this is not an ingopay-emulator snapshot: {found}, expected {FORMAT!r}")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < OLDEST:
        raise SnapshotRefused(f"snapshot version {_shown(version)} is not a version number (this emulator reads "
                              f"{READS})")
    if version > VERSION:
        raise SnapshotRefused(f"snapshot version {version} is newer than this emulator reads ({READS}): "
                              "upgrade ingopay-emulator")
    unknown = [key for key in document if key not in HEADER and key not in sections]
    if unknown:
        raise SnapshotRefused(f"the snapshot has a section this emulator does not know: {_shown(unknown[0])} "
                              f"(known: {', '.join((*HEADER, *sections))})")
    for key in HEADER:
        if key not in document:
            raise SnapshotRefused(f"the snapshot has no {key!r} section")
    try:
        return validated(HEADER_ADAPTER, {key: document[key] for key in HEADER})
    except Refused as exc:
        raise SnapshotRefused(f"snapshot section {exc.where[0]!r} is malformed: {exc.sentence()}") from None


@contextmanager
def _collector_aside() -> Iterator[None]:
    """The garbage collector off while an archive is read and checked, and what that built (plain data without
    cycles, which the emulator then keeps) moved out of its sight afterwards, as ``cli.tune_garbage_collector`` does
    at start-up: each full collection would otherwise walk every record at once, holding the interpreter, and so
    health checks, for longer than they may wait."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if enabled:
            gc.enable()


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")


# -- putting in place ------------------------------------------------------------------------------------------------


async def restore(prepared: Prepared, parts: Registry, *, stop: Callable[[], Any], resume: Callable[[], Rescheduled],
                  endpoints: Mapping[str, Any], seed: int | None) -> Restored:
    """Bring a running emulator to the point of a checked archive: pending jobs stopped (``stop``: attempts under
    way too), the store loaded on a worker thread (a refusal of the store, a full disk, leaves everything as it was
    and pending jobs scheduled again), every other part loaded at once, then the jobs the archive left pending
    scheduled (``resume``)."""
    restored = _restored(prepared, endpoints, seed)  # before the store takes (and lets go of) the records
    await stop()
    try:
        await asyncio.to_thread(parts.load_slow, prepared.plan)
    except StoreUnavailable:
        resume()  # nothing was replaced: what was pending stays pending
        raise
    parts.load(prepared.plan, slow_done=True)
    rescheduled = resume()
    LOG.info("restored the snapshot taken at %s (%s records, %d requests, %d events)", prepared.header.taken_at,
             sum(restored.records.values()), restored.journal, restored.events)
    return replace(restored, rescheduled=rescheduled)


def restore_file(path: Path, parts: Registry, *, endpoints: Mapping[str, Any], seed: int | None, flag: str,
                 most: int, most_flag: str) -> Restored:
    """``--restore FILE`` at start-up, before the app runs (it schedules what is pending when it starts): a file of
    at most ``most`` bytes (the setting ``most_flag``); SnapshotFileError naming ``flag``, the file and the problem."""
    try:
        with Path(path).open("rb") as file:
            raw = file.read(most + 1)
    except OSError as exc:
        raise SnapshotFileError(f"{flag} {path}: cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > most:
        raise SnapshotFileError(f"{flag} {path}: the file is larger than the {most} bytes a snapshot may have: raise "
                                f"{most_flag}")
    try:
        prepared = prepare([raw], parts)
        restored = _restored(prepared, endpoints, seed)
        parts.load(prepared.plan)
    except SnapshotRefused as exc:
        raise SnapshotFileError(f"{flag} {path}: {exc}") from None
    except StoreUnavailable as exc:
        raise SnapshotFileError(f"{flag} {path}: the store cannot take it: {exc}") from None
    LOG.info("restored %s, the snapshot taken at %s (%s records, %d requests, %d events)", path,
             prepared.header.taken_at, sum(restored.records.values()), restored.journal, restored.events)
    for note in restored.notes:
        LOG.warning("%s", note)
    return restored


def _restored(prepared: Prepared, endpoints: Mapping[str, Any], seed: int | None) -> Restored:
    plan, header = prepared.plan, prepared.header
    tenants: list[TenantJson] = plan["tenants"]
    missing: list[MissingEndpoint] = [{"id": e["id"], "url": e["url"], "participant_id": e["participant_id"]}
                                      for e in plan["webhook_endpoints"] if e["id"] not in endpoints]
    notes = []
    if tenants:
        ids = ", ".join(str(t["participant_id"]) for t in tenants)
        notes.append(f"tenants are never archived with their secrets: to act for participant {ids}, mint a credential "
                     'for it with POST /_emulator/credentials {"participant_id": N}')
    if missing:
        notes.append("webhook endpoints of the snapshot are missing here: add each (POST /_emulator/webhooks/endpoints "
                     "with the same url and participant_id gives the same id) or its deliveries fail")
    if header.seed != seed:
        notes.append(f"the snapshot was taken with --seed {header.seed}, this emulator runs with {seed}: ids drawn "
                     "from now on differ from the original run's either way")
    return Restored(header=header, clock=plan["clock"], records=counted(plan["store"]), journal=len(plan["journal"]),
                    events=len(plan["events"]), findings=len(plan["findings"]),
                    scenarios=len(plan["scenarios"].loaded), tenants_without_secrets=list(tenants),
                    webhook_endpoints_missing=missing, this_seed=seed, notes=notes)
