"""Admin API for webhooks: deliveries with their attempts, redelivery, endpoints, emitting an event."""

from __future__ import annotations

from aiohttp import web

from emulator.admin import answers
from emulator.web.answers import json_response
from emulator.web.body import json_object
from emulator.web.state import RUNTIME
from emulator.webhooks.delivery import Deliveries, public
from emulator.webhooks.endpoints import EndpointError, parse_spec
from emulator.webhooks.topics import TOPICS

STATUSES = ("pending", "delivering", "succeeded", "failed")


def deliveries(request: web.Request) -> Deliveries:
    return request.app[RUNTIME].services.deliveries


async def listing(request: web.Request) -> web.Response:
    """Deliveries newest first; filters: topic, status, participant, event_id."""
    query = request.query
    status = query.get("status")
    if status is not None and status not in STATUSES:
        return json_response({"message": f"status must be one of {', '.join(STATUSES)}"}, status=400)
    try:
        participant = int(query["participant"]) if "participant" in query else None
    except ValueError:
        return json_response({"message": "participant must be an integer"}, status=400)
    found = deliveries(request).listing(topic=query.get("topic"), status=status, participant_id=participant,
                                        event_id=query.get("event_id"))
    return json_response(answers.DeliveryList(count=len(found), deliveries=[public(r) for r in found]))


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
    return json_response(answers.EndpointList(endpoints=[e.as_json() for e in deliveries(request).endpoints.values()]))


async def add_endpoint(request: web.Request) -> web.Response:
    """Body: {"url": ..., "secret": optional, "topics": optional list of patterns, "participant_id": optional}."""
    runtime = request.app[RUNTIME]
    try:
        spec = parse_spec(await json_object(request), "endpoint")
    except EndpointError as exc:
        return json_response({"message": str(exc)}, status=400)
    endpoint = deliveries(request).add_endpoint(spec.build(runtime.settings.webhook_secret, "api"))
    return json_response(endpoint.as_json(), status=201)


async def remove_endpoint(request: web.Request) -> web.Response:
    """Remove a webhook endpoint."""
    if not deliveries(request).remove_endpoint(request.match_info["id"]):
        return json_response({"message": f"no endpoint has the id {request.match_info['id']!r}"}, status=404)
    return json_response(answers.Removed(removed=request.match_info["id"]))


async def emit(request: web.Request) -> web.Response:
    """Emit an event now: {"topic", "participant_id", "event": {...}, "ancillary": {...}, "status", "message"}."""
    document = await json_object(request)
    if not isinstance(document, dict) or document.get("topic") not in TOPICS:
        return json_response({"message": f"topic must be one of: {', '.join(TOPICS)}"}, status=400)
    participant = document.get("participant_id")
    if isinstance(participant, bool) or not isinstance(participant, int):
        return json_response({"message": "participant_id must be an integer"}, status=400)
    event, ancillary = document.get("event", {}), document.get("ancillary", {})
    if not isinstance(event, dict) or not isinstance(ancillary, dict):
        return json_response({"message": "event and ancillary must be objects"}, status=400)
    status = document.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        return json_response({"message": "status must be an integer"}, status=400)
    outbox = request.app[RUNTIME].services.outbox
    base = {"participant_unique_id1": "", "participant_unique_id2": "", "session_id": ""}
    item = outbox.emit(document["topic"], participant, ancillary={**base, **ancillary}, event=event,
                       status=status, message=document.get("message"), source="admin")
    return json_response(item.as_json(), status=201)
