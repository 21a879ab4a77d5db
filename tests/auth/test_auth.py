"""Kong hmac-auth as Ingo uses it, against the real app: every 401 cause, the skew boundaries, both header
orders, the legacy algorithm, --no-diagnosis, secrecy of the secret, and per-credential rate limiting.

Requests here are signed by ``kong_sign`` below, written from the reference (section 3.2) with the standard
library only, so that these tests do not lean on the project's own signer (tests/auth/test_signer.py pins that one
to openssl). Expected values are literals taken from the contract, not read back from the code under test.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from multidict import CIMultiDict

from emulator.auth.diagnosis import CODES, AuthenticationFailed
from emulator.auth.httpdate import UnreadableDate, parse_http_time
from emulator.auth.verify import SignedRequest, check_body
from emulator.web.ratelimit import RateLimiter
from tests.support.app import CREDENTIALS, Signed
from tests.support.bodies import CARD, v11

SECRET = "ingopay-emulator-secret"  # the secret of "test" in tests/support/app.py
OTHER_SECRET = "other-secret"
DATE = "Mon, 16 Nov 2026 15:00:00 GMT"  # NOW, the frozen clock of tests/support/app.py
VERIFY = "/gateway/verify"

AUTH_PAGE_ORDER = ("request-line", "x-date", "content-type", "content-sha512", "content-length")
SESSION_PAGE_ORDER = ("request-line", "x-date", "content-type", "content-length", "content-sha512")

UNAUTHORIZED = "Unauthorized"
DATE_REQUIRED = ("HMAC signature cannot be verified, a valid date or x-date header is required for "
                 "HMAC Authentication")
CANNOT_VERIFY = "HMAC signature cannot be verified"
DOES_NOT_MATCH = "HMAC signature does not match"
EXPECTED_GRAMMAR = 'expected: hmac username="...", algorithm="hmac-sha512", headers="...", signature="..."'

#: The reference's 44-byte body (section 3.2), its Content-sha512, and a signing string built from it at NOW.
SMALL_BODY = b'{"participant_id":12345,"account_type":"CA"}'
SMALL_DIGEST = "nK/1bOBHyWdUWINc1IZysPGFT1UjuUBPT1veK4uUfAcKPGXyZYvFV2eoOMmfWZ6n0pFkovu6NeVL7NKAq7DTew=="
SMALL_SIGNING_STRING = (
    "POST /gateway/verify HTTP/1.1\n"
    "x-date: Mon, 16 Nov 2026 15:00:00 GMT\n"
    "content-type: application/json\n"
    f"content-sha512: {SMALL_DIGEST}\n"
    "content-length: 44"
)

_TITLES = {"x-date": "X-Date", "date": "Date", "content-type": "Content-Type", "content-sha512": "Content-sha512",
           "content-length": "Content-Length"}
_DIGESTS = {"hmac-sha512": hashlib.sha512, "hmac-sha256": hashlib.sha256, "hmac-md5": hashlib.md5}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def card_body(**fields: Any) -> bytes:
    return json.dumps(v11(**{**CARD, **fields}), separators=(",", ":")).encode()


def kong_sign(
    body: bytes,
    *,
    target: str = VERIFY,
    order: tuple[str, ...] = AUTH_PAGE_ORDER,
    username: str = "test",
    secret: str = SECRET,
    algorithm: str = "hmac-sha512",
    values: dict[str, str | None] | None = None,
    encode: Callable[[bytes], str] = b64,
    method: str = "POST",
) -> dict[str, str]:
    """Headers for ``body`` signed as reference 3.2 says; ``values`` overrides (None removes) sent headers,
    ``encode`` turns the raw HMAC into the signature parameter."""
    sent: dict[str, str | None] = {"x-date": DATE, "content-type": "application/json",
                                   "content-sha512": b64(hashlib.sha512(body).digest()),
                                   "content-length": str(len(body))}
    sent.update(values or {})
    present = {name: value for name, value in sent.items() if value is not None}
    lines = []
    for name in order:
        if name == "request-line":
            lines.append(f"{method} {target} HTTP/1.1")
        elif name in present:
            lines.append(f"{name}: {present[name]}")
        else:
            lines.append(f"{name}:")
    mac = hmac.new(secret.encode(), "\n".join(lines).encode(), _DIGESTS[algorithm]).digest()
    headers = {_TITLES[name]: value for name, value in present.items()}
    headers["Authorization"] = (f'hmac username="{username}", algorithm="{algorithm}", '
                                f'headers="{" ".join(order)}", signature="{encode(mac)}"')
    return headers


async def send(emulator: Signed, headers: Mapping[str, str], body: bytes = b"", path: str = VERIFY):
    response = await emulator.client.post(path, data=body, headers=headers)
    document = json.loads(await response.text())
    return response.status, document, response.headers


def refused(result, code: str, message: str) -> dict[str, Any]:
    """Assert a 401 with Kong's message, WWW-Authenticate: hmac and ``code``; return the diagnosis."""
    status, document, headers = result
    assert status == 401, document
    assert headers["WWW-Authenticate"] == "hmac"
    assert document["message"] == message
    assert set(document) == {"message", "request_id", "diagnosis"}
    assert len(document["request_id"]) == 32 and int(document["request_id"], 16) >= 0
    assert document["diagnosis"]["code"] == code
    assert SECRET not in json.dumps(document)
    return document["diagnosis"]


