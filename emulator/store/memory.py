"""The in-memory store: the default, fast, gone when the process ends."""

from __future__ import annotations

import copy
from collections import OrderedDict, defaultdict
from collections.abc import Collection, Iterator

from emulator.store.base import Contents, Record, Stored


class MemoryStore:
    """Records in nested dicts: kind -> participant -> key -> record.

    ``limits`` caps how many records of a kind one participant keeps (the oldest go first), so a
    long load test does not grow without bound; a durable store keeps everything.
    """

    def __init__(self, *, first_id: int = 2_000_000, limits: dict[str, int] | None = None) -> None:
        self._limits = limits or {}
        self._data: dict[str, dict[int, dict[str, Record]]] = _Partitions(self._limits)
        self._sequences: dict[str, int] = {}
        self._first_id = first_id

    def get(self, kind: str, participant: int, key: str) -> Record | None:
        return self._data[kind][participant].get(key)

    def put(self, kind: str, participant: int, key: str, record: Record) -> None:
        partition = self._data[kind][participant]
        partition[key] = record
        limit = self._limits.get(kind)
        if limit is not None and len(partition) > limit:
            partition.popitem(last=False)  # type: ignore[call-arg]  # an OrderedDict: see _Partitions

    def delete(self, kind: str, participant: int, key: str) -> None:
        self._data[kind][participant].pop(key, None)

    def find(self, kind: str, key: str) -> tuple[int, Record] | None:
        for participant, records in self._data[kind].items():
            if key in records:
                return participant, records[key]
        return None

    def records(self, kind: str, participant: int | None = None) -> Iterator[tuple[int, str, Record]]:
        partitions = self._data[kind]
        chosen = [participant] if participant is not None else list(partitions)
        for p in chosen:
            for key, record in list(partitions.get(p, {}).items()):
                yield p, key, copy.deepcopy(record)

    def next_id(self, sequence: str) -> int:
        value = self._sequences.get(sequence, self._first_id) + 1
        self._sequences[sequence] = value
        return value

    def reset(self, participant: int | None = None) -> None:
        if participant is None:
            self._data.clear()
            return
        for partitions in self._data.values():
            partitions.pop(participant, None)

    def dump(self) -> Contents:
        records = [Stored(kind, participant, key, copy.deepcopy(record))
                   for kind, partitions in self._data.items() for participant, found in partitions.items()
                   for key, record in found.items()]
        return Contents(records, dict(self._sequences))

    def load(self, contents: Contents, *, keep: Collection[str] = ()) -> None:
        data: dict[str, dict[int, dict[str, Record]]] = _Partitions(self._limits)
        for kind in keep:
            if kind in self._data:
                data[kind] = self._data[kind]
        previous, self._data = self._data, data
        try:
            for kind, participant, key, record in contents.records:
                if kind not in keep:
                    self.put(kind, participant, key, copy.deepcopy(record))
        except BaseException:
            self._data = previous
            raise
        self._sequences = dict(contents.sequences)

    def close(self) -> None:
        pass


class _Partitions(dict):  # type: ignore[type-arg]
    """kind -> participant -> records, made on first use. Kinds with a limit get OrderedDicts, which drop
    their oldest entry in O(1) (a plain dict's first-key lookup slows as entries are deleted from its front)."""

    def __init__(self, limits: dict[str, int]) -> None:
        super().__init__()
        self._limits = limits

    def __missing__(self, kind: str) -> defaultdict:  # type: ignore[type-arg]
        partitions = self[kind] = defaultdict(OrderedDict if kind in self._limits else dict)
        return partitions
