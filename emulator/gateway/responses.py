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
from emulator.web.routes import Handler
from emulator.web.runtime import RUNTIME
from emulator.web.scripted import carry_out

#: A gateway operation: the participant and the JSON body in, an answer or a step to carry out back.
Operation = Callable[[Gateway, int, dict[str, Any]], Answer[Any] | Pending[Answer[Any]]]


def _handler(operation: Operation, summary: str) -> Handler:
    """The handler of a gateway ``operation``: read the body, ask the gateway, carry the step out under the scenario
    rules, reply. ``summary`` is its docstring (the OpenAPI document's summary)."""
    async def handle(request: web.Request) -> web.Response:
        body = await json_object(request)
        step = operation(request.app[RUNTIME].services.gateway, request[CREDENTIAL].participant_id, body)
        return reply(request, await carry_out(request, step))

    handle.__name__ = handle.__qualname__ = operation.__name__
    handle.__doc__ = summary
    return handle


async def verify(request: web.Request) -> web.Response:
    """Verify (tokenize) a recipient account."""
    body = await json_object(request)
    step = request.app[RUNTIME].services.gateway.verify(request[CREDENTIAL].participant_id, body)
    answer = await carry_out(request, step)
    # PayPal/Venmo verify answers also carry a top-level recipient_message (reference 2.0).
    extra = {"recipient_message": answer.message} if body.get("account_type") in WALLET_TYPES else None
    return reply(request, answer, extra=extra)


process = _handler(Gateway.process, "Push a payment to a tokenized account (idempotent on participant_unique_id1).")
debit = _handler(Gateway.debit, "Pull money from a tokenized card or bank account (v12).")
biller_search = _handler(Gateway.biller_search, "Find billers that accept an account number.")
payee_search = _handler(Gateway.payee_search,
                        "Find billers and card issuers that accept an account number (the older search).")
risk_session = _handler(Gateway.risk_session, "Create a risk session (v12).")
risk_score = _handler(Gateway.risk_score, "Score a transaction for risk (v12).")
