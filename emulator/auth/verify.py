"""Verifying a signed request in Kong's order, with the exact cause of any refusal."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from emulator.auth.diagnosis import AuthenticationFailed
from emulator.auth.header import MalformedAuthorization, ParsedAuthorization, parse_authorization
from emulator.auth.httpdate import (
    FORMS,
    RFC1123_EXAMPLE,
    HttpTime,
    UnreadableDate,
    parse_http_time,
    why_not_rfc1123_gmt,
)
from emulator.auth.kong_signing import HASHES, body_digest, compute_signature, http_date, signing_string
from emulator.core.credentials import Credential

EXAMPLE_DATE = RFC1123_EXAMPLE
#: Which dates X-Date and Date may carry: Kong's (whatever nginx's ngx_parse_http_time reads) or only Ingo's
#: documented form, RFC 1123 in GMT (--x-date-format).
DateFormat = Literal["kong", "rfc1123"]
#: What a refused date's diagnosis asks for, and what Kong reads besides.
EXPECTED_DATE = f"expected RFC 1123 in GMT such as {RFC1123_EXAMPLE!r}"
KONG_ALSO_READS = (" (Kong's date parser, nginx's ngx_parse_http_time, also reads "
                   + " and ".join(f"{name} {example!r}" for name, example in FORMS[1:]) + ")")
#: Headers a signed request must carry at most once: with two, which one was signed is anyone's guess.
SINGLE_HEADERS = ("authorization", "proxy-authorization", "x-date", "date", "content-type", "content-sha512")


@dataclass(frozen=True)
class SignedRequest:
    """What verification needs of an HTTP request; ``headers`` maps lowercase names to values."""

    method: str
    target: str  # path with its query string, as sent
    headers: Mapping[str, str]
    body: bytes
    http_version: str = "1.1"
    repeated: Mapping[str, int] = field(default_factory=dict)  # how often each of SINGLE_HEADERS was sent, if > 1


#: Algorithms Ingo accepts from existing integrations only ("HMAC-SHA256 is accepted for legacy integrations only").
LEGACY_ALGORITHMS = frozenset({"hmac-sha256"})


@dataclass(frozen=True)
class AuthPolicy:
    """The gateway's rules: skew, allowed algorithms, headers that must be signed (from the settings)."""

    clock_skew: int
    algorithms: frozenset[str]
    enforce_headers: tuple[str, ...]
    enforce_body_headers: tuple[str, ...]
    date_format: DateFormat = "rfc1123"


def authenticate(
    request: SignedRequest, credentials: Mapping[str, Credential], policy: AuthPolicy, now: float
) -> Credential:
    """Return the credential that signed ``request`` or raise :class:`AuthenticationFailed`.

    The order is Kong's: header present, date, header grammar and policy, username, signature;
    then the body checks Ingo adds (``Content-sha512``, ``Content-Length``).
    """
    headers = request.headers
    if request.repeated:
        name, count = next(iter(request.repeated.items()))
        raise AuthenticationFailed(
            "duplicate_header", f"the request has {count} {_titled(name)} headers; send exactly one",
            header=_titled(name), count=count)
    # Kong: a header that is present but empty still counts as present (then fails to parse)
    value = headers.get("proxy-authorization")
    if value is None:
        value = headers.get("authorization")
    if value is None:
        raise AuthenticationFailed(
            "missing_authorization",
            "the request has no Authorization header; sign it as "
            'hmac username="...", algorithm="hmac-sha512", headers="...", signature="..."',
        )
    check_date(headers, policy.clock_skew, int(now), policy.date_format)
    try:
        parsed = parse_authorization(value)
    except MalformedAuthorization as exc:
        raise AuthenticationFailed("malformed_authorization", str(exc)) from None
    check_policy(parsed, policy, has_body=bool(request.body))
    credential = credentials.get(parsed.username)
    if credential is None:
        raise AuthenticationFailed(
            "unknown_username", f"no credential has the username {parsed.username!r}", username=parsed.username
        )
    check_signature(request, parsed, credential)
    check_body(request)
    return credential