def accepted(result) -> dict[str, Any]:
    status, document, _ = result
    assert status == 200, document
    assert document["status"] == 100, document
    assert document["client_message"] == "Success"
    return document


def test_every_diagnosis_code_has_the_kong_message_the_contract_gives():
    assert CODES == {
        "missing_authorization": UNAUTHORIZED,
        "date_missing": DATE_REQUIRED,
        "date_unparseable": DATE_REQUIRED,
        "date_out_of_window": DATE_REQUIRED,
        "malformed_authorization": CANNOT_VERIFY,
        "duplicate_header": CANNOT_VERIFY,
        "required_header_not_signed": CANNOT_VERIFY,
        "algorithm_not_allowed": CANNOT_VERIFY,
        "unknown_username": CANNOT_VERIFY,
        "signature_not_base64": DOES_NOT_MATCH,
        "signature_base64_of_hex": DOES_NOT_MATCH,
        "signature_hex": DOES_NOT_MATCH,
        "signature_mismatch": DOES_NOT_MATCH,
        "body_digest_missing": DOES_NOT_MATCH,
        "body_digest_mismatch": DOES_NOT_MATCH,
        "content_length_mismatch": DOES_NOT_MATCH,
    }


# --- accepted ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [AUTH_PAGE_ORDER, SESSION_PAGE_ORDER], ids=["auth-page", "session-page"])
async def test_both_documented_header_orders_are_accepted(emulator, order):
    body = card_body()
    accepted(await send(emulator, kong_sign(body, order=order), body))


async def test_date_instead_of_x_date_is_accepted(emulator):
    body = card_body()
    headers = kong_sign(body, order=("request-line", "date", "content-type", "content-sha512", "content-length"),
                        values={"x-date": None, "date": DATE})
    assert "X-Date" not in headers and headers["Date"] == DATE
    accepted(await send(emulator, headers, body))


async def test_hmac_sha256_is_accepted_when_the_legacy_algorithm_is_allowed(make_emulator):
    emulator = await make_emulator(algorithms=("hmac-sha512", "hmac-sha256"))
    body = card_body()
    headers = kong_sign(body, algorithm="hmac-sha256")
    assert len(base64.b64decode(headers["Authorization"].split('signature="')[1][:-1])) == 32
    accepted(await send(emulator, headers, body))


async def test_query_string_in_the_request_line_is_accepted_when_signed(emulator):
    body = card_body()
    accepted(await send(emulator, kong_sign(body, target="/gateway/verify?foo=bar"), body,
                        path="/gateway/verify?foo=bar"))


async def test_the_conftest_client_signs_acceptably(emulator):
    status, document, _ = await emulator.post(VERIFY, v11(**CARD))
    assert status == 200 and document["status"] == 100


# --- missing and malformed Authorization -------------------------------------------------------------------


async def test_missing_authorization(emulator):
    body = card_body()
    headers = kong_sign(body)
    del headers["Authorization"]
    diagnosis = refused(await send(emulator, headers, body), "missing_authorization", UNAUTHORIZED)
    assert diagnosis["detail"] == ('the request has no Authorization header; sign it as hmac username="...", '
                                   'algorithm="hmac-sha512", headers="...", signature="..."')


async def test_missing_authorization_wins_over_a_missing_date(emulator):
    """Kong checks the header's presence before the date."""
    refused(await send(emulator, {}, b""), "missing_authorization", UNAUTHORIZED)


async def test_empty_authorization_is_present_but_malformed(emulator):
    """Kong treats an empty header as present: the date is checked, then the header fails to parse."""
    body = card_body()
    headers = {**kong_sign(body), "Authorization": ""}
    diagnosis = refused(await send(emulator, headers, body), "malformed_authorization", CANNOT_VERIFY)
    assert diagnosis["detail"] == f"the Authorization header is empty; {EXPECTED_GRAMMAR}"
    headers = {**kong_sign(body, values={"x-date": None}), "Authorization": ""}
    refused(await send(emulator, headers, body), "date_missing", DATE_REQUIRED)


async def test_proxy_authorization_is_tried_first(emulator):
    body = card_body()
    good = kong_sign(body)
    headers = {**good, "Proxy-Authorization": good["Authorization"], "Authorization": "Bearer x"}
    accepted(await send(emulator, headers, body))
    headers = {**good, "Proxy-Authorization": "Bearer x"}
    refused(await send(emulator, headers, body), "malformed_authorization", CANNOT_VERIFY)


