"""Admin API for webhooks: deliveries with their attempts, redelivery, endpoints, emitting an event."""

from __future__ import annotations

from aiohttp import web

from emulator.admin import schemas
from emulator.waits.deliveries import ALIASES, alias_hint
from emulator.web.declared import body, query
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME
from emulator.webhooks.delivery import Deliveries, public
from emulator.webhooks.endpoints import EndpointSpec


def deliveries(request: web.Request) -> Deliveries:
    return request.app[RUNTIME].services.deliveries


async def listing(request: web.Request) -> web.Response:
    """Deliveries newest first; filters: topic, status, participant_id, event_id."""
    wanted = query(request)
    status = wanted["status"]
    found = deliveries(request).listing(topic=wanted["topic"], status=ALIASES.get(status, status),
                                        participant_id=wanted["participant_id"], event_id=wanted["event_id"])
    answer = schemas.DeliveryList(count=len(found), deliveries=[public(r) for r in found])
    hint = alias_hint([status] if status else None)
    if hint is not None:
        answer["hint"] = hint
    return json_response(answer)


async def detail(request: web.Request) -> web.Response:
    """One delivery with its attempts."""
    record = deliveries(request).get(request.match_info["id"])
    if record is None:
        return json_response({"message": f"no delivery has the id {request.match_info['id']!r}"}, status=404)
    return json_response(public(record))


async def redeliver(request: web.Request) -> web.Response:
    """Send one delivery again now; answers with the delivery and its new attempt."""
    record = await deliveries(request).redeliver(request.match_info["id"])
    if record is None:
        return json_response({"message": f"no delivery has the id {request.match_info['id']!r}"}, status=404)
    return json_response(public(record))


async def endpoints(request: web.Request) -> web.Response:
    """Webhook endpoints."""
    return json_response(schemas.EndpointList(endpoints=[e.as_json() for e in deliveries(request).endpoints.values()]))


async def add_endpoint(request: web.Request) -> web.Response:
    """Body: {"url": ..., "secret": optional, "topics": optional list of patterns, "participant_id": optional}."""
    runtime = request.app[RUNTIME]
    spec = body(request, EndpointSpec)
    endpoint = deliveries(request).add_endpoint(spec.build(runtime.settings.webhook_secret, "api"))
    return json_response(endpoint.as_json(), status=201)


async def remove_endpoint(request: web.Request) -> web.Response:
    """Remove a webhook endpoint."""
    if not deliveries(request).remove_endpoint(request.match_info["id"]):
        return json_response({"message": f"no endpoint has the id {request.match_info['id']!r}"}, status=404)
    return json_response(schemas.Removed(removed=request.match_info["id"]))


async def emit(request: web.Request) -> web.Response:
    """Emit an event now: {"topic", "participant_id", "event": {...}, "ancillary": {...}, "status", "message"}."""
    ask = body(request, schemas.EventToEmit)
    outbox = request.app[RUNTIME].services.outbox
    base = {"participant_unique_id1": "", "participant_unique_id2": "", "session_id": ""}
    item = outbox.emit(ask.topic, ask.participant_id, ancillary={**base, **ask.ancillary}, event=dict(ask.event),
                       status=ask.status, message=ask.message, source="admin")
    return json_response(item.as_json(), status=201)
