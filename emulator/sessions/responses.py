"""HTTP handlers of Session Management and of the page an authorized URL opens."""

from __future__ import annotations

import html

from aiohttp import web

from emulator.gateway.models import Result
from emulator.http import json_object, reply
from emulator.scenarios.http import script_for, scripted
from emulator.runtime import CREDENTIAL, RUNTIME
from emulator.sessions.models import SessionNotFound, SessionService, iso_7


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
                "authorized_url_expiration_utc": iso_7(issued.expires_at),
                "participant_unique_id1": session["participant_unique_id1"],
                "participant_unique_id2": session["participant_unique_id2"]}
        message = "Success" if issued.status == 100 else "Success - Idempotent"
        return Result(issued.status, data, message)

    return await scripted(request, script, run,
                          lambda result: reply(request, result.status, result.message, data=result.data))


async def page(request: web.Request) -> web.Response:
    """The iFrame page an authorized URL opens (a plain status page until the plugin issue lands)."""
    service = sessions(request)
    session_id = request.match_info["session_id"]
    ticks, mac = request.query.get("t", ""), request.query.get("h", "")
    try:
        _, session = service.open(session_id, ticks, mac)
    except SessionNotFound:
        return _page("Session not found", "This link does not belong to a session, or it was altered.", 404)
    if service.url_expired(session, ticks):
        return _page("Link expired", "This link was not opened within 30 seconds. Ask for a new link: "
                     "create the session again with the same Idempotency-Key.", 410)
    return _page("Session active", f"Session {session['id']} is {session['status']}.", 200)


def _page(title: str, text: str, status: int) -> web.Response:
    body = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></html>")
    return web.Response(text=body, status=status, content_type="text/html")
