"""Admin API: what the emulator holds, read only (tokens, sessions, recent transactions, and what memory keeps and has
let go), for the inspector.

Each field shown is picked from the stored record by name (an allow-list), so a field the store adds later is
never shown by accident: a token shows its last four digits only, never the account number, routing number,
expiry or recipient the vault keeps.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from emulator.admin.schemas import Memory, State
from emulator.store import MemoryStore
from emulator.web.declared import query
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME, Runtime

#: The most of each kind one answer lists (newest first), unless ``limit`` asks for fewer.
DEFAULT_LIMIT = 100


def _newest(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    rows.sort(key=lambda row: row.get("created") or 0, reverse=True)
    return rows[:limit]


def tokens(runtime: Runtime, participant: int | None, limit: int) -> list[dict[str, Any]]:
    return _newest([{"token": r.get("token", key), "account_type": r.get("account_type"),
                     "last_4": r.get("last_4"), "participant_id": owner, "created": r.get("created")}
                    for owner, key, r in runtime.store.records("token", participant)], limit)


def sessions(runtime: Runtime, participant: int | None, limit: int) -> list[dict[str, Any]]:
    return _newest([{"id": r.get("id", key), "status": r.get("status"), "participant_id": owner,
                     "created": r.get("created"), "host_uri": r.get("host_uri"),
                     "participant_unique_id1": r.get("participant_unique_id1")}
                    for owner, key, r in runtime.store.records("session", participant)], limit)


def transactions(runtime: Runtime, participant: int | None, limit: int) -> list[dict[str, Any]]:
    return _newest([{"id": r.get("transaction_id"), "kind": r.get("kind"), "amount": r.get("amount"),
                     "status": r.get("status"), "account_type": r.get("account_type"), "last_4": r.get("last_4"),
                     "participant_id": owner, "participant_unique_id1": key.partition(":")[2],
                     "created": r.get("created")}
                    for owner, key, r in runtime.store.records("transaction", participant)], limit)


def memory(runtime: Runtime, participant: int | None) -> Memory:
    """The caps, what is kept and what was let go: the store's records (of one participant when asked), and the
    events, journal and findings every participant shares."""
    services, store = runtime.services, runtime.store
    outbox, journal, findings = services.outbox, runtime.journal, services.findings
    return Memory(store="memory" if isinstance(store, MemoryStore) else "sqlite",
                  records=store.usage(participant) if isinstance(store, MemoryStore) else {},
                  events={"cap": outbox.events.maxlen or 0, "kept": len(outbox.events), "evicted": outbox.evicted},
                  journal={"cap": journal.size, "kept": len(journal), "evicted": journal.evicted},
                  findings={"cap": findings.size, "kept": len(findings), "evicted": findings.evicted})


async def show(request: web.Request) -> web.Response:
    """Tokens, sessions and transactions, newest first; filters: participant_id, limit (per kind)."""
    runtime = request.app[RUNTIME]
    numbers = query(request)
    participant = numbers["participant_id"]
    limit = DEFAULT_LIMIT if numbers["limit"] is None else numbers["limit"]
    return json_response(State(tokens=tokens(runtime, participant, limit),
                               sessions=sessions(runtime, participant, limit),
                               transactions=transactions(runtime, participant, limit),
                               memory=memory(runtime, participant)))
