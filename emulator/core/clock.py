"""The emulator clock: the one source of business time (expiry, posting dates, scheduled events), with a clock of
its own for each participant that moved its own, and the choice of clock that signatures are checked against."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, NotRequired

from pydantic import AfterValidator, TypeAdapter
from typing_extensions import TypedDict

from emulator.core.stateful import ARCHIVED, Participant, Refused, Stateful, validated

#: The range of the emulator clock: 1970-01-01 to 9998-12-31 (UTC). Every date the emulator derives from it (posting
#: dates, expiries, retries, follow-ups up to a year later) then stays within the years 1970-9999.
EARLIEST = 0.0
LATEST = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
RANGE = "1970-01-01T00:00:00Z to 9998-12-31T23:59:59Z"
#: The most participants with a clock of their own, unless the wiring says otherwise (it allows one per credential
#: the emulator can hold: the configured ones and the minted tenants).
MOST_OWN_CLOCKS = 10_000


class ClockOutOfRange(ValueError):
    """A time the clock cannot be set to: not a finite number, or outside :data:`RANGE`."""


class TooManyClocks(ValueError):
    """A participant cannot have a clock of its own: as many participants as the emulator keeps have one."""


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
    """Where a clock stands, as a snapshot keeps it: the time it shows, whether it is frozen, and how far it is
    ahead of real time (negative: behind) at that moment."""

    now: Moment
    frozen: bool
    offset: float


class ParticipantPosition(Position):
    """Where a participant's own clock stands."""

    participant_id: Participant


class ClockSection(Position):
    """The clock section of a snapshot: the emulator clock's position, and each participant's own clock (version 2;
    a version 1 archive has none: every participant followed the emulator clock)."""

    participants: NotRequired[list[ParticipantPosition]]


class _KeptParticipant(ParticipantPosition):
    """A participant's clock as an archive must hold it."""

    __pydantic_config__ = ARCHIVED  # type: ignore[misc]


class _KeptSection(Position):
    """A clock section as an archive must hold it."""

    __pydantic_config__ = ARCHIVED  # type: ignore[misc]
    participants: NotRequired[list[_KeptParticipant]]


SECTION = TypeAdapter(_KeptSection)


class Dial:
    """One clock face: wall time moved by an offset, optionally frozen at one instant."""

    __slots__ = ("_frozen_at", "_offset")

    def __init__(self, offset: float = 0.0, frozen_at: float | None = None) -> None:
        self._offset = offset
        self._frozen_at = frozen_at

    def now(self) -> float:
        """Seconds since the epoch, as this clock shows them."""
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    @property
    def offset(self) -> float:
        """How far this clock is ahead of real time (negative: behind)."""
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

    def back_to_real_time(self) -> None:
        """Show real time again, running."""
        self._frozen_at, self._offset = None, 0.0

    def copy(self) -> Dial:
        """A clock standing where this one stands, frozen if it is, that moves on its own from now on."""
        return Dial(self._offset, self._frozen_at)

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


