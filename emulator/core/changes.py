"""Telling live watchers (the inspector's event stream) that the emulator's state changed, without polling."""

from __future__ import annotations

import asyncio

#: The most live watchers at once: each holds a connection open.
MOST_WATCHERS = 32


class Subscription:
    """One watcher: the kinds of change since it last looked, and a flag that wakes it."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.closed = False
        self._wake = asyncio.Event()

    def tell(self, kind: str) -> None:
        self.kinds.add(kind)
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def next(self, timeout: float) -> set[str] | None:
        """The kinds changed since the last call, as soon as there is one (an empty set after ``timeout`` with
        none); None once closed."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass
        self._wake.clear()
        if self.closed:
            return None
        kinds, self.kinds = self.kinds, set()
        return kinds


class Changes:
    """The live watchers, each told of every kind of change (requests, webhooks, events, admin)."""

    def __init__(self, most: int = MOST_WATCHERS) -> None:
        self.most = most
        self._watchers: set[Subscription] = set()

    def __len__(self) -> int:
        return len(self._watchers)

    def subscribe(self) -> Subscription | None:
        """A new watcher, or None when :attr:`most` already watch."""
        if len(self._watchers) >= self.most:
            return None
        watcher = Subscription()
        self._watchers.add(watcher)
        return watcher

    def unsubscribe(self, watcher: Subscription) -> None:
        self._watchers.discard(watcher)

    def notify(self, kind: str) -> None:
        for watcher in self._watchers:
            watcher.tell(kind)

    def close(self) -> None:
        """End every watch (the emulator is stopping)."""
        for watcher in list(self._watchers):
            watcher.close()
