"""Durations as people write them: seconds (``90``, ``1.5``) or a number with a unit (``30s``, ``15m``, ``48h``, ``2d``)."""

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
