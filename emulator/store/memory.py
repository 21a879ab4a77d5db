"""The in-memory store: the default, fast, gone when the process ends."""

from __future__ import annotations

import copy
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Collection, Iterator, Mapping

from typing_extensions import TypedDict

from emulator.store.base import Cap, Contents, Record, Stored

#: Records looked at, at most, to make room for one write (those in progress are passed over): so a write costs the
#: same however many records are kept, even when most of them must be kept.
LOOK_AHEAD = 32


class Usage(TypedDict):
    """One capped kind of record: the cap per participant, how many records are kept, how many were let go."""

    cap: int
    kept: int
    evicted: int


class MemoryStore:
    """Records in nested dicts: kind -> participant -> key -> record.

    ``limits`` caps how many records of a kind each participant keeps (a number, or a :class:`Cap` that also says
    which records must be kept and whether reads count as use), so that a long load test does not grow without
    bound; beyond a cap the oldest records that are not in progress are let go, and counted. A durable store keeps
    everything.
    """

    def __init__(self, *, first_id: int = 2_000_000, limits: Mapping[str, int | Cap] | None = None) -> None:
        self._caps = {kind: cap if isinstance(cap, Cap) else Cap(cap) for kind, cap in (limits or {}).items()}
        self._by_use = frozenset(kind for kind, cap in self._caps.items() if cap.by_use)
        self._data: dict[str, dict[int, dict[str, Record]]] = _Partitions(self._caps)
        self._sequences: dict[str, int] = {}
        self._first_id = first_id
        self._evicted: Counter[tuple[str, int]] = Counter()

    def get(self, kind: str, participant: int, key: str) -> Record | None:
        partition = self._data[kind][participant]
        record = partition.get(key)
        if record is not None and kind in self._by_use:
            partition.move_to_end(key)  # type: ignore[attr-defined]  # an OrderedDict: see _Partitions
        return record

    def put(self, kind: str, participant: int, key: str, record: Record) -> None:
        partition = self._data[kind][participant]
        partition[key] = record
        cap = self._caps.get(kind)
        if cap is not None:
            partition.move_to_end(key)  # type: ignore[attr-defined]  # the newest write is the last to go
            if len(partition) > cap.most:
                self._make_room(kind, participant, partition, cap)

    def _make_room(self, kind: str, participant: int, partition: dict[str, Record], cap: Cap) -> None:
        """Let the oldest records go until ``cap`` holds, passing over those in progress (moved behind the rest, to
        be looked at again later); never the record just written, which is the last."""
        ordered: OrderedDict[str, Record] = partition  # type: ignore[assignment]
        for _ in range(min(len(ordered) - 1, LOOK_AHEAD)):
            if len(ordered) <= cap.most:
                return
            oldest = next(iter(ordered))
            if cap.keep is not None and cap.keep(participant, ordered[oldest]):
                ordered.move_to_end(oldest)
                continue
            del ordered[oldest]
            self._evicted[(kind, participant)] += 1

    def holds(self, kind: str, participant: int, key: str) -> bool:
        """Whether a record is kept, without counting as a use of it."""
        return key in self._data.get(kind, {}).get(participant, ())

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
            self._evicted.clear()
            return
        for partitions in self._data.values():
            partitions.pop(participant, None)
        for counted in [counted for counted in self._evicted if counted[1] == participant]:
            del self._evicted[counted]

    def usage(self, participant: int | None = None) -> dict[str, Usage]:
        """Each capped kind's cap, records kept and records let go since the start (or the last reset), of every
        participant or of one."""
        found: dict[str, Usage] = {}
        for kind, cap in sorted(self._caps.items()):
            partitions = self._data.get(kind, {})
            kept = (sum(len(records) for records in partitions.values()) if participant is None
                    else len(partitions.get(participant, ())))
            evicted = sum(count for (counted, owner), count in self._evicted.items()
                          if counted == kind and (participant is None or owner == participant))
            found[kind] = {"cap": cap.most, "kept": kept, "evicted": evicted}
        return found

    def dump(self) -> Contents:
        records = [Stored(kind, participant, key, copy.deepcopy(record))
                   for kind, partitions in self._data.items() for participant, found in partitions.items()
                   for key, record in found.items()]
        return Contents(records, dict(self._sequences))

    def load(self, contents: Contents, *, keep: Collection[str] = ()) -> None:
        # Filled aside, then swapped in: readers see the old records or the new, never a mix.
        data: dict[str, dict[int, dict[str, Record]]] = _Partitions(self._caps)
        for kind, participant, key, record in contents.records:
            if kind not in keep:
                data[kind][participant][key] = record
        for kind in keep:
            if kind in self._data:
                data[kind] = self._data[kind]
        previous, self._data = self._data, data
        self._sequences = dict(contents.sequences)
        for kind, cap in self._caps.items():  # the caps hold as for writes (the snapshot's emulator may have had more)
            for participant, partition in list(data.get(kind, {}).items()):
                while len(partition) > cap.most:
                    before = len(partition)
                    self._make_room(kind, participant, partition, cap)
                    if len(partition) == before:
                        break  # what is left is in progress
        _let_go({kind: partitions for kind, partitions in previous.items() if kind not in keep})

    def close(self) -> None:
        pass


def _let_go(data: dict[str, dict[int, dict[str, Record]]]) -> None:
    """Free replaced records one at a time: freeing millions at once holds the interpreter (and a restore runs this on
    a worker thread, beside the event loop) for as long as it takes."""
    for partitions in data.values():
        for records in partitions.values():
            while records:
                records.popitem()


class _Partitions(dict):  # type: ignore[type-arg]
    """kind -> participant -> records, made on first use. Kinds with a cap get OrderedDicts, which drop
    their oldest entry and move one to the end in O(1) (a plain dict's first-key lookup slows as entries are deleted
    from its front)."""

    def __init__(self, caps: Mapping[str, Cap]) -> None:
        super().__init__()
        self._caps = caps

    def __missing__(self, kind: str) -> defaultdict:  # type: ignore[type-arg]
        partitions = self[kind] = defaultdict(OrderedDict if kind in self._caps else dict)
        return partitions
