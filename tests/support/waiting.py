"""Waiting for an event a test can observe, instead of sleeping a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def eventually(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Wait until ``check()`` returns something true (and return it): how a test waits for an event it can observe
    (a journal entry, a delivered webhook) instead of sleeping a fixed time. Fails naming ``what`` after
    ``timeout`` seconds, a generous bound against hangs, not a timing claim."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = check()
        if found:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout:g} s")
        await asyncio.sleep(0.02)