def _authorization(**parts: str) -> str:
    return "hmac " + ", ".join(f"{name}={value}" for name, value in parts.items())


def _good_parts(body: bytes) -> dict[str, str]:
    value = kong_sign(body)["Authorization"][len("hmac "):]
    found = {}
    for item in ("username", "algorithm", "headers", "signature"):
        start = value.index(f'{item}="') + len(item) + 1
        found[item] = value[start:value.index('"', start + 1) + 1]
    return found


async def test_bearer_scheme_is_malformed(emulator):
    body = card_body()
    headers = kong_sign(body)
    headers["Authorization"] = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc"
    diagnosis = refused(await send(emulator, headers, body), "malformed_authorization", CANNOT_VERIFY)
    assert diagnosis["detail"] == f"the Authorization scheme is 'Bearer', not 'hmac'; {EXPECTED_GRAMMAR}"


async def test_missing_parameter_is_malformed(emulator):
    body = card_body()
    parts = _good_parts(body)
    del parts["signature"]
    headers = {**kong_sign(body), "Authorization": _authorization(**parts)}
    diagnosis = refused(await send(emulator, headers, body), "malformed_authorization", CANNOT_VERIFY)
    assert diagnosis["detail"] == f"the Authorization header lacks signature=; {EXPECTED_GRAMMAR}"


async def test_unquoted_values_are_malformed(emulator):
    body = card_body()
    parts = _good_parts(body)
    parts["username"] = "test"
    parts["algorithm"] = "hmac-sha512"
    headers = {**kong_sign(body), "Authorization": _authorization(**parts)}
    diagnosis = refused(await send(emulator, headers, body), "malformed_authorization", CANNOT_VERIFY)
    assert diagnosis["detail"] == f"the value of username, algorithm must be in double quotes; {EXPECTED_GRAMMAR}"


async def test_wrong_parameter_order_is_malformed(emulator):
    body = card_body()
    parts = _good_parts(body)
    reordered = {name: parts[name] for name in ("algorithm", "username", "headers", "signature")}
    headers = {**kong_sign(body), "Authorization": _authorization(**reordered)}
    diagnosis = refused(await send(emulator, headers, body), "malformed_authorization", CANNOT_VERIFY)
    assert diagnosis["detail"] == ("the parameters are in the order algorithm, username, headers, signature; "
                                   "Kong only accepts username, algorithm, headers, signature, separated by commas")


async def test_uppercase_scheme_is_malformed_and_said_so(emulator):
    """Kong's pattern is [Hh]mac: 'HMAC' does not match, and the diagnosis must say the scheme is the problem."""
    body = card_body()
    headers = kong_sign(body)
    headers["Authorization"] = "HMAC" + headers["Authorization"][len("hmac"):]
    diagnosis = refused(await send(emulator, headers, body), "malformed_authorization", CANNOT_VERIFY)
    assert diagnosis["detail"] == ("the Authorization scheme is written 'HMAC'; Kong only accepts 'hmac' or 'Hmac'; "
                                   f"{EXPECTED_GRAMMAR}")


async def test_capitalised_scheme_is_accepted(emulator):
    body = card_body()
    headers = kong_sign(body)
    headers["Authorization"] = "Hmac" + headers["Authorization"][len("hmac"):]
    accepted(await send(emulator, headers, body))


async def test_unknown_username(emulator):
    body = card_body()
    diagnosis = refused(await send(emulator, kong_sign(body, username="nobody"), body),
                        "unknown_username", CANNOT_VERIFY)
    assert diagnosis["detail"] == "no credential has the username 'nobody'"
    assert diagnosis["username"] == "nobody"


# --- policy: algorithms and required headers ---------------------------------------------------------------


async def test_hmac_md5_is_not_allowed(emulator):
    body = card_body()
    diagnosis = refused(await send(emulator, kong_sign(body, algorithm="hmac-md5"), body),
                        "algorithm_not_allowed", CANNOT_VERIFY)
    assert diagnosis["detail"] == "algorithm 'hmac-md5' is not accepted; use one of: hmac-sha512"
    assert diagnosis["allowed_algorithms"] == ["hmac-sha512"]


async def test_hmac_sha256_is_refused_by_default_as_ingos_legacy_algorithm(emulator):
    """Ingo: HMAC-SHA256 is accepted for legacy integrations only; new ones sign with HMAC-SHA512."""
    body = card_body()
    diagnosis = refused(await send(emulator, kong_sign(body, algorithm="hmac-sha256"), body),
                        "algorithm_not_allowed", CANNOT_VERIFY)
    assert "legacy" in diagnosis["detail"] and "--algorithms hmac-sha512,hmac-sha256" in diagnosis["detail"]
    assert diagnosis["allowed_algorithms"] == ["hmac-sha512"]
    accepted(await send(emulator, kong_sign(body), body))


