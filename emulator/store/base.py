"""The store interface: emulated state as JSON records, partitioned by participant."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from emulator.core.configuration import ConfigurationError

Record = dict[str, Any]


class StoreError(ConfigurationError):
    """The data folder or its database cannot be used (the CLI prints this and exits 2)."""


class StoreUnavailable(RuntimeError):
    """The store failed while serving (a full disk, a file taken away): answered 503, with the reason."""


class Stored(NamedTuple):
    """One record as a dump lists it: its kind, the participant it belongs to, its key and the record."""

    kind: str
    participant: int
    key: str
    record: Record


@dataclass(frozen=True)
class Contents:
    """Everything a store holds, for a snapshot: every record (oldest first within its kind and participant) and the
    last number each sequence handed out."""

    records: list[Stored] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Cap:
    """How many records of one kind each participant keeps in memory, and which go first beyond that.

    The record written longest ago goes first (or, with ``by_use``, the one least recently read or written). A record
    for which ``keep(participant, record)`` says True (it belongs to a flow still in progress, or another record still
    needs it) is never let go: it is passed over, so a participant holds more than ``most`` records of the kind only
    while that many must be kept.
    """

    most: int
    keep: Callable[[int, Record], bool] | None = None
    by_use: bool = False


class Store(Protocol):
    """Where tokens, transactions, sessions and idempotency records live.

    Records are JSON-serialisable dicts filed under a ``kind`` (such as ``"token"``), the
    participant they belong to, and a key. A participant never sees another's records.
    Writes are durable when the call returns (for stores that persist).
    """

    def get(self, kind: str, participant: int, key: str) -> Record | None: ...

    def put(self, kind: str, participant: int, key: str, record: Record) -> None: ...

    def delete(self, kind: str, participant: int, key: str) -> None: ...

    def find(self, kind: str, key: str) -> tuple[int, Record] | None:
        """Look a key up across participants (for URLs that carry no credential, such as a session page)."""
        ...

    def records(self, kind: str, participant: int | None = None) -> Iterator[tuple[int, str, Record]]:
        """Every record of ``kind`` as (participant, key, record), optionally for one participant."""
        ...

    def next_id(self, sequence: str) -> int:
        """The next number of a named, strictly increasing sequence (transaction ids, check numbers)."""
        ...

    def reset(self, participant: int | None = None) -> None:
        """Forget everything, or everything of one participant."""
        ...

    def dump(self) -> Contents:
        """Every record and sequence, copied (what a snapshot archives)."""
        ...

    def load(self, contents: Contents, *, keep: Collection[str] = ()) -> None:
        """Replace every record and sequence with ``contents`` at once (durably, in one transaction, for stores that
        persist), except the records of the kinds in ``keep``: those stay as they are, and any of those kinds in
        ``contents`` are ignored. The store takes the records as they are (the caller keeps no reference to them).
        A restore calls it on a worker thread, while requests are served: readers see the old records or the new."""
        ...

    def close(self) -> None: ...
