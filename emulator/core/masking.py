"""Masking payment data for anything shown or kept for display: last four only, CVV and secrets dropped."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: Keys whose values are account numbers: kept as their last four characters.
ACCOUNT_KEYS = frozenset({"account", "beneficiary_account", "sender_account", "account_number", "card_number"})
#: Keys whose values are never kept, not even masked.
SECRET_KEYS = frozenset({"cvv", "cvv2", "cvc", "track1", "track2", "track1_data", "track2_data", "track_data",
                         "secret", "password", "ssn", "pin"})
REMOVED = "[removed]"
#: Request headers never kept, not even masked (the journal's facts leave them out).
UNKEPT_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-emulator-admin-token"})
#: Of those, the ones shown with their credential redacted (the rest of the value is what a person debugs).
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})
REDACTED = "[redacted]"
_SIGNATURE = re.compile(r'(signature\s*=\s*")[^"]*(")', re.IGNORECASE)
_SCHEME = re.compile(r"^\s*(\S+)")


def last_four(value: str) -> str:
    """``4111111111111111`` -> ``************1111``."""
    text = str(value)
    return "*" * max(0, len(text) - 4) + text[-4:]


_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){11,}|\d{8,}")


def mask_text(text: str) -> str:
    """Text that is not JSON with every number of eight digits or more, or of twelve or more written with spaces or
    dashes, masked to its last four: a card or account number in a form body or a broken JSON document."""
    return _DIGIT_RUN.sub(lambda found: last_four(re.sub(r"[ -]", "", found.group())), text)


def _redact_signature(found: re.Match[str]) -> str:
    return found.group(1) + REDACTED + found.group(2)


def redacted_header(name: str, value: str) -> str:
    """A header's value as it may be shown: an HMAC Authorization keeps its grammar (username, algorithm, the
    signed headers) with the signature redacted; another credential keeps only its scheme; a cookie or the admin
    token nothing."""
    lowered = name.lower()
    if lowered not in UNKEPT_HEADERS:
        return value
    if lowered not in CREDENTIAL_HEADERS:
        return REDACTED
    if _SIGNATURE.search(value):  # every signature= redacted (a function, not a template: no template parsing)
        return _SIGNATURE.sub(_redact_signature, value)
    scheme = _SCHEME.match(value)
    return f"{scheme.group(1)} {REDACTED}" if scheme and scheme.group(1).lower() != "hmac" else REDACTED


def redacted_headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers in the order received, each value as it may be shown (see :func:`redacted_header`)."""
    unkept = UNKEPT_HEADERS
    return [(name, redacted_header(name, value) if name.lower() in unkept else value) for name, value in pairs]


def mask(document: Any) -> Any:
    """A copy of a JSON document with account numbers masked and secrets removed."""
    if isinstance(document, dict):
        masked = {}
        for key, value in document.items():
            lowered = key.lower() if isinstance(key, str) else key
            if lowered in SECRET_KEYS:
                masked[key] = REMOVED
            elif isinstance(value, (dict, list)):
                masked[key] = mask(value)
            elif lowered in ACCOUNT_KEYS and isinstance(value, (str, int)) and not isinstance(value, bool):
                masked[key] = last_four(str(value))
            else:
                masked[key] = value
        return masked
    if isinstance(document, list):
        return [mask(item) if isinstance(item, (dict, list)) else item for item in document]
    return document


#: A run of digits as long as a card number (13 to 19), wherever it appears in text.
_CARD_RUN = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn check that every card number passes."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def scrub_card_numbers(text: str) -> str:
    """``text`` with any card number in it (13 to 19 digits passing Luhn) masked to its last four."""
    return _CARD_RUN.sub(lambda m: last_four(m.group()) if luhn_valid(m.group()) else m.group(), text)


def mask_everywhere(document: Any) -> Any:
    """:func:`mask`, and card numbers scrubbed from every text value too (a message may quote one): for documents
    taken from a system the emulator does not control, such as a recording of Ingo's sandbox."""
    masked = mask(document)
    return _scrub(masked)


def _scrub(document: Any) -> Any:
    if isinstance(document, dict):
        return {key: _scrub(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_scrub(item) for item in document]
    if isinstance(document, str):
        return scrub_card_numbers(document)
    return document
