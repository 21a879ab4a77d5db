"""Reading another server's answer (a webhook receiver's, the proxy's upstream's) within bounds: the header limits
the HTTP client holds it to, a body read no further than what is kept, and one sentence for an answer that breaks
them, in words that quote none of its bytes."""

from __future__ import annotations

import re
from typing import TypedDict

import aiohttp

#: The longest line (status line, one header) read of another server's answer; a longer one fails the exchange.
MAX_HEADER_LINE = 8190
#: The most headers read of another server's answer; more fail the exchange.
MAX_HEADERS = 128


class HeaderLimits(TypedDict):
    """The arguments of ``aiohttp.ClientSession`` that bound the head of an answer."""

    max_line_size: int
    max_field_size: int
    max_headers: int


def header_limits() -> HeaderLimits:
    """What a client session of the emulator reads of an answer's head, at most (aiohttp stops reading there)."""
    return {"max_line_size": MAX_HEADER_LINE, "max_field_size": MAX_HEADER_LINE, "max_headers": MAX_HEADERS}


async def read_at_most(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of ``response``'s body, and whether the body ended within them.

    Nothing beyond is read: aiohttp stops reading the socket while its small buffer is full, so an endless or huge
    body is never held. When the body did not end, close the response (the connection is not reused)."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await response.content.read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit], False


def in_own_words(message: str) -> str:
    """What an HTTP parser found wrong, without the bytes it quotes (they are the other side's, and could be
    anything: a secret, a card number, control characters); empty when nothing is left."""
    first_line = message.strip().splitlines()[0] if message.strip() else ""
    return re.split(r"""['"]|\bb'|\bb\"|[:(]""", first_line, maxsplit=1)[0].strip()


def unreadable(exc: aiohttp.ClientResponseError) -> str:
    """Why aiohttp refused another server's answer (a head over the limits, a broken status line), in one phrase
    that names the limit it broke."""
    message = exc.message or ""
    if message.startswith("Got more than"):
        return f"its head has a line longer than {MAX_HEADER_LINE} bytes (the most the emulator reads)"
    if "too many headers" in message.lower():
        return f"its head has more than {MAX_HEADERS} headers (the most the emulator reads)"
    return f"it is not valid HTTP ({in_own_words(message) or type(exc).__name__})"
