"""Admin API to reset state, steer rate limits and ask the server what signature it expects."""

from __future__ import annotations

import base64
import binascii
import re

from aiohttp import web

from emulator.admin.schemas import ParticipantBody, RateLimitChange, RateLimits, Reset, Signature, SignRequest
from emulator.auth.client import request_target
from emulator.auth.header import MalformedAuthorization, parse_authorization
from emulator.auth.kong_signing import DEFAULT_SIGNED_HEADERS, HASHES, body_digest, sign_request
from emulator.web.declared import body
from emulator.web.hosts import is_loopback
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME


def _bad(message: str) -> web.Response:
    return json_response({"message": message}, status=400)


async def reset(request: web.Request) -> web.Response:
    """Body (optional): {"participant_id": N} to reset one participant; without the key, everything."""
    runtime = request.app[RUNTIME]
    participant = body(request, ParticipantBody).participant_id
    if participant is None:
        runtime.reset()
        return json_response(Reset(reset="everything"))
    runtime.reset(participant)
    return json_response(Reset(reset="participant", participant_id=participant))


async def ratelimit(request: web.Request) -> web.Response:
    """Each credential's rate window."""
    runtime = request.app[RUNTIME]
    limiter = runtime.rate_limiter
    windows = limiter.snapshot()
    answer: RateLimits = {"limit_per_second": runtime.settings.rate_limit, "enabled": limiter.enabled,
                          "credentials": {name: windows.get(name, limiter.idle_window())
                                          for name in runtime.credentials}}
    return json_response(answer)


async def steer_ratelimit(request: web.Request) -> web.Response:
    """Body: {"username": "test", "refuse_next": N} makes its next N requests get 429; {"reset": true} clears."""
    runtime = request.app[RUNTIME]
    change = body(request, RateLimitChange)
    username = change.username
    if change.reset and username is None:
        runtime.rate_limiter.reset()
        return await ratelimit(request)
    if username is None or username not in runtime.credentials:
        return _bad(f"username must name a configured credential: {', '.join(runtime.credentials)}")
    if change.reset:
        runtime.rate_limiter.reset(username)
    if change.refuse_next is not None:
        runtime.rate_limiter.refuse_next(username, change.refuse_next)
    return await ratelimit(request)


async def sign(request: web.Request) -> web.Response:
    """The signing oracle: what the server builds and expects for a request.

    Body: {"method": "POST", "path": "/gateway/verify?x=1", "headers": {...}, "body": "<raw text>",
    "username": optional}. The signed-header order, username and algorithm come from the
    Authorization header when one is given, else the documented defaults. The secret is never returned.
    """
    runtime = request.app[RUNTIME]
    if runtime.settings.admin_token is None and not is_loopback(runtime.settings.host):
        return json_response({"message": f"the signing oracle is off: the emulator listens on {runtime.settings.host} "
                                         "without an admin token, so anyone who reaches the port could have any "
                                         "request signed; set --admin-token (INGOPAY_EMULATOR_ADMIN_TOKEN) to turn "
                                         "it on"}, status=403)
    ask = body(request, SignRequest)
    method = ask.method.upper()
    path = ask.path
    if not path.startswith("/") and "://" not in path:
        return _bad("path must be the request path (with any query string), e.g. /gateway/verify")
    if ask.body_base64 is not None:
        try:
            raw = base64.b64decode(ask.body_base64, validate=True)
        except (binascii.Error, ValueError):
            return _bad("body_base64 is not valid Base64")
    else:
        raw = ask.body.encode("utf-8")
    lowered = {k.lower(): v for k, v in ask.headers.items()}
    order, username, algorithm = list(DEFAULT_SIGNED_HEADERS), ask.username, "hmac-sha512"
    if "authorization" in lowered:
        try:
            parsed = parse_authorization(lowered["authorization"])
        except MalformedAuthorization as exc:
            return _bad(f"Authorization: {exc}")
        order, username, algorithm = list(parsed.headers), parsed.username, parsed.algorithm
    if algorithm not in HASHES:
        return _bad(f"algorithm must be one of {', '.join(HASHES)}")
    credential = runtime.credentials.get(username)
    if credential is None:
        return _bad(f"no credential has the username {username!r}")
    http_version = ask.http_version
    if re.fullmatch(r"[0-9](?:\.[0-9])?", http_version) is None:
        return _bad("http_version must be an HTTP version such as 1.1")
    signed = sign_request(credential.secret, username=username, algorithm=algorithm, header_names=order,
                          method=method, target=request_target(path), headers=lowered, http_version=http_version)
    answer: Signature = {
        "signing_string": signed.signing_string, "signature": signed.signature, "algorithm": algorithm,
        "username": username, "signed_headers": order, "expected_content_sha512": body_digest(raw),
        "expected_content_length": str(len(raw)), "authorization": signed.authorization,
    }
    return json_response(answer)
