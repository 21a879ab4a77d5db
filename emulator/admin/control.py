"""Admin API to reset state, steer rate limits and ask the server what signature it expects."""

from __future__ import annotations

import base64
import binascii
import re
import time

from aiohttp import web

from emulator.auth.header import MalformedAuthorization, parse_authorization
from emulator.auth.signing import DEFAULT_SIGNED_HEADERS, HASHES, authorization_header, body_digest, \
    compute_signature, encode_signature, signing_string
from emulator.client import request_target
from emulator.web.hosts import is_loopback
from emulator.web.answers import json_object, json_response
from emulator.web.state import RUNTIME, Runtime
from emulator.scenarios.catalog import load_configured
from emulator.scenarios.loader import ScenarioError


def _bad(message: str) -> web.Response:
    return json_response({"message": message}, status=400)


def reset_everything(runtime: Runtime) -> None:
    """Back to a fresh start: state, journal, events, rate windows, scenario counts and activations, clock."""
    services = runtime.services
    services["scheduler"].cancel()
    runtime.store.reset()
    runtime.journal.clear()
    services["outbox"].clear()
    runtime.rate_limiter.reset()
    try:
        services["scenarios"].replace(load_configured(runtime.settings))
    except ScenarioError:
        services["scenarios"].reset_counts()  # files broke since start: keep the rules that are loaded
    services["scenarios"].active_for.clear()
    runtime.clock.unfreeze()
    runtime.clock.set(time.time())


def reset_participant(runtime: Runtime, participant_id: int) -> None:
    """Forget one participant's state, journal, events, pending jobs, rate window and scenario counts."""
    services = runtime.services
    services["scheduler"].cancel(participant_id)
    runtime.store.reset(participant_id)
    runtime.journal.clear(participant_id)
    services["outbox"].clear(participant_id)
    services["scenarios"].reset_counts(participant_id)
    services["scenarios"].active_for.pop(participant_id, None)
    for credential in runtime.credentials.values():
        if credential.participant_id == participant_id:
            runtime.rate_limiter.reset(credential.username)


async def reset(request: web.Request) -> web.Response:
    """Body (optional): {"participant_id": N} to reset one participant; without it, everything."""
    runtime = request.app[RUNTIME]
    participant = (await json_object(request, optional=True)).get("participant_id")
    if participant is None:
        reset_everything(runtime)
        return json_response({"reset": "everything"})
    if isinstance(participant, bool) or not isinstance(participant, int):
        return _bad("participant_id must be an integer")
    reset_participant(runtime, participant)
    return json_response({"reset": "participant", "participant_id": participant})


async def ratelimit(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return json_response({"limit_per_second": runtime.settings.rate_limit,
                          "enabled": runtime.rate_limiter.enabled,
                          "credentials": {name: runtime.rate_limiter.snapshot().get(name, {
                              "limit": runtime.rate_limiter.limit, "in_window": 0,
                              "remaining": runtime.rate_limiter.limit, "forced_refusals": 0})
                              for name in runtime.credentials}})


async def steer_ratelimit(request: web.Request) -> web.Response:
    """Body: {"username": "test", "refuse_next": N} makes its next N requests get 429; {"reset": true} clears."""
    runtime = request.app[RUNTIME]
    document = await json_object(request, optional=True)
    username = document.get("username")
    if document.get("reset") is True and username is None:
        runtime.rate_limiter.reset()
        return await ratelimit(request)
    if username not in runtime.credentials:
        return _bad(f"username must name a configured credential: {', '.join(runtime.credentials)}")
    if document.get("reset") is True:
        runtime.rate_limiter.reset(username)
    if "refuse_next" in document:
        count = document["refuse_next"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            return _bad("refuse_next must be an integer >= 0")
        runtime.rate_limiter.refuse_next(username, count)
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
    document = await json_object(request, optional=True)
    method = str(document.get("method", "POST")).upper()
    path = document.get("path")
    if not isinstance(path, str) or not path.startswith("/") and "://" not in path:
        return _bad("path must be the request path (with any query string), e.g. /gateway/verify")
    headers = document.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return _bad("headers must be an object of header names to text values")
    body_field = document.get("body", "")
    if isinstance(body_field, dict):
        return _bad("body must be the raw text that is sent (serialise the JSON yourself: the bytes matter)")
    if "body_base64" in document:
        try:
            body = base64.b64decode(document["body_base64"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            return _bad("body_base64 is not valid Base64")
    else:
        body = str(body_field).encode("utf-8")
    lowered = {k.lower(): v for k, v in headers.items()}
    order, username, algorithm = list(DEFAULT_SIGNED_HEADERS), document.get("username", "test"), "hmac-sha512"
    if not isinstance(username, str):
        return _bad("username must be text")
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
    http_version = str(document.get("http_version", "1.1"))
    if re.fullmatch(r"[0-9](?:\.[0-9])?", http_version) is None:
        return _bad("http_version must be an HTTP version such as 1.1")
    message = signing_string(order, method=method, target=request_target(path), headers=lowered,
                             http_version=http_version)
    signature = encode_signature(compute_signature(credential.secret, algorithm, message))
    return json_response({
        "signing_string": message, "signature": signature, "algorithm": algorithm, "username": username,
        "signed_headers": order, "expected_content_sha512": body_digest(body),
        "expected_content_length": str(len(body)),
        "authorization": authorization_header(username, algorithm, order, signature),
    })
