"""HTTP handlers of Session Management (the page an authorized URL opens is in emulator/plugin/)."""

from __future__ import annotations

from aiohttp import web

from emulator.web.body import json_object
from emulator.web.outcome import CREDENTIAL
from emulator.web.replies import reply
from emulator.web.runtime import RUNTIME
from emulator.web.scripted import carry_out


def base_url(request: web.Request) -> str:
    """Where the client reaches the emulator: --public-url, else the request's own origin."""
    configured = request.app[RUNTIME].settings.public_url
    return configured.rstrip("/") if configured else f"{request.scheme}://{request.host}"


async def create(request: web.Request) -> web.Response:
    """Create an iFrame session and its authorized URL."""
    body = await json_object(request)
    pending = request.app[RUNTIME].services.sessions.create(
        request[CREDENTIAL].participant_id, body, request.headers.get("Idempotency-Key"), base_url(request))
    return reply(request, await carry_out(request, pending))
