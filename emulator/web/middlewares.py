"""Cross-cutting concerns, outermost first: observe (journal, log, errors as JSON), the admin guard (own names and
origin only, the admin token when one is set, query and body as the route declares them), and the signed API's
pipeline (authenticate, rate limit, Ingo errors). ``observe`` is the application's one middleware and calls the
other two itself, each only for the paths it concerns: one coroutine frame per request instead of six."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import web

from emulator.auth.diagnosis import AuthenticationFailed
from emulator.auth.verify import SINGLE_HEADERS, SignedRequest, authenticate
from emulator.core.errors import IngoError, MalformedBody
from emulator.core.ids import request_ids
from emulator.core.logs import HEALTH_PATH, access_line
from emulator.core.masking import mask_text
from emulator.core.provenance import OWN, SCENARIO, Source, choice, ingo
from emulator.store import StoreUnavailable
from emulator.web import declared
from emulator.web.body import parse_json, read_body
from emulator.web.faults import Faulted
from emulator.web.headers import HeaderView
from emulator.web.journaling import client_gone, record
from emulator.web.outcome import CREDENTIAL, OUTCOME, Outcome
from emulator.web.replies import json_response, reply_error, route_spec
from emulator.web.runtime import RUNTIME

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LOG = logging.getLogger("ingopay_emulator")
#: The id each request is answered and journaled with.
REQUEST_IDS = request_ids()

#: Ingo's pages name examples /gateway/verify--card, /gateway/v12/debit/process--ach: no such endpoint exists.
DOCS_SUFFIX = re.compile(r"(/gateway/(?:verify|process|v12/debit/process))--[a-z-]+")
#: Kong's answer for a path no route serves.
NO_ROUTE = "no Route matched with those values"
#: Where the answers these middlewares make themselves come from, by their diagnosis code.
DIAGNOSIS_SOURCES: dict[str, Source] = {
    "store_unavailable": OWN, "client_closed_request": OWN, "scenario_fault": SCENARIO,
    "rate_limited": choice("throttle-body"), "rate_limit_forced": OWN,
    "documentation_path": ingo("https://developers.ingopayments.com/docs/hub/api-specs",
                               "the --card suffixes are a documentation device; the 404 is Kong's router's"),
}


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Time the request, turn every failure into JSON, then hand it to the journal (which logs one line and
    journals it in its drain, right after the answer is written)."""
    if request.path == HEALTH_PATH and request.method == "GET":
        return await health_check(request)
    outcome = Outcome(started=time.perf_counter(), request_id=next(REQUEST_IDS), spec=route_spec(request))
    request[OUTCOME] = outcome
    try:
        path = request.path
        if path.startswith(ADMIN_PREFIX) or path == ADMIN_ROOT:
            response = await admin_guard(request, partial(signed_api, handler=handler))
        else:
            response = await signed_api(request, handler)
    except web.HTTPException as exc:
        response = http_error(request, exc)
    except IngoError as error:
        # a body the shared reader refused on a route outside the signed API (admin, plugin pages)
        outcome.diagnosis = dict(error.diagnosis())
        response = json_response({"message": error.detail, "request_id": outcome.request_id},
                                 status=error.http_status("mapped"))
    except StoreUnavailable as failure:
        LOG.error("%s (request %s)", failure, outcome.request_id)
        outcome.diagnosis = {"code": "store_unavailable", "detail": str(failure)}
        response = json_response({"message": str(failure), "request_id": outcome.request_id}, status=503)
    except Faulted as fault:
        outcome.fault = fault.kind
        if fault.page is not None:  # a load balancer's error page, as the rule asked
            response = fault.page
            outcome.diagnosis = {"code": "scenario_fault", "detail": f"{fault.kind} page injected by scenario rule "
                                                                     f"{outcome.matched_rule}"}
            outcome.response_body = fault.page.text
        else:
            # a scenario rule closed the connection on purpose: nothing to answer, nothing wrong with the emulator;
            # journaled as nginx's 444 (connection closed without a response)
            outcome.diagnosis = {"code": "scenario_fault", "detail": f"{fault.kind} injected by scenario rule "
                                                                     f"{outcome.matched_rule}"}
            response = web.Response(status=CLOSED_WITHOUT_RESPONSE)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if isinstance(exc, ConnectionResetError) and client_gone(request):
            # the client closed the connection before its body arrived in full: nobody to answer, and not an
            # error of the emulator; journaled as nginx's 499 (client closed request)
            outcome.diagnosis = {"code": "client_closed_request", "detail": CLIENT_GONE}
            response = json_response({"message": CLIENT_GONE, "request_id": outcome.request_id}, status=499)
        else:
            LOG.exception("unexpected error while handling %s %s (request %s)", request.method, request.path,
                          outcome.request_id)
            response = json_response({"message": "An unexpected error occurred in the emulator",
                                      "request_id": outcome.request_id}, status=500)
    record(request, outcome, response.status)
    return response


