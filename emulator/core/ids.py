"""Identifiers the emulator hands out: UUID4 strings, reproducible with --seed."""

from __future__ import annotations

import random
import uuid


class IdFactory:
    """UUID4s from the system's randomness, or from a seeded generator so runs repeat exactly."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def uuid4(self) -> str:
        if self._random is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))
