"""HTTP handlers of the iFrame plugin: the session page and its calls, the SDK, and the demo host page."""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Callable
from importlib import resources
from string import Template
from typing import Any

import aiohttp
from aiohttp import web

from emulator.auth.client import encode_body, sign
from emulator.core.errors import IngoError
from emulator.core.validation import Body
from emulator.plugin.models import DESTINATIONS, EVENTS, PageState, Plugin, Refused, Submitted, frame_ancestors
from emulator.sessions.responses import base_url
from emulator.web.body import json_object
from emulator.web.declared import body as declared_body
from emulator.web.outcome import OUTCOME
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME
from emulator.web.scripted import carry_out

STATIC = resources.files("emulator.plugin").joinpath("static")
#: Files served under /plugin/static/ (and the SDK under /plugin/sdk/), with their content types.
STATIC_FILES = {"page.js": "application/javascript", "page.css": "text/css", "demo.js": "application/javascript",
                "demo.css": "text/css"}
SDK_NAME = "ingo-instant-payments.js"
SESSION_API = "/api/v1/sessions/point-in-time/plugin"
#: The recipient the demo page starts with.
DEMO_RECIPIENT = {"first_name": "Jane", "last_name": "Doe", "address_line1": "1 Main St", "city": "Atlanta",
                  "state": "GA", "zip_code": "30301", "email_address": "jane.doe@example.com"}
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def plugin(request: web.Request) -> Plugin:
    return request.app[RUNTIME].services.plugin


def _url_parts(request: web.Request) -> tuple[str, str, str]:
    return request.match_info["session_id"], request.query.get("t", ""), request.query.get("h", "")


def _static(name: str) -> str:
    return STATIC.joinpath(name).read_text(encoding="utf-8")


def _page_csp(host_uri: str | None) -> str:
    ancestors = frame_ancestors(host_uri) if host_uri else "'none'"
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            f"form-action 'none'; base-uri 'none'; frame-ancestors {ancestors}")


# -- the session page -------------------------------------------------------------------------------------------

async def page(request: web.Request) -> web.Response:
    """The page an authorized_url opens. It waits for the SDK's hello from the session's host page, then mounts."""
    session_id, ticks, mac = _url_parts(request)
    session, state = plugin(request).open(session_id, ticks, mac)
    config = {"session_identifier": session.get("id"), "host_uri": session.get("host_uri"),
              "state": state.as_json(), "events": EVENTS, "destinations": {k: v[2] for k, v in DESTINATIONS.items()}}
    text = Template(_static("page.html")).substitute(
        title=html.escape(state.title), heading=html.escape(state.title), text=html.escape(state.text),
        state=html.escape(state.name),
        config=json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    headers = dict(NO_STORE, **{"Content-Security-Policy": _page_csp(session.get("host_uri"))})
    return web.Response(text=text, status=state.http_status, content_type="text/html", headers=headers)


async def _form(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text='{"message": "send application/json"}',
                                           content_type="application/json")
    request[OUTCOME].endpoint = "plugin"
    return await json_object(request)  # the journal masks account numbers and drops the CVV


def _refused(refused: Refused) -> web.Response:
    state: PageState = refused.state
    return json_response(state.as_json(), status=409 if state.http_status in (200, 410) else state.http_status,
                         headers=NO_STORE)


async def mount(request: web.Request) -> web.Response:
    """The page, checked by the SDK's host page origin, mounts its URL for a funding destination."""
    form = await _form(request)
    try:
        answer = plugin(request).mount(*_url_parts(request), origin=str(form.get("origin", "")),
                                       funding_destination=str(form.get("funding_destination", "")))
    except Refused as refused:
        return _refused(refused)
    return json_response(answer, headers=NO_STORE)


async def submit(request: web.Request) -> web.Response:
    """The capture form: checked, matched against the recipient data (RVDM), tokenized through verify (under the
    scenario rules for plugin, then for verify)."""
    form = await _form(request)
    iframe = plugin(request)
    try:
        begun = iframe.submit(*_url_parts(request), form)
        if isinstance(begun, Submitted):
            return _submitted(begun)
        try:
            answer = await carry_out(request, begun.pending)  # settled: the session completed
        except IngoError as error:  # a scenario rule refused the tokenization
            return _submitted(iframe.refused(begun, error))
        return _submitted(answer.data, answer.http_status)
    except Refused as refused:
        return _refused(refused)


def _submitted(answer: Submitted, http_status: int | None = None) -> web.Response:
    return json_response(answer.as_json(), status=http_status or answer.http_status, headers=NO_STORE)


async def cancel(request: web.Request) -> web.Response:
    """The recipient cancels: the session becomes Canceled (FUNDING_CANCELED)."""
    return await _act(request, plugin(request).cancel)


async def acknowledge(request: web.Request) -> web.Response:
    """The recipient presses Continue after a failure (TERMINAL_FAILURE_ACKNOWLEDGED)."""
    return await _act(request, plugin(request).acknowledge)


async def _act(request: web.Request, action: Callable[..., Any]) -> web.Response:
    await _form(request)
    try:
        answer = action(*_url_parts(request))
    except Refused as refused:
        return _refused(refused)
    return json_response(answer, headers=NO_STORE)


async def billers(request: web.Request) -> web.Response:
    """Biller search inside the bill-pay form (?q= name words, ?account= account format)."""
    try:
        found = plugin(request).billers(*_url_parts(request), request.query.get("q", ""),
                                        request.query.get("account", "").strip())
    except Refused as refused:
        return _refused(refused)
    return json_response({"billers": found}, headers=NO_STORE)


# -- the SDK, static files and the demo -----------------------------------------------------------------------

async def sdk(request: web.Request) -> web.Response:
    """The IngoInstantPayments SDK: create, mount, addEventListener, FUNDING_DESTINATIONS, EVENTS."""
    return web.Response(text=_static(SDK_NAME), content_type="application/javascript",
                        headers={"Cache-Control": "no-cache"})


async def static(request: web.Request) -> web.Response:
    """The page's and the demo's scripts and styles."""
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return web.Response(text=_static(name), content_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})


