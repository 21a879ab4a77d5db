"""What an operation of the emulated API answers: an Ingo status, its client message and the data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from emulator.core.catalogue import status as catalogued

Data = TypeVar("Data")


@dataclass
class Answer(Generic[Data]):
    """A successful outcome: the Ingo status and the ``data`` (v11) or section (v12) that carries the result.

    ``client_message`` defaults to the status's catalogued message; ``http_status`` is set only when a scenario
    rule asks for another HTTP status than the endpoint's.
    """

    status: int
    data: Data
    client_message: str | None = None
    http_status: int | None = None

    @property
    def message(self) -> str:
        return self.client_message if self.client_message is not None else catalogued(self.status).message
