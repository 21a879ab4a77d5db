"""The X-Ingo-Signature the emulator sends, and ``verify_signature`` for receivers.

Ingo has not published its algorithm, so the emulator defines one in the established style
(Stripe, Svix): the header carries a timestamp and a signature over ``"{timestamp}.{raw body}"``::

    X-Ingo-Signature: t=1795014000,v1=Base64(HMAC-SHA512(secret, "1795014000." + body))

Receivers check the HMAC in constant time and refuse timestamps older than a tolerance (replay).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Ingo-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300


def compute(secret: str, timestamp: int, body: bytes) -> str:
    """Base64 of HMAC-SHA512(secret, "{timestamp}." + body)."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha512).digest()).decode("ascii")


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Ingo-Signature`` value for ``body`` sent at ``timestamp``."""
    return f"t={int(timestamp)},{SCHEME}={compute(secret, timestamp, body)}"


def parse_header(header: str) -> tuple[int, list[str]]:
    """(timestamp, [v1 signatures]) from a header value; ValueError when it is not in that form."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise ValueError("expected t=<unix seconds>,v1=<base64 signature>")
    return timestamp, signatures


def verify_signature(payload: bytes | str, header: str, secret: str, *, tolerance: int = DEFAULT_TOLERANCE,
                     now: float | None = None) -> bool:
    """True when ``header`` (the X-Ingo-Signature value) signs ``payload`` (the raw body) with ``secret``
    and its timestamp is within ``tolerance`` seconds of ``now`` (default: the current time; 0 disables).

    Pass the raw request body exactly as received, before any JSON parsing.
    """
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    try:
        timestamp, signatures = parse_header(header)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        return False
    expected = compute(secret, timestamp, body)
    return any(hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))
               for given in signatures)
