"""Admin API for the emulator clock: read it, set it, freeze it, advance it (firing what falls due)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aiohttp import web

from emulator.admin.answers import ClockChanged, ClockState
from emulator.core.clock import RANGE, checked
from emulator.web.answers import json_response
from emulator.web.body import json_object
from emulator.web.state import RUNTIME

#: The advance that moves the clock to the soonest pending job.
NEXT_DUE = "next_due"
#: The most pending jobs one answer lists (pending_count counts them all).
SHOWN_JOBS = 100


def snapshot(request: web.Request) -> ClockState:
    runtime = request.app[RUNTIME]
    scheduler = runtime.services.scheduler
    clock = runtime.clock
    now = clock.now()
    return {"now": now, "iso": clock.iso(now), "frozen": clock.frozen, "offset_seconds": round(clock.offset, 3),
            "wall_time": time.time(), "next_due": scheduler.next_due(), "pending": scheduler.pending()[:SHOWN_JOBS],
            "pending_count": len(scheduler)}


async def show(request: web.Request) -> web.Response:
    """The emulator clock and the jobs waiting on it."""
    return json_response(snapshot(request))


def _timestamp(value: object) -> float:
    """Unix seconds from a number, an ISO 8601 text (UTC when it names no offset) or an HTTP date; ValueError
    otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:  # an HTTP date, as X-Date carries it: "Fri, 17 Jan 2020 19:59:29 GMT"
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                raise ValueError(f"{value[:60]!r} is not an ISO 8601 time such as 2020-01-17T19:59:29Z or an HTTP "
                                 "date such as Fri, 17 Jan 2020 19:59:29 GMT") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    raise ValueError("set must be unix seconds or an ISO 8601 time such as 2026-01-17T19:59:29Z")


def _bad(message: str) -> web.Response:
    return json_response({"message": message}, status=400)


async def change(request: web.Request) -> web.Response:
    """Body: any of {"set": unix seconds or ISO 8601, "freeze": true|false, "advance": seconds or "next_due"}.
    Every value is checked before any is applied, so a refused call changes nothing."""
    runtime = request.app[RUNTIME]
    document = await json_object(request, optional=True)
    if not set(document) <= {"set", "freeze", "advance"} or not document:
        return _bad("expected an object with any of: set, freeze, advance")
    freeze = document.get("freeze")
    if "freeze" in document and not isinstance(freeze, bool):
        return _bad("freeze must be true or false")
    target = runtime.clock.now()
    try:
        if "set" in document:
            target = checked(_timestamp(document["set"]))
        if "advance" in document:
            seconds = document["advance"]
            if seconds == NEXT_DUE:
                due = runtime.services.scheduler.next_due()
                if due is None:
                    return _bad('advance "next_due": nothing is scheduled on the emulator clock')
                seconds = document["advance"] = max(0.0, due - target)
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
                return _bad('advance must be a number of seconds >= 0, or "next_due"')
            checked(target + checked(float(seconds)))
    except (ValueError, OverflowError) as exc:
        return _bad(f"{exc}; the clock runs from {RANGE}" if isinstance(exc, OverflowError) else str(exc))
    scheduler = runtime.services.scheduler
    fired = 0
    if freeze is not None:
        runtime.clock.freeze() if freeze else runtime.clock.unfreeze()
    if "set" in document:
        runtime.clock.set(target)
        fired += await scheduler.run_due()
    if "advance" in document:
        fired += await scheduler.advance(float(document["advance"]))
    answer: ClockChanged = {**snapshot(request), "fired": fired}
    return json_response(answer)
