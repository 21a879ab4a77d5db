"""The known name an unknown one most likely meant: one rule for every "did you mean" (keys, variables, flags)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: How alike a name must be to a known one to be suggested (difflib's ratio, 0 to 1).
CLOSE_ENOUGH = 0.6


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like ``name``, when one is close enough; None otherwise."""
    found = difflib.get_close_matches(name, list(known), n=1, cutoff=CLOSE_ENOUGH)
    return found[0] if found else None
