"""The request journal: a bounded ring of what came in, how it was judged and what went out."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Entry:
    """One request as the journal keeps it (payment data already masked)."""

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

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """The last ``size`` requests, newest last."""

    def __init__(self, size: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)

    def new_id(self) -> int:
        return next(self._ids)

    def add(self, entry: Entry) -> None:
        self._entries.append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self, *, path: str | None = None, http_status: int | None = None,
                participant_id: int | None = None, limit: int | None = None) -> list[Entry]:
        """Entries newest first, filtered by path prefix, HTTP status and participant."""
        found: Iterable[Entry] = reversed(self._entries)
        if path:
            found = (e for e in found if e.path.startswith(path))
        if http_status is not None:
            found = (e for e in found if e.http_status == http_status)
        if participant_id is not None:
            found = (e for e in found if e.participant_id == participant_id)
        result = list(found)
        return result[:limit] if limit else result

    def clear(self, participant_id: int | None = None) -> None:
        if participant_id is None:
            self._entries.clear()
            return
        kept = [e for e in self._entries if e.participant_id != participant_id]
        self._entries.clear()
        self._entries.extend(kept)
