"""A request once answered, as the journal receives it: the request path hands over references only (its log line,
masking, facts and digest are observer work), and the journal's drain turns them into the masked entry right after
the answer is written (``emulator.core.journal.Journal.settle``)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from emulator.core.journal import Entry, Journal
from emulator.core.logs import access_line
from emulator.core.masking import mask, masked_target, redacted_headers
from emulator.waits.requests import entry_facts
from emulator.web.outcome import Outcome
from emulator.web.runtime import RUNTIME

#: The header the inspector's replay sends: the request id of the journaled request it sends again.
REPLAY_HEADER = "X-Emulator-Replay-Of"


def client_gone(request: web.Request) -> bool:
    """Whether the request's client has closed its connection (or is closing it)."""
    transport = request.transport
    return transport is None or transport.is_closing()


def record(request: web.Request, outcome: Outcome, http_status: int) -> None:
    """Hand an answered request to the journal: what only the request path can tell (its latency, the clock's time,
    whether its client is still there) now, the rest as references for the drain."""
    runtime = request.app[RUNTIME]
    credential = outcome.credential
    participant = credential.participant_id if credential is not None else None
    answered = time.monotonic()
    runtime.journal.defer(Answered(
        request, outcome, http_status, (time.perf_counter() - outcome.started) * 1000,
        runtime.clock.now(participant), time.time(), answered, client_gone(request)))


class Answered:
    """An answered request waiting for the journal's drain: references to the request and what its layers learned
    (payment data unmasked), kept for that short while only; never shown, kept or exported."""

    __slots__ = ("request", "outcome", "http_status", "latency_ms", "time", "wall_time", "answered", "gone")

    def __init__(self, request: web.Request, outcome: Outcome, http_status: int, latency_ms: float, now: float,
                 wall_time: float, answered: float, gone: bool) -> None:
        self.request = request
        self.outcome = outcome
        self.http_status = http_status
        self.latency_ms = latency_ms
        self.time = now
        self.wall_time = wall_time
        self.answered = answered
        self.gone = gone

    def entry(self, journal: Journal) -> Entry | None:
        """Write the request's log line; then its journal entry, payment data masked (None: a route the journal
        does not keep)."""
        request, outcome = self.request, self.outcome
        credential = outcome.credential
        participant = credential.participant_id if credential is not None else None
        diagnosis = outcome.diagnosis
        access_line(request.method, request.path, self.http_status, outcome.ingo_status, self.latency_ms,
                    diagnosis.get("code") if diagnosis else None, participant)
        spec = outcome.spec
        if spec is not None and not spec.journaled:
            return None
        facts = outcome.facts
        version = request.version
        return Entry(
            id=journal.new_id(), request_id=outcome.request_id, time=self.time, wall_time=self.wall_time,
            method=request.method, target=masked_target(request.raw_path),
            http_version=f"{version.major}.{version.minor}", request_headers=redacted_headers(request.headers.items()),
            why_matched=outcome.why_matched, path=request.path, http_status=self.http_status,
            latency_ms=round(self.latency_ms, 3), participant_id=participant,
            username=credential.username if credential is not None else None, ingo_status=outcome.ingo_status,
            diagnosis=diagnosis, matched_rule=outcome.matched_rule, endpoint=outcome.endpoint,
            request_body=mask(outcome.request_body), response_body=mask(outcome.response_body),
            extra=self._extra(), facts=entry_facts(facts) if facts is not None else None,
            account_digest=journal.digest(facts.account) if facts is not None and facts.account else None,
            answered=self.answered,
        )

    def _extra(self) -> dict[str, Any]:
        """What else the journal keeps of a request: the Retry-After of its 429, and whether its client was gone
        before the answer (it waited less than the emulator took: a timeout, a cancelled call)."""
        outcome = self.outcome
        extra: dict[str, Any] = {}
        if outcome.retry_after is not None:
            extra["retry_after"] = outcome.retry_after
        if self.gone:
            extra["client_gone"] = True
        if outcome.fault is not None:
            extra["fault"] = outcome.fault
        replayed = self.request.headers.get(REPLAY_HEADER)
        if replayed is not None:
            extra["replay_of"] = replayed[:64]
        return extra
