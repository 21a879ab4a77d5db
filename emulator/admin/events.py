"""Admin API for webhook events the emulator has emitted."""

from __future__ import annotations

from aiohttp import web

from emulator.admin.schemas import EventList
from emulator.web.declared import query
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME


async def listing(request: web.Request) -> web.Response:
    """Webhook events emitted, newest first; filters: topic, participant_id."""
    outbox = request.app[RUNTIME].services.outbox
    wanted = query(request)
    topic, participant = wanted["topic"], wanted["participant_id"]
    events = [e for e in reversed(outbox.events)
              if (topic is None or e.topic == topic)
              and (participant is None or e.participant_id == participant)]
    answer: EventList = {"count": len(events), "events": [e.as_json() for e in events]}
    return json_response(answer)
