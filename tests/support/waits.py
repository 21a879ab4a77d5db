"""The wait endpoints over raw HTTP (POST /_emulator/requests/wait and /_emulator/webhooks/wait), called as a
suite in any language calls them, at once or from a thread started before what it waits for."""

from __future__ import annotations

import threading
from typing import Any

from tests.support.outside import admin


def wait(url: str, body: dict[str, Any], kind: str = "requests") -> tuple[int, Any]:
    """One wait (on the journal's requests, or with ``kind`` "webhooks" on the deliveries): (status, answer)."""
    return admin(url, "POST", f"/_emulator/{kind}/wait", body)


class Later(threading.Thread):
    """A wait started before the request it waits for is sent."""

    def __init__(self, url: str, body: dict[str, Any], kind: str = "requests") -> None:
        super().__init__(daemon=True)
        self.url, self.body, self.kind = url, body, kind
        self.answer: tuple[int, Any] | None = None
        self.started = threading.Event()

    def run(self) -> None:
        self.started.set()
        self.answer = wait(self.url, self.body, self.kind)

    def result(self) -> tuple[int, Any]:
        self.join(timeout=60)
        assert self.answer is not None, "the wait never answered"
        return self.answer
