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


_DIGIT_RUN = re.compile(r"(?<![A-Za-z])(?:\d(?:[ -]?\d){11,}|\d{8,})(?![A-Za-z])")


def mask_text(text: str) -> str:
    """Text that is not JSON with every number of eight digits or more, or of twelve or more written with spaces or
    dashes, masked to its last four: a card or account number in a form body or a broken JSON document."""
    return _DIGIT_RUN.sub(lambda found: last_four(re.sub(r"[ -]", "", found.group())), text)


def _redact_signature(found: re.Match[str]) -> str:
    return found.group(1) + REDACTED + found.group(2)


def redacted_signatures(text: str) -> str:
    """``text`` with the value of every ``signature="..."`` in it redacted (an unclosed one to the end)."""
    start = text.find('signature="')
    if start >= 0 and text.count("signature", start + 1) == 0:  # the usual, one signature as Kong writes it
        start += len('signature="')
        end = text.find('"', start)
        return f"{text[:start]}{REDACTED}{text[end:]}" if end >= 0 else text[:start] + REDACTED
    return _SIGNATURE.sub(_redact_signature, text)  # any other spelling


def redacted_header(name: str, value: str) -> str:
    """A header's value as it may be shown: an HMAC Authorization keeps its grammar (username, algorithm, the
    signed headers) with the signature redacted; another credential keeps only its scheme; a cookie or the admin
    token nothing."""
    lowered = name.lower()
    if lowered not in UNKEPT_HEADERS:
        return value
    if lowered not in CREDENTIAL_HEADERS:
        return REDACTED
    if 'signature="' in value or _SIGNATURE.search(value):
        return redacted_signatures(value)
    scheme = _SCHEME.match(value)
    return f"{scheme.group(1)} {REDACTED}" if scheme and scheme.group(1).lower() != "hmac" else REDACTED


#: Headers whose values have a fixed form that holds no payment data (a digest, a length, a date): shown as sent,
#: so the signing string rebuilt from them is the one the server built.
STRUCTURED_HEADERS = frozenset({"content-sha512", "content-length", "x-date", "date", "content-type", "host"})


def redacted_headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers in the order received, each value as it may be shown: credentials redacted (see
    :func:`redacted_header`), numbers that could be card or account numbers masked (see :func:`mask_text`)."""
    unkept, structured = UNKEPT_HEADERS, STRUCTURED_HEADERS
    shown = []
    for name, value in pairs:
        lowered = name.lower()
        if lowered in unkept:
            value = redacted_header(name, value)
        elif lowered not in structured and len(value) >= 8:
            value = mask_text(value)
        shown.append((name, value))
    return shown


def masked_target(target: str) -> str:
    """A request target with numbers in its query that could be card or account numbers masked."""
    path, mark, query = target.partition("?")
    return f"{path}?{mask_text(query)}" if mark and len(query) >= 8 else target


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
            elif isinstance(value, str) and len(value) >= CARD_DIGITS_MIN:
                masked[key] = scrub_card_numbers(value)  # a card number under another name, or in a sentence
            else:
                masked[key] = value
        return masked
    if isinstance(document, list):
        return [mask(item) if isinstance(item, (dict, list))
                else scrub_card_numbers(item) if isinstance(item, str) and len(item) >= CARD_DIGITS_MIN else item
                for item in document]
    if isinstance(document, str) and len(document) >= CARD_DIGITS_MIN:
        return scrub_card_numbers(document)
    return document


#: The fewest digits a card number has.
CARD_DIGITS_MIN = 13
#: A card number wherever it appears in text: 13 to 19 digits together, or in groups of four separated by single
#: spaces or dashes (4111 1111 1111 1111); never part of a longer word of letters, digits and dashes (the digits
#: inside a hex request id or a UUID are no card number).
_CARD_RUN = re.compile(r"(?<![\w-])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?)(?![\w-])")


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn check that every card number passes."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def scrub_card_numbers(text: str) -> str:
    """``text`` with any card number in it (13 to 19 digits passing Luhn) masked to its last four."""
    return _CARD_RUN.sub(_card_masked, text)


def _card_masked(found: re.Match[str]) -> str:
    digits = found.group().replace(" ", "").replace("-", "")
    return last_four(digits) if 13 <= len(digits) <= 19 and luhn_valid(digits) else found.group()


#: Query parameters whose values are credentials when a URL carries them (a receiver's token, an API key, a
#: pre-signed URL's signature); also any name ending in _token, _key, _secret, _signature or _password.
CREDENTIAL_PARAMETERS = frozenset({"token", "key", "secret", "signature", "sig", "password", "pass", "pwd", "auth",
                                   "access_token", "api_key", "apikey", "client_secret"})
_CREDENTIAL_SUFFIXES = ("_token", "_key", "_secret", "_signature", "_password")
_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)


def _credential_parameter(name: str) -> bool:
    normal = name.strip().lower().replace("-", "_")
    return normal in CREDENTIAL_PARAMETERS or normal.endswith(_CREDENTIAL_SUFFIXES)


def masked_url(url: str) -> str:
    """A URL as it may be shown, listed, logged or kept for display: the user and password before ``@`` and the
    values of credential-like query parameters redacted (``https://[redacted]@host/hook?token=[redacted]&a=1``).
    The real URL is only ever used to send."""
    start = url.find("://")
    start = start + 3 if start >= 0 else 0
    rest = url[start:]
    cut = min((i for i in (rest.find(mark) for mark in "/?#") if i >= 0), default=len(rest))
    authority, after = rest[:cut], rest[cut:]
    if "@" in authority:
        authority = REDACTED + "@" + authority.rpartition("@")[2]
    path, mark, query = after.partition("?")
    if mark:
        query, hash_mark, fragment = query.partition("#")
        parts = []
        for part in query.split("&"):
            name, equals, _ = part.partition("=")
            parts.append(f"{name}={REDACTED}" if equals and _credential_parameter(name) else part)
        after = f"{path}?{'&'.join(parts)}{hash_mark}{fragment}"
    return url[:start] + authority + after


def mask_urls(text: str) -> str:
    """``text`` (an error message, say) with every http(s) URL in it masked as :func:`masked_url` does."""
    return _URL_IN_TEXT.sub(lambda found: masked_url(found.group()), text) if "://" in text else text
