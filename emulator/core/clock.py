"""The emulator clock: the one source of business time (expiry, posting dates, scheduled events), and the choice of
clock that signatures are checked against."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, TypeAdapter
from typing_extensions import TypedDict

from emulator.core.stateful import ARCHIVED, Stateful, validated

#: The range of the emulator clock: 1970-01-01 to 9998-12-31 (UTC). Every date the emulator derives from it (posting
#: dates, expiries, retries, follow-ups up to a year later) then stays within the years 1970-9999.
EARLIEST = 0.0
LATEST = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
RANGE = "1970-01-01T00:00:00Z to 9998-12-31T23:59:59Z"


class ClockOutOfRange(ValueError):
    """A time the clock cannot be set to: not a finite number, or outside :data:`RANGE`."""


def checked(timestamp: float) -> float:
    """``timestamp`` if the clock may show it; ClockOutOfRange saying the range otherwise."""
    if not isinstance(timestamp, (int, float)) or isinstance(timestamp, bool) or not math.isfinite(timestamp):
        raise ClockOutOfRange(f"{timestamp!r} is not a finite number of seconds")
    if not EARLIEST <= timestamp <= LATEST:
        raise ClockOutOfRange(f"the clock would show {_shown(timestamp)}; it runs from {RANGE}")
    return float(timestamp)


def _shown(timestamp: float) -> str:
    try:
        return datetime.fromtimestamp(timestamp, tz=UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"unix time {timestamp:.6g}"


#: A time on the emulator clock, as records and archives keep it: a number of seconds within :data:`RANGE`.
Moment = Annotated[float, AfterValidator(checked)]


class Position(TypedDict):
    """Where the clock stands, as a snapshot keeps it: the time it shows, whether it is frozen, and how far it is
    ahead of real time (negative: behind) at that moment."""

    now: Moment
    frozen: bool
    offset: float


class _KeptPosition(Position):
    """A position as an archive must hold it."""

    __pydantic_config__ = ARCHIVED  # type: ignore[misc]


POSITION = TypeAdapter(_KeptPosition)


class Clock(Stateful[Position]):
    """Wall time that tests can move: an offset from real time, optionally frozen at one instant.

    Its state (stateful part ``clock``): a reset of everyone sets it back to real time, running; a snapshot keeps its
    position, which a restore stands at."""

    section = "clock"

    def __init__(self, *, start: float | None = None, frozen: bool = False) -> None:
        self._offset = 0.0 if start is None else start - time.time()
        self._frozen_at: float | None = None
        if frozen:
            self._frozen_at = float(start) if start is not None else time.time()

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees them."""
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    @property
    def offset(self) -> float:
        """How far the emulator clock is ahead of real time (negative: behind)."""
        return self.now() - time.time()

    def set(self, timestamp: float) -> None:
        """Jump to ``timestamp`` (within :data:`RANGE`); a frozen clock stays frozen there."""
        timestamp = checked(timestamp)
        if self._frozen_at is not None:
            self._frozen_at = float(timestamp)
        else:
            self._offset = float(timestamp) - time.time()

    def advance(self, seconds: float) -> None:
        """Move forward (or back, with a negative number) by ``seconds``."""
        self.set(self.now() + seconds)

    def freeze(self) -> None:
        """Stop the clock where it is; only set() and advance() move it until unfreeze()."""
        if self._frozen_at is None:
            self._frozen_at = self.now()

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        if self._frozen_at is not None:
            at, self._frozen_at = self._frozen_at, None
            self._offset = at - time.time()

    def position(self) -> Position:
        """Where the clock stands now (for a snapshot)."""
        now = self.now()
        return {"now": now, "frozen": self.frozen, "offset": now - time.time()}

    def restore(self, position: Position) -> None:
        """Stand where ``position`` says: frozen at its time if it was frozen, else running on from its time (the
        recorded offset is not applied again: a restored emulator resumes at the instant of its snapshot)."""
        at = checked(position["now"])
        if position["frozen"]:
            self._frozen_at = at
        else:
            self._frozen_at = None
            self._offset = at - time.time()

    def reset(self, participant_id: int | None = None) -> None:
        if participant_id is None:
            self.unfreeze()
            self.set(time.time())

    def export(self) -> Position:
        return self.position()

    def check(self, section: Any) -> Position:
        kept = validated(POSITION, section)
        return {"now": kept["now"], "frozen": kept["frozen"], "offset": kept["offset"]}

    def load(self, checked: Position) -> None:
        self.restore(checked)

    def iso(self, at: float | None = None) -> str:
        """The emulator's time (or ``at``) in ISO 8601, UTC, with ``Z``."""
        moment = self.now() if at is None else at
        return datetime.fromtimestamp(moment, tz=UTC).isoformat().replace("+00:00", "Z")


def signature_clock(kind: str, clock: Clock, wall: Callable[[], float]) -> Callable[[], float]:
    """The time X-Date and the body timestamp are checked against and webhook signatures are dated with: ``real``,
    the clients' own time (``wall``), whatever the emulator clock shows; ``emulator``, the emulator clock."""
    return clock.now if kind == "emulator" else wall
