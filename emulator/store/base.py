"""The store interface: emulated state as JSON records, partitioned by participant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from emulator.core.configuration import ConfigurationError

Record = dict[str, Any]


class StoreError(ConfigurationError):
    """The data folder or its database cannot be used (the CLI prints this and exits 2)."""


class StoreUnavailable(RuntimeError):
    """The store failed while serving (a full disk, a file taken away): answered 503, with the reason."""


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

    def close(self) -> None: ...
