"""The running emulator's parts, held in one typed object on the aiohttp application."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from emulator.auth.verify import AuthPolicy
from emulator.core.changes import Changes
from emulator.core.clock import Clock
from emulator.core.credentials import Credential
from emulator.core.journal import Entry, Journal
from emulator.core.scheduler import Scheduler
from emulator.core.stateful import Registry
from emulator.findings.models import Findings
from emulator.findings.watch import Watcher
from emulator.gateway.models import Gateway
from emulator.plugin.models import Plugin
from emulator.readiness.rehearsal import Rehearsals
from emulator.scenarios.engine import Engine
from emulator.sessions.models import SessionService
from emulator.settings import Settings
from emulator.snapshots.restoring import Rescheduled
from emulator.store import Record, Store
from emulator.tenants.models import Tenants
from emulator.waits.waiting import Waits
from emulator.web.hosts import HostPolicy
from emulator.web.ratelimit import RateLimiter
from emulator.webhooks.delivery import Deliveries
from emulator.webhooks.events import Outbox
from emulator.webhooks.followups import FollowUps


@dataclass(frozen=True)
class Services:
    """The domain of one emulator: what the handlers call and the admin API steers."""

    gateway: Gateway
    sessions: SessionService
    plugin: Plugin
    engine: Engine
    scheduler: Scheduler
    outbox: Outbox
    deliveries: Deliveries
    followups: FollowUps
    findings: Findings
    watcher: Watcher
    tenants: Tenants
    #: Waits on the journal (keyed by entry id) and on webhook deliveries (by delivery id).
    request_waits: Waits[Entry]
    delivery_waits: Waits[Record]
    #: Readiness rehearsals, one per participant (a reset leaves them running).
    readiness: Rehearsals


@dataclass
class Runtime:
    """Settings, clock, state and services of one emulator instance."""

    settings: Settings
    clock: Clock
    store: Store
    credentials: dict[str, Credential]
    rate_limiter: RateLimiter
    journal: Journal
    auth_policy: AuthPolicy
    host_policy: HostPolicy
    services: Services
    #: The time X-Date and the body timestamp are checked against and webhook signatures are dated with.
    signature_now: Callable[[], float]
    #: Every part that holds state, once: what a reset, a snapshot and a restore walk (``emulator.core.stateful``).
    parts: Registry = field(default_factory=Registry)
    ready: bool = False
    #: Who watches live (the inspector's event stream): told of each request, event, delivery and admin change.
    changes: Changes = field(default_factory=Changes)
    #: Held by a restore from its first check to its last load: one restore at a time.
    restoring: asyncio.Lock = field(default_factory=asyncio.Lock)

    def credential_for(self, participant_id: int) -> Credential | None:
        return next((c for c in self.credentials.values() if c.participant_id == participant_id), None)

    def reset(self, participant_id: int | None = None) -> None:
        """Back to a fresh start: every stateful part (state, journal, events, pending jobs, rate windows, scenario
        counts and activations, participants' own clocks), for everyone (and the emulator clock back to real time) or
        for one participant."""
        self.journal.settle()  # requests answered before the reset are told to the findings watch, then forgotten
        self.parts.reset(participant_id)

    async def stop_jobs(self) -> None:
        """Cancel the jobs waiting on the clock and those under way (a restore replaces what they act on)."""
        self.services.scheduler.cancel()
        await self.services.scheduler.shutdown()

    def resume_jobs(self) -> Rescheduled:
        """Schedule what the store holds pending: follow-up events and webhook deliveries."""
        return {"scheduled_events": self.services.followups.resume(),
                "webhook_deliveries": self.services.deliveries.resume()}


RUNTIME = web.AppKey("runtime", Runtime)
