"""Webhook events in Ingo's envelope (metadata + data.ancillary + data.event), kept in an outbox."""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from emulator.core.catalogue import catalogue
from emulator.core.clock import Clock, ClockOutOfRange, checked
from emulator.core.ids import IdFactory
from emulator.core.masking import mask
from emulator.core.stateful import ARCHIVED, Refused, Stateful, each, shallow
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


class _KeptEvent(KeptEvent):
    """An event as an archive must hold it."""

    __pydantic_config__ = ARCHIVED  # type: ignore[misc]


KEPT_EVENT = TypeAdapter(_KeptEvent)


def checked_events(section: Any) -> list[Event]:
    """The events of an archive, each as the outbox keeps it; Refused naming the first problem."""
    kept = each(KEPT_EVENT, section)
    events = []
    for index, item in enumerate(kept):
        metadata = item["envelope"]["metadata"]
        for name, moment in (("created", item["created"]), ("wall_time", item["wall_time"])):
            try:
                if moment is not None:
                    checked(moment)
            except ClockOutOfRange as exc:
                raise Refused((index, name), f": {exc}") from None
        if not 1 <= item["participant_id"] <= 99_999:
            raise Refused((index, "participant_id"), "must be a participant id (1 to 99999)")
        if item["topic"] not in TOPICS:
            raise Refused((index, "topic"), f"names no webhook topic this emulator knows: {item['topic'][:80]!r}")
        if (metadata["id"], metadata["topic"]) != (item["id"], item["topic"]):
            raise Refused((index, "envelope", "metadata"), ": its id and topic must be the event's")
        if item["number"] < 1:
            raise Refused((index, "number"), "must be at least 1")
        for name, data in item["envelope"]["data"].items():
            try:
                shallow(data)
            except ValueError as exc:
                raise Refused((index, "envelope", "data", name), f": {exc}") from None
        events.append(Event(item["envelope"], item["participant_id"], item["source"], item["created"],
                            item["number"], wall_time=item["wall_time"]))
    return events


class Outbox(Stateful[list[Event]]):
    """The last ``size`` events emitted (of every participant), newest last, and the listeners (webhook delivery)
    told about each; ``evicted`` counts those that left to make room.

    Its state (stateful part ``events``): the events, which a reset clears (of everyone or one participant) and a
    snapshot keeps; a restore tells ``recallers`` (never the listeners: nothing is delivered again) of each."""

    section = "events"

    def __init__(self, clock: Clock, *, seed: int | None = None, size: int = 10_000) -> None:
        self.clock = clock
        self.ids = IdFactory(None if seed is None else seed + 2)
        self.events: deque[Event] = deque(maxlen=size)
        self.evicted = 0
        self._numbers = itertools.count(1)
        self.listeners: list[Callable[[Event], Any]] = []
        #: Told of each event a restore brings back (what follows events without delivering them: findings).
        self.recallers: list[Callable[[Event], Any]] = []

    def emit(self, topic: str, participant_id: int, *, ancillary: dict[str, Any], event: dict[str, Any],
             status: int | None = None, message: str | None = None, source: str = "flow") -> Event:
        now = self.clock.now(participant_id)  # the participant's business time
        envelope = build_envelope(topic, event_id=ID_PREFIX + self.ids.uuid4(), timestamp=now,
                                  ancillary=ancillary, event=event, status=status, message=message)
        item = Event(envelope, participant_id, source, now, next(self._numbers), wall_time=time.time())
        if len(self.events) == self.events.maxlen:
            self.evicted += 1
        self.events.append(item)
        for listener in self.listeners:
            listener(item)
        return item

    def find(self, event_id: str) -> Event | None:
        return next((e for e in self.events if e.id == event_id), None)

    def export(self) -> list[KeptEvent]:
        """Every event kept, oldest first, masked (for a snapshot)."""
        return [mask({**e.as_json(), "number": e.number}) for e in self.events]

    def check(self, section: Any) -> list[Event]:
        return checked_events(section)

    def load(self, checked: list[Event]) -> None:
        """Replace the events with checked ones, without telling the listeners; new events are numbered after the
        highest restored one."""
        self.events.clear()
        self.events.extend(checked)
        self._numbers = itertools.count(max((e.number for e in checked), default=0) + 1)
        for event in self.events:
            for recaller in self.recallers:
                recaller(event)

    def reset(self, participant_id: int | None = None) -> None:
        self.clear(participant_id)

    def clear(self, participant_id: int | None = None) -> None:
        if participant_id is None:
            self.events.clear()
            self.evicted = 0
        else:
            kept = [e for e in self.events if e.participant_id != participant_id]
            self.events.clear()
            self.events.extend(kept)
