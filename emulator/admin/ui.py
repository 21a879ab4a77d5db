"""The inspector page at /_emulator/ui: static HTML, CSS and JavaScript that read the admin API in the browser.

The files hold no data, so they are served without the admin token (see ``middlewares.admin_guard``); the page
sends the token, when one is set, with every admin API call it makes.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"

#: The only files served, by name, with their content types (nothing else under static/ is reachable).
FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "style.css": "text/css",
}

#: The page may load only its own files and call only its own server.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _file(name: str) -> web.Response:
    content_type = FILES.get(name)
    if content_type is None:
        raise web.HTTPNotFound()
    return web.Response(body=(STATIC / name).read_bytes(), content_type=content_type, charset="utf-8",
                        headers=HEADERS)


async def index(request: web.Request) -> web.Response:
    return _file("index.html")


async def asset(request: web.Request) -> web.Response:
    return _file(request.match_info["name"] or "index.html")