CLIENT_GONE = "the client closed the connection before the request arrived in full"


async def health_check(request: web.Request) -> web.StreamResponse:
    """The health probe's short way (orchestrators send one every few seconds): the admin surface's Host and origin
    policy, the route's handler, the log line; nothing to journal, no state read or changed, nothing that fails."""
    started = time.perf_counter()
    response = admin_refusal(request) or await request.match_info.handler(request)
    access_line(request.method, HEALTH_PATH, response.status, None, (time.perf_counter() - started) * 1000, None,
                None)
    return response

CLOSED_WITHOUT_RESPONSE = 444


def http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    """JSON for the router's and aiohttp's own refusals (unknown path, wrong method, body too large)."""
    request_id = request[OUTCOME].request_id
    if exc.status == 404:
        message = NO_ROUTE
    elif exc.status == 405:
        message = f"method {request.method} is not allowed here"
    elif exc.status == 413:
        limit = request.app[RUNTIME].settings.max_body_size
        message = f"request body is too large; the limit is {limit} bytes"
    else:
        message = _own_message(exc) or exc.reason
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    document: dict[str, object] = {"message": message, "request_id": request_id}
    suffixed = DOCS_SUFFIX.fullmatch(request.path) if exc.status == 404 else None
    if suffixed and request.app[RUNTIME].settings.diagnosis:
        document["diagnosis"] = {"code": "documentation_path", "detail": (
            f"{request.path} is how Ingo's pages name one account type's example; the endpoint is "
            f"{suffixed.group(1)} for every account type (it branches on account_type)")}
    response = json_response(document, status=exc.status, headers=headers)
    if exc.status in (400, 408, 413):
        response.force_close()  # the rest of the body is not read: the connection cannot carry another request
    return response


def _own_message(exc: web.HTTPException) -> str | None:
    """The message a handler put in a JSON HTTPException it raised, if any."""
    if exc.content_type != "application/json" or not exc.text:
        return None
    try:
        document = json.loads(exc.text)
    except ValueError:
        return None
    message = document.get("message") if isinstance(document, dict) else None
    return message if isinstance(message, str) else None


async def signed_api(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The pipeline of signed routes, in Kong's plugin order: verify the HMAC signature (401 with Kong's message
    and a diagnosis), then the rate limit per credential (429); then the handler, whose business errors are
    rendered in the endpoint's envelope."""
    outcome = request[OUTCOME]
    spec = outcome.spec
    if spec is None or not spec.signed:
        return await handler(request)
    runtime = request.app[RUNTIME]
    outcome.endpoint = spec.endpoint
    body = await read_body(request)
    version = request.version
    raw_headers = request.headers
    repeated = {name: count for name in SINGLE_HEADERS if (count := len(raw_headers.getall(name, ()))) > 1}
    signed = SignedRequest(request.method, request.raw_path, HeaderView(raw_headers), body,
                           f"{version.major}.{version.minor}", repeated)
    try:
        credential = authenticate(signed, runtime.credentials, runtime.auth_policy, runtime.signature_now())
    except AuthenticationFailed as failure:
        outcome.diagnosis = failure.diagnosis.as_json()
        outcome.request_body = _as_sent(body)
        document: dict[str, object] = {"message": failure.message, "request_id": outcome.request_id}
        if runtime.settings.diagnosis:
            document["diagnosis"] = outcome.diagnosis
        outcome.response_body = document
        return json_response(document, status=401, headers={"WWW-Authenticate": "hmac"})
    request[CREDENTIAL] = credential
    outcome.credential = credential
    limiter = runtime.rate_limiter
    admission = limiter.acquire(credential.username) \
        if limiter.enabled or limiter.forces(credential.username) else None
    if admission is not None and not admission.allowed:
        outcome.retry_after = admission.reset
        outcome.diagnosis = dict(admission.explained())  # journaled even when --no-diagnosis leaves it out
        throttled = admission.refusal(diagnosis=runtime.settings.diagnosis)
        outcome.response_body = throttled
        return json_response(throttled, status=429, headers=admission.headers())
    try:
        response = await handler(request)
    except IngoError as error:
        response = reply_error(request, error)
    if admission is not None:
        response.headers.update(admission.headers())
    return response


#: The most of a refused request's body the journal keeps when it is not JSON.
TEXT_BODY_KEPT = 4096


