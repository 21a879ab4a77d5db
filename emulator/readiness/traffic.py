"""What a rehearsal saw, read when a report is asked for: the participant's requests, webhook deliveries (real and
probes) and findings, with the few facts the rules read from each."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from emulator.core.journal import Entry
from emulator.findings.models import Finding
from emulator.findings.watch import NOT_THE_RECEIVER, unclear
from emulator.store import Record

#: The endpoint that pays out, and the one that tokenizes.
PUSH = "process"
VERIFY = "verify"
#: Attempts of one delivery shown as evidence, at most.
ATTEMPTS_SHOWN = 20
#: Topics of a payment's final status, of a returned payment, and of an iFrame's tokenization.
PAYMENT_STATUS = "gateway.transaction.recipient.payment.status."
RETURNED = ("gateway.transaction.recipient.payment.status.returned",
            "gateway.transaction.recipient.status.payment.check.returned")
TOKENIZED = "plugin.transaction.account.tokenization.success"
#: The error a delivery attempt records when the receiver took longer than the delivery timeout.
TIMED_OUT = "no complete response within"


def body(entry: Entry) -> Mapping[str, Any]:
    """The request's JSON body (masked, as journaled), or an empty mapping."""
    return entry.request_body if isinstance(entry.request_body, Mapping) else {}


def answer_data(entry: Entry) -> Mapping[str, Any]:
    """The ``data`` of the answer (v11), or an empty mapping."""
    answer = entry.response_body
    data = answer.get("data") if isinstance(answer, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def puid1(entry: Entry) -> str | None:
    return _text(body(entry).get("participant_unique_id1"))


def token_sent(entry: Entry) -> str | None:
    """The customer_account_token the request named."""
    return _text(body(entry).get("customer_account_token"))


def issued_token(entry: Entry) -> str | None:
    """The customer_account_token a verify answered with."""
    return _text(answer_data(entry).get("customer_account_token")) if entry.endpoint == VERIFY else None


def transaction_id(entry: Entry) -> str | None:
    value = answer_data(entry).get("transaction_id")
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def cents(entry: Entry) -> int | None:
    """The amount sent, in cents."""
    amount = body(entry).get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount) \
            or abs(amount) > 1e12:
        return None
    return round(amount * 100)


def arrived(entry: Entry) -> float | None:
    """The machine's time the request arrived (its answer's time less its latency)."""
    return None if entry.wall_time is None else entry.wall_time - entry.latency_ms / 1000


def ended(entry: Entry) -> float | None:
    """The machine's time the attempt ended for the client: when it was answered, or, for a client that gave up
    before the answer (its own timeout), when it arrived (the client's wait is not known)."""
    return arrived(entry) if client_gone(entry) else entry.wall_time


def client_gone(entry: Entry) -> bool:
    return bool(entry.extra.get("client_gone")) or entry.http_status == 499


def ambiguous(entry: Entry) -> bool:
    """Whether the client cannot tell from what it got if its push was paid (the findings' rule)."""
    return unclear(entry)


def payload(record: Record) -> Mapping[str, Any]:
    """A delivery's envelope, parsed (the emulator's own JSON); an empty mapping when it is not one."""
    try:
        document = json.loads(record.get("body") or "")
    except (TypeError, ValueError):
        return {}
    return document if isinstance(document, Mapping) else {}


def event(record: Record) -> Mapping[str, Any]:
    """``data.event`` of a delivery's envelope."""
    data = payload(record).get("data")
    found = data.get("event") if isinstance(data, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def ancillary(record: Record) -> Mapping[str, Any]:
    """``data.ancillary`` of a delivery's envelope."""
    data = payload(record).get("data")
    found = data.get("ancillary") if isinstance(data, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def attempts(record: Record) -> list[Mapping[str, Any]]:
    found = record.get("attempts")
    return list(found) if isinstance(found, list) else []


def acknowledged(record: Record) -> Mapping[str, Any] | None:
    """The attempt the receiver acknowledged (2xx), if any."""
    return next((a for a in attempts(record) if a.get("ok")), None)


def answered(record: Record) -> Mapping[str, Any] | None:
    """The first attempt that got an HTTP answer (any status), if any."""
    return next((a for a in attempts(record) if a.get("http_status") is not None), None)


def given_up(record: Record) -> bool:
    """Whether the delivery failed for good because of the receiver (not a removed endpoint or a stop)."""
    tried = attempts(record)
    return record.get("status") == "failed" and bool(tried) and not any(a.get("ok") for a in tried) \
        and not any(str(a.get("error") or "").startswith(NOT_THE_RECEIVER) for a in tried)


@dataclass
class Traffic:
    """One rehearsal's requests (oldest first), deliveries (by creation) and findings, with lookups."""

    entries: list[Entry]
    deliveries: list[Record]
    findings: list[Finding]
    _by_request: dict[str, Entry] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_request = {entry.request_id: entry for entry in self.entries}

    def entry(self, request_id: str) -> Entry | None:
        return self._by_request.get(request_id)

    @cached_property
    def pushes(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.endpoint == PUSH]

    @cached_property
    def verifies(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.endpoint == VERIFY]

    def later(self, entries: list[Entry], than: Entry) -> list[Entry]:
        """Those of ``entries`` (oldest first) journaled after ``than``."""
        return [entry for entry in entries if entry.id > than.id]

    @cached_property
    def real(self) -> list[Record]:
        """Deliveries of real events (not probes)."""
        return [record for record in self.deliveries if not record.get("probe")]

    def probes(self, kind: str) -> list[Record]:
        return [record for record in self.deliveries if record.get("probe") == kind]

    def topic(self, *topics: str) -> list[Record]:
        return [record for record in self.real if record.get("topic") in topics]

    def found(self, *codes: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.code in codes]