async def demo(request: web.Request) -> web.Response:
    """A host page that creates a session, mounts the SDK and lists the events: the flow in one click."""
    return web.Response(text=_static("demo.html"), content_type="text/html",
                        headers={"Cache-Control": "no-cache",
                                 "Content-Security-Policy": "default-src 'self'; frame-src 'self' http: https:; "
                                                            "base-uri 'none'; frame-ancestors 'none'"})


class DemoSession(Body):
    """What the demo page may ask of its session (each key optional: the demo's defaults otherwise)."""

    participant_unique_id1: str | None = None
    recipient_information: dict[str, Any] | None = None
    host_uri: str | None = None
    idempotency_key: str | None = None


async def demo_session(request: web.Request) -> web.Response:
    """EMULATOR ONLY, for the demo page: create a session as a partner's server would, signed here with the
    built-in credential (``test``, or the first configured), through the real signed session API."""
    runtime = request.app[RUNTIME]
    options = declared_body(request, DemoSession)
    credential = runtime.credentials.get("test") or next(iter(runtime.credentials.values()), None)
    if credential is None:
        return json_response({"message": "no credential is configured to sign the demo's session request"},
                             status=409)
    body: dict[str, Any] = {
        "participant_unique_id1": options.participant_unique_id1 or f"demo-{uuid.uuid4()}",
        "recipient_information": options.recipient_information or DEMO_RECIPIENT,
        "host_uri": options.host_uri or request.headers.get("Origin") or base_url(request),
    }
    raw_body = encode_body(body)
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return json_response({"message": "the emulator cannot reach itself to create the demo session"}, status=500)
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(sockname[0], sockname[0])
    target = f"{'https' if request.secure else 'http'}://{f'[{host}]' if ':' in host else host}:{sockname[1]}"
    headers = sign("POST", target + SESSION_API, raw_body, username=credential.username, secret=credential.secret,
                   now=runtime.signature_now())
    headers["Host"] = request.host  # so the authorized_url points where this browser reached the emulator
    if options.idempotency_key:
        headers["Idempotency-Key"] = options.idempotency_key
    async with aiohttp.ClientSession() as client:
        async with client.post(target + SESSION_API, data=raw_body, headers=headers, ssl=False) as response:
            document = await response.json(content_type=None)
    return json_response({"emulator_only": "created by /_emulator/plugin/demo-session, signed with credential "
                                           f"{credential.username!r}", "request": body, "response": document},
                         status=response.status)
