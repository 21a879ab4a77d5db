"""The /openapi.json route, without importing the document builder until someone asks for the document."""

from __future__ import annotations

from aiohttp import web

OPENAPI_PATH = "/openapi.json"


async def serve(request: web.Request) -> web.Response:
    """GET /openapi.json: the OpenAPI 3.1 document of the emulated API (unsigned)."""
    from emulator.openapi import document  # builds with pydantic's JSON Schema machinery: a cost only this route pays

    return await document.serve(request)


ROUTES = [("GET", OPENAPI_PATH, serve)]
