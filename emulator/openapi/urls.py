"""The /openapi.json route. The document builder is imported when someone first asks for the document: it builds
with pydantic's JSON Schema machinery, a cost only this route pays."""

from __future__ import annotations

from aiohttp import web

from emulator.core.provenance import OWN
from emulator.web.routes import ROUTE_TABLE, Doc, Route

OPENAPI_PATH = "/openapi.json"
_RENDERED: dict[str, bytes] = {}


async def openapi_document(request: web.Request) -> web.Response:
    """This OpenAPI document (unsigned)."""
    if "body" not in _RENDERED:
        from emulator.openapi.document import render

        routes = request.app[ROUTE_TABLE]
        _RENDERED["body"] = render(routes).encode("utf-8")
    return web.Response(body=_RENDERED["body"], content_type="application/json", charset="utf-8")


ROUTES = (Route("GET", OPENAPI_PATH, openapi_document, doc=Doc(tag="Emulator", answer=dict, source=OWN)),)
