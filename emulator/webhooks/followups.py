"""Follow-up events scenario rules schedule: kept in the store until due, so a restart does not lose them."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from emulator.core.clock import Clock
from emulator.core.scheduler import Scheduler
from emulator.store import Record, Store
from emulator.webhooks.events import Outbox

LOG = logging.getLogger("ingopay_emulator")
KIND = "scheduled_event"


class FollowUps:
    """Webhook events due later on the participant's clock (a return two days on, an OFAC clearance)."""

    def __init__(self, store: Store, clock: Clock, scheduler: Scheduler, outbox: Outbox) -> None:
        self.store = store
        self.clock = clock
        self.scheduler = scheduler
        self.outbox = outbox

    def schedule(self, after: float, topic: str, participant_id: int, *, ancillary: dict[str, Any],
                 event: dict[str, Any], status: int | None, message: str | None, source: str, label: str) -> None:
        key = uuid.uuid4().hex
        record = {"id": key, "due": self.clock.now(participant_id) + after, "topic": topic,
                  "participant_id": participant_id, "ancillary": ancillary, "event": event, "status": status,
                  "message": message, "source": source, "label": label}
        self.store.put(KIND, participant_id, key, record)
        self._queue(record)

    def _queue(self, record: Record) -> None:
        self.scheduler.at(max(record["due"], self.clock.now(record["participant_id"])),
                          lambda: self._fire(record["participant_id"], record["id"]),
                          record["label"], owner=record["participant_id"])

    def _fire(self, participant_id: int, key: str) -> None:
        record = self.store.get(KIND, participant_id, key)
        if record is None:
            return  # reset since it was scheduled
        self.outbox.emit(record["topic"], participant_id, ancillary=record["ancillary"], event=record["event"],
                         status=record["status"], message=record["message"], source=record["source"])
        self.store.delete(KIND, participant_id, key)

    def resume(self) -> int:
        """Schedule again what a previous run left due (durable stores keep it)."""
        records = [record for _, _, record in self.store.records(KIND)]
        for record in sorted(records, key=lambda r: r["due"]):
            self._queue(record)
        if records:
            LOG.info("resuming %d scheduled webhook events left by the previous run", len(records))
        return len(records)

    def pending(self) -> int:
        return sum(1 for _ in self.store.records(KIND))
