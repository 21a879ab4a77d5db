"""HTTP handlers of the gateway: parse, call the domain (under the scenario engine), render."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from aiohttp import web

from emulator.gateway.models import WALLET_TYPES, Gateway, Result
from emulator.web.answers import json_object, reply
from emulator.web.state import CREDENTIAL, RUNTIME
from emulator.web.scripted import script_for, scripted
from emulator.scenarios.scripting import Script

Call = Callable[[Gateway, int, dict[str, Any], Script], Awaitable[Result] | Result]


def gateway(request: web.Request) -> Gateway:
    return request.app[RUNTIME].services["gateway"]


def answer_v11(request: web.Request, result: Result, extra: dict | None = None) -> web.Response:
    return reply(request, result.status, result.message, data=result.data, extra=extra)


def answer_v12(request: web.Request, result: Result, section: str, body: dict) -> web.Response:
    echo = body.get("request") if isinstance(body.get("request"), dict) else {}
    return reply(request, result.status, result.message, echo=echo, sections={section: result.data})


async def handle(request: web.Request, call: Call, render: Callable[[Result, dict[str, Any]], web.StreamResponse]
                 ) -> web.StreamResponse:
    """Parse the body, run the domain call under the scenario engine, render the result."""
    body = await json_object(request)
    script = script_for(request)
    participant_id = request[CREDENTIAL].participant_id

    async def run() -> Result:
        result = call(gateway(request), participant_id, body, script)
        return await result if isinstance(result, Awaitable) else result

    return await scripted(request, script, run, lambda result: render(result, body))


def _verify_answer(request: web.Request) -> Callable[[Result, dict[str, Any]], web.StreamResponse]:
    def render(result: Result, body: dict[str, Any]) -> web.StreamResponse:
        # PayPal/Venmo verify answers also carry a top-level recipient_message (reference 2.0).
        extra = {"recipient_message": result.message} if body.get("account_type") in WALLET_TYPES else None
        return answer_v11(request, result, extra)
    return render


async def verify(request: web.Request) -> web.StreamResponse:
    return await handle(request, lambda g, p, b, s: g.verify(p, b, s), _verify_answer(request))


async def process(request: web.Request) -> web.StreamResponse:
    return await handle(request, lambda g, p, b, s: g.process(p, b, s), lambda r, b: answer_v11(request, r))


async def biller_search(request: web.Request) -> web.StreamResponse:
    return await handle(request, lambda g, p, b, s: g.biller_search(p, b, s), lambda r, b: answer_v11(request, r))


async def debit(request: web.Request) -> web.StreamResponse:
    return await handle(request, lambda g, p, b, s: g.debit(p, b, s),
                        lambda r, b: answer_v12(request, r, "transaction", b))


async def risk_session(request: web.Request) -> web.StreamResponse:
    return await handle(request, lambda g, p, b, s: g.risk_session(p, b, s),
                        lambda r, b: answer_v12(request, r, "session", b))


async def risk_score(request: web.Request) -> web.StreamResponse:
    return await handle(request, lambda g, p, b, s: g.risk_score(p, b, s),
                        lambda r, b: answer_v12(request, r, "transaction", b))
