"""Admin API for tenants: mint a credential with a participant of its own, list credentials, remove a tenant."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import Field

from emulator.admin.schemas import CredentialList, TenantRemoved
from emulator.core.validation import Body
from emulator.gateway.schemas import ParticipantId
from emulator.tenants.models import TenantError
from emulator.web.declared import body
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME
from emulator.webhooks.endpoints import WebhookUrl


class TenantSpec(Body):
    """What a new tenant may be given: its participant id, a webhook endpoint of its own."""

    participant_id: ParticipantId | None = None
    webhook_url: WebhookUrl | None = None
    webhook_secret: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    topics: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list)


async def mint(request: web.Request) -> web.Response:
    """201 with the new tenant's username, secret (shown only here) and participant_id; 409 when the participant
    is taken."""
    runtime = request.app[RUNTIME]
    spec = body(request, TenantSpec)
    if spec.webhook_url is None and (spec.webhook_secret is not None or spec.topics):
        return json_response({"message": "webhook_secret and topics need a webhook_url"}, status=400)
    try:
        tenant = runtime.services.tenants.mint(now=runtime.clock.now(spec.participant_id),
                                               participant_id=spec.participant_id,
                                               webhook_url=spec.webhook_url, webhook_secret=spec.webhook_secret,
                                               topics=tuple(spec.topics))
    except TenantError as exc:
        return json_response({"message": str(exc)}, status=409 if exc.conflict else 400)
    return json_response(tenant.as_json(with_secret=True), status=201)


async def listing(request: web.Request) -> web.Response:
    """Every credential the emulator accepts (configured and minted), never a secret."""
    runtime = request.app[RUNTIME]
    tenants = runtime.services.tenants
    found: CredentialList = {"credentials": []}
    for username, credential in runtime.credentials.items():
        tenant = tenants.get(username)
        found["credentials"].append({
            "username": username, "participant_id": credential.participant_id, "minted": tenant is not None,
            "webhook_endpoint": tenant.endpoint.id if tenant is not None and tenant.endpoint else None})
    return json_response(found)


async def remove(request: web.Request) -> web.Response:
    """Remove a minted tenant and everything of its participant (state, journal, events, findings, jobs)."""
    runtime = request.app[RUNTIME]
    username = request.match_info["username"]
    if username in runtime.credentials and runtime.services.tenants.get(username) is None:
        return json_response({"message": f"{username!r} is a configured credential, not a minted tenant: it stays"},
                             status=409)
    tenant = runtime.services.tenants.remove(username)
    if tenant is None:
        return json_response({"message": f"no tenant has the username {username!r}"}, status=404)
    runtime.rate_limiter.reset(username)
    runtime.reset(tenant.credential.participant_id)
    answer: TenantRemoved = {"removed": username, "participant_id": tenant.credential.participant_id}
    return json_response(answer)
