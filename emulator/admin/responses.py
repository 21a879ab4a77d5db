"""Handlers of the admin API (/_emulator/...): thin, JSON in and out."""

from __future__ import annotations

from aiohttp import web

from emulator import __version__
from emulator.admin.provenance import route_index
from emulator.admin.schemas import Health, OutcomeList, RequestList
from emulator.core import outcomes
from emulator.web.declared import query
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME


async def health(request: web.Request) -> web.Response:
    """200 once the emulator is ready (scenarios loaded), 503 before."""
    runtime = request.app[RUNTIME]
    status = 200 if runtime.ready else 503
    answer: Health = {"status": "ok" if runtime.ready else "starting", "version": __version__}
    return json_response(answer, status=status)


async def requests(request: web.Request) -> web.Response:
    """The journal, newest first; filters: path (prefix), status, participant_id, limit. Each entry says which of
    the emulator's choices its answer rested on (``relied_on``)."""
    runtime = request.app[RUNTIME]
    wanted = query(request)
    entries = runtime.journal.entries(path=wanted["path"], http_status=wanted["status"],
                                      participant_id=wanted["participant_id"], limit=wanted["limit"])
    from emulator.web.provenance import choices_of

    routes = route_index(request.app)
    answer: RequestList = {"count": len(entries),
                           "requests": [{**e.as_json(), "relied_on": choices_of(e, routes)} for e in entries]}
    return json_response(answer)


async def outcome_families(request: web.Request) -> web.Response:
    """The outcome families every request, delivery and finding is shown in (words, tone, symbol)."""
    return json_response(OutcomeList(families=outcomes.listing()))
