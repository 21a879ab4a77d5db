"""The signing rule of Kong's hmac-auth, as Ingo uses it: pure functions shared by server and client."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate

#: Algorithm names as they appear in ``algorithm="..."``, and the hash each one uses.
HASHES: dict[str, Callable[..., hashlib._Hash]] = {
    "hmac-sha1": hashlib.sha1,
    "hmac-sha256": hashlib.sha256,
    "hmac-sha384": hashlib.sha384,
    "hmac-sha512": hashlib.sha512,
}

#: The header order of Ingo's authentication page (the session-create page swaps the last two).
DEFAULT_SIGNED_HEADERS = ("request-line", "x-date", "content-type", "content-sha512", "content-length")


def body_digest(body: bytes) -> str:
    """The ``Content-sha512`` value: Base64 of the raw SHA-512 digest of the body."""
    return base64.b64encode(hashlib.sha512(body).digest()).decode("ascii")


def http_date(timestamp: float) -> str:
    """An RFC 1123 date in GMT, as ``X-Date`` wants it: ``Fri, 17 Jan 2020 19:59:29 GMT``."""
    return formatdate(timestamp, usegmt=True)


def request_line(method: str, target: str, http_version: str = "1.1") -> str:
    """Kong's request line: ``"%s %s HTTP/%.01f"`` of method, path with query string, version."""
    return f"{method} {target} HTTP/{float(http_version):.1f}"


def signing_string(
    header_names: Iterable[str],
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    http_version: str = "1.1",
) -> str:
    """Build the string to sign, in the order the client listed its headers (Kong's ``create_hash``).

    ``headers`` maps lowercase header names to values. A listed header the request lacks is
    emitted as ``name:`` with nothing after it, exactly as Kong does.
    """
    lines = []
    for name in header_names:
        value = headers.get(name.lower())
        if value is not None:
            lines.append(f"{name}: {value}")
        elif name == "request-line":
            lines.append(request_line(method, target, http_version))
        elif name == "@request-target":
            lines.append(f"@request-target: {method.lower()} {target}")
        else:
            lines.append(f"{name}:")
    return "\n".join(lines)


def compute_signature(secret: str | bytes, algorithm: str, message: str) -> bytes:
    """The raw HMAC of ``message`` under ``secret`` with the named algorithm."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    # surrogateescape: header bytes that are not UTF-8 reach us as lone surrogates; sign the bytes as sent
    return hmac.new(key, message.encode("utf-8", "surrogateescape"), HASHES[algorithm]).digest()


def encode_signature(raw: bytes) -> str:
    """The signature as the Authorization header carries it: Base64 of the raw HMAC bytes."""
    return base64.b64encode(raw).decode("ascii")


def authorization_header(username: str, algorithm: str, header_names: Iterable[str], signature: str) -> str:
    """The ``Authorization`` value in the exact grammar Ingo documents."""
    names = " ".join(header_names)
    return f'hmac username="{username}", algorithm="{algorithm}", headers="{names}", signature="{signature}"'


@dataclass(frozen=True)
class Signed:
    """A request signed as Kong checks it: the string signed, its signature and the Authorization value."""

    signing_string: str
    signature: str
    authorization: str


def sign_request(secret: str | bytes, *, username: str, algorithm: str, header_names: Iterable[str], method: str,
                 target: str, headers: Mapping[str, str], http_version: str = "1.1") -> Signed:
    """Sign a request (``headers`` by lowercase name) with ``secret``: the one place the signing rule is applied
    for the signing client, the admin API's signing oracle and the proxy's twin."""
    names = list(header_names)
    message = signing_string(names, method=method, target=target, headers=headers, http_version=http_version)
    signature = encode_signature(compute_signature(secret, algorithm, message))
    return Signed(message, signature, authorization_header(username, algorithm, names, signature))
