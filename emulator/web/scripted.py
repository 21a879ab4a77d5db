"""The one place a scenario rule's answer is applied: latency, refusal, overrides, transport faults before and after
processing, and follow-up events. Used alike by the gateway, Session Management and the iFrame plugin.

The domain hands over a :class:`~emulator.scenarios.facts.Pending` step (or an answer already made, such as a
replay); :func:`carry_out` asks the engine which rule answers, applies it around the step and returns the answer.
A payment's final-outcome webhook (``webhooks.final_outcome``) is sent here too, once the answer is known.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from emulator.core.answer import Answer
from emulator.core.errors import IngoError
from emulator.core.provenance import SCENARIO
from emulator.findings.watch import PUSH
from emulator.scenarios.engine import SCENARIO_HEADER, Decision
from emulator.scenarios.facts import Pending
from emulator.web.faults import perform
from emulator.web.headers import HeaderView
from emulator.web.outcome import OUTCOME
from emulator.web.runtime import RUNTIME, Runtime
from emulator.webhooks.final_outcome import PAYMENT_ENDPOINTS, final_outcome
from emulator.webhooks.topics import TOPICS


class ScriptedRefusal(IngoError, diagnosis_code="scenario", source=SCENARIO):
    """A rule answered with a refusal status (a decline, a system error, ...)."""

    def __init__(self, decision: Decision, data: dict[str, Any] | None) -> None:
        super().__init__(f"scripted by scenario rule {decision.label}", code=decision.status,
                         message=decision.message, data=data)
        self.forced_http_status = decision.respond.http_status if decision.respond else None

    def http_status(self, mode: str) -> int:
        return self.forced_http_status or super().http_status(mode)


async def carry_out(request: web.Request, step: Answer[Any] | Pending[Answer[Any]]) -> Answer[Any]:
    """The answer to ``request``: the step carried out under the rule that matches it, if one does.

    Raises :class:`ScriptedRefusal` (an Ingo error, rendered in the endpoint's envelope) when the rule refuses, and
    :class:`~emulator.web.faults.Faulted` when it injects a transport fault.
    """
    if isinstance(step, Answer):
        return step
    runtime = request.app[RUNTIME]
    engine = runtime.services.engine
    facts = step.facts
    facts.headers = HeaderView(request.headers)  # read by the rules that name a header, never copied
    outcome = request[OUTCOME]
    outcome.facts = facts
    if facts.endpoint == PUSH:
        runtime.services.watcher.push_started(facts.participant_id, facts.request, outcome.request_id)
    requested = request.headers.get(SCENARIO_HEADER)
    decision = engine.decide(facts, requested)
    outcome.matched_rule = decision.label or "none"
    if decision.rule is not None:
        outcome.why_matched = engine.why(decision, facts.participant_id, requested)
    respond = decision.respond
    if respond is None:
        answer = _settled(step, await step.carry_out())
        announce(runtime, step, answer.status, answer.data, refused=False, scheduled=())
        return answer
    if respond.fault is not None and not respond.fault.after_processing:
        await _pause(engine.latency(decision))
        await perform(request, respond.fault)
    if decision.fails:
        data = engine.overrides(decision, facts, {}) if respond.data else None
        await _pause(engine.latency(decision))
        schedule_events(runtime, decision, step, data or {})
        assert decision.status is not None, "a rule that fails names its status"
        announce(runtime, step, decision.status, data or {}, refused=True,
                 scheduled=[event.topic for event in respond.events])
        raise ScriptedRefusal(decision, data)
    answer = await step.carry_out()
    if decision.status is not None:
        answer.status, answer.client_message = decision.status, decision.message
    answer.data = data = engine.overrides(decision, facts, answer.data)
    answer = _settled(step, answer)
    await _pause(engine.latency(decision))
    schedule_events(runtime, decision, step, data)
    announce(runtime, step, answer.status, data, refused=False, scheduled=[event.topic for event in respond.events])
    if respond.fault is not None:
        await perform(request, respond.fault)
    answer.http_status = respond.http_status
    return answer


def _settled(step: Pending[Answer[Any]], answer: Answer[Any]) -> Answer[Any]:
    return step.settle(answer) if step.settle is not None else answer


async def _pause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


def schedule_events(runtime: Runtime, decision: Decision, step: Pending[Any], data: dict[str, Any]) -> None:
    """Queue the rule's follow-up webhook events on the emulator clock, about the answer's ``data``."""
    respond = decision.respond
    if respond is None or not respond.events:
        return
    facts = step.facts
    base_event = _about(step, data)
    context = {"request": facts.request, "response": data, "token": {"last_4": (facts.token or {}).get("last_4")}}
    services = runtime.services
    for index, event in enumerate(respond.events):
        status = event.status if event.status is not None else TOPICS[event.topic].status
        body = {**step.event_members(event.topic, status), **base_event} if step.event_members else dict(base_event)
        if event.data:
            body.update(services.engine.templates.render(event.data, context))
        services.followups.schedule(event.after, event.topic, facts.participant_id, ancillary=dict(step.ancillary),
                                    event=body, status=event.status, message=event.message,
                                    source=f"scenario:{decision.label}",
                                    label=f"{decision.label} event {index + 1}: {event.topic}")


def _about(step: Pending[Any], data: dict[str, Any]) -> dict[str, Any]:
    """What the events about a request's answer carry besides Ingo's members (the emulator's additions, so that a test
    can wait for the event of its payment): the answer's transaction id, token and check number, and the amount."""
    about: dict[str, Any] = {}
    for key in ("transaction_id", "customer_account_token", "check_number"):
        if data.get(key) is not None:
            about[key] = str(data[key])
    if step.facts.amount is not None:
        about["amount"] = f"{step.facts.amount:.2f}"
    return about


def announce(runtime: Runtime, step: Pending[Any], status: int, data: dict[str, Any], *, refused: bool,
             scheduled: list[str] | tuple[str, ...]) -> None:
    """Send a payment's final-outcome webhook now, when its answer is final and no rule's event reports it
    (``webhooks.final_outcome``; off with ``--payment-webhooks off``)."""
    facts = step.facts
    if facts.endpoint not in PAYMENT_ENDPOINTS or runtime.settings.payment_webhooks != "on":
        return
    outcome = final_outcome(status, refused=refused, scheduled=scheduled,
                            check=facts.endpoint == "process" and facts.account_type == "CK")
    if outcome is None:
        return
    event = _about(step, data)
    if outcome.reason_code is not None:
        event["reason_code"] = str(outcome.reason_code)
    runtime.services.outbox.emit(outcome.topic, facts.participant_id, ancillary=dict(step.ancillary), event=event,
                                 status=outcome.status, source=f"flow:{facts.endpoint}")
