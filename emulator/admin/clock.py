"""Admin API for the emulator clock: read it, set it, freeze it, advance it (firing what falls due)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from emulator.http import json_response
from emulator.runtime import RUNTIME


def snapshot(request: web.Request) -> dict:
    runtime = request.app[RUNTIME]
    scheduler = runtime.services["scheduler"]
    return {**runtime.clock.snapshot(), "pending": scheduler.pending()[:100], "pending_count": len(scheduler)}


async def show(request: web.Request) -> web.Response:
    return json_response(snapshot(request))


def _timestamp(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    raise ValueError


async def change(request: web.Request) -> web.Response:
    """Body: any of {"set": unix seconds or ISO 8601, "freeze": true|false, "advance": seconds}."""
    runtime = request.app[RUNTIME]
    try:
        document = await request.json()
    except ValueError:
        return json_response({"message": "body must be JSON such as {\"advance\": 172800}"}, status=400)
    if not isinstance(document, dict) or not set(document) <= {"set", "freeze", "advance"} or not document:
        return json_response({"message": "expected an object with any of: set, freeze, advance"}, status=400)
    scheduler = runtime.services["scheduler"]
    fired = 0
    if "freeze" in document:
        if not isinstance(document["freeze"], bool):
            return json_response({"message": "freeze must be true or false"}, status=400)
        runtime.clock.freeze() if document["freeze"] else runtime.clock.unfreeze()
    if "set" in document:
        try:
            runtime.clock.set(_timestamp(document["set"]))
        except (ValueError, OverflowError, OSError):
            return json_response({"message": "set must be unix seconds or an ISO 8601 time"}, status=400)
        fired += await scheduler.run_due()
    if "advance" in document:
        seconds = document["advance"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            return json_response({"message": "advance must be a number of seconds >= 0"}, status=400)
        fired += await scheduler.advance(float(seconds))
    return json_response({**snapshot(request), "fired": fired})
