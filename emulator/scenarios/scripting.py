"""Scripting one request: ask the engine once the request is valid, then apply what the rule says."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from emulator.core.errors import IngoError
from emulator.scenarios.engine import NO_DECISION, Decision, Engine, Facts
from emulator.web.faults import perform
from emulator.scenarios.schema import Fault

SCENARIO_HEADER = "X-Emulator-Scenario"
#: The funding destination an API request stands for, when no iFrame session names one.
FUNDING_BY_ACCOUNT_TYPE = {"CA": "debit", "AC": "ach", "SD": "ach", "RT": "ach", "WT": "ach", "BP": "billpay",
                           "PD": "paypal", "PU": "paypal", "VE": "paypal", "CK": "check"}


class ScriptedRefusal(IngoError):
    """A rule answered with a refusal status (a decline, a system error, ...)."""

    diagnosis_code = "scenario"


class FaultBeforeProcessing(Exception):
    """A rule injects a transport fault before the emulator processes the request."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.type)
        self.fault = fault


class Script:
    """The scenario side of one request: the decision, and how to apply it to the outcome."""

    def __init__(self, engine: Engine | None, participant_id: int, *, requested: str | None = None,
                 headers: dict[str, str] | None = None, funding_destination: str | None = None) -> None:
        self.engine = engine
        self.participant_id = participant_id
        self.requested = requested
        self.headers = headers or {}
        self.funding_destination = funding_destination
        self.decision: Decision = NO_DECISION
        self.facts: Facts | None = None

    def decide(self, facts: Facts) -> Decision:
        """Called by the domain once the request is valid; raises for scripted refusals and early faults."""
        facts.headers = self.headers
        if facts.funding_destination is None:
            facts.funding_destination = self.funding_destination or FUNDING_BY_ACCOUNT_TYPE.get(facts.account_type or "")
        self.facts = facts
        if self.engine is None:
            return NO_DECISION
        self.decision = decision = self.engine.decide(facts, self.requested)
        respond = decision.respond
        if respond is None:
            return decision
        if respond.fault is not None and not respond.fault.after_processing:
            raise FaultBeforeProcessing(respond.fault)
        if decision.fails:
            data = self.engine.overrides(decision, facts, {}) if respond.data else None
            raise ScriptedRefusal(f"scripted by scenario rule {decision.label}", code=decision.status,
                                  message=decision.message, data=data)
        return decision

    def status(self, default: int) -> int:
        return self.decision.status if self.decision.status is not None else default

    def message(self, default: str) -> str:
        return self.decision.message if self.decision.status is not None else default

    def data(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.engine is None or self.facts is None or self.decision.respond is None:
            return data
        return self.engine.overrides(self.decision, self.facts, data)

    @property
    def http_status(self) -> int | None:
        return self.decision.respond.http_status if self.decision.respond else None

    @property
    def label(self) -> str:
        return self.decision.label or "none"

    async def delay(self) -> None:
        if self.engine is not None and self.decision.respond is not None:
            seconds = self.engine.latency(self.decision)
            if seconds > 0:
                await asyncio.sleep(seconds)

    @property
    def late_fault(self) -> Fault | None:
        respond = self.decision.respond
        return respond.fault if respond and respond.fault and respond.fault.after_processing else None


async def run_fault(request: web.Request, fault: Fault) -> web.StreamResponse:
    return await perform(request, fault)


__all__ = ["FaultBeforeProcessing", "SCENARIO_HEADER", "Script", "ScriptedRefusal", "run_fault"]
