"""Taking a snapshot: the archive's header and every stateful part's section."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emulator import __version__
from emulator.core.stateful import Registry
from emulator.snapshots.format import FORMAT, VERSION


def capture(parts: Registry, *, seed: int | None) -> dict[str, Any]:
    """The archive of the emulator whose stateful parts are ``parts``, as it is now (JSON): no secret, card and
    account numbers masked."""
    return {"format": FORMAT, "version": VERSION, "emulator_version": __version__,
            "taken_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "seed": seed, **parts.export()}
