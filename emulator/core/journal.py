"""The request journal: a bounded ring of what came in, how it was judged and what went out."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter

from emulator.core.clock import Moment
from emulator.core.masking import UNKEPT_HEADERS, mask, redacted_headers
from emulator.core.outcomes import request_family
from emulator.core.stateful import ARCHIVED, Json, Participant, Refused, Stateful, each

LOG = logging.getLogger("ingopay_emulator")


@dataclass(slots=True)
class Entry:
    """One request as the journal keeps it (payment data already masked).

    ``facts`` are what scenario rules matched on (account masked); ``account_digest`` is a keyed digest of the
    full account number, so a wait can match an exact number the journal never keeps. It is never shown.
    ``time`` is the emulator clock's, ``wall_time`` the machine's; ``request_headers`` are the headers as
    received, in order, with the signature and any credential redacted; ``target`` is the path with its query,
    as the request line sent it; ``why_matched`` says which rule answered, how its scenario was chosen and what it
    matches on.
    """

    id: int
    request_id: str
    time: float
    method: str
    path: str
    http_status: int = 0
    latency_ms: float = 0.0
    participant_id: int | None = None
    username: str | None = None
    ingo_status: int | None = None
    diagnosis: dict[str, Any] | None = None
    matched_rule: str | None = None
    endpoint: str | None = None
    request_body: Any = None
    response_body: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] | None = None
    account_digest: str | None = field(default=None, repr=False)
    wall_time: float | None = None
    target: str | None = None
    http_version: str | None = None
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    why_matched: dict[str, Any] | None = None
    #: When the answer was written (time.monotonic), for the findings watch's pace and Retry-After rules; never shown.
    answered: float | None = field(default=None, repr=False, compare=False)

    def headers(self) -> dict[str, str]:
        """The headers as received, by lowercase name (a repeated header's values joined with ", "), as redacted."""
        joined: dict[str, str] = {}
        for name, value in self.request_headers:
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        return joined

    @property
    def outcome(self) -> str:
        """The outcome family of the answer (see :mod:`emulator.core.outcomes`)."""
        code = self.diagnosis.get("code") if isinstance(self.diagnosis, dict) else None
        return request_family(self.http_status, self.ingo_status, code, fault=bool(self.extra.get("fault")))

    def as_json(self) -> dict[str, Any]:
        shown = asdict(self)
        del shown["account_digest"], shown["answered"]
        shown["request_headers"] = [list(pair) for pair in self.request_headers]
        shown["outcome"] = self.outcome
        return shown


def _masked(entry: Entry) -> Entry:
    """An entry as the journal keeps one: account numbers to their last four, secrets and credentials gone."""
    entry.request_body, entry.response_body = mask(entry.request_body), mask(entry.response_body)
    entry.request_headers = redacted_headers((str(pair[0]), str(pair[1])) for pair in entry.request_headers
                                             if isinstance(pair, (list, tuple)) and len(pair) == 2)
    if isinstance(entry.facts, dict):
        facts = mask(entry.facts)
        headers = facts.get("headers")
        if isinstance(headers, dict):
            facts["headers"] = {k: v for k, v in headers.items() if str(k).lower() not in UNKEPT_HEADERS}
        entry.facts = facts
    return entry


class _Kept(BaseModel):
    """Part of a journal entry as an archive keeps it: exactly these keys, of these types."""

    model_config = ARCHIVED


class KeptFacts(_Kept):
    """What an entry keeps of the facts rules matched on (``waits.requests.entry_facts``), as waits read them."""

    endpoint: str | None
    account_type: str | None
    account: str | None
    amount: float | None
    recipient: dict[str, str | None]
    participant_unique_id1: str | None
    funding_destination: str | None
    headers: dict[str, str] | None = None  # archives of older versions: what a restore keeps of them is redacted


class KeptExtra(_Kept):
    """What else an entry keeps (``web.middlewares``), as the findings watch and the inspector read it."""

    retry_after: int | None = None
    client_gone: bool | None = None
    fault: str | None = None
    replay_of: str | None = None
    findings: list[str] | None = None


def _diagnosis(value: Any) -> Any:
    """Why a request was refused: an object whose ``code`` (an outcome family is read from it) is a text."""
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    if not isinstance(value.get("code", ""), str):
        raise ValueError("code must be a string")
    return value


class KeptEntry(_Kept):
    """A journal entry as an archive keeps it (``Entry.as_json``)."""

    id: Annotated[int, Field(ge=1)]
    request_id: str
    time: Moment
    method: str
    path: str
    http_status: Annotated[int, Field(ge=0, le=999)]
    latency_ms: Annotated[float, Field(ge=0)]
    participant_id: Participant | None
    username: str | None
    ingo_status: int | None
    diagnosis: Annotated[Json, AfterValidator(_diagnosis)] | None
    matched_rule: str | None
    endpoint: str | None
    request_body: Json
    response_body: Json
    extra: KeptExtra
    facts: KeptFacts | None
    wall_time: Moment | None
    target: str | None
    http_version: str | None
    request_headers: list[Annotated[list[str], Field(min_length=2, max_length=2)]]  # name, value
    why_matched: dict[str, Json] | None
    outcome: str


KEPT_ENTRY = TypeAdapter(KeptEntry)


class Unjournaled(Protocol):
    """A request answered and not yet journaled: references to what its entry is made of, payment data still
    unmasked. It lives until the journal's next drain (:meth:`Journal.settle`) and is never shown, kept or exported;
    the drain asks it for its entry (masked) or None (a request the journal does not keep)."""

    def entry(self, journal: Journal) -> Entry | None: ...


class _Told:
    """An observer's call waiting in the drain's queue, in its place among the answered requests."""

    __slots__ = ("call", "subject")

    def __init__(self, call: Callable[[Any], Any], subject: Any) -> None:
        self.call = call
        self.subject = subject

    def entry(self, journal: Journal) -> None:
        try:
            self.call(self.subject)
        except Exception:
            LOG.exception("an observer failed on %r", type(self.subject).__name__)
        return None


#: The most answered requests waiting for the drain: beyond it the request that adds one drains them all at once
#: (the drain normally runs as soon as the event loop is free, so this only bounds a burst within one turn).
MOST_UNJOURNALED = 1024


class Journal(Stateful[list[Entry]]):
    """The last ``size`` requests, newest last; ``listeners`` are told of each entry as it is added; ``evicted``
    counts the entries that left to make room.

    The request path only hands over references (:meth:`defer`); the entries are built, masked and told to the
    listeners (findings, waits, rehearsals, the live view) in one batch as soon as the event loop is free after the
    answer, and before anything reads the journal (every reader here drains first; readers of what the listeners
    keep, such as the admin API, call :meth:`settle`).

    Its state (stateful part ``journal``): the entries, which a reset clears (of everyone or one participant) and a
    snapshot keeps (masked; digests stay behind: they are keyed per run)."""

    section = "journal"

    def __init__(self, size: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self.size = size
        self.evicted = 0
        self._ids = itertools.count(1)
        # keyed per run: digests cannot be compared across runs or snapshots
        self._digests = hashlib.blake2b(key=os.urandom(32), digest_size=32)
        self.listeners: list[Callable[[Entry], Any]] = []
        self._unjournaled: deque[Unjournaled] = deque()
        self._drain_scheduled = False
        self._settling = False

    def defer(self, answered: Unjournaled) -> None:
        """Take an answered request's references, to journal it in the next drain (scheduled once per turn of the
        event loop; at once when no loop runs or :data:`MOST_UNJOURNALED` are waiting)."""
        self._unjournaled.append(answered)
        if len(self._unjournaled) >= MOST_UNJOURNALED:
            self.settle()
        elif not self._drain_scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.settle()
                return
            self._drain_scheduled = True
            loop.call_soon(self._scheduled_drain)

    def later(self, call: Callable[[Any], Any], subject: Any) -> None:
        """Have ``call(subject)`` told in the drain, after every request answered before it (an observer of an
        event must see the requests that came first, and costs the request that emitted it nothing)."""
        self.defer(_Told(call, subject))

    def _scheduled_drain(self) -> None:
        self._drain_scheduled = False
        self.settle()

    def settle(self) -> None:
        """Journal every answered request still waiting, oldest first: build its masked entry, keep it, tell the
        listeners. A request whose entry cannot be built is logged, never the next one's loss."""
        if self._settling:  # a listener reading the journal while it is told: the drain under way goes on
            return
        waiting = self._unjournaled
        self._settling = True
        try:
            while waiting:
                answered = waiting.popleft()
                try:
                    entry = answered.entry(self)
                except Exception:
                    LOG.exception("a request could not be journaled")
                    continue
                if entry is not None:
                    self.add(entry)
        finally:
            self._settling = False

    def new_id(self) -> int:
        return next(self._ids)

    def digest(self, text: str) -> str:
        """A keyed digest of a value the journal must not keep (a card or account number)."""
        digest = self._digests.copy()  # the key already absorbed: cheaper than keying afresh
        digest.update(text.encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def add(self, entry: Entry) -> None:
        """Keep ``entry`` and tell the listeners; a listener that fails is logged, never the request's failure."""
        if len(self._entries) == self.size:
            self.evicted += 1
        self._entries.append(entry)
        for listener in self.listeners:
            try:
                listener(entry)
            except Exception:
                LOG.exception("a journal listener failed on request %s", entry.request_id)

    def __len__(self) -> int:
        self.settle()
        return len(self._entries)

    def entries(self, *, path: str | None = None, http_status: int | None = None,
                participant_id: int | None = None, limit: int | None = None, since: int = 0) -> list[Entry]:
        """Entries newest first, filtered by path prefix, HTTP status, participant and id (``since``: after it)."""
        self.settle()
        found: Iterable[Entry] = reversed(self._entries)
        if since:
            found = (e for e in found if e.id > since)
        if path:
            found = (e for e in found if e.path.startswith(path))
        if http_status is not None:
            found = (e for e in found if e.http_status == http_status)
        if participant_id is not None:
            found = (e for e in found if e.participant_id == participant_id)
        result = list(found)
        return result[:limit] if limit else result

    def get(self, entry_id: int) -> Entry | None:
        """The entry with this id, while the ring still holds it."""
        self.settle()
        return next((e for e in reversed(self._entries) if e.id == entry_id), None)

    def participants(self) -> set[int]:
        """The participants whose requests the journal holds."""
        self.settle()
        return {e.participant_id for e in list(self._entries) if e.participant_id is not None}

    def last_id(self) -> int:
        """The id of the newest entry (0 when empty): what a later wait passes as ``since``."""
        self.settle()
        return self._entries[-1].id if self._entries else 0

    def reset(self, participant_id: int | None = None) -> None:
        self.clear(participant_id)

    def check(self, section: Any) -> list[Entry]:
        kept = each(KEPT_ENTRY, section)
        seen: set[int] = set()
        for index, item in enumerate(kept):
            if item.id in seen:
                raise Refused((index, "id"), f"{item.id} is the id of an earlier entry too")
            seen.add(item.id)
        return [_masked(Entry(**item.model_dump(exclude={"outcome"}, exclude_unset=True))) for item in kept]

    def load(self, checked: list[Entry]) -> None:
        """Replace the entries with checked ones; new ids continue after the highest restored one."""
        self.settle()  # requests answered before the restore are journaled (and told) first, then replaced
        self._entries.clear()
        self._entries.extend(checked)
        self._ids = itertools.count(max((e.id for e in checked), default=0) + 1)

    def clear(self, participant_id: int | None = None) -> None:
        self.settle()
        if participant_id is None:
            self._entries.clear()
            self.evicted = 0
            return
        kept = [e for e in self._entries if e.participant_id != participant_id]
        self._entries.clear()
        self._entries.extend(kept)

    def export(self) -> list[dict[str, Any]]:
        """Every entry, oldest first, as JSON, masked (for a snapshot; digests are left out)."""
        self.settle()
        return [mask(e.as_json()) for e in self._entries]