async def test_content_sha512_not_signed_on_a_post_with_a_body(emulator):
    body = card_body()
    order = ("request-line", "x-date", "content-type", "content-length")
    diagnosis = refused(await send(emulator, kong_sign(body, order=order), body),
                        "required_header_not_signed", CANNOT_VERIFY)
    assert diagnosis["detail"] == ("'content-sha512' must be listed in headers=\"...\" (the request has a body); "
                                   "the request signed: request-line x-date content-type content-length")
    assert diagnosis["required_headers"] == ["request-line", "x-date", "content-type", "content-length",
                                             "content-sha512"]


async def test_request_line_not_signed(emulator):
    body = card_body()
    order = ("x-date", "content-type", "content-sha512", "content-length")
    diagnosis = refused(await send(emulator, kong_sign(body, order=order), body),
                        "required_header_not_signed", CANNOT_VERIFY)
    assert diagnosis["detail"].startswith("'request-line' must be listed in headers=")


# --- the date -------------------------------------------------------------------------------------------------


def _utc(*fields: int) -> int:
    return calendar.timegm((*fields, 0, 0, 0))


@pytest.mark.parametrize("value, expected", [
    ("Fri, 17 Jan 2020 19:59:29 GMT", _utc(2020, 1, 17, 19, 59, 29)),
    ("Friday, 17-Jan-20 19:59:29 GMT", _utc(2020, 1, 17, 19, 59, 29)),
    ("Fri Jan 17 19:59:29 2020", _utc(2020, 1, 17, 19, 59, 29)),
    ("Fri Jan  7 19:59:29 2020", _utc(2020, 1, 7, 19, 59, 29)),
    ("Sun, 06 Nov 1994 08:49:37", _utc(1994, 11, 6, 8, 49, 37)),  # no zone: GMT
    ("Sun, 06 Nov 1994 08:49:37 +0200", _utc(1994, 11, 6, 8, 49, 37)),  # a zone is not read
    ("Xyz, 06 Nov 1994 08:49:37 GMT", _utc(1994, 11, 6, 8, 49, 37)),  # nor the weekday
    ("Sun, 06 Jxn 1994 08:49:37 GMT", _utc(1994, 6, 6, 8, 49, 37)),  # J, not a, third letter n: June
    ("Sun, 00 Nov 1994 08:49:37 GMT", _utc(1994, 10, 31, 8, 49, 37)),  # day 00 passes: the day before the 1st
    ("Sunday, 06-Nov-69 08:49:37 GMT", _utc(2069, 11, 6, 8, 49, 37)),  # two-digit years below 70 are 20xx
    ("Tue, 29 Feb 2028 00:00:00 GMT", _utc(2028, 2, 29, 0, 0, 0)),
    ("Sun, 6 Nov 1994 08:49:37 GMT", None),  # RFC 1123 needs a two-digit day
    ("06 Nov 1994 08:49:37 GMT", None),  # no weekday
    ("Sun, 06 Nov 94 08:49:37 GMT", None),  # RFC 1123 needs a four-digit year
    ("Sun, 06 nov 1994 08:49:37 GMT", None),  # months are capitalised
    ("Sun, 31 Nov 1994 08:49:37 GMT", None),
    ("Wed, 29 Feb 2027 00:00:00 GMT", None),
    ("Sun, 06 Nov 1994 24:00:00 GMT", None),
    ("Wed, 31 Dec 1969 23:59:59 GMT", None),  # -1, nginx's error value: Kong gets nil
    ("1994-11-06T08:49:37Z", None),
    ("", None),
])
def test_dates_are_read_as_nginx_reads_them(value, expected):
    """Expected values from nginx's ngx_parse_http_time (src/core/ngx_parse_time.c), computed with calendar."""
    if expected is None:
        with pytest.raises(UnreadableDate):
            parse_http_time(value)
    else:
        assert parse_http_time(value).seconds == expected


async def test_date_missing(emulator):
    body = card_body()
    diagnosis = refused(await send(emulator, kong_sign(body, values={"x-date": None}), body),
                        "date_missing", DATE_REQUIRED)
    assert diagnosis["detail"] == ("neither X-Date nor Date is present; send X-Date: Mon, 16 Nov 2026 15:00:00 GMT "
                                   "(RFC 1123, GMT)")
    assert diagnosis["server_time"] == DATE


async def test_date_unparseable_iso_8601(emulator):
    body = card_body()
    headers = kong_sign(body, values={"x-date": "2026-11-16T15:00:00Z"})
    diagnosis = refused(await send(emulator, headers, body), "date_unparseable", DATE_REQUIRED)
    assert diagnosis["detail"] == (
        "X-Date '2026-11-16T15:00:00Z' is not a date the gateway reads (no weekday followed by ',' (RFC 1123, "
        "RFC 850) or by a space (asctime)); expected RFC 1123 in GMT such as 'Fri, 17 Jan 2020 19:59:29 GMT'")
    assert diagnosis["expected_format"] == "RFC 1123 in GMT, such as Fri, 17 Jan 2020 19:59:29 GMT"
    assert diagnosis["server_time"] == DATE


