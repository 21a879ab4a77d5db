"""Admin API for webhook events the emulator has emitted."""

from __future__ import annotations

from aiohttp import web

from emulator.web.answers import json_response
from emulator.web.state import RUNTIME


async def listing(request: web.Request) -> web.Response:
    outbox = request.app[RUNTIME].services["outbox"]
    topic = request.query.get("topic")
    participant = request.query.get("participant")
    events = [e for e in reversed(outbox.events)
              if (topic is None or e.topic == topic)
              and (participant is None or str(e.participant_id) == participant)]
    return json_response({"count": len(events), "events": [e.as_json() for e in events]})
