"""One payment on one time axis: the request and its answer, the same payment's other requests, each webhook event
and delivery attempt, the follow-ups scheduled, and the findings; each moment with the emulator clock's time and the
machine's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from typing_extensions import TypedDict

from emulator.core.journal import Entry
from emulator.core.outcomes import delivery_family
from emulator.findings.models import Finding
from emulator.webhooks.events import Event


class Moment(TypedDict):
    """One thing that happened (or will, for a scheduled follow-up) in a request's story."""

    kind: str  # request, answer, related_request, event, attempt, next_attempt, scheduled, finding
    time: float  # the emulator clock
    wall_time: float | None  # the machine's clock (None for what has not happened yet)
    title: str
    outcome: str | None  # an outcome family (emulator.core.outcomes)
    ref: str | None  # the request id, event id or delivery id it is about


class Links(TypedDict):
    """What ties other records to a request: its participant, its participant_unique_id1, its transaction."""

    participant_id: int | None
    participant_unique_id1: str | None
    transaction_id: str | None


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) else None


def links_of(entry: Entry) -> Links:
    request = entry.request_body if isinstance(entry.request_body, dict) else {}
    response = entry.response_body if isinstance(entry.response_body, dict) else {}
    data = response.get("data") if isinstance(response.get("data"), dict) else response
    return {"participant_id": entry.participant_id,
            "participant_unique_id1": _text(request.get("participant_unique_id1")),
            "transaction_id": _text(data.get("transaction_id")) if isinstance(data, dict) else None}


def _ties(links: Links, participant_id: int | None, puid1: Any, transaction_id: Any) -> bool:
    if links["participant_id"] is None or participant_id != links["participant_id"]:
        return False
    if links["transaction_id"] is not None and _text(transaction_id) == links["transaction_id"]:
        return True
    return links["participant_unique_id1"] is not None and _text(puid1) == links["participant_unique_id1"]


def _event_ties(links: Links, participant_id: int, ancillary: Any, event: Any) -> bool:
    ancillary = ancillary if isinstance(ancillary, Mapping) else {}
    event = event if isinstance(event, Mapping) else {}
    return _ties(links, participant_id, ancillary.get("participant_unique_id1"), event.get("transaction_id"))


def _answer_title(entry: Entry) -> str:
    title = f"HTTP {entry.http_status}"
    if entry.ingo_status is not None:
        title += f" · Ingo {entry.ingo_status}"
    if entry.matched_rule and entry.matched_rule != "none":
        title += f" · rule {entry.matched_rule}"
    return title


def timeline(entry: Entry, *, entries: Iterable[Entry], events: Iterable[Event],
             deliveries: Iterable[Mapping[str, Any]], scheduled: Iterable[Mapping[str, Any]],
             findings: Iterable[Finding]) -> list[Moment]:
    """Every moment of ``entry``'s story, in time order (emulator clock, then the machine's)."""
    links = links_of(entry)
    moments: list[Moment] = [
        {"kind": "request", "time": entry.time, "wall_time": entry.wall_time,
         "title": f"{entry.method} {entry.target or entry.path}", "outcome": None, "ref": entry.request_id},
        {"kind": "answer", "time": entry.time,
         "wall_time": entry.wall_time + entry.latency_ms / 1000 if entry.wall_time is not None else None,
         "title": _answer_title(entry), "outcome": entry.outcome, "ref": entry.request_id},
    ]
    for other in entries:
        if other.id == entry.id:
            continue
        other_links = links_of(other)
        if _ties(links, other.participant_id, other_links["participant_unique_id1"], other_links["transaction_id"]):
            moments.append({"kind": "related_request", "time": other.time, "wall_time": other.wall_time,
                            "title": f"{other.method} {other.target or other.path}: {_answer_title(other)}",
                            "outcome": other.outcome, "ref": other.request_id})
    tied_events = {}
    for event in events:
        data = event.envelope.get("data", {})
        if _event_ties(links, event.participant_id, data.get("ancillary"), data.get("event")):
            tied_events[event.id] = event
            moments.append({"kind": "event", "time": event.created, "wall_time": event.wall_time,
                            "title": f"event {event.topic} ({event.source})", "outcome": None, "ref": event.id})
    for delivery in deliveries:
        if delivery.get("event_id") not in tied_events:
            continue
        attempts = delivery.get("attempts", [])
        for number, attempt in enumerate(attempts, 1):
            shown = attempt.get("http_status") if attempt.get("http_status") is not None else attempt.get("error")
            final = number == len(attempts) and delivery.get("status") == "failed"
            outcome = "delivered" if attempt.get("ok") else "undelivered" if final else "retrying"
            moments.append({"kind": "attempt", "time": attempt.get("time", 0.0), "wall_time": attempt.get("wall_time"),
                            "title": f"delivery {delivery.get('id')} attempt {attempt.get('attempt')} to "
                                     f"{delivery.get('url')}: {shown}"
                                     + (f" ({delivery['probe']} probe)" if delivery.get("probe") else ""),
                            "outcome": outcome,
                            "ref": delivery.get("id")})
        if delivery.get("next_attempt_at") is not None and delivery.get("status") not in ("succeeded", "failed"):
            moments.append({"kind": "next_attempt", "time": delivery["next_attempt_at"], "wall_time": None,
                            "title": f"delivery {delivery.get('id')} attempt {len(delivery.get('attempts', [])) + 1} "
                                     "due", "outcome": delivery_family(str(delivery.get("status"))),
                            "ref": delivery.get("id")})
    for record in scheduled:
        if _event_ties(links, record.get("participant_id", -1), record.get("ancillary"), record.get("event")):
            moments.append({"kind": "scheduled", "time": record.get("due", 0.0), "wall_time": None,
                            "title": f"follow-up {record.get('topic')} due ({record.get('label')})",
                            "outcome": "pending", "ref": record.get("id")})
    for finding in findings:
        if entry.request_id in finding.requests:
            moments.append({"kind": "finding", "time": finding.time, "wall_time": finding.wall_time,
                            "title": f"finding {finding.code}: {finding.message}", "outcome": "finding",
                            "ref": finding.id})
    order = {kind: index for index, kind in enumerate(
        ("request", "answer", "related_request", "finding", "event", "attempt", "next_attempt", "scheduled"))}
    moments.sort(key=lambda m: (m["time"], m["wall_time"] if m["wall_time"] is not None else float("inf"),
                                order[m["kind"]]))
    return moments
