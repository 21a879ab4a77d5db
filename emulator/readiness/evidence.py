"""One item of evidence: a journaled request, a webhook delivery with its attempts, or a finding, with emulator and
wall times; never a body, so no account number (not even masked) reaches a report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from emulator.core.journal import Entry
from emulator.findings.models import Finding
from emulator.readiness import traffic
from emulator.store import Record


class AttemptJson(TypedDict):
    """One attempt of a delivery: when, what the receiver answered and how fast."""

    attempt: int
    time: float | None
    wall_time: float | None
    http_status: int | None
    ok: bool
    latency_ms: float | None
    error: str | None


class EvidenceJson(TypedDict):
    """What a scenario's status rests on: ``kind`` says which keys follow; ``note`` says what the item shows."""

    kind: Literal["request", "delivery", "finding"]
    note: str
    time: float | None
    wall_time: float | None
    journal_id: NotRequired[int]
    request_id: NotRequired[str]
    endpoint: NotRequired[str | None]
    http_status: NotRequired[int]
    ingo_status: NotRequired[int | None]
    participant_unique_id1: NotRequired[str]
    transaction_id: NotRequired[str]
    customer_account_token: NotRequired[str]
    delivery_id: NotRequired[str]
    event_id: NotRequired[str]
    topic: NotRequired[str]
    endpoint_id: NotRequired[str]
    attempts: NotRequired[list[AttemptJson]]
    probe: NotRequired[str]
    finding_id: NotRequired[str]
    code: NotRequired[str]
    requests: NotRequired[list[str]]


def request(entry: Entry, note: str) -> EvidenceJson:
    """A journaled request as evidence: ids, answer, payment ids and times."""
    item: EvidenceJson = {"kind": "request", "note": note, "time": entry.time, "wall_time": entry.wall_time,
                          "journal_id": entry.id, "request_id": entry.request_id, "endpoint": entry.endpoint,
                          "http_status": entry.http_status, "ingo_status": entry.ingo_status}
    for key, value in (("participant_unique_id1", traffic.puid1(entry)),
                       ("transaction_id", traffic.transaction_id(entry)),
                       ("customer_account_token", traffic.token_sent(entry) or traffic.issued_token(entry))):
        if value is not None:
            item[key] = value  # type: ignore[literal-required]
    return item


def delivery(record: Record, note: str) -> EvidenceJson:
    """A webhook delivery as evidence: its event, endpoint, probe kind and every attempt."""
    attempts = record.get("attempts") or []
    first = attempts[0] if attempts else {}
    item: EvidenceJson = {"kind": "delivery", "note": note, "time": first.get("time", record.get("created")),
                          "wall_time": first.get("wall_time"), "delivery_id": str(record.get("id")),
                          "event_id": str(record.get("event_id")), "topic": str(record.get("topic")),
                          "endpoint_id": str(record.get("endpoint_id")),
                          "attempts": [_attempt(attempt) for attempt in attempts[:traffic.ATTEMPTS_SHOWN]]}
    if record.get("probe"):
        item["probe"] = str(record["probe"])
    return item


def finding(found: Finding) -> EvidenceJson:
    """A money-safety finding as evidence: its code, message and the requests it names."""
    return {"kind": "finding", "note": found.message, "time": found.time, "wall_time": found.wall_time,
            "finding_id": found.id, "code": found.code, "requests": list(found.requests)}


def _attempt(attempt: Mapping[str, Any]) -> AttemptJson:
    return {"attempt": int(attempt.get("attempt") or 0), "time": attempt.get("time"),
            "wall_time": attempt.get("wall_time"), "http_status": attempt.get("http_status"),
            "ok": bool(attempt.get("ok")), "latency_ms": attempt.get("latency_ms"), "error": attempt.get("error")}
