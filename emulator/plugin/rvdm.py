"""Recipient verification data matching (RVDM): what the recipient typed against the session's recipient data.

Pure functions, no HTTP and no store: the plugin (``emulator.plugin.models``) decides what a result means.
Each field is ``hard`` (a mismatch stops the attempt and counts towards the maximum), ``soft`` (a mismatch is
reported, the flow continues) or ``bypass`` (not evaluated), as Ingo's RVDM configuration has it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Ingo's field names (webhook ``field_results[].field_name``) and the recipient_information key of each.
FIELDS = {"FirstName": "first_name", "LastName": "last_name", "BusinessName": "business_name",
          "AddressLine1": "address_line1", "City": "city", "State": "state", "ZipCode": "zip_code"}
MODES = ("hard", "soft", "bypass")
#: The emulator's defaults (Ingo's are set per client at onboarding): only the last name stops the recipient.
DEFAULT_RULES = "FirstName=soft,LastName=hard,BusinessName=soft,AddressLine1=soft,City=soft,State=soft,ZipCode=soft"

SUCCESS, SOFT_FAILURE, FAILURE = 1103, 1104, 1105
#: Ingo's iFrame testing page: a soft failure is reported "via the correlated success webhook carrying the
#: soft-fail status code. No failure webhook emits."
TOPICS = {SUCCESS: "plugin.transaction.recipient.verification.rvdm.success",
          SOFT_FAILURE: "plugin.transaction.recipient.verification.rvdm.success",
          FAILURE: "plugin.transaction.recipient.verification.rvdm.failure"}


def parse_rules(text: str) -> dict[str, str]:
    """``LastName=hard,City=bypass`` over the defaults: every field's mode; ValueError names what is wrong."""
    rules = dict(_pairs(DEFAULT_RULES))
    rules.update(_pairs(text))
    return rules


def _pairs(text: str) -> list[tuple[str, str]]:
    by_lower = {name.lower(): name for name in FIELDS}
    found = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        name, sep, mode = part.partition("=")
        field = by_lower.get(name.strip().lower())
        if not sep or field is None:
            raise ValueError(f"{part!r}: expected FIELD=MODE with FIELD one of {', '.join(FIELDS)}")
        mode = mode.strip().lower()
        if mode not in MODES:
            raise ValueError(f"{part!r}: the mode must be one of {', '.join(MODES)}")
        found.append((field, mode))
    return found


def normalise(field: str, value: str | None) -> str:
    """Compare what people mean: case, punctuation and spacing do not count; a ZIP code by its first five digits."""
    text = (value or "").strip()
    if field == "ZipCode":
        return re.sub(r"\D", "", text)[:5]
    if field == "State":
        return text.upper()
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    return " ".join(text.split())


@dataclass(frozen=True)
class FieldResult:
    field_name: str
    mode: str
    client_provided_value: str | None  # the partner's recipient_information
    customer_provided_value: str | None  # what the recipient typed (None: the form does not ask)

    @property
    def was_evaluated(self) -> bool:
        return self.mode != "bypass" and bool(self.client_provided_value) and self.customer_provided_value is not None

    @property
    def is_matching(self) -> bool:
        if not self.was_evaluated:
            return True
        return normalise(self.field_name, self.client_provided_value) == \
            normalise(self.field_name, self.customer_provided_value)

    def as_json(self) -> dict[str, Any]:
        """One entry of the webhook's ``field_results`` (reference 5.3)."""
        return {"was_evaluated": self.was_evaluated, "client_provided_value": self.client_provided_value or "",
                "is_matching": self.is_matching, "field_name": self.field_name,
                "hard_fail_on_mismatch": self.mode == "hard", "is_enabled": self.mode != "bypass",
                "customer_provided_value": self.customer_provided_value or ""}


@dataclass(frozen=True)
class Matching:
    """How what the recipient typed compares with the session's recipient data, field by field."""

    fields: tuple[FieldResult, ...]

    @property
    def hard_mismatches(self) -> list[str]:
        return [f.field_name for f in self.fields if not f.is_matching and f.mode == "hard"]

    @property
    def soft_mismatches(self) -> list[str]:
        return [f.field_name for f in self.fields if not f.is_matching and f.mode == "soft"]

    @property
    def status(self) -> int:
        if self.hard_mismatches:
            return FAILURE
        return SOFT_FAILURE if self.soft_mismatches else SUCCESS

    @property
    def passed(self) -> bool:
        return self.status != FAILURE

    @property
    def topic(self) -> str:
        return TOPICS[self.status]

    def event(self, attempt_count: int, max_attempts: int) -> dict[str, Any]:
        """The ``data.event`` of the RVDM webhook (reference 5.3; status and client_message added by the outbox)."""
        return {"has_passed": self.passed, "attempt_count": attempt_count, "max_attempts": max_attempts,
                "field_results": [f.as_json() for f in self.fields], "was_skipped": False}


def evaluate(rules: Mapping[str, str], recipient_information: Mapping[str, Any],
             submitted: Mapping[str, str | None]) -> Matching:
    """Compare ``submitted`` (recipient_information keys; absent = not asked) with the session's data."""
    return Matching(tuple(
        FieldResult(field, rules.get(field, "soft"), _text(recipient_information.get(key)),
                    _text(submitted.get(key)) if key in submitted else None)
        for field, key in FIELDS.items()))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
