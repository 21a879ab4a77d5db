"""Writing answers: JSON responses, and the domain's answers and Ingo errors in the route's envelope."""

from __future__ import annotations

import json
import time
from typing import Any, NotRequired

from aiohttp import web
from typing_extensions import TypedDict

from emulator.core.answer import Answer
from emulator.core.errors import IngoError
from emulator.web import envelopes
from emulator.web.envelopes import Dialect
from emulator.web.outcome import OUTCOME
from emulator.web.routes import ROUTE_SPECS, RouteSpec
from emulator.web.runtime import RUNTIME

try:
    import orjson
except ImportError:  # the fast extra is not installed
    orjson = None  # type: ignore[assignment, unused-ignore]

JSON_CONTENT_TYPE = "application/json"


class Message(TypedDict):
    """A refusal outside Ingo's envelopes: what is wrong, and (from the middlewares) the request's id."""

    message: str
    request_id: NotRequired[str]


def dumps(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def encoded(document: Any) -> bytes:
    """A JSON document as the bytes of an answer: compact UTF-8, by orjson when it is installed (the fast extra);
    text taken from request bytes that are not UTF-8 (aiohttp keeps them as lone surrogates) as \\uXXXX escapes."""
    if orjson is not None:
        try:
            fast: bytes = orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
            return fast
        except TypeError:  # lone surrogates, integers beyond 64 bits: the standard library's way below
            pass
    try:
        return dumps(document).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document, separators=(",", ":")).encode("ascii")


def json_response(document: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    body = encoded(document)
    return web.Response(body=body, status=status, content_type=JSON_CONTENT_TYPE, charset="utf-8",
                        headers=headers)


def route_spec(request: web.Request) -> RouteSpec | None:
    resource = request.match_info.route.resource
    return request.app[ROUTE_SPECS].get(resource) if resource is not None else None


def reply(request: web.Request, answer: Answer[Any], *, extra: dict[str, Any] | None = None) -> web.Response:
    """Answer with a domain answer in the route's envelope (a v12 answer in the route's section)."""
    return _envelope(request, answer.status, answer.message, answer.data, section=True,
                     http_status=answer.http_status or 200, extra=extra)


def reply_error(request: web.Request, error: IngoError) -> web.Response:
    """Render a business error in the route's envelope, with the emulator's explanation unless turned off."""
    runtime = request.app[RUNTIME]
    diagnosis = error.diagnosis()
    request[OUTCOME].diagnosis = dict(diagnosis)
    extra = {"diagnosis": diagnosis} if runtime.settings.diagnosis else None
    return _envelope(request, error.code, error.message, error.data or {}, section=False,
                     http_status=error.http_status(runtime.settings.error_http_status), extra=extra)


def _envelope(request: web.Request, status: int, message: str, data: Any, *, section: bool, http_status: int,
              extra: dict[str, Any] | None) -> web.Response:
    """The envelope, noting the Ingo status and the answer for the journal."""
    outcome = request[OUTCOME]
    spec = outcome.spec
    dialect = (spec.dialect if spec is not None else None) or Dialect.V11
    body = outcome.request_body
    echo = body["request"] if isinstance(body, dict) and isinstance(body.get("request"), dict) else None
    document = envelopes.render(dialect, status, message, time.perf_counter() - outcome.started, data=data,
                                echo=echo, section=spec.section if section and spec is not None else None)
    if extra:
        document.update(extra)
    outcome.ingo_status = status
    outcome.response_body = document
    return json_response(document, status=http_status)