def check_date(headers: Mapping[str, str], skew: int, now: int, date_format: DateFormat = "rfc1123") -> None:
    """Kong's rule: ``X-Date`` or ``Date`` must parse to within ``skew`` seconds of now, either way, read as nginx's
    ``ngx_parse_http_time`` reads it (kong/plugins/hmac-auth/access.lua calls ``ngx.parse_http_time``): RFC 1123,
    RFC 850 or asctime, always GMT, whatever follows the seconds unread (so a date without a zone passes). With
    ``date_format`` "rfc1123" only Ingo's documented form passes: RFC 1123 in GMT
    (https://developers.ingopayments.com/docs/ingopay/quick-start: "X-Date: Current timestamp in RFC 1123 / GMT
    format")."""
    present = [(name, headers[name]) for name in ("x-date", "date") if headers.get(name)]
    if not present:
        raise AuthenticationFailed(
            "date_missing", f"neither X-Date nor Date is present; send X-Date: {http_date(now)} (RFC 1123, GMT)",
            server_time=http_date(now),
        )
    parsed = [(name, raw, _read_date(raw, date_format)) for name, raw in present]
    usable = [(name, raw, when) for name, raw, when in parsed if isinstance(when, HttpTime)]
    if not usable:
        name, raw, why = parsed[0]
        raise AuthenticationFailed(
            "date_unparseable",
            f"{_title(name)} {raw!r} is not a date the gateway reads ({why}); {EXPECTED_DATE}"
            + (KONG_ALSO_READS if date_format == "kong" else ""),
            server_time=http_date(now), expected_format=f"RFC 1123 in GMT, such as {RFC1123_EXAMPLE}",
        )
    if any(abs(now - when.seconds) <= skew for _, _, when in usable):
        return
    name, raw, when = usable[0]
    offset = when.seconds - now
    direction = "ahead of" if offset > 0 else "behind"
    zone = when.rest.strip()
    unread = (f"; Kong reads every date as GMT and ignores {zone!r} after the seconds (send the time in GMT)"
              if zone and zone != "GMT" else "")
    raise AuthenticationFailed(
        "date_out_of_window",
        f"{_title(name)} {raw!r} is {abs(offset)} s {direction} the server's clock ({http_date(now)}); "
        f"at most {skew} s either way is allowed{unread}",
        server_time=http_date(now), server_timestamp=now, offset_seconds=offset, allowed_skew_seconds=skew,
    )


@functools.lru_cache(maxsize=256)
def _read_date(value: str, date_format: DateFormat) -> HttpTime | str:
    """The date as the gateway reads it, or why it does not (cached: a busy client sends the same X-Date for a
    whole second)."""
    try:
        read = parse_http_time(value)
    except UnreadableDate as exc:
        return str(exc)
    if date_format == "rfc1123":
        why = why_not_rfc1123_gmt(value, read)
        if why is not None:
            return f"{why}; Ingo's pages ask for RFC 1123 in GMT (--x-date-format kong reads it as Kong would)"
    return read


def _titled(name: str) -> str:
    """A header name as people write it: ``X-Date``, ``Content-sha512``."""
    return {"x-date": "X-Date", "content-sha512": "Content-sha512"}.get(name, name.title())


def _title(name: str) -> str:
    return "X-Date" if name == "x-date" else "Date"


