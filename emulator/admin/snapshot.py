"""Admin API for repro capsules: take a snapshot of the whole emulator, restore one (docs/snapshots.md)."""

from __future__ import annotations

from aiohttp import web

from emulator.admin.answers import SnapshotRestored
from emulator.web.answers import json_response
from emulator.web.snapshot import (
    Restored,
    SnapshotRefused,
    SnapshotTooLarge,
    capture,
    check,
    parse,
    read_archive,
    restore,
)
from emulator.web.state import RUNTIME


async def take(request: web.Request) -> web.Response:
    """The whole emulator as one JSON archive: state, clock, scenarios, journal, events, findings (no secret)."""
    return json_response(capture(request.app[RUNTIME]))


async def bring_back(request: web.Request) -> web.Response:
    """Bring the emulator to the point a snapshot was taken; a refused archive (400, 413) changes nothing."""
    runtime = request.app[RUNTIME]
    try:
        plan = check(parse(await read_archive(request)), runtime)
    except SnapshotTooLarge as exc:
        response = json_response({"message": str(exc)}, status=413)
        response.force_close()  # the rest of the body is not read
        return response
    except SnapshotRefused as exc:
        return json_response({"message": str(exc)}, status=400)
    return json_response(answer(await restore(runtime, plan)))


def answer(restored: Restored) -> SnapshotRestored:
    """What a restore put in place, as the admin API answers it."""
    archive = restored.archive
    return {"restored": {"records": restored.records, "journal": restored.journal, "events": restored.events,
                         "findings": restored.findings, "scenarios": restored.scenarios},
            "rescheduled": {"scheduled_events": restored.rescheduled_events,
                            "webhook_deliveries": restored.rescheduled_deliveries},
            "taken_at": archive.taken_at, "emulator_version": archive.emulator_version, "clock": archive.clock,
            "seed": {"snapshot": archive.seed, "this_emulator": restored.this_seed},
            "tenants_without_secrets": restored.tenants_without_secrets,
            "webhook_endpoints_missing": restored.webhook_endpoints_missing, "notes": restored.notes}
