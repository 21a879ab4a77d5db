"""One exchange through the proxy: the request as the client sent it, and the upstream's answer or failure."""

from __future__ import annotations

import importlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

#: Headers that belong to one connection, never forwarded either way (RFC 9110 7.6.1), with Host (the upstream's
#: own is set) and Content-Length (recomputed from the body, which is forwarded unchanged). Proxy-Authorization is
#: forwarded: Kong reads it before Authorization, so it is meant for the upstream, not for this proxy.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "te", "trailer", "trailers",
                        "transfer-encoding", "upgrade", "host", "content-length", "proxy-connection"})

Headers = tuple[tuple[str, str], ...]


def forwardable(headers: Headers) -> Headers:
    """``headers`` without the hop-by-hop ones and those the Connection header names."""
    named = {part.strip().lower() for name, value in headers if name.lower() == "connection"
             for part in value.split(",")}
    return tuple((name, value) for name, value in headers if name.lower() not in HOP_BY_HOP | named)


@dataclass(frozen=True)
class Sent:
    """A request as the client sent it: method, path with its query string, headers in order, raw body."""

    method: str
    target: str
    headers: Headers
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def header(self, name: str) -> str | None:
        """The first value of a header, any case."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


@dataclass(frozen=True)
class Answered:
    """An HTTP answer: status, headers in order, raw body."""

    status: int
    headers: Headers
    body: bytes

    def content(self) -> bytes | None:
        """The body decompressed as its Content-Encoding says (None when it cannot be): for comparing, masking and
        recording; the client gets :attr:`body`, untouched."""
        return decoded(self.headers, self.body)

    def document(self) -> Any:
        """The body (decompressed) as JSON, or None when it is not JSON."""
        return parse_json(self.content() or b"")


#: The default --upstream-max-bytes: the largest answer body the proxy takes from the upstream (Ingo's answers are a
#: few KB); a longer one is a 502, and no more of it is read.
UPSTREAM_MAX_BYTES = 4 * 1024 * 1024
#: At most this many bytes of a compressed body are decompressed for comparing and recording.
MAX_DECODED = 64 * 1024 * 1024


def content_codings(headers: Headers) -> list[str]:
    """The codings a Content-Encoding header lists, in the order applied (``identity`` left out)."""
    return [coding.strip().lower() for name, value in headers if name.lower() == "content-encoding"
            for coding in value.split(",") if coding.strip() and coding.strip().lower() != "identity"]


def decoded(headers: Headers, body: bytes) -> bytes | None:
    """``body`` with its Content-Encoding undone (gzip, deflate, and br when a Brotli module is installed); None
    for an unknown coding, a damaged stream or more than :data:`MAX_DECODED` bytes."""
    for coding in reversed(content_codings(headers)):
        undone = _undo(coding, body)
        if undone is None:
            return None
        body = undone
    return body


def _undo(coding: str, body: bytes) -> bytes | None:
    if coding == "br":
        for name in ("brotli", "brotlicffi"):
            try:
                module: Any = importlib.import_module(name)
            except ImportError:
                continue
            try:
                result = module.decompress(body)
            except Exception:  # noqa: BLE001 - each module has its own error class
                return None
            return bytes(result) if len(result) <= MAX_DECODED else None
        return None
    if coding in ("gzip", "x-gzip"):
        windows = [16 + zlib.MAX_WBITS]
    elif coding == "deflate":
        windows = [zlib.MAX_WBITS, -zlib.MAX_WBITS]  # zlib-wrapped, as RFC 9110 says, or the raw stream many send
    else:
        return None
    for window in windows:
        stream = zlib.decompressobj(window)
        try:
            result = stream.decompress(body, MAX_DECODED)
        except zlib.error:
            continue
        return None if stream.unconsumed_tail else result
    return None


#: How an upstream failed, and how Kong answers the client for it (Kong's standard proxy errors, word for word).
FailureKind = Literal["refused", "timeout", "tls", "invalid", "too_large"]
KONG_ERRORS: dict[str, tuple[int, str]] = {
    "refused": (502, "An invalid response was received from the upstream server"),
    "tls": (502, "An invalid response was received from the upstream server"),
    "invalid": (502, "An invalid response was received from the upstream server"),
    "too_large": (502, "An invalid response was received from the upstream server"),
    "timeout": (504, "The upstream server is timing out"),
}


@dataclass(frozen=True)
class UpstreamFailure:
    """The upstream gave no answer: what went wrong (never the request's content)."""

    kind: FailureKind
    detail: str

    @property
    def status(self) -> int:
        return KONG_ERRORS[self.kind][0]

    @property
    def message(self) -> str:
        return KONG_ERRORS[self.kind][1]

    def answer(self) -> Answered:
        """Kong's answer to the client: the status and ``{"message": ...}`` as JSON."""
        body = json.dumps({"message": self.message}).encode()
        return Answered(self.status, (("Content-Type", "application/json; charset=utf-8"),), body)


@dataclass
class Exchange:
    """A request and what came of it, numbered in the order the proxy saw them."""

    sequence: int
    sent: Sent
    answered: Answered | None = None
    failure: UpstreamFailure | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)


def parse_json(body: bytes) -> Any:
    """``body`` as JSON, or None when it is empty or not JSON."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None
