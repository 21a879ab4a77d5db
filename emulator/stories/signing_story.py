"""How a journaled request was signed, rebuilt from its headers as received, and where it differs from what the
server expected (the 401's side-by-side)."""

from __future__ import annotations

from typing_extensions import TypedDict

from emulator.auth.header import MalformedAuthorization, parse_authorization
from emulator.auth.kong_signing import signing_string
from emulator.core.journal import Entry

#: Diagnosis codes where the client's signature did not match the server's signing string.
SIGNATURE_CODES = frozenset({"signature_mismatch", "signature_hex", "signature_not_base64",
                             "signature_base64_of_hex"})


class SigningStory(TypedDict):
    """The signing parameters a request sent and the signing string the server builds from its headers."""

    username: str
    algorithm: str
    signed_headers: list[str]
    signing_string: str


class Comparison(TypedDict):
    """One thing the client sent beside what the server expected, and where they first differ."""

    what: str
    client: str | None  # None: the client's side cannot be known (paste it in the inspector to compare)
    server: str
    first_difference: int | None  # the index of the first character that differs; None when equal or unknown
    note: str


def signing_of(entry: Entry) -> SigningStory | None:
    """The request's hmac parameters and the signing string the server builds for it; None when it sent no
    parseable hmac Authorization."""
    headers = entry.headers()
    value = headers.get("proxy-authorization", headers.get("authorization"))
    if value is None:
        return None
    try:
        parsed = parse_authorization(value)
    except MalformedAuthorization:
        return None
    message = signing_string(parsed.headers, method=entry.method, target=entry.target or entry.path,
                             headers=headers, http_version=entry.http_version or "1.1")
    return {"username": parsed.username, "algorithm": parsed.algorithm, "signed_headers": list(parsed.headers),
            "signing_string": message}


def first_difference(left: str, right: str) -> int | None:
    """The index of the first character where two texts differ (the shorter one's length when one is a prefix of
    the other); None when they are equal."""
    if left == right:
        return None
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if a != b:
            return index
    return min(len(left), len(right))


def _compared(what: str, client: str | None, server: str, note: str) -> Comparison:
    return {"what": what, "client": client, "server": server,
            "first_difference": first_difference(client, server) if client is not None else None, "note": note}


def comparisons(entry: Entry) -> list[Comparison]:
    """For a refused signature, what the client sent beside what the server expected."""
    diagnosis = entry.diagnosis if isinstance(entry.diagnosis, dict) else {}
    code = diagnosis.get("code")
    headers = entry.headers()
    if code in SIGNATURE_CODES:
        server = diagnosis.get("signing_string")
        if not isinstance(server, str):
            story = signing_of(entry)
            server = story["signing_string"] if story else ""
        client = diagnosis.get("client_signing_string")
        if isinstance(client, str):
            note = "the client's signing string, reproduced from its signature: " + str(diagnosis.get("detail", ""))
            return [_compared("signing string", client, server, note)]
        return [_compared("signing string", None, server,
                          "a signature does not reveal what was signed: paste the signing string your client "
                          "built (most clients can log it) to see the first difference")]
    if code == "body_digest_mismatch":
        return [_compared("Content-sha512", headers.get("content-sha512", "").strip(),
                          str(diagnosis.get("expected_content_sha512", "")),
                          "Base64 of the raw SHA-512 of the body bytes as sent")]
    if code == "body_digest_missing":
        return [_compared("Content-sha512", "", str(diagnosis.get("expected_content_sha512", "")),
                          "the request has a body but no Content-sha512 header")]
    if code == "content_length_mismatch":
        return [_compared("Content-Length", headers.get("content-length", "").strip(),
                          str(diagnosis.get("body_length", "")), "the number of body bytes received")]
    if code in ("date_out_of_window", "date_unparseable", "date_missing"):
        sent = headers.get("x-date", headers.get("date", ""))
        return [_compared("X-Date", sent, str(diagnosis.get("server_time", "")),
                          "the server's clock when the request arrived; at most the allowed skew apart")]
    return []
