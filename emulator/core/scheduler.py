"""Jobs due at emulator-clock times: follow-up events, webhook retries, expiries. Advancing the clock fires them; a
participant's jobs wait on its own clock once it has one."""

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

from emulator.core.clock import Clock, Dial
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
    """Queues of jobs ordered by due time: one on the emulator clock, and one on each participant's own clock (its
    jobs wait there once it has one, so moving that clock fires its jobs and never another's).

    Its state (stateful part, no section): the pending jobs, which a reset cancels (of everyone or one participant);
    what they do is kept in the store, from which the app schedules them again (at start-up, after a restore).

    A background task fires jobs as real time reaches them on their clock; ``advance`` moves one clock and fires, in
    due order, everything on it that falls due (including jobs those jobs schedule) before returning.
    """

    def __init__(self, clock: Clock, *, poll_interval: float = 0.05) -> None:
        self.clock = clock
        self.poll_interval = poll_interval
        #: The jobs by the clock they wait on: None the emulator clock, a participant id that participant's own.
        self._queues: dict[int | None, list[Scheduled]] = {}
        self._sequence = itertools.count()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        #: Jobs under way, with the participant each belongs to.
        self._running: dict[asyncio.Future[Any], int | None] = {}
        self._closed = False

    def _clock_of(self, owner: int | None) -> int | None:
        """The queue a job of ``owner`` waits in."""
        return owner if self.clock.has_own(owner) else None

    def at(self, due: float, job: Job, label: str = "", *, owner: int | None = None) -> Scheduled:
        """Run ``job`` when ``owner``'s clock (the emulator clock for None) reaches ``due``."""
        item = Scheduled(due, next(self._sequence), label, job, owner=owner)
        heapq.heappush(self._queues.setdefault(self._clock_of(owner), []), item)
        self._wake.set()
        return item

    def after(self, seconds: float, job: Job, label: str = "", *, owner: int | None = None) -> Scheduled:
        return self.at(self.clock.now(owner) + seconds, job, label, owner=owner)

    def own_clock(self, participant_id: int) -> Dial:
        """``participant_id``'s own clock (made as a copy of the emulator clock if it has none yet: TooManyClocks
        when no more can be), with its pending jobs moved onto it."""
        had = self.clock.has_own(participant_id)
        dial = self.clock.own(participant_id)
        shared = self._queues.get(None)
        if not had and shared:
            mine = [item for item in shared if item.owner == participant_id]
            if mine:
                self._queues[None] = [item for item in shared if item.owner != participant_id]
                heapq.heapify(self._queues[None])
                queue = self._queues.setdefault(participant_id, [])
                queue.extend(mine)
                heapq.heapify(queue)
        return dial

    def cancel(self, owner: int | None = None) -> int:
        """Drop pending jobs: every one, or those of one participant (let go at once, not kept until due). Returns
        how many."""
        dropped = 0
        for key, queue in list(self._queues.items()):
            for item in queue:
                if not item.cancelled and (owner is None or item.owner == owner):
                    item.cancelled = True
                    dropped += 1
            kept = [item for item in queue if not item.cancelled]
            if kept:
                heapq.heapify(kept)
                self._queues[key] = kept
            else:
                del self._queues[key]
        return dropped

    def reset(self, participant_id: int | None = None) -> None:
        self.cancel(participant_id)

    def _mine(self, participant_id: int | None) -> list[Scheduled]:
        """The live jobs shown for a clock: those on the emulator clock (None), or one participant's."""
        if participant_id is None:
            found = self._queues.get(None, [])
        else:
            found = [item for item in self._queues.get(self._clock_of(participant_id), [])
                     if item.owner == participant_id]
        return [item for item in found if not item.cancelled]

    def pending(self, participant_id: int | None = None) -> list[Due]:
        """The jobs not yet fired, soonest first: those on the emulator clock, or one participant's."""
        return [{"due": item.due, "label": item.label, "participant_id": item.owner}
                for item in sorted(self._mine(participant_id))]

    def count(self, participant_id: int | None = None) -> int:
        """How many jobs :meth:`pending` shows."""
        return len(self._mine(participant_id))

    def __len__(self) -> int:
        return sum(1 for queue in self._queues.values() for item in queue if not item.cancelled)

    def close(self) -> None:
        """Fire nothing more (the emulator is stopping): the jobs left stay queued, and what their owners keep in
        the store is scheduled again at the next start; an advance under way and the background loop return."""
        self._closed = True
        self._wake.set()

    def next_due(self, participant_id: int | None = None) -> float | None:
        """When the soonest job on the emulator clock (or of one participant) falls due, on its clock."""
        live = [item.due for item in self._mine(participant_id)]
        return min(live) if live else None

    async def run_due(self, *, wait: bool = True) -> int:
        """Start every job due now on its clock, in due order; with ``wait``, also wait until every started job is
        done.

        Jobs that return an awaitable (a webhook delivery) run concurrently; their own limits bound them.
        """
        ran = 0
        for key in list(self._queues):
            ran += await self._start_due(key)
        if wait:
            await self.settle()
        return ran

    async def _start_due(self, key: int | None) -> int:
        """Start the jobs due now on one clock (None: the emulator clock), in due order."""
        ran = 0
        async with self._lock:
            while not self._closed:
                queue = self._queues.get(key)  # read again: a job may have cancelled some (a new list)
                if not queue or queue[0].due > self.clock.now(key):
                    break
                item = heapq.heappop(queue)
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
                    self._running[task] = item.owner
            if key in self._queues and not self._queues[key]:
                del self._queues[key]  # a participant's queue goes with its last job
        return ran

    def _finished(self, label: str) -> Callable[[asyncio.Future[Any]], None]:
        def done(task: asyncio.Future[Any]) -> None:
            self._running.pop(task, None)
            if not task.cancelled() and task.exception() is not None:
                LOG.error("scheduled job %r failed", label, exc_info=task.exception())
        return done

    async def settle(self) -> None:
        """Wait until every job started so far (and any they start) has finished."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _settle_on(self, key: int | None) -> None:
        """Wait until the jobs started on one clock (and any they start there) have finished; other participants'
        jobs (a receiver that never answers) are not waited for."""
        while under_way := [task for task, owner in self._running.items() if self._clock_of(owner) == key]:
            await asyncio.gather(*under_way, return_exceptions=True)

    async def shutdown(self) -> None:
        """Cancel jobs still running (their owners record what was left undone)."""
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*list(self._running), return_exceptions=True)

    async def fire_due(self, participant_id: int | None = None) -> int:
        """Fire what is due now on the emulator clock (or on ``participant_id``'s own), waiting for it to finish."""
        key = self._clock_of(participant_id)
        ran = await self._start_due(key)
        await self._settle_on(key)
        return ran

    async def advance(self, seconds: float, participant_id: int | None = None) -> int:
        """Move the emulator clock (or, with ``participant_id``, that participant's own clock, made if it has none)
        forward and fire everything on it that falls due, in due order, before returning.

        Jobs fire at their own due time: the clock steps to each one, so a job that schedules
        another (a retry) inside the window sees that one fire too.
        """
        dial = self.clock.main if participant_id is None else self.own_clock(participant_id)
        key = self._clock_of(participant_id)
        # Jobs already under way (the background loop fired them) finish first, at the time they started:
        # a retry they schedule must count from that time and fall inside this window.
        await self._settle_on(key)
        target = dial.now() + seconds
        ran = 0
        while not self._closed:
            queue = [item.due for item in self._queues.get(key, []) if not item.cancelled]
            upcoming = min(queue) if queue else None
            if upcoming is None or upcoming > target:
                break
            if upcoming > dial.now():
                dial.set(upcoming)
            ran += await self.fire_due(participant_id)
        if self._closed:
            return ran
        if target > dial.now():
            dial.set(target)
        ran += await self.fire_due(participant_id)
        return ran

    async def run_forever(self) -> None:
        """Fire jobs as the (running) clocks reach them, until closed; the app's cleanup context runs this."""
        while not self._closed:
            await self.run_due(wait=False)
            timeout = self.poll_interval
            for key, queue in list(self._queues.items()):
                if queue:
                    timeout = min(timeout, max(0.0, queue[0].due - self.clock.now(key)))
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that arrives as the wake-up
            # does, and this loop would then outlive the app that cancelled it.
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass
