"""Identifiers the emulator hands out: UUID4 strings, reproducible with --seed; request ids."""

from __future__ import annotations

import itertools
import os
import random
import uuid
from collections.abc import Iterator


class IdFactory:
    """UUID4s from the system's randomness, or from a seeded generator so runs repeat exactly."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def uuid4(self) -> str:
        if self._random is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))


def request_ids() -> Iterator[str]:
    """Ids for requests (32 hex digits, as before): a random half drawn once per process, then a counter; unique
    within a run and across runs, at the cost of a counter step per request rather than a draw of randomness."""
    prefix = os.urandom(8).hex()
    return (f"{prefix}{n:016x}" for n in itertools.count(1))
