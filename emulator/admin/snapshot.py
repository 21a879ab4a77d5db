"""Admin API for repro capsules: take a snapshot of the whole emulator, restore one (docs/snapshots.md)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from emulator.admin.schemas import SnapshotRestored
from emulator.settings import named
from emulator.snapshots.capture import capture
from emulator.snapshots.format import SnapshotRefused, SnapshotTooLarge
from emulator.snapshots.restoring import Restored, prepare, restore
from emulator.web.replies import JSON_CONTENT_TYPE, dumps, json_response
from emulator.web.runtime import RUNTIME
from emulator.web.serving import ChunkTooLarge


async def take(request: web.Request) -> web.Response:
    """The whole emulator as one JSON archive: state, clock, scenarios, journal, events, findings (no secret)."""
    runtime = request.app[RUNTIME]
    return json_response(capture(runtime.parts, seed=runtime.settings.seed))


async def bring_back(request: web.Request) -> web.Response:
    """Bring the emulator to the point a snapshot was taken; a refused archive (400, 413) changes nothing. The
    archive is read and checked on a worker thread: the emulator keeps answering meanwhile."""
    runtime = request.app[RUNTIME]
    try:
        raw = await read_archive(request)
    except SnapshotTooLarge as exc:
        response = json_response({"message": str(exc)}, status=413)
        response.force_close()  # the rest of the body is not read
        return response
    async with runtime.restoring:
        try:
            prepared = await asyncio.to_thread(prepare, raw, runtime.parts)
        except SnapshotRefused as exc:
            return json_response({"message": str(exc)}, status=400)
        del raw  # the pieces: the plan holds what it needs
        restored = await restore(prepared, runtime.parts, stop=runtime.stop_jobs, resume=runtime.resume_jobs,
                                 endpoints=runtime.services.deliveries.endpoints, seed=runtime.settings.seed)
    return json_response(answer(restored))


def answer(restored: Restored) -> SnapshotRestored:
    """What a restore put in place, as the admin API answers it."""
    header = restored.header
    return {"restored": {"records": restored.records, "journal": restored.journal, "events": restored.events,
                         "findings": restored.findings, "scenarios": restored.scenarios},
            "rescheduled": restored.rescheduled,
            "taken_at": header.taken_at, "emulator_version": header.emulator_version, "clock": restored.clock,
            "seed": {"snapshot": header.seed, "this_emulator": restored.this_seed},
            "tenants_without_secrets": restored.tenants_without_secrets,
            "webhook_endpoints_missing": restored.webhook_endpoints_missing, "notes": restored.notes}


# -- reading a restore's body ------------------------------------------------------------------------------------------


async def read_archive(request: web.Request) -> list[bytes]:
    """A restore's body, in the pieces it arrived in (joining 60 MB would hold the event loop): up to
    --snapshot-max-bytes (which may exceed --max-body-size), within --body-timeout; SnapshotTooLarge naming the
    setting."""
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
    return chunks


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
