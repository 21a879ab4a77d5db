"""Event-driven waits: each resolves as soon as enough matching items have been seen, or when its time is up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from typing_extensions import TypedDict

from emulator.core.validation import Body

T = TypeVar("T")

#: The longest a wait may last, in seconds (an admin call must end; a test that needs longer waits again).
LONGEST_WAIT = 300.0
#: How long a wait lasts when the call does not say.
DEFAULT_TIMEOUT = 10.0
#: How many near misses a wait that timed out reports.
NEAR_MISSES = 5
#: The most waits of one kind (request or webhook) open at once: each holds a connection, and a client that opens
#: more is told to let some end first.
MOST_OPEN = 10_000


class TooManyWaits(Exception):
    """A wait refused because :data:`MOST_OPEN` waits of its kind are open; the message says so and what to do."""


def listed(value: Any) -> Any:
    """A single text or number written where a list is meant: the list of it."""
    return [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else value


#: Statuses a match takes: one, or a list of them.
Statuses = Annotated[list[int], BeforeValidator(listed, json_schema_input_type=int | list[int])]


def one_or_all(values: list[Any]) -> Any:
    """What a near miss shows was expected: the one value, or the list when there were several."""
    return values[0] if len(values) == 1 else values


class WaitMatch(Body):
    """What a wait's match is, whatever it matches: a strict body of the admin API (unknown keys and nulls refused:
    a participant_id of null would otherwise wait on every participant) that knows the keys it was given."""

    def keys(self) -> list[str]:
        """The keys the match was given."""
        return list(self.model_dump(exclude_none=True))


class Count(BaseModel):
    """How many matches a wait asks for: at least ``at_least`` and, when given, at most ``at_most``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    at_least: Annotated[int, Field(ge=0, le=100_000)] = 1
    at_most: Annotated[int, Field(ge=0, le=100_000)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly(cls, value: Any) -> Any:
        """A plain number N means exactly N."""
        if isinstance(value, int) and not isinstance(value, bool):
            return {"at_least": value, "at_most": value}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Count:
        if self.at_most is not None and self.at_most < self.at_least:
            raise ValueError("at_most must not be less than at_least")
        return self

    def describe(self) -> str:
        if self.at_most is None:
            return f"at least {self.at_least}"
        if self.at_most == self.at_least:
            return f"exactly {self.at_least}"
        return f"between {self.at_least} and {self.at_most}"


class Difference(TypedDict):
    """One key of a match that an item did not meet: what was asked for and what the item had."""

    key: str
    expected: Any
    actual: Any


Reason = Literal["satisfied", "timeout", "too_many"]


@dataclass
class Verdict(Generic[T]):
    """How a wait ended: satisfied, or why not, with the items that matched (oldest first)."""

    reason: Reason
    matched: list[T]

    @property
    def satisfied(self) -> bool:
        return self.reason == "satisfied"


#: A label under which waits are filed and items looked up: ("participant", 12345), ("endpoint", "verify"), ...
Scope = Hashable
#: The scope of a wait that names nothing to file it under: offered every item.
EVERYTHING: Scope = None


class OpenWait(TypedDict):
    """A wait still waiting, as the admin API lists it."""

    kind: str
    participant_id: int | None
    match: dict[str, Any]
    count: str
    matched: int
    timeout: float
    waited: float


@dataclass(eq=False)
class _Waiter(Generic[T]):
    accepts: Callable[[T], bool]
    count: Count
    key: Callable[[T], Hashable]
    future: asyncio.Future[Reason]
    scope: Scope = EVERYTHING
    shown: dict[str, Any] = field(default_factory=dict)
    timeout: float = 0.0
    started: float = 0.0
    matched: dict[Hashable, T] = field(default_factory=dict)

    def offer(self, item: T) -> None:
        if self.future.done() or not self.accepts(item):
            return
        self.matched[self.key(item)] = item  # an item seen again (a delivery's later attempt) counts once
        self.judge()

    def judge(self) -> None:
        if self.future.done():
            return
        count = self.count
        if count.at_most is not None and len(self.matched) > count.at_most:
            self.future.set_result("too_many")
        elif len(self.matched) >= count.at_least:
            self.future.set_result("satisfied")


class Waits(Generic[T]):
    """The waits on one stream of items (journal entries, delivery changes); :meth:`notify` is the stream's
    listener. A wait costs a future and a set of matches: nothing polls.

    Each wait is filed under one scope (the participant it names, else the endpoint, ...) and each item is
    offered only to the waits filed under the item's own scopes and to those that name none: open waits of
    other tenants cost an item nothing, however many there are.
    """

    def __init__(self, kind: str, key: Callable[[T], Hashable], scopes: Callable[[T], Iterable[Scope]]) -> None:
        self.kind = kind
        self._key = key
        self._scopes = scopes
        self._filed: dict[Scope, set[_Waiter[T]]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def notify(self, item: T) -> None:
        filed = self._filed
        if not filed:
            return
        for scope in (EVERYTHING, *self._scopes(item)):
            waiters = filed.get(scope)
            if waiters:
                for waiter in list(waiters):
                    waiter.offer(item)

    async def wait(self, existing: Callable[[], Iterable[T]], accepts: Callable[[T], bool], count: Count,
                   timeout: float, *, scope: Scope = EVERYTHING, shown: dict[str, Any] | None = None) -> Verdict[T]:
        """Count the matching ``existing()`` items (read as the wait is filed, with no pause in between, so that no
        change falls between the two), then those notified, until ``count`` is met (or exceeded, when
        it has an ``at_most``) or ``timeout`` seconds pass. Items are offered to the wait only when ``scope`` is
        one of theirs (EVERYTHING: every item); ``shown`` is what a listing of open waits shows of it.
        Cancelled (its client went away), the wait is let go at once."""
        if self._count >= MOST_OPEN:
            raise TooManyWaits(f"{MOST_OPEN:,} waits on {self.kind} are open, the most the emulator keeps at once; "
                               "let some end (a wait ends at its timeout or when its client disconnects) and wait "
                               "again")
        loop = asyncio.get_running_loop()
        waiter = _Waiter(accepts, count, self._key, loop.create_future(), scope, shown or {}, timeout, loop.time())
        for item in existing():
            if accepts(item):
                waiter.matched[self._key(item)] = item
        waiter.judge()
        if not waiter.future.done():
            self._file(waiter)
            try:
                await asyncio.wait_for(asyncio.shield(waiter.future), timeout)
            except TimeoutError:
                pass
            finally:
                self._unfile(waiter)
        reason: Reason = waiter.future.result() if waiter.future.done() else "timeout"
        return Verdict(reason, list(waiter.matched.values()))

    def open(self, *, participant_id: int | None = None) -> list[OpenWait]:
        """The waits still waiting, oldest first (those whose match names ``participant_id`` only, when given)."""
        waiters = [waiter for filed in self._filed.values() for waiter in filed
                   if participant_id is None or waiter.shown.get("participant_id") == participant_id]
        now = asyncio.get_running_loop().time()
        waiters.sort(key=lambda waiter: waiter.started)
        return [{"kind": self.kind, "participant_id": waiter.shown.get("participant_id"), "match": waiter.shown,
                 "count": waiter.count.describe(), "matched": len(waiter.matched), "timeout": waiter.timeout,
                 "waited": round(now - waiter.started, 3)} for waiter in waiters]

    def _file(self, waiter: _Waiter[T]) -> None:
        self._filed.setdefault(waiter.scope, set()).add(waiter)
        self._count += 1

    def _unfile(self, waiter: _Waiter[T]) -> None:
        filed = self._filed.get(waiter.scope)
        if filed is None or waiter not in filed:
            return
        filed.discard(waiter)
        self._count -= 1
        if not filed:
            del self._filed[waiter.scope]


def near_misses(items: Iterable[T], differences: Callable[[T], list[Difference]],
                limit: int = NEAR_MISSES) -> list[tuple[T, list[Difference]]]:
    """The ``limit`` items that missed the fewest keys, closest first; ties keep the order of ``items``."""
    scored = []
    for position, item in enumerate(items):
        missed = differences(item)
        if missed:
            scored.append((len(missed), position, item, missed))
    scored.sort(key=lambda found: (found[0], found[1]))
    return [(item, missed) for _, _, item, missed in scored[:limit]]
