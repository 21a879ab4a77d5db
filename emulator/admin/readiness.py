"""Admin API for readiness rehearsals: start one for a participant, read its report (JSON), list them, and the
evidence pack as Markdown, HTML or JSON."""

from __future__ import annotations

import time

from aiohttp import web

from emulator.core.validation import Body
from emulator.gateway.schemas import ParticipantId
from emulator.readiness import render
from emulator.readiness.report import ReadinessJson, RehearsalList, listed, report
from emulator.web.declared import body, query
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME, Runtime

#: Each format of the evidence pack: its content type.
MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "json": "application/json"}


class ReadinessStart(Body):
    """The participant whose rehearsal starts (again)."""

    participant_id: ParticipantId


class NoRehearsal(Exception):
    """The call names no participant, or one without a rehearsal; the message says how to start one."""


def _report(request: web.Request) -> ReadinessJson:
    runtime = request.app[RUNTIME]
    participant = query(request)["participant_id"]
    rehearsals = runtime.services.readiness
    if participant is None:
        under_way = ", ".join(str(r.participant_id) for r in rehearsals.listing()) or "none"
        raise NoRehearsal(f"name the participant: ?participant_id=N (rehearsals under way: {under_way})")
    rehearsal = rehearsals.get(participant)
    if rehearsal is None:
        raise NoRehearsal(f"participant {participant} has no rehearsal: start one with POST /_emulator/readiness "
                          f'{{"participant_id": {participant}}}')
    return report(rehearsal, rehearsals.plan, now=runtime.clock.now(), wall_now=time.time())


def _missing(missing: NoRehearsal) -> web.Response:
    return json_response({"message": str(missing)}, status=404 if "no rehearsal" in str(missing) else 400)


def _known(runtime: Runtime, participant: int) -> bool:
    return any(credential.participant_id == participant for credential in runtime.credentials.values())


async def start(request: web.Request) -> web.Response:
    """Start (or start again, from nothing) the rehearsal of a participant a credential or tenant acts for."""
    runtime = request.app[RUNTIME]
    participant = body(request, ReadinessStart).participant_id
    if not _known(runtime, participant):
        return json_response({"message": f"no credential acts for participant {participant}: mint a tenant (POST "
                                         "/_emulator/credentials) or configure one (--credentials)"}, status=404)
    rehearsals = runtime.services.readiness
    rehearsal = rehearsals.start(participant)
    return json_response(report(rehearsal, rehearsals.plan, now=runtime.clock.now(), wall_now=time.time()),
                         status=201)


async def show(request: web.Request) -> web.Response:
    """The rehearsal's report as JSON: each scenario judged now."""
    try:
        return json_response(_report(request))
    except NoRehearsal as missing:
        return _missing(missing)


async def listing(request: web.Request) -> web.Response:
    """Every rehearsal under way, started longest ago first, with how much each has seen (not judged)."""
    rehearsals = request.app[RUNTIME].services.readiness
    answer: RehearsalList = {"rehearsals": [listed(r) for r in rehearsals.listing()]}
    return json_response(answer)


async def evidence_pack(request: web.Request) -> web.Response:
    """The report as one document to attach to a certification request: Markdown (the default), HTML or JSON."""
    try:
        found = _report(request)
    except NoRehearsal as missing:
        return _missing(missing)
    shape = query(request)["format"] or "md"
    name = f"readiness-participant-{found['participant_id']}.{shape}"
    headers = {"Content-Disposition": f'inline; filename="{name}"'}
    if shape == "json":
        return json_response(found, headers=headers)
    text = render.page(found) if shape == "html" else render.markdown(found)
    return web.Response(text=text, content_type=MEDIA_TYPES[shape], charset="utf-8", headers=headers)
