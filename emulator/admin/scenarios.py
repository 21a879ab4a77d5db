"""Admin API for scenarios and triggers: list, activate, reload, upload, delete."""

from __future__ import annotations

import asyncio

from aiohttp import web

from emulator.admin.schemas import (
    Activated,
    Added,
    Deactivated,
    Deleted,
    ParticipantBody,
    Reloaded,
    ScenarioList,
    TriggerList,
)
from emulator.scenarios import triggers
from emulator.scenarios.engine import Engine, FromFiles
from emulator.scenarios.loader import ScenarioError
from emulator.web.body import read_body
from emulator.web.declared import body, query
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME


def engine(request: web.Request) -> Engine:
    return request.app[RUNTIME].services.engine


def problems_response(error: ScenarioError) -> web.Response:
    return json_response({"message": "invalid scenario document", "problems": [str(p) for p in error.problems]},
                         status=400)


async def listing(request: web.Request) -> web.Response:
    """Loaded scenarios and their rules."""
    return json_response(ScenarioList(scenarios=engine(request).listing()))


async def activate(request: web.Request) -> web.Response:
    """Consult the scenario first, for everyone or (body {"participant_id": N}) for one participant."""
    return await _switch(request, on=True)


async def deactivate(request: web.Request) -> web.Response:
    """Stop consulting the scenario, for everyone or for one participant."""
    return await _switch(request, on=False)


async def _switch(request: web.Request, *, on: bool) -> web.Response:
    name = request.match_info["name"]
    participant = body(request, ParticipantBody).participant_id
    change = engine(request).activate if on else engine(request).deactivate
    try:
        change(name, participant)
    except KeyError:
        return json_response({"message": f"no scenario is named {name!r}"}, status=404)
    if on:
        return json_response(Activated(activated=name, participant_id=participant))
    return json_response(Deactivated(deactivated=name, participant_id=participant))


async def remove(request: web.Request) -> web.Response:
    """Delete a scenario added at run time (uploaded, or restored from a snapshot); one the files define is
    refused with 409, since every reset and reload loads it again."""
    name = request.match_info["name"]
    try:
        engine(request).remove(name)
    except KeyError:
        return json_response({"message": f"no scenario is named {name!r}"}, status=404)
    except FromFiles as refused:
        return json_response({"message": str(refused)}, status=409)
    return json_response(Deleted(deleted=name))


async def reload(request: web.Request) -> web.Response:
    """Re-read the configured files (off the event loop); on any problem keep what is loaded and answer 400."""
    scenarios = engine(request)
    try:
        loaded = await asyncio.to_thread(scenarios.sources.load)
    except ScenarioError as error:
        return problems_response(error)
    scenarios.replace(loaded)
    return json_response(Reloaded(reloaded=[item.scenario.name for item in loaded]))


async def upload(request: web.Request) -> web.Response:
    """Add scenarios from a YAML document in the body (validated like a file; 400 with the problems)."""
    raw = await read_body(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return json_response({"message": "the body must be UTF-8 YAML"}, status=400)
    source = query(request)["name"] or "upload.yaml"
    scenarios = engine(request)
    try:
        # off the event loop: a large upload must not stall health checks and other requests
        loaded = await asyncio.to_thread(scenarios.sources.parse, text, source)
    except ScenarioError as error:
        return problems_response(error)
    return json_response(Added(added=scenarios.add(loaded)), status=201)


async def trigger_list(request: web.Request) -> web.Response:
    """The magic values and triggers of the loaded scenarios; filter: scenario."""
    rows = triggers.rows(engine(request), scenario=query(request)["scenario"])
    return json_response(TriggerList(count=len(rows), triggers=rows))
