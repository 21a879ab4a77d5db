"""Jobs due at emulator-clock times: follow-up events, webhook retries, expiries. Advancing the clock fires them."""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from typing_extensions import TypedDict

from emulator.core.clock import Clock
from emulator.core.stateful import Stateful

LOG = logging.getLogger("ingopay_emulator")
Job = Callable[[], Awaitable[Any] | Any]


class Due(TypedDict):
    """A job waiting on the clock, as the admin API shows it."""

    due: float
    label: str
    participant_id: int | None


@dataclass(order=True)
class Scheduled:
    due: float
    sequence: int
    label: str = field(compare=False)
    job: Job = field(compare=False, repr=False)
    cancelled: bool = field(default=False, compare=False)
    owner: int | None = field(default=None, compare=False)  # the participant it belongs to, if any


class Scheduler(Stateful[None]):
    """A queue of jobs ordered by due time on the emulator clock.

    Its state (stateful part, no section): the pending jobs, which a reset cancels (of everyone or one participant);
    what they do is kept in the store, from which the app schedules them again (at start-up, after a restore).

    A background task fires jobs as real time reaches them; ``advance`` moves the clock and fires,
    in due order, everything that falls due (including jobs those jobs schedule) before returning.
    """

    def __init__(self, clock: Clock, *, poll_interval: float = 0.05) -> None:
        self.clock = clock
        self.poll_interval = poll_interval
        self._queue: list[Scheduled] = []
        self._sequence = itertools.count()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._running: set[asyncio.Future[Any]] = set()
        self._closed = False

    def at(self, due: float, job: Job, label: str = "", *, owner: int | None = None) -> Scheduled:
        item = Scheduled(due, next(self._sequence), label, job, owner=owner)
        heapq.heappush(self._queue, item)
        self._wake.set()
        return item

    def after(self, seconds: float, job: Job, label: str = "", *, owner: int | None = None) -> Scheduled:
        return self.at(self.clock.now() + seconds, job, label, owner=owner)

    def cancel(self, owner: int | None = None) -> int:
        """Drop pending jobs: every one, or those of one participant (let go at once, not kept until due). Returns
        how many."""
        dropped = 0
        for item in self._queue:
            if not item.cancelled and (owner is None or item.owner == owner):
                item.cancelled = True
                dropped += 1
        if dropped:
            self._queue = [item for item in self._queue if not item.cancelled]
            heapq.heapify(self._queue)
        return dropped

    def reset(self, participant_id: int | None = None) -> None:
        self.cancel(participant_id)

    def pending(self) -> list[Due]:
        """The jobs not yet fired, soonest first."""
        return [{"due": item.due, "label": item.label, "participant_id": item.owner}
                for item in sorted(self._queue) if not item.cancelled]

    def __len__(self) -> int:
        return sum(1 for item in self._queue if not item.cancelled)

    def close(self) -> None:
        """Fire nothing more (the emulator is stopping): the jobs left stay queued, and what their owners keep in
        the store is scheduled again at the next start; an advance under way and the background loop return."""
        self._closed = True
        self._wake.set()

    def next_due(self) -> float | None:
        live = [item.due for item in self._queue if not item.cancelled]
        return min(live) if live else None

    async def run_due(self, *, wait: bool = True) -> int:
        """Start every job due now, in due order; with ``wait``, also wait until every started job is done.

        Jobs that return an awaitable (a webhook delivery) run concurrently; their own limits bound them.
        """
        ran = 0
        async with self._lock:
            while not self._closed and self._queue and self._queue[0].due <= self.clock.now():
                item = heapq.heappop(self._queue)
                if item.cancelled:
                    continue
                ran += 1
                try:
                    result = item.job()
                except Exception:
                    LOG.exception("scheduled job %r failed", item.label)
                    continue
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    task.add_done_callback(self._finished(item.label))
                    self._running.add(task)
        if wait:
            await self.settle()
        return ran

    def _finished(self, label: str) -> Callable[[asyncio.Future[Any]], None]:
        def done(task: asyncio.Future[Any]) -> None:
            self._running.discard(task)
            if not task.cancelled() and task.exception() is not None:
                LOG.error("scheduled job %r failed", label, exc_info=task.exception())
        return done

    async def settle(self) -> None:
        """Wait until every job started so far (and any they start) has finished."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def shutdown(self) -> None:
        """Cancel jobs still running (their owners record what was left undone)."""
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*list(self._running), return_exceptions=True)

    async def advance(self, seconds: float) -> int:
        """Move the clock forward and fire everything that falls due, in due order, before returning.

        Jobs fire at their own due time: the clock steps to each one, so a job that schedules
        another (a retry) inside the window sees that one fire too.
        """
        # Jobs already under way (the background loop fired them) finish first, at the time they started:
        # a retry they schedule must count from that time and fall inside this window.
        await self.settle()
        target = self.clock.now() + seconds
        ran = 0
        while not self._closed:
            upcoming = self.next_due()
            if upcoming is None or upcoming > target:
                break
            if upcoming > self.clock.now():
                self.clock.set(upcoming)
            ran += await self.run_due()
        if self._closed:
            return ran
        if target > self.clock.now():
            self.clock.set(target)
        ran += await self.run_due()
        return ran

    async def run_forever(self) -> None:
        """Fire jobs as the (running) clock reaches them, until closed; the app's cleanup context runs this."""
        while not self._closed:
            await self.run_due(wait=False)
            upcoming = self.next_due()
            timeout = self.poll_interval if upcoming is None else max(0.0, min(self.poll_interval,
                                                                               upcoming - self.clock.now()))
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that arrives as the wake-up
            # does, and this loop would then outlive the app that cancelled it.
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass
