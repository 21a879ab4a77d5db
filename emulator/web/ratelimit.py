"""Per-credential rate limiting: at most N requests in any rolling one-second window, Kong's headers."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Decision:
    """Whether one request may pass, and what the client is told about its budget."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds until a slot frees up

    def headers(self) -> dict[str, str]:
        found = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "X-RateLimit-Limit-Second": str(self.limit),
            "X-RateLimit-Remaining-Second": str(self.remaining),
        }
        if not self.allowed:
            found["Retry-After"] = str(self.reset)
        return found


class RateLimiter:
    """A sliding one-second log per credential; real (monotonic) time, so moving the emulator clock
    never throttles or frees a client."""

    def __init__(self, limit: int, *, window: float = 1.0, now: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._now = now
        self._hits: dict[str, deque[float]] = {}
        self._forced: dict[str, int] = {}

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def acquire(self, key: str) -> Decision:
        """Count one request for ``key`` if the window has room."""
        now = self._now()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque(maxlen=self.limit)
        cutoff = now - self.window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        forced = self._forced.get(key, 0)
        if forced:
            self._forced[key] = forced - 1
            return Decision(False, self.limit, 0, 1)
        if len(hits) >= self.limit:
            reset = max(1, math.ceil(hits[0] + self.window - now))
            return Decision(False, self.limit, 0, reset)
        hits.append(now)
        reset = max(1, math.ceil(hits[0] + self.window - now))
        return Decision(True, self.limit, self.limit - len(hits), reset)

    def refuse_next(self, key: str, count: int) -> None:
        """Make the next ``count`` requests of ``key`` get 429 (to test a client's back-off)."""
        self._forced[key] = max(0, count)

    def reset(self, key: str | None = None) -> None:
        if key is None:
            self._hits.clear()
            self._forced.clear()
        else:
            self._hits.pop(key, None)
            self._forced.pop(key, None)

    def snapshot(self) -> dict[str, dict[str, object]]:
        """Each credential's current window: requests counted, remaining, forced refusals."""
        now = self._now()
        found = {}
        for key in sorted(set(self._hits) | set(self._forced)):
            recent = [t for t in self._hits.get(key, ()) if t > now - self.window]
            found[key] = {"limit": self.limit, "in_window": len(recent),
                          "remaining": max(0, self.limit - len(recent)), "forced_refusals": self._forced.get(key, 0)}
        return found
