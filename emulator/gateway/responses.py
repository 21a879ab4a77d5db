"""HTTP handlers of the gateway: read the body, ask the domain, carry the step out under the scenario rules, answer."""

from __future__ import annotations

from aiohttp import web

from emulator.gateway.models import WALLET_TYPES, Gateway
from emulator.web.body import json_object
from emulator.web.outcome import CREDENTIAL
from emulator.web.replies import reply
from emulator.web.runtime import RUNTIME
from emulator.web.scripted import carry_out


def _gateway(request: web.Request) -> Gateway:
    return request.app[RUNTIME].services.gateway


async def verify(request: web.Request) -> web.Response:
    """Verify (tokenize) a recipient account."""
    body = await json_object(request)
    answer = await carry_out(request, _gateway(request).verify(request[CREDENTIAL].participant_id, body))
    # PayPal/Venmo verify answers also carry a top-level recipient_message (reference 2.0).
    extra = {"recipient_message": answer.message} if body.get("account_type") in WALLET_TYPES else None
    return reply(request, answer, extra=extra)


async def process(request: web.Request) -> web.Response:
    """Push a payment to a tokenized account (idempotent on participant_unique_id1)."""
    body = await json_object(request)
    return reply(request, await carry_out(request, _gateway(request).process(request[CREDENTIAL].participant_id,
                                                                              body)))


async def debit(request: web.Request) -> web.Response:
    """Pull money from a tokenized card or bank account (v12)."""
    body = await json_object(request)
    return reply(request, await carry_out(request, _gateway(request).debit(request[CREDENTIAL].participant_id,
                                                                            body)))


async def biller_search(request: web.Request) -> web.Response:
    """Find billers that accept an account number."""
    body = await json_object(request)
    return reply(request, await carry_out(request, _gateway(request).biller_search(
        request[CREDENTIAL].participant_id, body)))


async def payee_search(request: web.Request) -> web.Response:
    """Find billers and card issuers that accept an account number (the older search)."""
    body = await json_object(request)
    return reply(request, await carry_out(request, _gateway(request).payee_search(
        request[CREDENTIAL].participant_id, body)))


async def risk_session(request: web.Request) -> web.Response:
    """Create a risk session (v12)."""
    body = await json_object(request)
    return reply(request, await carry_out(request, _gateway(request).risk_session(
        request[CREDENTIAL].participant_id, body)))


async def risk_score(request: web.Request) -> web.Response:
    """Score a transaction for risk (v12)."""
    body = await json_object(request)
    return reply(request, await carry_out(request, _gateway(request).risk_score(
        request[CREDENTIAL].participant_id, body)))
