"""The catalogue of Ingo status codes, read from the one data file beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

FAMILIES = ("success", "soft_verification", "request", "system", "velocity", "routing", "card_token",
            "issuer_decline", "general", "webhook", "session")


@dataclass(frozen=True)
class Status:
    """One Ingo status code: its exact client_message, family, and where it can be returned."""

    code: int
    message: str
    family: str
    retryable: bool
    source: str
    endpoints: tuple[str, ...]

    @property
    def is_success(self) -> bool:
        return self.family in ("success", "soft_verification")


@cache
def catalogue() -> dict[int, Status]:
    """Every catalogued status, by code."""
    text = resources.files(__package__).joinpath("status_codes.yaml").read_text(encoding="utf-8")
    entries = yaml.safe_load(text)
    return {e["code"]: Status(e["code"], e["message"], e["family"], bool(e["retryable"]), e["source"],
                              tuple(e["endpoints"])) for e in entries}


def status(code: int) -> Status:
    """The catalogued status for ``code``; KeyError when Ingo's code is not catalogued."""
    return catalogue()[code]
