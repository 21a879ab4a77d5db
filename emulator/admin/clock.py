"""Admin API for the emulator clock and the participants' own clocks: read one, set it, freeze it, advance it
(firing what falls due on it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aiohttp import web

from emulator.admin.schemas import ClockChange, ClockChanged, ClockState
from emulator.core.clock import RANGE, TooManyClocks, checked
from emulator.web.declared import body, query
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME

#: The advance that moves the clock to the soonest pending job.
NEXT_DUE = "next_due"
#: The most pending jobs one answer lists (pending_count counts them all).
SHOWN_JOBS = 100


def snapshot(request: web.Request, participant_id: int | None = None) -> ClockState:
    """The emulator clock, or the clock ``participant_id``'s business time is read from, and the jobs on it."""
    runtime = request.app[RUNTIME]
    scheduler = runtime.services.scheduler
    clock = runtime.clock
    dial = clock.of(participant_id)
    now = dial.now()
    return {"participant_id": participant_id, "own_clock": clock.has_own(participant_id),
            "participant_clocks": clock.owners, "now": now, "iso": clock.iso(now), "frozen": dial.frozen,
            "offset_seconds": round(dial.offset, 3), "wall_time": time.time(),
            "next_due": scheduler.next_due(participant_id), "pending": scheduler.pending(participant_id)[:SHOWN_JOBS],
            "pending_count": scheduler.count(participant_id)}


async def show(request: web.Request) -> web.Response:
    """The emulator clock (or one participant's: ``?participant_id=N``) and the jobs waiting on it."""
    return json_response(snapshot(request, query(request)["participant_id"]))


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
    """Body: any of {"set": unix seconds or ISO 8601, "freeze": true|false, "advance": seconds or "next_due"}, and
    "participant_id" to move that participant's own clock instead of the emulator clock. Every value is checked
    before any is applied, so a refused call changes nothing."""
    runtime = request.app[RUNTIME]
    change = body(request, ClockChange)
    participant = change.participant_id
    scheduler = runtime.services.scheduler
    if participant is not None and runtime.credential_for(participant) is None \
            and not runtime.clock.has_own(participant):
        return _bad(f"participant_id {participant} has no credential: mint one for it (POST /_emulator/credentials "
                    f'{{"participant_id": {participant}}}), or leave participant_id out to move the emulator clock')
    target = runtime.clock.now(participant)
    seconds: float | None = None
    try:
        if change.set is not None:
            target = checked(_timestamp(change.set))
        if change.advance == NEXT_DUE:
            due = scheduler.next_due(participant)
            if due is None:
                whose = "the emulator clock" if participant is None else f"participant {participant}'s clock"
                return _bad(f'advance "next_due": nothing is scheduled on {whose}')
            seconds = max(0.0, due - target)
        elif change.advance is not None:
            seconds = float(change.advance)
        if seconds is not None:
            checked(target + checked(seconds))
        dial = runtime.clock.main if participant is None else scheduler.own_clock(participant)
    except TooManyClocks as exc:
        return json_response({"message": str(exc)}, status=409)
    except (ValueError, OverflowError) as exc:
        return _bad(f"{exc}; the clock runs from {RANGE}" if isinstance(exc, OverflowError) else str(exc))
    fired = 0
    if change.freeze is not None:
        dial.freeze() if change.freeze else dial.unfreeze()
    if change.set is not None:
        dial.set(target)
        fired += await scheduler.fire_due(participant)
    if seconds is not None:
        fired += await scheduler.advance(seconds, participant)
    answer: ClockChanged = {**snapshot(request, participant), "fired": fired}
    return json_response(answer)
