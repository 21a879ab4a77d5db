"""The store as a stateful part (``emulator.core.stateful``): a reset forgets records (everyone's or one
participant's), a snapshot keeps every record (masked) but the emulator's own kinds, and a restore checks each record
as the emulator reads it back before the store takes them all at once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from emulator.core.masking import mask
from emulator.core.stateful import ARCHIVED, Participant, Refused, Stateful, validated
from emulator.store.base import Contents, Record, Store, Stored

#: Store kinds that belong to the emulator holding them, never archived nor restored: the key that signs session
#: URLs and the count of runs a durable store has seen (which varies --seed).
OWN_KINDS = ("meta",)
#: The largest number a sequence may have reached (SQLite's largest integer).
MOST_SEQUENCE = 2**63 - 1


@dataclass(frozen=True)
class RecordKind:
    """A kind of record as the emulator reads it back: its model (exactly its keys, of their types), the record's
    field that must equal its key (when the key is one of its fields) and the one that must equal its participant."""

    model: type[BaseModel]
    key_field: str | None = None
    participant_field: str | None = None


class StoredRecord(BaseModel):
    """One store record of an archive: the participant it belongs to, its key and the record (masked)."""

    model_config = ARCHIVED

    participant_id: Participant
    key: Annotated[str, Field(min_length=1, max_length=1000)]
    record: dict[str, Any]


#: The last number each sequence handed out, by the sequence's name.
Sequences = dict[Annotated[str, Field(min_length=1, max_length=200)], Annotated[int, Field(ge=0, le=MOST_SEQUENCE)]]


class StoreSection(BaseModel):
    """The store: records by kind (token, transaction, session, webhook_delivery, scheduled_event, ...) and the last
    number each sequence handed out (transaction ids, check numbers)."""

    model_config = ARCHIVED

    records: dict[str, list[StoredRecord]]
    sequences: Sequences


STORED_RECORD = TypeAdapter(StoredRecord)
SEQUENCES: TypeAdapter[dict[str, int]] = TypeAdapter(Sequences, config=ARCHIVED)


class StoreState(Stateful[Contents]):
    """The store's records and sequences, as a stateful part (section ``store``); ``kinds`` says how each kind of
    record is read back (an archive holding another kind is refused)."""

    section = "store"
    loads_slowly = True  # millions of records, or a database transaction

    def __init__(self, store: Store, kinds: Mapping[str, RecordKind]) -> None:
        self.store = store
        self.kinds = kinds
        #: The participants whose records the last restore brought (minted tenants keep off them).
        self.restored: frozenset[int] = frozenset()
        self._adapters = {kind: TypeAdapter(spec.model) for kind, spec in kinds.items()}

    def reset(self, participant_id: int | None = None) -> None:
        self.store.reset(participant_id)

    def export(self) -> dict[str, Any]:
        """Every record but the emulator's own, masked, by kind; the sequences."""
        contents = self.store.dump()
        records: dict[str, list[dict[str, Any]]] = {}
        for kind, participant, key, record in contents.records:
            if kind not in OWN_KINDS:
                records.setdefault(kind, []).append({"participant_id": participant, "key": key,
                                                     "record": masked(record)})
        return {"records": records, "sequences": contents.sequences}

    def check(self, section: Any) -> Contents:
        """The records to load, each checked as the emulator reads it back."""
        if not isinstance(section, dict):
            raise Refused((), "must be an object")
        unknown = sorted(set(section) - {"records", "sequences"}, key=str)
        if unknown:
            raise Refused((unknown[0],), "is not a key of the snapshot format")
        if "records" not in section:
            raise Refused(("records",), "is required")
        if "sequences" not in section:
            raise Refused(("sequences",), "is required")
        sequences = validated(SEQUENCES, section["sequences"], ("sequences",))
        by_kind = section["records"]
        if not isinstance(by_kind, dict):
            raise Refused(("records",), "must be an object")
        records: list[Stored] = []
        for kind, items in by_kind.items():
            where = ("records", kind)
            if kind in OWN_KINDS:
                raise Refused(where, "belongs to the emulator that holds it and is never restored")
            if kind not in self.kinds:
                raise Refused(where, f"is not a kind of record this emulator keeps (known: {', '.join(self.kinds)})")
            if not isinstance(items, list):
                raise Refused(where, "must be a list")
            records += self._records(kind, items, where)
        return Contents(records, sequences)

    def _records(self, kind: str, items: list[Any], where: tuple[str, ...]) -> list[Stored]:
        spec, adapter = self.kinds[kind], self._adapters[kind]
        seen: set[tuple[int, str]] = set()
        found: list[Stored] = []
        for index, item in enumerate(items):
            stored = validated(STORED_RECORD, item, (*where, index))
            participant, key, record = stored.participant_id, stored.key, stored.record
            if (participant, key) in seen:
                raise Refused((*where, index), f": participant {participant} has two {kind} records with the key "
                                               f"{key[:80]!r}")
            seen.add((participant, key))
            validated(adapter, record, (*where, index, "record"))
            if spec.key_field is not None and record[spec.key_field] != key:
                raise Refused((*where, index, "record", spec.key_field), "must be the record's key")
            if spec.participant_field is not None and record[spec.participant_field] != participant:
                raise Refused((*where, index, "record", spec.participant_field), "must be the record's participant_id")
            found.append(Stored(kind, participant, key, record))
        return found

    def load(self, checked: Contents) -> None:
        self.store.load(checked, keep=OWN_KINDS)  # the one load that can fail (a full disk): the store is as it was
        self.restored = frozenset(stored.participant for stored in checked.records)
        while checked.records:  # let go of them one at a time: a store that copied them (SQLite) frees each here,
            checked.records.pop()  # on the worker thread, not millions at once wherever the plan is dropped


def counted(contents: Contents) -> dict[str, int]:
    """How many records of each kind ``contents`` holds."""
    return dict(Counter(stored.kind for stored in contents.records))


def masked(record: Record) -> Record:
    """A record with account numbers masked and secrets removed, also inside a delivery's JSON ``body``."""
    shown: Record = mask(record)
    body = shown.get("body")
    if isinstance(body, str):
        try:
            payload = json.loads(body)
        except ValueError:
            return shown
        if mask(payload) != payload:
            shown["body"] = json.dumps(mask(payload), separators=(",", ":"))
    return shown


