"""The running emulator's parts, held in one typed object on the aiohttp application."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

from emulator.auth import AuthPolicy
from emulator.core.clock import Clock
from emulator.core.credentials import Credential
from emulator.web.envelopes import Dialect
from emulator.web.hosts import HostPolicy
from emulator.core.journal import Journal
from emulator.web.ratelimit import RateLimiter
from emulator.settings import Settings
from emulator.store import Store


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
    services: dict[str, Any] = field(default_factory=dict)
    ready: bool = False
    wall: Callable[[], float] = time.time  # the time clients live in (tests may pin it)

    def signature_now(self) -> float:
        """The time X-Date and the body timestamp are checked against and webhook signatures are dated with: the
        clients' (real) time, or the emulator clock with --signature-clock emulator."""
        return self.clock.now() if self.settings.signature_clock == "emulator" else self.wall()

    def credential_for(self, participant_id: int) -> Credential | None:
        return next((c for c in self.credentials.values() if c.participant_id == participant_id), None)


@dataclass(frozen=True)
class RouteSpec:
    """How the middlewares treat a route: signed or open, and the envelope its errors use."""

    signed: bool
    dialect: Dialect | None = None
    journaled: bool = True
    endpoint: str | None = None  # the name scenarios and the catalogue use: verify, process, debit, ...


@dataclass(slots=True)
class Outcome:
    """What the layers of one request learned about it, for the log line and the journal."""

    started: float
    request_id: str
    spec: RouteSpec | None = None
    endpoint: str | None = None
    credential: Credential | None = None
    ingo_status: int | None = None
    diagnosis: dict[str, Any] | None = None
    matched_rule: str | None = None
    request_body: Any = None
    response_body: Any = None


RUNTIME = web.AppKey("runtime", Runtime)
ROUTES = web.AppKey("routes", dict)
CREDENTIAL = web.RequestKey("credential", Credential)
OUTCOME = web.RequestKey("outcome", Outcome)
