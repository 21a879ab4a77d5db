"""Admin API to wait for what happened: journal entries and webhook deliveries that match, with near misses."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from emulator.admin.schemas import DeliveriesSeen, DeliveryWait, RequestsSeen, RequestWait, WaitList
from emulator.waits import deliveries as delivery_matching
from emulator.waits import requests as request_matching
from emulator.waits.waiting import Count, TooManyWaits, Verdict, near_misses
from emulator.web.declared import body, query
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME
from emulator.web.serving import while_connected
from emulator.webhooks.delivery import public

#: Not met: the wait's time ran out first, or more matched than its at_most.
NOT_MET = 409
#: nginx's status for a request whose client closed the connection before the answer.
CLIENT_CLOSED_REQUEST = 499
CLIENT_LEFT = "the client closed the connection before the wait ended; the wait is let go"
#: The most open waits a listing shows.
LISTED = 100


def _sentence(what: tuple[str, str], count: Count, timeout: float, verdict: Verdict[Any],
              keys: dict[str, Any]) -> str:
    """Why a wait was not met, e.g. 'waited 2 s for exactly 1 request matching {...}; 0 matched'."""
    asked = json.dumps(keys, separators=(", ", ": "), default=str)
    matched = len(verdict.matched)
    if verdict.reason == "too_many":
        return f"{matched} {what[1]} matched {asked}, more than the {count.describe()} asked for"
    wanted = count.at_most if count.at_least == 0 and count.at_most is not None else count.at_least
    return (f"waited {timeout:g} s for {count.describe()} {what[0] if wanted == 1 else what[1]} matching {asked}; "
            f"{matched} matched")


def _gone() -> web.Response:
    """The answer to a wait whose client went away: nobody reads it; the log line says 499, as nginx would."""
    return json_response({"message": CLIENT_LEFT}, status=CLIENT_CLOSED_REQUEST)


def _full(refusal: TooManyWaits) -> web.Response:
    """The answer to a wait refused because too many are open: 503, to try again once some have ended."""
    return json_response({"message": str(refusal)}, status=503, headers={"Retry-After": "1"})


async def open_waits(request: web.Request) -> web.Response:
    """The waits still waiting (requests and webhooks), oldest first; filters: participant_id, limit."""
    services = request.app[RUNTIME].services
    wanted = query(request)
    found = [*services.request_waits.open(participant_id=wanted["participant_id"]),
             *services.delivery_waits.open(participant_id=wanted["participant_id"])]
    found.sort(key=lambda wait: -wait["waited"])
    limit = wanted["limit"] if wanted["limit"] is not None and 0 < wanted["limit"] < LISTED else LISTED
    answer: WaitList = {"count": len(found), "waits": found[:limit]}
    return json_response(answer)


async def wait_for_requests(request: web.Request) -> web.Response:
    """Answer as soon as the journal holds ``count`` entries that match (200), or when ``timeout`` passes or too
    many match (409, with near misses)."""
    ask = body(request, RequestWait)
    journal = request.app[RUNTIME].journal
    match = ask.match

    def accepts(entry: Any) -> bool:
        return entry.id > ask.since and not request_matching.differences(match, entry, journal.digest)

    def existing() -> Iterable[Any]:  # oldest first
        return reversed(journal.entries(since=ask.since, participant_id=match.participant_id))

    keys = match.shown()
    try:
        verdict = await while_connected(request, request.app[RUNTIME].services.request_waits.wait(
            existing, accepts, ask.count, ask.timeout, scope=match.scope(), shown=keys))
    except TooManyWaits as full:
        return _full(full)
    if verdict is None:
        return _gone()
    answer: RequestsSeen = {"matched": len(verdict.matched), "requests": [e.as_json() for e in verdict.matched],
                            "last_id": journal.last_id()}
    if verdict.satisfied:
        return json_response(answer)
    answer["reason"] = "too_many" if verdict.reason == "too_many" else "timeout"
    answer["message"] = _sentence(("request", "requests"), ask.count, ask.timeout, verdict, keys)
    # a participant named is a scope: another tenant's requests are never shown as near misses
    candidates = journal.entries(since=ask.since, participant_id=match.participant_id)
    answer["near_misses"] = [
        {"request": entry.as_json(), "differences": missed}
        for entry, missed in near_misses(candidates, lambda e: request_matching.differences(match, e, journal.digest))]
    return json_response(answer, status=NOT_MET)


async def wait_for_deliveries(request: web.Request) -> web.Response:
    """Answer as soon as ``count`` webhook deliveries match (200), or when ``timeout`` passes or too many match
    (409, with near misses). A delivery counts once it matches, whatever it does later."""
    ask = body(request, DeliveryWait)
    services = request.app[RUNTIME].services
    match = ask.match

    def accepts(record: Any) -> bool:
        return not delivery_matching.differences(match, record)

    def existing() -> Iterable[Any]:  # oldest first
        return reversed(services.deliveries.listing(participant_id=match.participant_id))

    keys = match.model_dump(exclude_none=True)
    try:
        verdict = await while_connected(request, services.delivery_waits.wait(
            existing, accepts, ask.count, ask.timeout, scope=match.scope(), shown=keys))
    except TooManyWaits as full:
        return _full(full)
    if verdict is None:
        return _gone()
    answer: DeliveriesSeen = {"matched": len(verdict.matched), "deliveries": [public(r) for r in verdict.matched]}
    hint = delivery_matching.alias_hint(match.status)
    if hint is not None:
        answer["hint"] = hint
    if verdict.satisfied:
        return json_response(answer)
    answer["reason"] = "too_many" if verdict.reason == "too_many" else "timeout"
    answer["message"] = _sentence(("webhook delivery", "webhook deliveries"), ask.count, ask.timeout, verdict,
                                  keys)
    candidates = services.deliveries.listing(participant_id=match.participant_id)
    answer["near_misses"] = [
        {"delivery": public(record), "differences": missed}
        for record, missed in near_misses(candidates, lambda r: delivery_matching.differences(match, r))]
    return json_response(answer, status=NOT_MET)
