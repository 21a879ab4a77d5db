"""Reading request bodies: the one reader of every route, within the body timeout, as JSON that cannot hurt."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from typing import Any

from aiohttp import web

from emulator.core.errors import MalformedBody
from emulator.web.outcome import OUTCOME
from emulator.web.replies import JSON_CONTENT_TYPE, dumps
from emulator.web.runtime import RUNTIME
from emulator.web.serving import ChunkTooLarge

#: Deepest nesting of objects and arrays a JSON body may have (Ingo's deepest request nests 3 levels).
MAX_JSON_DEPTH = 32
TOO_DEEP = f"the request body is nested too deeply: objects and arrays may nest at most {MAX_JSON_DEPTH} levels"


def _refuse_constant(name: str) -> Any:
    raise MalformedBody(f"the request body contains {name}, which is not valid JSON; send a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400: Python reads infinity, which no JSON answer could carry back
        raise MalformedBody(f"the request body contains the number {text[:40]}, which is too large; "
                            "send a number within the range of a double")
    return value


#: The decoder of every body, made once: ``json.loads`` with hooks would build one (and its scanner) per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)
#: What ``json.loads`` says of text that still starts with a byte order mark (one was already taken off).
_BOM = "Unexpected UTF-8 BOM (decode using utf-8-sig)"


def _loads(text: str) -> Any:
    """``json.loads(text, parse_constant=..., parse_float=...)``, with the decoder made once."""
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError(_BOM, text, 0)
    return _DECODER.decode(text)


def _too_deep(document: Any, limit: int) -> bool:
    """Whether ``document`` nests objects and arrays more than ``limit`` deep (iteratively: no recursion)."""
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


async def read_body(request: web.Request) -> bytes:
    """The raw body, read within the body timeout (a 408 that closes the connection when it stalls)."""
    timeout = request.app[RUNTIME].settings.body_timeout
    try:
        if request.content.is_eof():  # it all came with the headers (as a small body does): nothing can stall
            return await request.read()
        async with asyncio.timeout(timeout):
            return await request.read()
    except ChunkTooLarge as exc:
        if not exc.absurd:
            raise web.HTTPRequestEntityTooLarge(max_size=request.client_max_size, actual_size=exc.size) from None
        raise web.HTTPBadRequest(text=dumps({"message": str(exc)}), content_type=JSON_CONTENT_TYPE) from None
    except TimeoutError:
        raise web.HTTPRequestTimeout(
            text=dumps({"message": f"the request body did not arrive within {timeout:g} s; the connection is closed"}),
            content_type=JSON_CONTENT_TYPE, headers={"Connection": "close"}) from None


def parse_json(raw: bytes, *, empty: Any = None) -> Any:
    """A JSON document from body bytes, or :class:`MalformedBody` naming what is wrong (never a RecursionError).

    ``empty`` is what an empty body means (None: an empty body is refused).
    """
    if not raw.strip():
        if empty is not None:
            return empty
        raise MalformedBody("the request body is empty; send a JSON object")
    try:
        # decoded here, not by json.loads, which would guess UTF-16 or UTF-32 from the first bytes
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"the request body is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}); "
                            "send JSON encoded as UTF-8") from None
    try:
        document = _loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedBody(f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno}") from None
    except RecursionError:
        raise MalformedBody(TOO_DEEP) from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise MalformedBody(f"the request body contains an integer of more than {sys.get_int_max_str_digits()} "
                            "digits; send a shorter number") from None
    # A body with few brackets cannot nest deeply: only count levels when it has many.
    if raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH and _too_deep(document, MAX_JSON_DEPTH):
        raise MalformedBody(TOO_DEEP)
    return document


async def json_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object (``{}`` for an empty body when ``optional``), or :class:`MalformedBody`."""
    document = parse_json(await read_body(request), empty={} if optional else None)
    if not isinstance(document, dict):
        raise MalformedBody(f"the request body must be a JSON object, not {_json_type(document)}")
    request[OUTCOME].request_body = document
    return document


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")