def check_policy(parsed: ParsedAuthorization, policy: AuthPolicy, *, has_body: bool) -> None:
    """Enforced headers are signed (Kong's ``enforce_headers``) and the algorithm is allowed."""
    signed = set(parsed.headers)
    required = list(policy.enforce_headers) + (list(policy.enforce_body_headers) if has_body else [])
    for name in required:
        satisfied = name in signed or (name == "x-date" and "date" in signed)
        if not satisfied:
            reason = " (the request has a body)" if name in policy.enforce_body_headers and has_body else ""
            raise AuthenticationFailed(
                "required_header_not_signed",
                f"{name!r} must be listed in headers=\"...\"{reason}; the request signed: {' '.join(parsed.headers)}",
                required_headers=required,
            )
    if parsed.algorithm not in policy.algorithms:
        allowed = ", ".join(sorted(policy.algorithms))
        detail = f"algorithm {parsed.algorithm!r} is not accepted; use one of: {allowed}"
        if parsed.algorithm in LEGACY_ALGORITHMS:
            detail = (f"algorithm {parsed.algorithm!r} is Ingo's legacy algorithm, for existing integrations only; "
                      f"new integrations sign with hmac-sha512 (to accept {parsed.algorithm} here, start the "
                      f"emulator with --algorithms hmac-sha512,{parsed.algorithm})")
        raise AuthenticationFailed("algorithm_not_allowed", detail, allowed_algorithms=sorted(policy.algorithms))


def check_signature(request: SignedRequest, parsed: ParsedAuthorization, credential: Credential) -> None:
    """Compare the client's signature with the server's in constant time; explain a mismatch."""
    message = signing_string(parsed.headers, method=request.method, target=request.target,
                             headers=request.headers, http_version=request.http_version)
    expected = compute_signature(credential.secret, parsed.algorithm, message)
    try:
        given = base64.b64decode(parsed.signature, validate=True)
    except (binascii.Error, ValueError):
        given = None
    if given is not None and hmac.compare_digest(given, expected):
        return
    raise _explain_signature_mismatch(request, parsed, credential, message, expected, given)


def _explain_signature_mismatch(
    request: SignedRequest, parsed: ParsedAuthorization, credential: Credential,
    message: str, expected: bytes, given: bytes | None,
) -> AuthenticationFailed:
    facts: dict[str, object] = {"signing_string": message, "algorithm": parsed.algorithm,
                                "signed_headers": list(parsed.headers)}
    size = len(expected)
    signature = parsed.signature
    if all(c in "0123456789abcdefABCDEF" for c in signature) and len(signature) == 2 * size:
        return AuthenticationFailed(
            "signature_hex", "signature is a hex digest; send Base64 of the raw HMAC bytes instead", **facts)
    if given is None:
        return AuthenticationFailed("signature_not_base64", "signature is not valid Base64", **facts)
    if len(given) == 2 * size and all(chr(b) in "0123456789abcdefABCDEF" for b in given):
        correct = " (the hex digest itself is right)" if given.decode().lower() == expected.hex() else ""
        return AuthenticationFailed(
            "signature_base64_of_hex",
            f"signature is Base64 of a hex digest{correct}; Base64-encode the raw HMAC bytes, not their hex",
            **facts)
    changed = _body_not_signed(request, parsed, credential, given)
    if changed is not None:  # said first: no secret is wrong, the bytes changed after signing
        if changed.client_signing_string is not None:
            facts["client_signing_string"] = changed.client_signing_string
        return AuthenticationFailed("signature_mismatch", changed.detail, **facts, **changed.facts)
    guessed = _guess_client_mistake(request, parsed, credential, given)
    hint = guessed[0] if guessed else None
    if guessed is not None and guessed[1] is not None:
        facts["client_signing_string"] = guessed[1]  # what the client's signature proves it signed
    missing = [h for h in parsed.headers if h not in ("request-line", "@request-target") and h not in request.headers]
    if hint is None and missing:
        hint = f"headers {', '.join(missing)} are listed in headers=\"...\" but absent from the request"
    detail = "the signature does not match the signing string the server built"
    detail += f": {hint}" if hint else "; check the secret and that no signed header changed after signing"
    return AuthenticationFailed("signature_mismatch", detail, **facts)


#: The sentence that opens every diagnosis of a body changed between signing and sending.
NOT_THE_BODY_SIGNED = "the body you sent is not the body you signed"