@pytest.mark.parametrize("x_date", ["Mon, 16 Nov 2026 14:55:00 GMT", "Mon, 16 Nov 2026 15:05:00 GMT"],
                         ids=["300s-behind", "300s-ahead"])
async def test_skew_of_exactly_300_seconds_is_accepted(emulator, x_date):
    body = card_body()
    accepted(await send(emulator, kong_sign(body, values={"x-date": x_date}), body))


@pytest.mark.parametrize("x_date, offset, words", [
    ("Mon, 16 Nov 2026 14:54:59 GMT", -301, "301 s behind"),
    ("Mon, 16 Nov 2026 15:05:01 GMT", 301, "301 s ahead of"),
], ids=["301s-behind", "301s-ahead"])
async def test_skew_of_301_seconds_is_refused(emulator, x_date, offset, words):
    body = card_body()
    diagnosis = refused(await send(emulator, kong_sign(body, values={"x-date": x_date}), body),
                        "date_out_of_window", DATE_REQUIRED)
    assert diagnosis["offset_seconds"] == offset
    assert diagnosis["server_time"] == "Mon, 16 Nov 2026 15:00:00 GMT"
    assert diagnosis["allowed_skew_seconds"] == 300
    assert diagnosis["detail"] == (f"X-Date '{x_date}' is {words} the server's clock (Mon, 16 Nov 2026 15:00:00 GMT); "
                                   "at most 300 s either way is allowed")


async def test_a_smaller_clock_skew_setting_narrows_the_window(make_emulator):
    emulator = await make_emulator(clock_skew=60)
    body = card_body()
    accepted(await send(emulator, kong_sign(body, values={"x-date": "Mon, 16 Nov 2026 15:01:00 GMT"}), body))
    diagnosis = refused(await send(emulator, kong_sign(body, values={"x-date": "Mon, 16 Nov 2026 15:01:01 GMT"}),
                                   body), "date_out_of_window", DATE_REQUIRED)
    assert diagnosis["offset_seconds"] == 61


# --- the body -----------------------------------------------------------------------------------------------


async def test_body_digest_in_hex(emulator):
    body = card_body()
    hex_digest = hashlib.sha512(body).hexdigest()
    diagnosis = refused(await send(emulator, kong_sign(body, values={"content-sha512": hex_digest}), body),
                        "body_digest_mismatch", DOES_NOT_MATCH)
    assert diagnosis["detail"] == ("Content-sha512 is the hex digest of the body; send Base64 of the raw digest "
                                   "bytes instead")
    assert diagnosis["expected_content_sha512"] == b64(hashlib.sha512(body).digest())


async def test_body_digest_of_the_pretty_printed_json_when_compact_json_is_sent(emulator):
    body = card_body()
    pretty = json.dumps(json.loads(body), indent=2).encode()
    headers = kong_sign(body, values={"content-sha512": b64(hashlib.sha512(pretty).digest())})
    diagnosis = refused(await send(emulator, headers, body), "body_digest_mismatch", DOES_NOT_MATCH)
    assert diagnosis["detail"] == ("the body you sent is not the body you signed: Content-sha512 is a SHA-512 digest "
                                   "of another body; digest the exact bytes sent (serialise the JSON once and send "
                                   "those bytes)")
    assert diagnosis["body_length"] == len(body)


async def test_body_digest_of_json_dumps_default_separators_is_named(emulator):
    body = card_body()
    spaced = json.dumps(json.loads(body)).encode()
    headers = kong_sign(body, values={"content-sha512": b64(hashlib.sha512(spaced).digest())})
    diagnosis = refused(await send(emulator, headers, body), "body_digest_mismatch", DOES_NOT_MATCH)
    assert diagnosis["detail"] == ("the body you sent is not the body you signed: Content-sha512 is the digest of "
                                   "the same JSON serialised with spaces after , and :; digest the exact bytes sent "
                                   "(serialise the JSON once and send those bytes)")


async def test_body_digest_sha256_sized(emulator):
    body = card_body()
    headers = kong_sign(body, values={"content-sha512": b64(hashlib.sha256(body).digest())})
    diagnosis = refused(await send(emulator, headers, body), "body_digest_mismatch", DOES_NOT_MATCH)
    assert diagnosis["detail"] == "Content-sha512 is a SHA-256 digest of the body; use SHA-512"


async def test_body_digest_signed_but_not_sent(emulator):
    body = card_body()
    diagnosis = refused(await send(emulator, kong_sign(body, values={"content-sha512": None}), body),
                        "body_digest_missing", DOES_NOT_MATCH)
    assert diagnosis["detail"] == (f"the request has a {len(body)}-byte body but no Content-sha512 header; send "
                                   "Base64 of the raw SHA-512 of the body")


