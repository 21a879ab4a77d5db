"""Rehearsals under way, one per participant: told of each journal entry, webhook delivery change, event and
finding, each keeps a bounded list of references to its participant's (a dictionary lookup for anyone else); the
judging is done when a report is read (``emulator.readiness.report``)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from emulator.core.clock import Clock
from emulator.core.journal import Entry
from emulator.findings.models import Finding
from emulator.readiness import probes
from emulator.readiness.plan import Plan
from emulator.readiness.traffic import Traffic
from emulator.store import Record
from emulator.webhooks.delivery import Deliveries
from emulator.webhooks.events import Event

#: Participants with a rehearsal, at most (starting one more forgets the rehearsal started longest ago).
MOST_REHEARSALS = 32
#: What one rehearsal keeps, at most, of each kind (the oldest leave first; ``dropped`` counts them).
ENTRIES_KEPT = 2_000
DELIVERIES_KEPT = 1_000
FINDINGS_KEPT = 200
EVENTS_KEPT = 1_000


@dataclass
class Rehearsal:
    """What one participant's rehearsal has seen since it started (emulator clock and wall time)."""

    participant_id: int
    started: float
    started_wall: float
    entries: deque[Entry] = field(default_factory=lambda: deque(maxlen=ENTRIES_KEPT))
    deliveries: OrderedDict[str, Record] = field(default_factory=OrderedDict)
    findings: OrderedDict[str, Finding] = field(default_factory=OrderedDict)
    events: deque[Event] = field(default_factory=lambda: deque(maxlen=EVENTS_KEPT))
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("requests", "deliveries", "findings",
                                                                          "events"), 0))

    def traffic(self) -> Traffic:
        """What the rules read: requests oldest first, deliveries by creation, findings oldest first."""
        return Traffic(list(self.entries), list(self.deliveries.values()), list(self.findings.values()))

    def keep_entry(self, entry: Entry) -> None:
        if len(self.entries) == ENTRIES_KEPT:
            self.dropped["requests"] += 1
        self.entries.append(entry)

    def keep_delivery(self, record: Record) -> None:
        """Keep the newest state of a delivery (a durable store hands out copies)."""
        key = str(record.get("id"))
        if key not in self.deliveries and len(self.deliveries) == DELIVERIES_KEPT:
            self.deliveries.popitem(last=False)
            self.dropped["deliveries"] += 1
        self.deliveries[key] = record

    def keep_finding(self, finding: Finding) -> None:
        if len(self.findings) == FINDINGS_KEPT:
            self.findings.popitem(last=False)
            self.dropped["findings"] += 1
        self.findings[finding.id] = finding

    def keep_event(self, event: Event) -> None:
        if len(self.events) == EVENTS_KEPT:
            self.dropped["events"] += 1
        self.events.append(event)


class Rehearsals:
    """The rehearsals under way, by participant (at most MOST_REHEARSALS), all judged against one ``plan``; a reset
    of the emulator leaves them running (a suite resets between tests), starting one again begins it afresh."""

    def __init__(self, plan: Plan, clock: Clock, deliveries: Deliveries, *,
                 wall: Callable[[], float] = time.time) -> None:
        self.plan = plan
        self.clock = clock
        self.deliveries = deliveries
        self._wall = wall
        self._by_participant: OrderedDict[int, Rehearsal] = OrderedDict()

    def start(self, participant_id: int) -> Rehearsal:
        """Start (or start again) the rehearsal of one participant."""
        self._by_participant.pop(participant_id, None)
        while len(self._by_participant) >= MOST_REHEARSALS:
            self._by_participant.popitem(last=False)
        rehearsal = Rehearsal(participant_id, self.clock.now(), self._wall())
        self._by_participant[participant_id] = rehearsal
        return rehearsal

    def get(self, participant_id: int) -> Rehearsal | None:
        return self._by_participant.get(participant_id)

    def listing(self) -> list[Rehearsal]:
        """Every rehearsal, started longest ago first."""
        return list(self._by_participant.values())

    # -- what the emulator tells it: one lookup for a participant without a rehearsal --------------------------

    def on_entry(self, entry: Entry) -> None:
        """The journal's listener."""
        rehearsal = self._by_participant.get(entry.participant_id) if entry.participant_id is not None else None
        if rehearsal is not None:
            rehearsal.keep_entry(entry)

    def on_finding(self, finding: Finding) -> None:
        """The findings' listener."""
        rehearsal = self._by_participant.get(finding.participant_id) if finding.participant_id is not None else None
        if rehearsal is not None:
            rehearsal.keep_finding(finding)

    def on_emitted(self, event: Event) -> None:
        """The outbox's listener."""
        rehearsal = self._by_participant.get(event.participant_id)
        if rehearsal is not None:
            rehearsal.keep_event(event)

    def on_delivery(self, record: Record) -> None:
        """The deliveries' listener: keep the delivery; once an endpoint acknowledges a real one, probe it."""
        participant = record.get("participant_id")
        rehearsal = self._by_participant.get(participant) if isinstance(participant, int) else None
        if rehearsal is None:
            return
        rehearsal.keep_delivery(record)
        if record.get("probe") or record.get("status") != "succeeded":
            return
        sent = [r for r in rehearsal.deliveries.values() if r.get("probe")]
        for kind in probes.wanted(record, sent):
            probes.send(self.deliveries, record, kind)
