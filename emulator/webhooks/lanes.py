"""Slots for attempts under way: a lane per endpoint in front of the shared ones, so that a receiver that hangs
holds only its own lane's few slots and the other endpoints' deliveries go on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class _Lane:
    """One endpoint's slots, and how many attempts hold or wait for them."""

    slots: asyncio.Semaphore
    users: int = field(default=0)


class Lanes:
    """At most ``total`` attempts under way at once, and at most ``each`` of them to one endpoint.

    An attempt first queues in its endpoint's lane, then for a shared slot: every endpoint has at most ``each``
    attempts in the shared queue, which serves them in turn, so a busy endpoint cannot push the others back. A
    lane exists only while an attempt holds or waits for it (their number bounds the lanes, not the endpoints').
    """

    def __init__(self, total: int, each: int) -> None:
        self.total = total
        self.each = min(each, total)
        self._shared = asyncio.Semaphore(total)
        self._lanes: dict[str, _Lane] = {}

    def __len__(self) -> int:
        """How many lanes exist now (endpoints with attempts under way or waiting)."""
        return len(self._lanes)

    @asynccontextmanager
    async def slot(self, endpoint_id: str) -> AsyncIterator[None]:
        """Hold one of ``endpoint_id``'s slots and one shared slot for the duration of the block."""
        lane = self._lanes.get(endpoint_id)
        if lane is None:
            lane = self._lanes[endpoint_id] = _Lane(asyncio.Semaphore(self.each))
        lane.users += 1
        try:
            async with lane.slots, self._shared:
                yield
        finally:
            lane.users -= 1
            if not lane.users:
                del self._lanes[endpoint_id]