def _signed_request(body: bytes, content_length: str) -> SignedRequest:
    headers = {"content-length": content_length, "content-sha512": b64(hashlib.sha512(body).digest())}
    return SignedRequest("POST", VERIFY, headers, body)


def test_content_length_mismatch_checked_as_a_pure_function():
    """Over HTTP aiohttp frames the body by Content-Length (or answers 400 itself when Content-Length and
    Transfer-Encoding are both sent), so the handler never sees a mismatch; check_body is tested directly."""
    with pytest.raises(AuthenticationFailed) as failure:
        check_body(_signed_request(SMALL_BODY, "40"))
    assert failure.value.diagnosis.code == "content_length_mismatch"
    assert failure.value.message == DOES_NOT_MATCH
    assert failure.value.diagnosis.detail == "Content-Length says '40' but the body is 44 bytes"
    assert failure.value.diagnosis.facts == {"body_length": 44}
    check_body(_signed_request(SMALL_BODY, "44"))  # no exception
    check_body(_signed_request(SMALL_BODY, " 44 "))


# --- the signature ------------------------------------------------------------------------------------------


async def test_signature_base64_of_hex_digest(emulator):
    body = card_body()
    headers = kong_sign(body, encode=lambda mac: b64(mac.hex().encode()))
    diagnosis = refused(await send(emulator, headers, body), "signature_base64_of_hex", DOES_NOT_MATCH)
    assert diagnosis["detail"] == ("signature is Base64 of a hex digest (the hex digest itself is right); "
                                   "Base64-encode the raw HMAC bytes, not their hex")


async def test_signature_hex_string(emulator):
    body = card_body()
    diagnosis = refused(await send(emulator, kong_sign(body, encode=lambda mac: mac.hex()), body),
                        "signature_hex", DOES_NOT_MATCH)
    assert diagnosis["detail"] == "signature is a hex digest; send Base64 of the raw HMAC bytes instead"


async def test_signature_not_base64(emulator):
    body = card_body()
    diagnosis = refused(await send(emulator, kong_sign(body, encode=lambda mac: "not base64!"), body),
                        "signature_not_base64", DOES_NOT_MATCH)
    assert diagnosis["detail"] == "signature is not valid Base64"


async def test_signature_with_the_wrong_secret(emulator):
    headers = kong_sign(SMALL_BODY, secret="not-the-secret")
    diagnosis = refused(await send(emulator, headers, SMALL_BODY), "signature_mismatch", DOES_NOT_MATCH)
    assert diagnosis["signing_string"] == SMALL_SIGNING_STRING
    assert diagnosis["detail"] == ("the signature does not match the signing string the server built; check the "
                                   "secret and that no signed header changed after signing")
    assert diagnosis["algorithm"] == "hmac-sha512"
    assert diagnosis["signed_headers"] == list(AUTH_PAGE_ORDER)
    assert SECRET not in json.dumps(diagnosis) and "not-the-secret" not in json.dumps(diagnosis)


async def test_request_line_signed_without_the_query_string(emulator):
    headers = kong_sign(SMALL_BODY, target=VERIFY)
    diagnosis = refused(await send(emulator, headers, SMALL_BODY, path="/gateway/verify?foo=bar"),
                        "signature_mismatch", DOES_NOT_MATCH)
    assert diagnosis["detail"] == ("the signature does not match the signing string the server built: the client "
                                   "signed the request line without its query string; sign the full path with ?query")
    assert diagnosis["signing_string"] == SMALL_SIGNING_STRING.replace(
        "POST /gateway/verify HTTP/1.1", "POST /gateway/verify?foo=bar HTTP/1.1")


async def test_signature_of_another_users_secret_under_this_username(emulator):
    body = card_body()
    diagnosis = refused(await send(emulator, kong_sign(body, username="test", secret=OTHER_SECRET), body),
                        "signature_mismatch", DOES_NOT_MATCH)
    assert OTHER_SECRET not in json.dumps(diagnosis)


# --- --no-diagnosis, WWW-Authenticate -----------------------------------------------------------------------


