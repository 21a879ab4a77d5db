"""HTTP handlers of Session Management (the page an authorized URL opens is in emulator/plugin/)."""

from __future__ import annotations

from aiohttp import web

from emulator.gateway.models import Result
from emulator.web.answers import json_object, reply
from emulator.web.scripted import script_for, scripted
from emulator.web.state import CREDENTIAL, RUNTIME
from emulator.sessions.models import SessionService, iso_utc


def sessions(request: web.Request) -> SessionService:
    return request.app[RUNTIME].services["sessions"]


def base_url(request: web.Request) -> str:
    configured = request.app[RUNTIME].settings.public_url
    return configured.rstrip("/") if configured else f"{request.scheme}://{request.host}"


async def create(request: web.Request) -> web.StreamResponse:
    body = await json_object(request)
    script = script_for(request)

    async def run() -> Result:
        issued = sessions(request).create(request[CREDENTIAL].participant_id, body,
                                          request.headers.get("Idempotency-Key"), script)
        session = issued.session
        data = {"session_identifier": session["id"], "authorized_url": base_url(request) + issued.path,
                "authorized_url_expiration_utc": iso_utc(issued.expires_at),
                "participant_unique_id1": session["participant_unique_id1"],
                "participant_unique_id2": session["participant_unique_id2"]}
        message = "Success" if issued.status == 100 else "Success - Idempotent"
        return Result(issued.status, data, message)

    return await scripted(request, script, run,
                          lambda result: reply(request, result.status, result.message, data=result.data))
