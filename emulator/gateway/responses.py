"""HTTP handlers of the gateway: parse, call the domain, render."""

from __future__ import annotations

from aiohttp import web

from emulator.gateway.models import Gateway, Result
from emulator.http import json_object, reply
from emulator.runtime import CREDENTIAL, RUNTIME


def gateway(request: web.Request) -> Gateway:
    return request.app[RUNTIME].services["gateway"]


def answer_v11(request: web.Request, result: Result) -> web.Response:
    return reply(request, result.status, result.message, data=result.data)


def answer_v12(request: web.Request, result: Result, section: str, body: dict) -> web.Response:
    echo = body.get("request") if isinstance(body.get("request"), dict) else {}
    return reply(request, result.status, result.message, echo=echo, sections={section: result.data})


async def verify(request: web.Request) -> web.Response:
    body = await json_object(request)
    return answer_v11(request, gateway(request).verify(request[CREDENTIAL].participant_id, body))


async def process(request: web.Request) -> web.Response:
    body = await json_object(request)
    return answer_v11(request, await gateway(request).process(request[CREDENTIAL].participant_id, body))


async def biller_search(request: web.Request) -> web.Response:
    body = await json_object(request)
    return answer_v11(request, gateway(request).biller_search(request[CREDENTIAL].participant_id, body))


async def debit(request: web.Request) -> web.Response:
    body = await json_object(request)
    result = gateway(request).debit(request[CREDENTIAL].participant_id, body)
    return answer_v12(request, result, "transaction", body)


async def risk_session(request: web.Request) -> web.Response:
    body = await json_object(request)
    result = gateway(request).risk_session(request[CREDENTIAL].participant_id, body)
    return answer_v12(request, result, "session", body)


async def risk_score(request: web.Request) -> web.Response:
    body = await json_object(request)
    result = gateway(request).risk_score(request[CREDENTIAL].participant_id, body)
    return answer_v12(request, result, "transaction", body)
