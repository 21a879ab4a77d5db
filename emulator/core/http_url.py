"""An http:// or https:// URL as the emulator takes one (a webhook receiver, --public-url, the proxy's upstream):
what is wrong with one, said in words rather than as the regular expression it failed."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from emulator.core.masking import masked_url

#: The schemes the emulator can send to or be reached by.
SCHEMES = ("http", "https")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def problem(text: str) -> str | None:
    """What stops ``text`` being an http(s) URL with a host, as the end of a sentence about it; None when it is
    one."""
    if not text.strip():
        return "is empty; expected an http:// or https:// URL"
    if any(character.isspace() for character in text):
        return "contains white space, which a URL cannot (write a space as %20)"
    found = _SCHEME.match(text)
    if found is None:
        if text.lower().startswith(tuple(f"{scheme}:" for scheme in SCHEMES)):
            return "needs // after the scheme's colon (http://host/path)"
        return "has no scheme: it must begin with http:// or https://"
    scheme = found.group(1).lower()
    if scheme not in SCHEMES:
        return f"has the scheme {scheme}://, which is not supported: use http:// or https://"
    parts = urlsplit(text)
    if not parts.hostname:
        return f"has no host after {scheme}:// (such as 127.0.0.1:9000)"
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return "has a port that is not a number from 0 to 65535"
    return None


def checked(text: str) -> str:
    """``text`` when it is an http(s) URL with a host; otherwise ValueError saying, in words, what is wrong (the URL
    shown with any credential in it masked)."""
    found = problem(text)
    if found is not None:
        raise ValueError(f"{masked_url(text)!r} {found}")
    return text
