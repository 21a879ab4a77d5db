"""Running a handler under the scenario engine: decision, latency, events, faults and overrides."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from aiohttp import web

from emulator.web.answers import reply_error
from emulator.web.state import CREDENTIAL, OUTCOME, RUNTIME, Runtime
from emulator.web.faults import perform
from emulator.scenarios.scripting import SCENARIO_HEADER, FaultBeforeProcessing, Script, ScriptedRefusal

#: session_id Ingo sends in ancillary data of gateway events (reference 5.2).
GATEWAY_SESSION_ID = "00000000-0000-0000-0000-000000000001"


def script_for(request: web.Request, *, funding_destination: str | None = None) -> Script:
    runtime = request.app[RUNTIME]
    headers = {name.lower(): value for name, value in request.headers.items()}
    return Script(runtime.services.get("scenarios"), request[CREDENTIAL].participant_id,
                  requested=request.headers.get(SCENARIO_HEADER), headers=headers,
                  funding_destination=funding_destination)


async def scripted(request: web.Request, script: Script, call: Callable[[], Awaitable[Any]],
                   render: Callable[[Any], web.StreamResponse]) -> web.StreamResponse:
    """Run ``call`` (the domain) with ``script`` consulted inside it, then apply the rule's answer."""
    runtime = request.app[RUNTIME]
    outcome = request[OUTCOME]
    try:
        try:
            result = await call()
        finally:
            if script.facts is not None:
                outcome.matched_rule = script.label
    except ScriptedRefusal as refusal:
        await script.delay()
        schedule_events(runtime, script, refusal.data or {})
        response = reply_error(request, refusal)
        return _with_status(response, script.http_status)
    except FaultBeforeProcessing as fault:
        await script.delay()
        return await perform(request, fault.fault)
    if script.decision.respond is not None:
        if script.decision.status is not None:
            # the message first: result.message looks the (old) status up in the catalogue
            result.client_message = script.message(result.message)
        result.status = script.status(result.status)
        result.data = script.data(result.data)
    await script.delay()
    schedule_events(runtime, script, result.data)
    if script.late_fault is not None:
        return await perform(request, script.late_fault)
    return _with_status(render(result), script.http_status)


def _with_status(response: web.StreamResponse, status: int | None) -> web.StreamResponse:
    if status is not None:
        response.set_status(status)
    return response


def schedule_events(runtime: Runtime, script: Script, data: dict[str, Any],
                    ancillary: dict[str, Any] | None = None) -> None:
    """Queue the rule's follow-up webhook events on the emulator clock (``ancillary``: an iFrame session's)."""
    respond = script.decision.respond
    facts = script.facts
    if respond is None or not respond.events or facts is None:
        return
    followups = runtime.services["followups"]
    engine = runtime.services["scenarios"]
    request = facts.request
    ids = request.get("participant_unique_ids") if isinstance(request.get("participant_unique_ids"), dict) else {}
    puid1 = facts.participant_unique_id1 or ids.get("participant_unique_id1") or request.get("participant_unique_id1", "")
    puid2 = request.get("participant_unique_id2") or ids.get("participant_unique_id2") or ""
    if ancillary is None:
        ancillary = {"participant_unique_id1": puid1 or "", "participant_unique_id2": puid2,
                     "session_id": GATEWAY_SESSION_ID}
    base_event: dict[str, Any] = {}
    for key in ("transaction_id", "customer_account_token", "check_number"):
        if data.get(key) is not None:
            base_event[key] = str(data[key])
    if facts.amount is not None:
        base_event["amount"] = f"{facts.amount:.2f}"
    context = {"request": facts.request, "response": data,
               "token": {"last_4": (facts.token or {}).get("last_4")}}
    for index, event in enumerate(respond.events):
        body = dict(base_event)
        if event.data:
            body.update(engine.templates.render(event.data, context))
        followups.schedule(event.after, event.topic, script.participant_id, ancillary=dict(ancillary), event=body,
                           status=event.status, message=event.message, source=f"scenario:{script.label}",
                           label=f"{script.label} event {index + 1}: {event.topic}")
