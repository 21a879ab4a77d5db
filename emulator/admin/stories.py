"""Admin API for one journaled request's whole story (GET) and for sending it again with a fresh signature (POST)."""

from __future__ import annotations

import hmac
import json
import socket
from typing import Any

import aiohttp
from aiohttp import web

from emulator.admin.provenance import route_index
from emulator.admin.schemas import Replayed, ReplayRequest, RequestStory
from emulator.auth.client import sign
from emulator.core.credentials import DEFAULT_SECRET
from emulator.core.journal import Entry
from emulator.core.masking import mask
from emulator.stories.replay import ReplayRefused, carried_headers, curl_command, masked_paths, replay_body
from emulator.stories.signing_story import comparisons, signing_of
from emulator.stories.timeline import links_of, timeline
from emulator.web import declared
from emulator.web.journaling import REPLAY_HEADER
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME, Runtime
from emulator.webhooks.followups import KIND as SCHEDULED

#: How long a replay waits for the emulator's own answer (a scenario may delay it).
REPLAY_TIMEOUT = 120.0


#: The longest journal id (in digits) worth looking up.
ID_DIGITS = 18


class NotJournaled(Exception):
    """The id names no request the journal still holds."""


def _entry(request: web.Request) -> Entry:
    raw = request.match_info["id"]
    known = raw.isascii() and raw.isdigit() and len(raw) <= ID_DIGITS
    entry = request.app[RUNTIME].journal.get(int(raw)) if known else None
    if entry is None:
        raise NotJournaled(f"no journaled request has the id {raw[:40]!r} (the journal keeps the newest "
                           "--journal-size requests; a reset clears it)")
    return entry


def _not_found(missing: NotJournaled) -> web.Response:
    return json_response({"message": str(missing)}, status=404)


def _default_secret(runtime: Runtime, username: str | None) -> str | None:
    credential = runtime.credentials.get(username or "")
    if credential is not None and hmac.compare_digest(credential.secret.encode(), DEFAULT_SECRET.encode()):
        return DEFAULT_SECRET
    return None


async def detail(request: web.Request) -> web.Response:
    """One request: as journaled, how it was signed, the 401's side-by-side, a curl command, its timeline, and
    where each part of its answer comes from."""
    runtime = request.app[RUNTIME]
    try:
        entry = _entry(request)
    except NotJournaled as missing:
        return _not_found(missing)
    from emulator.web.provenance import relied_on

    services = runtime.services
    moments = timeline(entry, entries=runtime.journal.entries(), events=services.outbox.events,
                       deliveries=services.deliveries.listing(),
                       scheduled=[record for _, _, record in runtime.store.records(SCHEDULED)],
                       findings=services.findings.listing())
    base_url = f"{request.scheme}://{request.host}"
    story = signing_of(entry)
    answer: RequestStory = {
        "request": entry.as_json(), "signing": story, "comparisons": comparisons(entry),
        "curl": curl_command(entry, base_url, default_secret=_default_secret(
            runtime, entry.username or (story["username"] if story else None))),
        "masked": masked_paths(entry.request_body), "links": links_of(entry), "timeline": moments,
        "provenance": [part.as_json() for part in relied_on(entry, route_index(request.app))],
    }
    return json_response(answer)


def _own_address(request: web.Request) -> str:
    """The base URL of the socket this admin call came in on: the replay goes to the same listener, whatever name
    the browser used (a published Docker port included)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if not sockname:
        return f"{request.scheme}://{request.host}"
    host, port = sockname[0], sockname[1]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"{request.scheme}://{shown}:{port}"


def _bad(message: str) -> web.Response:
    return json_response({"message": message}, status=400)


async def replay(request: web.Request) -> web.Response:
    """Body (optional): {"participant_unique_id1": "same" | "new" | text, "fill": {dotted path: value},
    "username": a credential}. Signs the journaled request afresh and sends it to this emulator."""
    runtime = request.app[RUNTIME]
    try:
        entry = _entry(request)
    except NotJournaled as missing:
        return _not_found(missing)
    ask = declared.body(request, ReplayRequest)
    puid1, fill = ask.participant_unique_id1, ask.fill
    story = signing_of(entry)
    username = ask.username or entry.username or (story["username"] if story else None)
    credential = runtime.credentials.get(username) if username is not None else None
    if credential is None:
        named = f"no credential has the username {username!r}" if username is not None \
            else "the request was signed by no known credential"
        return _bad(f"{named}: name one in username ({', '.join(runtime.credentials)})")
    try:
        body = replay_body(entry, participant_unique_id1=puid1, fill=fill, now=runtime.signature_now())
    except ReplayRefused as refused:
        return _bad(str(refused))
    target = entry.target or entry.path
    order = story["signed_headers"] if story else None
    algorithm = story["algorithm"] if story and story["algorithm"] in ("hmac-sha512", "hmac-sha256") \
        else "hmac-sha512"
    headers = sign(entry.method, target, body, username=credential.username, secret=credential.secret,
                   algorithm=algorithm, headers=order, now=runtime.signature_now())
    headers.update(carried_headers(entry))  # the emulator's own controls (X-Emulator-Scenario), as first sent
    headers[REPLAY_HEADER] = entry.request_id
    url = _own_address(request) + target
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REPLAY_TIMEOUT)) as session, \
                session.request(entry.method, url, data=body or None, headers=headers, ssl=False,
                                allow_redirects=False) as response:
            text = await response.text(errors="replace")
            status = response.status
    except (aiohttp.ClientError, TimeoutError, socket.gaierror, OSError) as exc:
        return json_response({"message": f"the replay could not reach the emulator at {url}: {exc}"}, status=502)
    replayed = next((e for e in runtime.journal.entries(limit=200)
                     if e.extra.get("replay_of") == entry.request_id), None)
    answer: Replayed = {"replay_of": entry.id, "id": replayed.id if replayed else None,
                        "request_id": replayed.request_id if replayed else None, "http_status": status,
                        "body": mask(_parsed(text))}
    return json_response(answer)


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
