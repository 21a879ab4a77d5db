"""Parsing the ``Authorization: hmac ...`` header, strictly as Kong does, with a reason when it fails."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Kong's own pattern (hmac-auth access.lua): fixed parameter order, greedy values.
KONG_PATTERN = re.compile(r'\s*[Hh]mac\s*username="(.+)",\s*algorithm="(.+)",\s*headers="(.+)",\s*signature="(.+)"')
#: The same grammar for the usual header, where no value holds a quote: when this matches the whole header,
#: Kong's greedy pattern can only split it at the same quotes, so the result is identical, without its backtracking.
_PLAIN = re.compile(r'\A\s*[Hh]mac\s*username="([^"\n]+)",\s*algorithm="([^"\n]+)",\s*headers="([^"\n]+)",'
                    r'\s*signature="([^"\n]+)"\s*\Z')
_PARAMETER = re.compile(r'([A-Za-z_-]+)\s*=\s*("([^"]*)"|[^,\s]*)')
_ORDER = ("username", "algorithm", "headers", "signature")


@dataclass(frozen=True)
class ParsedAuthorization:
    """The four parameters of an hmac ``Authorization`` header."""

    username: str
    algorithm: str
    headers: tuple[str, ...]
    signature: str


class MalformedAuthorization(ValueError):
    """The header does not follow the grammar; the message says what is off."""


def parse_authorization(value: str) -> ParsedAuthorization:
    """Parse like Kong; on failure raise with a sentence that names the problem."""
    match = _PLAIN.match(value) or KONG_PATTERN.search(value)
    if match is None:
        raise MalformedAuthorization(explain_malformed(value))
    username, algorithm, headers, signature = match.groups()
    return ParsedAuthorization(username, algorithm, tuple(headers.split(" ")), signature)


def explain_malformed(value: str) -> str:
    """Say why ``value`` does not match Kong's pattern."""
    stripped = value.strip()
    scheme = stripped.split(" ", 1)[0] if stripped else ""
    expected = 'expected: hmac username="...", algorithm="hmac-sha512", headers="...", signature="..."'
    if not stripped:
        return f"the Authorization header is empty; {expected}"
    if scheme.lower() != "hmac" and not stripped.lower().startswith("hmac"):
        return f"the Authorization scheme is {scheme!r}, not 'hmac'; {expected}"
    if not stripped.startswith(("hmac", "Hmac")):
        return f"the Authorization scheme is written {stripped[:4]!r}; Kong only accepts 'hmac' or 'Hmac'; {expected}"
    found = [(m.group(1).lower(), m.group(2)) for m in _PARAMETER.finditer(stripped[4:])]
    names = [name for name, _ in found]
    missing = [name for name in _ORDER if name not in names]
    if missing:
        return f"the Authorization header lacks {', '.join(p + '=' for p in missing)}; {expected}"
    unquoted = [name for name, raw in found if name in _ORDER and not raw.startswith('"')]
    if unquoted:
        return f"the value of {', '.join(unquoted)} must be in double quotes; {expected}"
    empty = [name for name, raw in found if name in _ORDER and raw == '""']
    if empty:
        return f"{', '.join(p + '=' for p in empty)} is empty; {expected}"
    order = [name for name in names if name in _ORDER]
    if order != list(_ORDER):
        return (f"the parameters are in the order {', '.join(order)}; Kong only accepts "
                f"username, algorithm, headers, signature, separated by commas")
    return f"the parameters must be separated by commas; {expected}"
