"""Masking payment data for anything shown or kept for display: last four only, CVV and secrets dropped."""

from __future__ import annotations

from typing import Any

#: Keys whose values are account numbers: kept as their last four characters.
ACCOUNT_KEYS = frozenset({"account", "beneficiary_account", "sender_account", "account_number", "card_number"})
#: Keys whose values are never kept, not even masked.
SECRET_KEYS = frozenset({"cvv", "cvv2", "cvc", "track1", "track2", "track1_data", "track2_data", "track_data",
                         "secret", "password", "ssn", "pin"})
REMOVED = "[removed]"
#: Request headers never kept, not even masked (the journal's facts leave them out).
UNKEPT_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-emulator-admin-token"})


def last_four(value: str) -> str:
    """``4111111111111111`` -> ``************1111``."""
    text = str(value)
    return "*" * max(0, len(text) - 4) + text[-4:]


def mask(document: Any) -> Any:
    """A copy of a JSON document with account numbers masked and secrets removed."""
    if isinstance(document, dict):
        masked = {}
        for key, value in document.items():
            lowered = key.lower() if isinstance(key, str) else key
            if lowered in SECRET_KEYS:
                masked[key] = REMOVED
            elif lowered in ACCOUNT_KEYS and isinstance(value, (str, int)) and not isinstance(value, bool):
                masked[key] = last_four(str(value))
            else:
                masked[key] = mask(value)
        return masked
    if isinstance(document, list):
        return [mask(item) for item in document]
    return document
