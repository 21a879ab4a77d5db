"""Handlers of the admin API (/_emulator/...): thin, JSON in and out."""

from __future__ import annotations

from aiohttp import web

from emulator import __version__
from emulator.http import json_response
from emulator.runtime import RUNTIME


async def health(request: web.Request) -> web.Response:
    """200 once the emulator is ready (scenarios loaded), 503 before."""
    runtime = request.app[RUNTIME]
    status = 200 if runtime.ready else 503
    return json_response({"status": "ok" if runtime.ready else "starting", "version": __version__}, status=status)


async def requests(request: web.Request) -> web.Response:
    """The journal, newest first; filters: path (prefix), status, participant, limit."""
    runtime = request.app[RUNTIME]
    query = request.query
    try:
        status = int(query["status"]) if "status" in query else None
        participant = int(query["participant"]) if "participant" in query else None
        limit = int(query["limit"]) if "limit" in query else None
    except ValueError:
        return json_response({"message": "status, participant and limit must be integers"}, status=400)
    entries = runtime.journal.entries(path=query.get("path"), http_status=status, participant_id=participant,
                                      limit=limit)
    return json_response({"count": len(entries), "requests": [e.as_json() for e in entries]})
