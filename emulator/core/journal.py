"""The request journal: a bounded ring of what came in, how it was judged and what went out."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from emulator.core.masking import UNKEPT_HEADERS, mask, redacted_headers
from emulator.core.outcomes import request_family

LOG = logging.getLogger("ingopay_emulator")


@dataclass
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
        del shown["account_digest"]
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


class Journal:
    """The last ``size`` requests, newest last; ``listeners`` are told of each entry as it is added; ``evicted``
    counts the entries that left to make room."""

    def __init__(self, size: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self.size = size
        self.evicted = 0
        self._ids = itertools.count(1)
        self._digest_key = os.urandom(32)  # per run: digests cannot be compared across runs or snapshots
        self.listeners: list[Callable[[Entry], Any]] = []

    def new_id(self) -> int:
        return next(self._ids)

    def digest(self, text: str) -> str:
        """A keyed digest of a value the journal must not keep (a card or account number)."""
        return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), key=self._digest_key,
                               digest_size=32).hexdigest()

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
        return len(self._entries)

    def entries(self, *, path: str | None = None, http_status: int | None = None,
                participant_id: int | None = None, limit: int | None = None, since: int = 0) -> list[Entry]:
        """Entries newest first, filtered by path prefix, HTTP status, participant and id (``since``: after it)."""
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
        return next((e for e in reversed(self._entries) if e.id == entry_id), None)

    def last_id(self) -> int:
        """The id of the newest entry (0 when empty): what a later wait passes as ``since``."""
        return self._entries[-1].id if self._entries else 0

    def clear(self, participant_id: int | None = None) -> None:
        if participant_id is None:
            self._entries.clear()
            self.evicted = 0
            return
        kept = [e for e in self._entries if e.participant_id != participant_id]
        self._entries.clear()
        self._entries.extend(kept)

    def export(self) -> list[dict[str, Any]]:
        """Every entry, oldest first, as JSON (for a snapshot; digests are left out)."""
        return [e.as_json() for e in self._entries]

    def restore(self, entries: Iterable[dict[str, Any]]) -> None:
        """Replace the entries with exported ones, masked again whatever the archive held (no digest comes back);
        new ids continue after the highest restored one."""
        restored = [_masked(Entry(**{k: v for k, v in item.items()
                                     if k in Entry.__dataclass_fields__ and k != "account_digest"}))
                    for item in entries]
        self._entries.clear()
        self._entries.extend(restored)
        self._ids = itertools.count(max((e.id for e in restored), default=0) + 1)
