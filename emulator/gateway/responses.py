"""HTTP handlers of the gateway: read the body, ask the domain, carry the step out under the scenario rules, answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from emulator.core.answer import Answer
from emulator.gateway.models import WALLET_TYPES, Gateway
from emulator.scenarios.facts import Pending
from emulator.web.body import json_object
from emulator.web.outcome import CREDENTIAL
from emulator.web.replies import reply
from emulator.web.runtime import RUNTIME
from emulator.web.scripted import carry_out

#: A gateway operation: the participant and the JSON body in, an answer or a step to carry out back.
Operation = Callable[[Gateway, int, dict[str, Any]], Answer[Any] | Pending[Answer[Any]]]


async def _reply(request: web.Request, operation: Operation) -> web.Response:
    """Read the body, ask the gateway's ``operation``, carry the step out under the scenario rules, answer."""
    body = await json_object(request)
    step = operation(request.app[RUNTIME].services.gateway, request[CREDENTIAL].participant_id, body)
    return reply(request, await carry_out(request, step))


async def verify(request: web.Request) -> web.Response:
    """Verify (tokenize) a recipient account."""
    body = await json_object(request)
    step = request.app[RUNTIME].services.gateway.verify(request[CREDENTIAL].participant_id, body)
    answer = await carry_out(request, step)
    # PayPal/Venmo verify answers also carry a top-level recipient_message (reference 2.0).
    extra = {"recipient_message": answer.message} if body.get("account_type") in WALLET_TYPES else None
    return reply(request, answer, extra=extra)


async def process(request: web.Request) -> web.Response:
    """Push a payment to a tokenized account (idempotent on participant_unique_id1)."""
    return await _reply(request, Gateway.process)


async def debit(request: web.Request) -> web.Response:
    """Pull money from a tokenized card or bank account (v12)."""
    return await _reply(request, Gateway.debit)


async def biller_search(request: web.Request) -> web.Response:
    """Find billers that accept an account number."""
    return await _reply(request, Gateway.biller_search)


async def payee_search(request: web.Request) -> web.Response:
    """Find billers and card issuers that accept an account number (the older search)."""
    return await _reply(request, Gateway.payee_search)


async def risk_session(request: web.Request) -> web.Response:
    """Create a risk session (v12)."""
    return await _reply(request, Gateway.risk_session)


async def risk_score(request: web.Request) -> web.Response:
    """Score a transaction for risk (v12)."""
    return await _reply(request, Gateway.risk_score)
