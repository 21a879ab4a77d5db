"""Admin API for the emulator clock: read it, set it, freeze it, advance it (firing what falls due)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aiohttp import web

from emulator.admin.schemas import ClockChange, ClockChanged, ClockState
from emulator.core.clock import RANGE, checked
from emulator.web.declared import body
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME

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
    change = body(request, ClockChange)
    target = runtime.clock.now()
    seconds: float | None = None
    try:
        if change.set is not None:
            target = checked(_timestamp(change.set))
        if change.advance == NEXT_DUE:
            due = runtime.services.scheduler.next_due()
            if due is None:
                return _bad('advance "next_due": nothing is scheduled on the emulator clock')
            seconds = max(0.0, due - target)
        elif change.advance is not None:
            seconds = float(change.advance)
        if seconds is not None:
            checked(target + checked(seconds))
    except (ValueError, OverflowError) as exc:
        return _bad(f"{exc}; the clock runs from {RANGE}" if isinstance(exc, OverflowError) else str(exc))
    scheduler = runtime.services.scheduler
    fired = 0
    if change.freeze is not None:
        runtime.clock.freeze() if change.freeze else runtime.clock.unfreeze()
    if change.set is not None:
        runtime.clock.set(target)
        fired += await scheduler.run_due()
    if seconds is not None:
        fired += await scheduler.advance(seconds)
    answer: ClockChanged = {**snapshot(request), "fired": fired}
    return json_response(answer)