def _failing_requests(body: bytes) -> list[tuple[str, dict[str, str], str]]:
    """(code, headers, Kong message) for one request per reachable 401 cause."""
    no_auth = kong_sign(body)
    del no_auth["Authorization"]
    signed = kong_sign(body)
    twice = CIMultiDict([*signed.items(), ("Authorization", kong_sign(body, secret="wrong")["Authorization"])])
    return [
        ("missing_authorization", no_auth, UNAUTHORIZED),
        ("duplicate_header", twice, CANNOT_VERIFY),  # type: ignore[list-item]
        ("date_missing", kong_sign(body, values={"x-date": None}), DATE_REQUIRED),
        ("date_unparseable", kong_sign(body, values={"x-date": "2026-11-16T15:00:00Z"}), DATE_REQUIRED),
        ("date_out_of_window", kong_sign(body, values={"x-date": "Mon, 16 Nov 2026 14:54:59 GMT"}), DATE_REQUIRED),
        ("malformed_authorization", {**kong_sign(body), "Authorization": "Bearer x"}, CANNOT_VERIFY),
        ("required_header_not_signed", kong_sign(body, order=AUTH_PAGE_ORDER[:-1]), CANNOT_VERIFY),
        ("algorithm_not_allowed", kong_sign(body, algorithm="hmac-md5"), CANNOT_VERIFY),
        ("unknown_username", kong_sign(body, username="nobody"), CANNOT_VERIFY),
        ("signature_not_base64", kong_sign(body, encode=lambda mac: "%%%"), DOES_NOT_MATCH),
        ("signature_base64_of_hex", kong_sign(body, encode=lambda mac: b64(mac.hex().encode())), DOES_NOT_MATCH),
        ("signature_hex", kong_sign(body, encode=lambda mac: mac.hex()), DOES_NOT_MATCH),
        ("signature_mismatch", kong_sign(body, secret="wrong"), DOES_NOT_MATCH),
        ("body_digest_missing", kong_sign(body, values={"content-sha512": None}), DOES_NOT_MATCH),
        ("body_digest_mismatch", kong_sign(body, values={"content-sha512": hashlib.sha512(body).hexdigest()}),
         DOES_NOT_MATCH),
    ]


async def test_every_reachable_cause_is_refused_with_its_code_and_message(emulator):
    body = card_body()
    cases = _failing_requests(body)
    for code, headers, message in cases:
        refused(await send(emulator, headers, body), code, message)
    # every code but content_length_mismatch (unreachable over HTTP, see above) is covered
    assert {code for code, _, _ in cases} == set(CODES) - {"content_length_mismatch"}


async def test_no_diagnosis_gives_kong_bare_bodies(make_emulator):
    emulator = await make_emulator(diagnosis=False)
    body = card_body()
    for code, headers, message in _failing_requests(body):
        status, document, response_headers = await send(emulator, headers, body)
        assert status == 401, code
        assert response_headers["WWW-Authenticate"] == "hmac", code
        assert set(document) == {"message", "request_id"}, code
        assert document["message"] == message, code
        assert len(document["request_id"]) == 32
    accepted(await send(emulator, kong_sign(body), body))


async def test_a_repeated_authorization_or_x_date_is_named_not_joined(emulator):
    """aiohttp joins repeated headers with ", "; the diagnosis names the repeated header instead of guessing."""
    body = card_body()
    signed = kong_sign(body)
    for name, other in (("Authorization", kong_sign(body, secret="wrong")["Authorization"]),
                        ("X-Date", "Mon, 16 Nov 2026 15:00:01 GMT")):
        headers = CIMultiDict([*signed.items(), (name, other)])
        diagnosis = refused(await send(emulator, headers, body), "duplicate_header", CANNOT_VERIFY)
        assert (diagnosis["header"], diagnosis["count"]) == (name, 2), diagnosis
        assert f"2 {name} headers" in diagnosis["detail"]
    accepted(await send(emulator, signed, body))


async def test_no_diagnosis_still_journals_the_cause(make_emulator):
    emulator = await make_emulator(diagnosis=False)
    body = card_body()
    await send(emulator, kong_sign(body, secret="wrong"), body)
    journal = await (await emulator.client.get("/_emulator/requests")).json()
    assert journal["requests"][0]["http_status"] == 401
    assert journal["requests"][0]["diagnosis"]["code"] == "signature_mismatch"


# --- the secret stays secret ----------------------------------------------------------------------------


@pytest.fixture
def access_log(caplog, monkeypatch):
    """Capture the access log even if logs.configure() stopped propagation earlier in the session."""
    logger = logging.getLogger("ingopay_emulator.access")
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.INFO, logger="ingopay_emulator.access")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


async def test_secret_never_in_401_bodies_logs_or_journal(emulator, access_log):
    body = card_body()
    cases = [(headers, body, VERIFY) for _, headers, _ in _failing_requests(body)]
    cases.append((kong_sign(SMALL_BODY, target=VERIFY), SMALL_BODY, "/gateway/verify?foo=bar"))
    bodies = []
    signatures = []
    for headers, sent, path in cases:
        status, document, _ = await send(emulator, headers, sent, path=path)
        assert status == 401
        bodies.append(json.dumps(document))
        if "signature=" in headers.get("Authorization", ""):
            signatures.append(headers["Authorization"].split('signature="')[1].rstrip('"'))
    # the handler may see a record twice (propagated and attached directly): count each once
    records = list({id(r): r for r in access_log.records if r.name == "ingopay_emulator.access"}.values())
    assert len(records) == len(cases)
    lines = [r.getMessage() + " " + json.dumps(getattr(r, "fields", {}), default=str) for r in records]
    assert all("POST /gateway/verify 401" in line for line in lines)
    assert "diagnosis=signature_mismatch" in lines[-1]
    journal = await (await emulator.client.get("/_emulator/requests")).text()
    assert json.loads(journal)["count"] == len(cases)
    assert "the client signed the request line without its query string" in journal
    for text in [*bodies, *lines, journal]:
        assert SECRET not in text
        assert 'username="test"' not in text  # no Authorization header value is echoed
        for signature in signatures:
            if len(signature) > 8:
                assert signature not in text


