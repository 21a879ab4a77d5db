"""Transport faults a scenario rule can inject: connection reset, empty reply, hang, gateway error pages."""

from __future__ import annotations

import asyncio
import socket
import struct

from aiohttp import web

from emulator.scenarios.schema import Fault

GATEWAY_PAGES = {
    "http_502": (502, "Bad Gateway"),
    "http_503": (503, "Service Temporarily Unavailable"),
    "http_504": (504, "Gateway Time-out"),
}


class Faulted(Exception):
    """A rule's fault took the place of the answer: a load balancer's error page, or (``page`` None) a connection
    closed without a response. The outermost middleware sends the page or journals the closed connection."""

    def __init__(self, kind: str, page: web.Response | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.page = page


def gateway_page(kind: str) -> web.Response:
    """The HTML error page a load balancer in front of the gateway would send."""
    status, reason = GATEWAY_PAGES[kind]
    body = (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n")
    return web.Response(text=body, status=status, content_type="text/html")


async def perform(request: web.Request, fault: Fault) -> None:
    """Carry out ``fault`` on the request's connection; always raises :class:`Faulted`."""
    if fault.type in GATEWAY_PAGES:
        raise Faulted(fault.type, gateway_page(fault.type))
    transport = request.transport
    if fault.type == "hang":
        try:
            await asyncio.sleep(fault.seconds)
        finally:
            if transport is not None:
                transport.close()
        raise Faulted("hang")
    if transport is None:
        raise Faulted(fault.type)
    if fault.type == "connection_reset":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()
    else:  # empty_reply: close cleanly without a byte of response
        transport.close()
    raise Faulted(fault.type)