def _as_sent(body: bytes) -> Any:
    """A body the handler never read, for the journal (masked there): its JSON, else its text, else None."""
    if not body.strip():
        return None
    try:
        return parse_json(body)
    except MalformedBody:
        return mask_text(body[:TEXT_BODY_KEPT].decode("utf-8", "replace"))


#: Admin paths anyone may reach even when --admin-token is set (container health checks; the inspector's static
#: files, which hold no data: the page sends the token with each admin API call it makes).
OPEN_ADMIN_PATHS = frozenset({HEALTH_PATH, "/_emulator/ui"})
OPEN_ADMIN_PREFIXES = ("/_emulator/ui/",)
ADMIN_PREFIX = "/_emulator/"
ADMIN_ROOT = ADMIN_PREFIX.rstrip("/")
#: Content types a page on another origin cannot send without a CORS preflight (which is never granted).
JSON_TYPES = frozenset({"application/json"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}) | JSON_TYPES
#: Where a scenario document may be uploaded as YAML.
YAML_UPLOADS = frozenset({"/_emulator/scenarios"})
#: Sec-Fetch-Site values of a request the emulator's own pages (or no page at all) made.
OWN_FETCH_SITES = frozenset({"same-origin", "none"})


def _forbidden(message: str) -> web.Response:
    return json_response({"message": message}, status=403)


def admin_refusal(request: web.Request) -> web.Response | None:
    """Why a request to the admin surface (/_emulator) is refused, or None: a foreign Host (DNS rebinding), a page
    on another origin, or a state change in a content type a page could send without a preflight."""
    runtime = request.app[RUNTIME]
    policy = runtime.host_policy
    host = request.headers.get("Host")
    if not policy.allows_host(host):
        return _forbidden(f"Host {host!r} is not a name of this emulator, so the admin API does not answer it (a "
                          "guard against DNS rebinding); allow the name with --allowed-hosts or "
                          "INGOPAY_EMULATOR_ALLOWED_HOSTS (comma separated, * for any)")
    origin = request.headers.get("Origin")
    if origin is not None and not policy.is_own_origin(origin, request.scheme, host):
        return _forbidden(f"requests from a page on another origin ({origin}) are refused by the admin API; "
                          "call it from your test code or the inspector, not from a web page")
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.lower() not in OWN_FETCH_SITES:
        return _forbidden(f"requests a browser made for a {site} page are refused by the admin API; "
                          "call it from your test code or the inspector, not from a web page")
    if request.method == "POST":
        upload = request.path in YAML_UPLOADS
        if request.content_type not in (YAML_TYPES if upload else JSON_TYPES):
            sent = request.headers.get("Content-Type")
            wanted = "application/yaml (or application/json)" if upload else "application/json (even with no body)"
            return json_response({"message": f"admin calls that change state must send Content-Type: {wanted}, "
                                             f"not {sent or 'none'}: a web page on another origin cannot send "
                                             "that without a preflight, which the emulator never grants"},
                                 status=415)
    return None


def _open(path: str) -> bool:
    """Whether a path is one anyone may reach (health, the inspector's files): it takes no admin input."""
    return path in OPEN_ADMIN_PATHS or path.startswith(OPEN_ADMIN_PREFIXES)


async def _admin_call(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An admin call let through once its query and body are what its route declares (a 400 naming what is not,
    before anything changes), and once every request answered so far is journaled (what it reads, the journal,
    findings, waits, rehearsals or a snapshot, then includes it); one that may have changed state (not a GET) tells
    the live watchers."""
    if not _open(request.path):
        refused = await declared.refusal(request)
        if refused is not None:
            return refused
        request.app[RUNTIME].journal.settle()
    try:
        return await handler(request)
    finally:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            request.app[RUNTIME].changes.notify("admin")


async def admin_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The admin API under /_emulator: only for the emulator's own names and origin, and with --admin-token only
    for requests that carry the token (``observe`` calls it for those paths only)."""
    path = request.path
    refusal = admin_refusal(request)
    if refusal is not None:
        return refusal
    token = request.app[RUNTIME].settings.admin_token
    if token is None or _open(path):
        return await _admin_call(request, handler)
    given = request.headers.get("X-Emulator-Admin-Token")
    authorization = request.headers.get("Authorization", "")
    if given is None and authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    if given is not None and hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode()):
        return await _admin_call(request, handler)
    return json_response({"message": "the admin API needs the admin token: send Authorization: Bearer <token> "
                                     "or X-Emulator-Admin-Token"}, status=401,
                         headers={"WWW-Authenticate": 'Bearer realm="ingopay-emulator admin"'})