@dataclass(frozen=True)
class BodyNotSigned:
    """A body received that is not the one the client signed: why, what the client signed when its signature
    reproduces it, and the facts that show it."""

    detail: str
    client_signing_string: str | None
    facts: dict[str, object]


def _body_not_signed(
    request: SignedRequest, parsed: ParsedAuthorization, credential: Credential, given: bytes
) -> BodyNotSigned | None:
    """When the body received is not the one the client signed, say so (not "check the secret"): the signature
    reproduced with the Content-Length of another serialisation of the same JSON (or of the body's length in
    characters), or a signed Content-sha512 that is the SHA-512 of some other body."""
    body = request.body
    declared = (request.headers.get("content-sha512") or "").strip()
    received = {"body_length": len(body), "expected_content_sha512": body_digest(body)}

    def reproduces(length: int) -> str | None:
        signed = signing_string(parsed.headers, method=request.method, target=request.target,
                                headers={**request.headers, "content-length": str(length)},
                                http_version=request.http_version)
        matched = hmac.compare_digest(compute_signature(credential.secret, parsed.algorithm, signed), given)
        return signed if matched else None

    if "content-length" in parsed.headers and body:
        for variant, label in _body_variants(body):
            if variant and (signed := reproduces(len(variant))) is not None:
                what = "and Content-sha512 are" if declared == body_digest(variant) else "is"
                return BodyNotSigned(
                    f"{NOT_THE_BODY_SIGNED}: the signature {what} of {label} ({len(variant)} bytes), but {len(body)} "
                    "bytes were sent; serialise the JSON once, then digest, sign and send those same bytes",
                    signed, {**received, "signed_body_length": len(variant)})
        characters = len(body.decode("utf-8", "replace"))
        if characters != len(body) and (signed := reproduces(characters)) is not None:
            return BodyNotSigned(
                f"the client signed Content-Length {characters}, the body's length in characters; it is its length "
                f"in bytes, {len(body)} (UTF-8)", signed, {**received, "signed_body_length": characters})
    other = _digest_of_another_body(declared, body) if "content-sha512" in parsed.headers else None
    if other is not None:
        return BodyNotSigned(f"{NOT_THE_BODY_SIGNED}: the signed {other}, not of the {len(body)} bytes received; "
                             "serialise the JSON once, then digest, sign and send those same bytes", None, received)
    return None


def _guess_client_mistake(
    request: SignedRequest, parsed: ParsedAuthorization, credential: Credential, given: bytes
) -> tuple[str, str | None] | None:
    """Try the usual mistakes; name the one that reproduces the client's signature, with the signing string the
    client must have signed (None when only the algorithm differs)."""
    def matches(message: str, algorithm: str = parsed.algorithm) -> bool:
        return hmac.compare_digest(compute_signature(credential.secret, algorithm, message), given)

    def build(**changes: str) -> str:
        fields = {"method": request.method, "target": request.target, "http_version": request.http_version}
        fields.update(changes)
        return signing_string(parsed.headers, headers=request.headers, **fields)

    path = request.target.split("?", 1)[0]
    if path != request.target and matches(signed := build(target=path)):
        return "the client signed the request line without its query string; sign the full path with ?query", signed
    for version in ("1.0", "1.1", "2.0"):
        if version != request.http_version and matches(signed := build(http_version=version)):
            return (f"the client signed HTTP/{version} in the request line but the request was "
                    f"HTTP/{request.http_version}", signed)
    if matches(signed := build(method=request.method.lower())):
        return "the client signed the method in lowercase; the request line uses it as sent, e.g. POST", signed
    message = build()
    if matches(signed := message + "\n"):
        return "the client's signing string ends with a newline; lines are joined by \\n with none at the end", signed
    if matches(signed := message.replace("\n", "\r\n")):
        return "the client joined the lines with \\r\\n; join them with \\n", signed
    for algorithm in HASHES:
        if (algorithm != parsed.algorithm and len(given) == HASHES[algorithm]().digest_size
                and matches(message, algorithm)):
            return f"the signature was made with {algorithm} but algorithm=\"{parsed.algorithm}\" was sent", None
    return None