# --- rate limiting ----------------------------------------------------------------------------------------


class FakeMonotonic:
    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def limited(make_emulator):
    emulator = await make_emulator(rate_limit=5)
    fake = FakeMonotonic()
    emulator.runtime.rate_limiter = RateLimiter(5, now=fake)
    return emulator, fake


def _rate_headers(headers) -> dict[str, str]:
    names = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "X-RateLimit-Limit-Second",
             "X-RateLimit-Remaining-Second", "Retry-After")
    return {name: headers[name] for name in names if name in headers}


async def _signed(emulator: Signed, username: str = "test"):
    credential = CREDENTIALS[username]
    body = card_body(participant_id=credential.participant_id)
    return await send(emulator, kong_sign(body, username=username, secret=credential.secret), body)


async def test_sixth_request_within_a_second_gets_429_then_recovers(limited):
    emulator, fake = limited
    for step, remaining in enumerate(["4", "3", "2", "1", "0"]):
        fake.now = 100.0 + step * 0.125
        status, document, headers = await _signed(emulator)
        assert status == 200 and document["status"] == 100
        assert _rate_headers(headers) == {"RateLimit-Limit": "5", "RateLimit-Remaining": remaining,
                                          "RateLimit-Reset": "1", "X-RateLimit-Limit-Second": "5",
                                          "X-RateLimit-Remaining-Second": remaining}
    fake.now = 100.625
    status, document, headers = await _signed(emulator)
    assert status == 429
    assert document["message"] == "API rate limit exceeded"  # Kong's, beside the emulator's diagnosis
    assert _rate_headers(headers) == {"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": "1",
                                      "X-RateLimit-Limit-Second": "5", "X-RateLimit-Remaining-Second": "0",
                                      "Retry-After": "1"}
    fake.now = 100.999
    assert (await _signed(emulator))[0] == 429
    fake.now = 101.0  # the first request (at 100.0) has left the one-second window
    status, _, headers = await _signed(emulator)
    assert status == 200 and headers["RateLimit-Remaining"] == "0"
    fake.now = 101.5  # 100.125 .. 100.5 have left; 101.0 and this one remain
    status, _, headers = await _signed(emulator)
    assert status == 200 and headers["RateLimit-Remaining"] == "3"


async def test_refused_requests_do_not_reach_the_endpoint(limited):
    emulator, fake = limited
    for _ in range(5):
        assert (await _signed(emulator))[0] == 200
    assert (await _signed(emulator))[0] == 429
    journal = (await (await emulator.client.get("/_emulator/requests")).json())["requests"]
    assert [entry["http_status"] for entry in journal] == [429, 200, 200, 200, 200, 200]
    assert journal[0]["ingo_status"] is None


async def test_unauthenticated_requests_never_use_the_quota(limited):
    emulator, fake = limited
    body = card_body()
    for _ in range(10):
        status, _, headers = await send(emulator, kong_sign(body, secret="wrong"), body)
        assert status == 401
        assert "RateLimit-Remaining" not in headers
    for remaining in ["4", "3", "2", "1", "0"]:
        status, _, headers = await _signed(emulator)
        assert status == 200 and headers["RateLimit-Remaining"] == remaining


async def test_two_credentials_have_separate_budgets(limited):
    emulator, fake = limited
    for _ in range(5):
        assert (await _signed(emulator, "test"))[0] == 200
    assert (await _signed(emulator, "test"))[0] == 429
    status, document, headers = await _signed(emulator, "other")
    assert status == 200 and document["status"] == 100, document
    assert headers["RateLimit-Remaining"] == "4"
    assert (await _signed(emulator, "test"))[0] == 429


async def test_rate_limit_zero_turns_it_off(make_emulator):
    emulator = await make_emulator(rate_limit=0)
    for _ in range(8):
        status, _, headers = await _signed(emulator)
        assert status == 200
        assert "RateLimit-Remaining" not in headers


async def test_rate_limit_uses_real_time_not_the_emulator_clock(limited):
    emulator, fake = limited
    for _ in range(5):
        assert (await _signed(emulator))[0] == 200
    emulator.clock.advance(3600)  # moving the emulator clock must not free the client
    body = card_body()  # signed, as a real client signs, at its own time: the emulator clock is not its time
    headers = kong_sign(body)
    assert (await send(emulator, headers, body))[0] == 429
