"""Durations as people write them: seconds (``90``, ``1.5``) or a number with a unit (``30s``, ``15m``, ``48h``,
``2d``)."""

from __future__ import annotations

import math
import re

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
#: How a duration may be written, for error messages.
EXPECTED = "seconds or a text such as 30s, 15m, 48h, 2d"


def parse_duration(value: object) -> float:
    """Seconds from a number or a text with a unit; ValueError saying what was expected otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value):
            return float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNITS[match.group(2)]
    raise ValueError(f"{value!r} is not a duration; expected {EXPECTED}")


#: Units for writing a duration back, largest first.
_WRITTEN = (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 0.001))


def format_duration(seconds: float) -> str:
    """``seconds`` as people write it, in the largest unit that divides it: ``2d``, ``1h``, ``90s``, ``0s``."""
    if seconds == 0:
        return "0s"
    for unit, size in _WRITTEN:
        if unit == "ms" and seconds >= 1:
            break
        count = seconds / size
        if count >= 1 and abs(count - round(count)) < 1e-9:
            return f"{round(count)}{unit}"
    return f"{seconds:g}s"
