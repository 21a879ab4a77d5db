"""Webhook events in Ingo's envelope (metadata + data.ancillary + data.event), kept in an outbox."""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from typing_extensions import TypedDict

from emulator.core.catalogue import catalogue
from emulator.core.clock import Clock
from emulator.core.ids import IdFactory
from emulator.webhooks.topics import TOPICS

#: metadata.id prefix: Ingo's sandbox ids look like "sb01-<uuid>".
ID_PREFIX = "sb01-"
#: ``data.ancillary.session_id`` of events about gateway requests, which belong to no iFrame session (reference 5.2).
GATEWAY_SESSION_ID = "00000000-0000-0000-0000-000000000001"


class Metadata(TypedDict):
    """What the event is: its id, when, its topic and the topic's description and version."""

    id: str
    timestamp: int
    topic: str
    topic_description: str
    version: str


class EventData(TypedDict):
    """Who the event is about (``ancillary``: participant ids, session, tracer token) and what happened."""

    ancillary: dict[str, Any]
    event: dict[str, Any]


class WebhookEnvelope(TypedDict):
    """Ingo's webhook envelope (reference 5.2): metadata and data.ancillary + data.event."""

    metadata: Metadata
    data: EventData


class EventRecord(TypedDict):
    """An emitted event as the admin API shows it: the envelope and where it came from."""

    id: str
    topic: str
    participant_id: int
    source: str
    created: float
    wall_time: float | None
    envelope: WebhookEnvelope


class KeptEvent(EventRecord):
    """An emitted event as a snapshot keeps it: as the admin API shows it, and its place in the outbox."""

    number: int


class Event:
    """One webhook event: its envelope and where it came from.

    The envelope is kept as the compact JSON every delivery sends (``body``; in memory a delivery keeps the very same
    text), and read back into a fresh dict when asked for: one copy per event, whatever the endpoints.
    """

    __slots__ = ("body", "created", "id", "number", "participant_id", "source", "topic", "wall_time")

    def __init__(self, envelope: WebhookEnvelope, participant_id: int, source: str, created: float, number: int, *,
                 wall_time: float | None = None) -> None:
        self.id: str = envelope["metadata"]["id"]
        self.topic: str = envelope["metadata"]["topic"]
        self.body = json.dumps(envelope, separators=(",", ":"), default=str)  # a YAML date in a rule's data: text
        self.participant_id = participant_id
        self.source = source  # what emitted it: "scenario:<scenario>/<rule>", "flow:process", "admin"
        self.created = created
        self.number = number
        self.wall_time = wall_time  # the machine's time when it was emitted (``created`` is the emulator clock's)

    @property
    def envelope(self) -> WebhookEnvelope:
        """The envelope, read from its JSON (a copy: changing it changes nothing kept)."""
        envelope: WebhookEnvelope = json.loads(self.body)
        return envelope

    def as_json(self) -> EventRecord:
        return {"id": self.id, "topic": self.topic, "participant_id": self.participant_id, "source": self.source,
                "created": self.created, "wall_time": self.wall_time, "envelope": self.envelope}


def build_envelope(topic: str, *, event_id: str, timestamp: float, ancillary: dict[str, Any],
                   event: dict[str, Any], status: int | None = None, message: str | None = None) -> WebhookEnvelope:
    """Ingo's webhook envelope (reference 5.2): status travels as a string, as in Ingo's examples."""
    known = TOPICS[topic]
    code = status if status is not None else known.status
    body = dict(event)
    if code is not None:
        body.setdefault("status", str(code))
        text = message if message is not None else (catalogue()[code].message if code in catalogue() else "")
        body.setdefault("client_message", text)
    return {
        "metadata": {"id": event_id, "timestamp": int(timestamp), "topic": topic,
                     "topic_description": known.description, "version": known.version},
        "data": {"ancillary": ancillary, "event": body},
    }


class Outbox:
    """The last ``size`` events emitted (of every participant), newest last, and the listeners (webhook delivery)
    told about each; ``evicted`` counts those that left to make room."""

    def __init__(self, clock: Clock, *, seed: int | None = None, size: int = 10_000) -> None:
        self.clock = clock
        self.ids = IdFactory(None if seed is None else seed + 2)
        self.events: deque[Event] = deque(maxlen=size)
        self.evicted = 0
        self._numbers = itertools.count(1)
        self.listeners: list[Callable[[Event], Any]] = []

    def emit(self, topic: str, participant_id: int, *, ancillary: dict[str, Any], event: dict[str, Any],
             status: int | None = None, message: str | None = None, source: str = "flow") -> Event:
        envelope = build_envelope(topic, event_id=ID_PREFIX + self.ids.uuid4(), timestamp=self.clock.now(),
                                  ancillary=ancillary, event=event, status=status, message=message)
        item = Event(envelope, participant_id, source, self.clock.now(), next(self._numbers), wall_time=time.time())
        if len(self.events) == self.events.maxlen:
            self.evicted += 1
        self.events.append(item)
        for listener in self.listeners:
            listener(item)
        return item

    def find(self, event_id: str) -> Event | None:
        return next((e for e in self.events if e.id == event_id), None)

    def export(self) -> list[KeptEvent]:
        """Every event kept, oldest first (for a snapshot)."""
        return [{**e.as_json(), "number": e.number} for e in self.events]

    def restore(self, kept: Iterable[KeptEvent]) -> list[Event]:
        """Replace the events with exported ones, without telling the listeners (nothing is delivered again); new
        events are numbered after the highest restored one. Returns the restored events, oldest first."""
        restored = [Event(item["envelope"], item["participant_id"], item["source"], item["created"], item["number"],
                          wall_time=item.get("wall_time"))
                    for item in kept]
        self.events.clear()
        self.events.extend(restored)
        self._numbers = itertools.count(max((e.number for e in restored), default=0) + 1)
        return list(self.events)

    def clear(self, participant_id: int | None = None) -> None:
        if participant_id is None:
            self.events.clear()
            self.evicted = 0
        else:
            kept = [e for e in self.events if e.participant_id != participant_id]
            self.events.clear()
            self.events.extend(kept)
