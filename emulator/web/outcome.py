"""What one request's layers learn about it (its route, credential, Ingo status, matched rule...), kept on the
request for the log line and the journal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emulator.core.credentials import Credential
from emulator.scenarios.facts import Facts
from emulator.web.routes import RouteSpec


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
    facts: Facts | None = None  # what scenario rules matched on, when the domain got that far
    retry_after: int | None = None  # the Retry-After of a 429 the rate limiter answered
    fault: str | None = None  # the transport fault a scenario rule injected
    why_matched: dict[str, Any] | None = None  # which rule answered and why (see Engine.why)


#: The credential the request was signed with, once the signature is checked.
CREDENTIAL = web.RequestKey("credential", Credential)
OUTCOME = web.RequestKey("outcome", Outcome)