class Clock(Stateful[ClockSection]):
    """Wall time that tests can move: the emulator clock, and a clock of its own for each participant that moved its
    own (Stripe's test clocks are the model).

    A participant's clock starts as a copy of the emulator clock, the first time it is set, frozen or advanced for
    that participant; from then on only moves for that participant move it (the emulator clock's do not), and its
    business time (``now(participant_id)``) is read from it. A participant without one follows the emulator clock.

    Its state (stateful part ``clock``): a reset of everyone sets the emulator clock back to real time, running, and
    drops every participant's clock; a reset of one participant drops its clock (it follows the emulator clock
    again). A snapshot keeps every position, which a restore stands at."""

    section = "clock"

    def __init__(self, *, start: float | None = None, frozen: bool = False, most_own: int = MOST_OWN_CLOCKS) -> None:
        offset = 0.0 if start is None else start - time.time()
        frozen_at = (float(start) if start is not None else time.time()) if frozen else None
        #: The emulator clock: business time of every participant without a clock of its own (never replaced).
        self.main = Dial(offset, frozen_at)
        self.most_own = most_own
        self._own: dict[int, Dial] = {}

    def now(self, participant_id: int | None = None) -> float:
        """Seconds since the epoch, as the emulator sees them (for ``participant_id``: as its business time)."""
        if participant_id is not None:
            own = self._own.get(participant_id)
            if own is not None:
                return own.now()
        return self.main.now()

    def of(self, participant_id: int | None) -> Dial:
        """The clock ``participant_id``'s business time is read from (the emulator clock for None)."""
        own = None if participant_id is None else self._own.get(participant_id)
        return self.main if own is None else own

    def has_own(self, participant_id: int | None) -> bool:
        """Whether ``participant_id`` has a clock of its own."""
        return participant_id is not None and participant_id in self._own

    def own(self, participant_id: int) -> Dial:
        """``participant_id``'s own clock, made (a copy of the emulator clock as it stands) if it has none yet;
        TooManyClocks when ``most_own`` participants have one."""
        own = self._own.get(participant_id)
        if own is None:
            if len(self._own) >= self.most_own:
                raise TooManyClocks(f"{len(self._own)} participants have a clock of their own, the most this emulator "
                                    "keeps: reset one (POST /_emulator/reset {\"participant_id\": N}) to drop its "
                                    "clock, or move the emulator clock (leave participant_id out)")
            own = self._own[participant_id] = self.main.copy()
        return own

    @property
    def owners(self) -> int:
        """How many participants have a clock of their own."""
        return len(self._own)

    # -- the emulator clock ---------------------------------------------------------------------------------------

    def utcnow(self, participant_id: int | None = None) -> datetime:
        return datetime.fromtimestamp(self.now(participant_id), tz=UTC)

    @property
    def frozen(self) -> bool:
        return self.main.frozen

    @property
    def offset(self) -> float:
        """How far the emulator clock is ahead of real time (negative: behind)."""
        return self.main.offset

    def set(self, timestamp: float) -> None:
        """Jump the emulator clock to ``timestamp`` (within :data:`RANGE`); a frozen clock stays frozen there."""
        self.main.set(timestamp)

    def advance(self, seconds: float) -> None:
        """Move the emulator clock forward (or back, with a negative number) by ``seconds``."""
        self.main.advance(seconds)

    def freeze(self) -> None:
        """Stop the emulator clock where it is; only set() and advance() move it until unfreeze()."""
        self.main.freeze()

    def unfreeze(self) -> None:
        """Let the emulator clock run again from where it stands."""
        self.main.unfreeze()

    def position(self) -> Position:
        """Where the emulator clock stands now."""
        return self.main.position()

    def restore(self, position: Position) -> None:
        """Stand the emulator clock where ``position`` says (see :meth:`Dial.restore`)."""
        self.main.restore(position)

    def iso(self, at: float | None = None) -> str:
        """The emulator's time (or ``at``) in ISO 8601, UTC, with ``Z``."""
        moment = self.now() if at is None else at
        return datetime.fromtimestamp(moment, tz=UTC).isoformat().replace("+00:00", "Z")

    # -- its state ------------------------------------------------------------------------------------------------

    def reset(self, participant_id: int | None = None) -> None:
        if participant_id is None:
            self.main.back_to_real_time()
            self._own.clear()
        else:
            self._own.pop(participant_id, None)

    def export(self) -> ClockSection:
        return {**self.main.position(),
                "participants": [{"participant_id": participant, **dial.position()}
                                 for participant, dial in sorted(self._own.items())]}

    def check(self, section: Any) -> ClockSection:
        if isinstance(section, dict) and isinstance(section.get("participants"), list) \
                and len(section["participants"]) > self.most_own:
            raise Refused(("participants",), f"holds {len(section['participants'])} participants' clocks; this "
                                             f"emulator keeps at most {self.most_own}")
        kept = validated(SECTION, section)
        participants: list[ParticipantPosition] = []
        seen: set[int] = set()
        for index, own in enumerate(kept.get("participants", [])):
            if own["participant_id"] in seen:
                raise Refused(("participants", index, "participant_id"),
                              f": participant {own['participant_id']} has two clocks")
            seen.add(own["participant_id"])
            participants.append({"participant_id": own["participant_id"], "now": own["now"], "frozen": own["frozen"],
                                 "offset": own["offset"]})
        return {"now": kept["now"], "frozen": kept["frozen"], "offset": kept["offset"], "participants": participants}

    def load(self, checked: ClockSection) -> None:
        self.main.restore(checked)
        self._own.clear()
        for own in checked.get("participants", []):
            dial = self._own[own["participant_id"]] = Dial()
            dial.restore(own)


def signature_clock(kind: str, clock: Clock, wall: Callable[[], float]) -> Callable[[], float]:
    """The time X-Date and the body timestamp are checked against and webhook signatures are dated with: ``real``,
    the clients' own time (``wall``), whatever the emulator clock shows; ``emulator``, the emulator clock (never a
    participant's own)."""
    return clock.now if kind == "emulator" else wall
