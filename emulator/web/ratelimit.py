"""Per-credential rate limiting: at most N requests in any rolling one-second window, Kong's headers."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NotRequired

from typing_extensions import TypedDict

from emulator.core.credentials import Credential
from emulator.core.limits import INGO_REQUESTS_PER_SECOND
from emulator.core.stateful import Stateful
from emulator.settings import named


class Window(TypedDict):
    """One credential's current one-second window."""

    limit: int
    in_window: int
    remaining: int
    forced_refusals: int


class Throttled(TypedDict):
    """Why a request got 429: the emulator's addition, not Kong's (``--no-diagnosis`` leaves it out)."""

    code: Literal["rate_limited", "rate_limit_forced"]
    detail: str
    limit: int  # requests allowed per window and credential (0: limiting is off)
    window_seconds: float
    retry_after: int  # as the Retry-After header says
    setting: str  # the flag and variable that change the limit


class RateLimited(TypedDict):
    """Kong's answer to a request over the limit (HTTP 429), with the emulator's diagnosis."""

    message: Literal["API rate limit exceeded"]
    diagnosis: NotRequired[Throttled]


REFUSAL: RateLimited = {"message": "API rate limit exceeded"}
#: The headers every answer to a signed request carries while rate limiting is on: name, the Admission field it
#: shows, what it says.
HEADERS = (
    ("RateLimit-Limit", "limit", "requests allowed per second for this credential"),
    ("RateLimit-Remaining", "remaining", "requests left in the current one-second window"),
    ("RateLimit-Reset", "reset", "seconds until the window frees a request"),
    ("X-RateLimit-Limit-Second", "limit", "Kong's name for RateLimit-Limit"),
    ("X-RateLimit-Remaining-Second", "remaining", "Kong's name for RateLimit-Remaining"),
)


@dataclass(frozen=True)
class Admission:
    """Whether one request may pass, and what the client is told about its budget."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds until a slot frees up
    window: float = 1.0  # seconds
    forced: bool = False  # refused because POST /_emulator/ratelimit asked for it (refuse_next)

    def headers(self) -> dict[str, str]:
        """The :data:`HEADERS`, and Retry-After on a refusal."""
        found = {name: str(getattr(self, field)) for name, field, _ in HEADERS}
        if not self.allowed:
            found["Retry-After"] = str(self.reset)
        return found

    def refusal(self, *, diagnosis: bool) -> RateLimited:
        """The 429's body: Kong's, with the emulator's :class:`Throttled` when ``diagnosis`` (--no-diagnosis)."""
        if not diagnosis:
            return REFUSAL
        return {**REFUSAL, "diagnosis": self.explained()}

    def explained(self) -> Throttled:
        """Why this request was refused: the limit, the window, when to retry, and the setting that changes it."""
        setting = named("rate_limit")
        if self.forced:
            detail = (f"refused because POST /_emulator/ratelimit asked that this credential's next requests get 429 "
                      f"(refuse_next), whatever the limit; retry after {self.reset} s, as Retry-After says")
        else:
            detail = (f"more than {self.limit} request{'s' if self.limit != 1 else ''} in {self.window:g} s for this "
                      f"credential (Ingo allows {INGO_REQUESTS_PER_SECOND} a second); retry after {self.reset} s, as "
                      f"Retry-After says, or change the emulator's limit with {setting} (0 turns it off)")
        return {"code": "rate_limit_forced" if self.forced else "rate_limited", "detail": detail, "limit": self.limit,
                "window_seconds": self.window, "retry_after": self.reset, "setting": setting}


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

    def acquire(self, key: str) -> Admission:
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
            return Admission(False, self.limit, 0, 1, self.window, forced=True)
        if len(hits) >= self.limit:
            reset = max(1, math.ceil(hits[0] + self.window - now))
            return Admission(False, self.limit, 0, reset, self.window)
        hits.append(now)
        reset = max(1, math.ceil(hits[0] + self.window - now))
        return Admission(True, self.limit, self.limit - len(hits), reset, self.window)

    def forces(self, key: str) -> bool:
        """Whether ``key``'s next request is to be refused by :meth:`refuse_next` (even with limiting off)."""
        return self._forced.get(key, 0) > 0

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

    def snapshot(self) -> dict[str, Window]:
        """Each credential's current window: requests counted, remaining, forced refusals."""
        now = self._now()
        found: dict[str, Window] = {}
        for key in sorted(set(self._hits) | set(self._forced)):
            recent = [t for t in self._hits.get(key, ()) if t > now - self.window]
            found[key] = {"limit": self.limit, "in_window": len(recent),
                          "remaining": max(0, self.limit - len(recent)), "forced_refusals": self._forced.get(key, 0)}
        return found

    def idle_window(self) -> Window:
        """The window of a credential that has sent nothing lately."""
        return {"limit": self.limit, "in_window": 0, "remaining": self.limit, "forced_refusals": 0}


class RateWindows(Stateful[None]):
    """Every credential's rate window, as a stateful part (no section): a reset of everyone, and a restore, empties
    them all; a reset of one participant those of its credentials. ``limiter`` gives the emulator's limiter now."""

    def __init__(self, limiter: Callable[[], RateLimiter], credentials: Mapping[str, Credential]) -> None:
        self.limiter = limiter
        self.credentials = credentials

    def reset(self, participant_id: int | None = None) -> None:
        if participant_id is None:
            self.limiter().reset()
            return
        for credential in list(self.credentials.values()):
            if credential.participant_id == participant_id:
                self.limiter().reset(credential.username)
