"""The ceiling: a bare aiohttp server doing only the unavoidable work of each benchmarked endpoint.

POST /gateway/process reads the body, computes its SHA-512 (Content-sha512) and the HMAC-SHA512 of Kong's signing
string, compares both, parses the JSON and answers a small JSON document. GET /_emulator/health answers the same
JSON as the emulator's health endpoint. No middleware, no validation, no state, no journal, no logging.

    python bench/bare.py PORT
    python bench/bare.py PORT --same-imports   # the cold-start baseline: also imports what the emulator does

With ``--same-imports`` it first imports the third-party libraries the emulator has loaded once it answers
(pydantic and PyYAML besides aiohttp; aiohttp's own dependencies come with it), so that the cold-start ratio
compares the emulator's own start-up work, not the price of its dependencies.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from emulator import __version__  # noqa: E402

SECRET = b"ingopay-emulator-secret"
SIGNATURE = re.compile(r'signature="([^"]*)"')


def _json(document: object, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(document, separators=(",", ":")), status=status,
                        content_type="application/json")


async def process(request: web.Request) -> web.Response:
    body = await request.read()
    headers = request.headers
    digest = base64.b64encode(hashlib.sha512(body).digest()).decode("ascii")
    if not hmac.compare_digest(digest, headers.get("Content-sha512", "")):
        return _json({"message": "HMAC signature does not match"}, 401)
    message = (f"{request.method} {request.raw_path} HTTP/1.1\nx-date: {headers.get('X-Date', '')}\n"
               f"content-type: {headers.get('Content-Type', '')}\ncontent-sha512: {headers.get('Content-sha512')}\n"
               f"content-length: {headers.get('Content-Length', '')}")
    expected = base64.b64encode(hmac.new(SECRET, message.encode("utf-8"), hashlib.sha512).digest()).decode("ascii")
    match = SIGNATURE.search(headers.get("Authorization", ""))
    if match is None or not hmac.compare_digest(expected, match.group(1)):
        return _json({"message": "HMAC signature does not match"}, 401)
    document = json.loads(body)
    return _json({"status": 100, "client_message": "Success",
                  "data": {"participant_unique_id1": document.get("participant_unique_id1")}, "time": "0.0001"})


async def health(request: web.Request) -> web.Response:
    return _json({"status": "ok", "version": __version__})


async def main(port: int) -> None:
    app = web.Application()
    app.router.add_post("/gateway/process", process)
    app.router.add_post("/gateway/verify", process)  # the same unavoidable work (for the round-trip figure)
    app.router.add_get("/_emulator/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
    await asyncio.Event().wait()


#: The third-party libraries the emulator has imported when it first answers (besides aiohttp and uvloop).
SAME_IMPORTS = ("pydantic", "yaml")


if __name__ == "__main__":
    if "--same-imports" in sys.argv[2:]:
        import importlib

        for name in SAME_IMPORTS:
            importlib.import_module(name)
    # The same event loop as the emulator (emulator.cli.run_loop): uvloop when installed, so ratios stay fair.
    try:
        import uvloop
        run = uvloop.run
    except ImportError:
        run = asyncio.run
    try:
        run(main(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass
