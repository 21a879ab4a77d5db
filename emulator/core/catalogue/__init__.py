"""The catalogue of Ingo status codes, read from the one data file beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

FAMILIES = ("success", "soft_verification", "request", "system", "velocity", "routing", "card_token",
            "issuer_decline", "general", "webhook", "session")
#: The code range Ingo gives each family it names without listing its codes (https://developers.ingopayments.com/docs/
#: hub/errors): what an emulator code in the family stands on.
FAMILY_RANGES = {
    "system": "5xx to System & Communication Failures", "velocity": "600-616 to Validation & Velocity Errors",
    "routing": "700-742 to Transaction & Routing", "card_token": "750-815 to Card Data & Token Errors",
    "issuer_decline": "851-867 to Card Issuer Declines", "general": "9xx to General System Errors",
}
#: Who defines a code: Ingo (published, with a page) or the emulator (invented within a family Ingo publishes).
SOURCES = ("ingo", "emulator")


@dataclass(frozen=True)
class Status:
    """One Ingo status code: its exact client_message, family, and where it can be returned."""

    code: int
    message: str
    family: str
    retryable: bool
    source: str
    endpoints: tuple[str, ...]
    page: str | None = None  # the Ingo page that documents the code (source "ingo" only)

    @property
    def is_success(self) -> bool:
        """Whether the code approves (a success or a soft verification result)."""
        return self.family in ("success", "soft_verification")

    @property
    def is_ingo(self) -> bool:
        """Whether Ingo publishes this code and message (else the emulator invented it)."""
        return self.source == "ingo"


def from_entry(entry: dict[str, Any]) -> Status:
    """One YAML entry as a Status; ValueError when its source and page disagree."""
    code, source, page = entry["code"], entry["source"], entry.get("page")
    if source not in SOURCES:
        raise ValueError(f"status {code}: source {source!r} is not one of {', '.join(SOURCES)}")
    if (source == "ingo") != bool(page):
        raise ValueError(f"status {code}: a code from Ingo names its page, an emulator code has none")
    return Status(code, entry["message"], entry["family"], bool(entry["retryable"]), source,
                  tuple(entry["endpoints"]), page)


@cache
def catalogue() -> dict[int, Status]:
    """Every catalogued status, by code (the file is read, and PyYAML imported, on the first call: the commands that
    never look a status up, such as ``healthcheck``, start without it)."""
    import yaml

    text = resources.files(__package__).joinpath("status_codes.yaml").read_text(encoding="utf-8")
    # libyaml's loader when PyYAML has it (its wheels do): the same data from this file, several times faster
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {entry["code"]: from_entry(entry) for entry in yaml.load(text, Loader=loader)}


def status(code: int) -> Status:
    """The catalogued status for ``code``; KeyError when Ingo's code is not catalogued."""
    return catalogue()[code]
