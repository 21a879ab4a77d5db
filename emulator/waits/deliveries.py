"""Matching webhook deliveries: by topic, status, participant, the payment they are about and the event's status."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from emulator.core.limits import MAX_TOPICS
from emulator.store import Record
from emulator.waits.waiting import EVERYTHING, Difference, Scope, Statuses, WaitMatch, listed, one_or_all

#: A delivery's statuses, the API's words (each delivery's ``status``; ``succeeded``: its receiver answered 2xx).
STATUSES = ("pending", "delivering", "succeeded", "failed")
#: Another word a test may use for a status (earlier docs did): accepted where a status is asked for, and the
#: answer carries :func:`alias_hint` naming the API's word.
ALIASES = {"delivered": "succeeded"}


def alias_hint(asked: Iterable[str] | None) -> str | None:
    """The ``hint`` of an answer whose question named a status by another word than the API's; None otherwise."""
    used = sorted({word for word in asked or () if word in ALIASES})
    return "; ".join(f"status {word!r} is read as {ALIASES[word]!r}, the word each delivery's status uses "
                     f"({', '.join(STATUSES)}): write {ALIASES[word]!r}" for word in used) or None


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_text, json_schema_input_type=str | int), Field(min_length=1, max_length=255)]


class DeliveryMatch(WaitMatch):
    """Which webhook deliveries a wait counts: every key given must hold. ``topic`` may be a glob
    (``gateway.transaction.*``); ``status`` reads ``delivered`` as succeeded (with a hint); ``event_status`` is the
    Ingo status the event carries (1114, 1106, ...)."""

    topic: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=MAX_TOPICS),
                     BeforeValidator(listed, json_schema_input_type=str | list[str])] | None = None
    status: Annotated[list[Literal["pending", "delivering", "succeeded", "failed", "delivered"]],
                      BeforeValidator(listed, json_schema_input_type=str | list[str])] | None = None
    participant_id: Annotated[int, Field(ge=1, le=99999)] | None = None
    participant_unique_id1: Text | None = None
    transaction_id: Text | None = None
    customer_account_token: Text | None = None
    event_status: Statuses | None = None
    event_id: Text | None = None
    endpoint_id: Text | None = None

    def scope(self) -> Scope:
        """Where a wait for this match is filed: its participant, else its event, else its endpoint."""
        if self.participant_id is not None:
            return ("participant", self.participant_id)
        if self.event_id is not None:
            return ("event", self.event_id)
        if self.endpoint_id is not None:
            return ("endpoint", self.endpoint_id)
        return EVERYTHING


def scopes(record: Record) -> tuple[Scope, ...]:
    """The scopes a delivery is offered under: its participant's, its event's, its endpoint's."""
    return (("participant", record.get("participant_id")), ("event", record.get("event_id")),
            ("endpoint", record.get("endpoint_id")))


def payload(record: Record) -> dict[str, Any]:
    """The delivery's envelope, parsed (an empty one if it cannot be)."""
    try:
        document = json.loads(record.get("body") or "{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def facts(record: Record) -> dict[str, Any]:
    """What a delivery match looks at, read from the record and its envelope."""
    data = payload(record).get("data") or {}
    ancillary, event = data.get("ancillary") or {}, data.get("event") or {}
    status = event.get("status")
    try:
        event_status = int(status) if status is not None else None
    except (TypeError, ValueError):
        event_status = None
    return {"topic": record.get("topic"), "status": record.get("status"),
            "participant_id": record.get("participant_id"),
            "participant_unique_id1": ancillary.get("participant_unique_id1"),
            "transaction_id": _str(event.get("transaction_id")),
            "customer_account_token": _str(event.get("customer_account_token")),
            "event_status": event_status, "event_id": record.get("event_id"), "endpoint_id": record.get("endpoint_id")}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def differences(match: DeliveryMatch, record: Record) -> list[Difference]:
    """The keys of ``match`` that the delivery misses (none: it matches)."""
    seen = facts(record)
    missed: list[Difference] = []
    if record.get("probe"):  # a readiness rehearsal's test of the receiver: never a delivery a test waits for
        missed.append({"key": "probe", "expected": None, "actual": record["probe"]})
    if match.topic is not None and not any(fnmatch.fnmatchcase(str(seen["topic"]), p) for p in match.topic):
        missed.append({"key": "topic", "expected": one_or_all(match.topic), "actual": seen["topic"]})
    if match.status is not None and seen["status"] not in {ALIASES.get(s, s) for s in match.status}:
        missed.append({"key": "status", "expected": one_or_all(match.status), "actual": seen["status"]})
    if match.event_status is not None and seen["event_status"] not in match.event_status:
        missed.append({"key": "event_status", "expected": one_or_all(match.event_status),
                       "actual": seen["event_status"]})
    for key in ("participant_id", "participant_unique_id1", "transaction_id", "customer_account_token", "event_id",
                "endpoint_id"):
        wanted = getattr(match, key)
        if wanted is not None and seen[key] != wanted:
            missed.append({"key": key, "expected": wanted, "actual": seen[key]})
    return missed
