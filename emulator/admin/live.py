"""Admin API: a server-sent event stream that says when the emulator's state changed (the inspector's live view)."""

from __future__ import annotations

import json

from aiohttp import web

from emulator.web.journaling import client_gone
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME

#: Seconds between keep-alive comments on a quiet stream (proxies close idle connections).
KEEP_ALIVE = 15.0
#: Seconds between looks at whether the tab is still there (a closed tab frees its slot within this).
LOOK = 1.0
#: How long a browser waits before it reconnects a dropped stream, in milliseconds.
RECONNECT_MS = 2000


async def stream(request: web.Request) -> web.StreamResponse:
    """``text/event-stream``: an ``change`` event, its data the kinds that changed (requests, events, webhooks,
    admin), as soon as anything does; a comment every 15 s otherwise."""
    changes = request.app[RUNTIME].changes
    watcher = changes.subscribe()
    if watcher is None:
        return json_response({"message": f"{changes.most} live views are open already; close one (each inspector "
                                         "tab holds one)"}, status=503, headers={"Retry-After": "5"})
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    try:
        await response.prepare(request)
        await response.write(f"retry: {RECONNECT_MS}\nevent: ready\ndata: {{}}\n\n".encode())
        quiet = 0.0
        while True:
            kinds = await watcher.next(LOOK)
            if kinds is None or client_gone(request):  # the emulator stops, or the tab went away: free the slot now
                break
            if kinds:
                quiet = 0.0
                await response.write(f"event: change\ndata: {json.dumps(sorted(kinds))}\n\n".encode())
                continue
            quiet += LOOK
            if quiet >= KEEP_ALIVE:
                quiet = 0.0
                await response.write(b": keep-alive\n\n")
    except (ConnectionResetError, ConnectionError):
        pass  # the tab went away
    finally:
        changes.unsubscribe(watcher)
    return response
