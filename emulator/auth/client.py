"""Building the headers that sign a request as Ingo documents it (Kong hmac-auth), for any client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from emulator.auth.kong_signing import DEFAULT_SIGNED_HEADERS, body_digest, http_date, sign_request
from emulator.core.credentials import DEFAULT_SECRET, DEFAULT_USERNAME


def encode_body(body: bytes | str | Mapping[str, Any] | None) -> bytes:
    """The exact bytes to send: JSON documents serialised compactly, text as UTF-8."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def request_target(url: str) -> str:
    """Path and query string of a URL (or of a bare path), as the request line carries them."""
    parts = urlsplit(url)
    target = parts.path or "/"
    return f"{target}?{parts.query}" if parts.query else target


def sign(
    method: str,
    url: str,
    body: bytes | str = b"",
    *,
    username: str = DEFAULT_USERNAME,
    secret: str = DEFAULT_SECRET,
    algorithm: str = "hmac-sha512",
    headers: Iterable[str] | None = None,
    date: str | None = None,
    now: float | None = None,
    content_type: str = "application/json",
    http_version: str = "1.1",
) -> dict[str, str]:
    """Return the headers that sign ``body`` for ``method url``: X-Date, Content-Type,
    Content-sha512, Content-Length and Authorization (built last, as Ingo says).

    ``headers`` is the order of the signed headers; a request without a body signs only
    ``request-line x-date`` unless told otherwise.
    """
    raw = encode_body(body)
    if headers is None:
        headers = DEFAULT_SIGNED_HEADERS if raw or method.upper() not in ("GET", "HEAD") else ("request-line", "x-date")
    names = [h.lower() for h in headers]
    sent = {"x-date": date or http_date(time.time() if now is None else now)}
    if raw or method.upper() not in ("GET", "HEAD"):
        sent.update({"content-type": content_type, "content-sha512": body_digest(raw),
                     "content-length": str(len(raw))})
    signed = sign_request(secret, username=username, algorithm=algorithm, header_names=names, method=method.upper(),
                          target=request_target(url), headers=sent, http_version=http_version)
    result = {"X-Date": sent["x-date"]}
    if "content-type" in sent:
        result.update({"Content-Type": sent["content-type"], "Content-sha512": sent["content-sha512"],
                       "Content-Length": sent["content-length"]})
    result["Authorization"] = signed.authorization
    return result


def curl_command(method: str, url: str, headers: Mapping[str, str], body: bytes) -> str:
    """A ready ``curl`` command that sends exactly these bytes (on stdin) with these headers."""
    import shlex

    parts = ["curl", "-sS", "-X", method.upper(), shlex.quote(url)]
    for name, value in headers.items():
        if name.lower() == "content-length":
            continue  # curl computes it from the body it sends; the value is the same
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if not body:
        return " ".join(parts)
    parts += ["--data-binary", "@-"]
    return f"printf '%s' {shlex.quote(body.decode('utf-8', 'surrogateescape'))} | " + " ".join(parts)