def check_body(request: SignedRequest) -> None:
    """``Content-sha512`` must be Base64 of the raw SHA-512 of the body; ``Content-Length`` its length."""
    body = request.body
    length = request.headers.get("content-length")
    if length is not None and length.strip() != str(len(body)):
        raise AuthenticationFailed(
            "content_length_mismatch",
            f"Content-Length says {length.strip()!r} but the body is {len(body)} bytes",
            body_length=len(body))
    declared = request.headers.get("content-sha512")
    if declared is None:
        if body:
            raise AuthenticationFailed(
                "body_digest_missing",
                f"the request has a {len(body)}-byte body but no Content-sha512 header; send "
                "Base64 of the raw SHA-512 of the body", expected_content_sha512=body_digest(body))
        return
    expected = body_digest(body)
    if hmac.compare_digest(declared.strip().encode("utf-8", "surrogateescape"), expected.encode()):
        return
    raise AuthenticationFailed(
        "body_digest_mismatch", _explain_digest_mismatch(declared.strip(), body),
        expected_content_sha512=expected, body_length=len(body))


def _explain_digest_mismatch(declared: str, body: bytes) -> str:
    raw = hashlib.sha512(body).digest()
    if declared.lower() == raw.hex():
        return "Content-sha512 is the hex digest of the body; send Base64 of the raw digest bytes instead"
    try:
        decoded = base64.b64decode(declared, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if decoded and decoded.decode("latin-1").lower() == raw.hex():
        return "Content-sha512 is Base64 of the hex digest; Base64-encode the raw digest bytes, not their hex"
    if all(c in "0123456789abcdefABCDEF" for c in declared) and len(declared) == 128:
        return ("Content-sha512 is a hex digest, and not of this body; send Base64 of the raw SHA-512 of the exact "
                "body sent")
    if len(decoded) == 32:
        if decoded == hashlib.sha256(body).digest():
            return "Content-sha512 is a SHA-256 digest of the body; use SHA-512"
        return "Content-sha512 is 32 bytes (SHA-256 sized); it must be the 64-byte SHA-512 of the body"
    other = _digest_of_another_body(declared, body)
    if other is not None:
        return (f"{NOT_THE_BODY_SIGNED}: {other}; digest the exact bytes sent (serialise the JSON once and send "
                "those bytes)")
    return "Content-sha512 is not Base64 of a 64-byte SHA-512 digest of the body"


def _digest_of_another_body(declared: str, body: bytes) -> str | None:
    """``Content-sha512 is the digest of <which body>`` when ``declared`` is Base64 of a SHA-512 of another body
    than ``body`` (naming it when it is the same JSON serialised another way); None otherwise."""
    try:
        decoded = base64.b64decode(declared, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(decoded) != hashlib.sha512().digest_size or decoded == hashlib.sha512(body).digest():
        return None
    for variant, label in _body_variants(body):
        if hashlib.sha512(variant).digest() == decoded:
            return f"Content-sha512 is the digest of {label}"
    return "Content-sha512 is a SHA-512 digest of another body"


def _body_variants(body: bytes) -> list[tuple[bytes, str]]:
    variants = [(b"", "an empty body"), (body + b"\n", "the body with a trailing newline"),
                (body.rstrip(b"\r\n"), "the body without its trailing newline")]
    try:
        document = json.loads(body)
        variants.append((json.dumps(document).encode(), "the same JSON serialised with spaces after , and :"))
        variants.append((json.dumps(document, separators=(",", ":")).encode(),
                         "the same JSON serialised compactly"))
        variants.append((json.dumps(document, sort_keys=True).encode(), "the same JSON with sorted keys"))
    except (ValueError, RecursionError, TypeError):  # not JSON, too deep, too long a number, mixed-type keys
        pass
    return [(v, label) for v, label in variants if v != body]
