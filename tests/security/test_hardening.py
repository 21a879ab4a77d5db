"""Hardening: no input breaks the emulator. Generated Authorization headers, dates, signed-header orders and
JSON bodies never get a 5xx or a hang and always get JSON that names the problem; raw-socket garbage, cut-off
requests, lying Content-Lengths, chunked and non-UTF-8 bodies, bodies over the limit, deep and huge JSON are
refused cleanly; after each, the health endpoint answers and what was accepted before is still there.

One server per module (served from a thread) answers every Hypothesis example; requests are signed by the
byte-level signer in tests/support/hardening.py, not by the project's own signer.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.auth.diagnosis import CODES
from tests.support.app import NOW
from tests.support.bodies import ACH, CARD, v11
from tests.support.hardening import (
    DEFAULT_ORDER,
    IO_TIMEOUT,
    SIGNED_PATHS,
    ThreadedEmulator,
    assert_names_the_problem,
    digest,
    exchange,
    health,
    http_date,
    read_response,
    request_bytes,
    signature_for,
    signed_headers,
)

FUZZ = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                     HealthCheck.function_scoped_fixture])
VERIFY = "/gateway/verify"
VERIFY_BODY = json.dumps(v11(**CARD), separators=(",", ":")).encode()
KONG_DATE_CODES = {"date_missing", "date_unparseable", "date_out_of_window"}
SMALL_LIMIT = 4096  # --max-body-size of the server that checks the limit
RAISED_LIMIT = 8 * 1024 * 1024  # --max-body-size of the server that takes a few MB of JSON


# -- servers and a blocking keep-alive client ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedEmulator]:
    emulator = ThreadedEmulator()
    yield emulator
    emulator.close()


@pytest.fixture(scope="module")
def small_server() -> Iterator[ThreadedEmulator]:
    emulator = ThreadedEmulator(max_body_size=SMALL_LIMIT)
    yield emulator
    emulator.close()


@pytest.fixture(scope="module")
def big_server() -> Iterator[ThreadedEmulator]:
    emulator = ThreadedEmulator(max_body_size=RAISED_LIMIT)
    yield emulator
    emulator.close()


class Client:
    """One keep-alive connection, reopened when the server closes it; every read has a timeout."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=IO_TIMEOUT)
            self.buffer = b""
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _read_until(self, marker: bytes) -> bytes:
        assert self.sock is not None, "read before a request was sent"
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("the server closed the connection without a full response")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _read_exactly(self, size: int) -> bytes:
        assert self.sock is not None, "read before a request was sent"
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("the server closed the connection in the middle of a response")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def send(self, raw: bytes) -> tuple[int, str, bytes]:
        """Send one request (without Connection: close); return status, content type, body."""
        for attempt in (1, 2):
            sock = self._connect()
            try:
                sock.sendall(raw)
                head = self._read_until(b"\r\n\r\n")
                break
            except (ConnectionResetError, BrokenPipeError):
                self.close()  # a keep-alive connection the server had already closed: once more on a new one
                if attempt == 2:
                    raise
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self._read_exactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(status_line.split(" ", 2)[1]), headers.get("content-type", ""), body

    def health(self) -> None:
        status, _, body = self.send(b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status == 200 and json.loads(body)["status"] == "ok", (status, body)


@pytest.fixture(scope="module")
def client(server: ThreadedEmulator) -> Iterator[Client]:
    connection = Client(server.port)
    yield connection
    connection.close()


def post(client: Client, path: str, headers: list[tuple[str, bytes]] | dict[str, bytes], body: bytes
         ) -> tuple[int, str, bytes]:
    return client.send(request_bytes("POST", path, headers, body, close=False))


def titled(headers: dict[str, bytes]) -> list[tuple[str, bytes]]:
    names = {"x-date": "X-Date", "content-type": "Content-Type", "content-sha512": "Content-sha512",
             "content-length": "Content-Length", "authorization": "Authorization", "date": "Date"}
    return [(names.get(k, k), v) for k, v in headers.items()]


# -- strategies ------------------------------------------------------------------------------------------------

#: Bytes an HTTP field value may hold (VCHAR, SP, HTAB, obs-text): anything else is refused by the HTTP parser
#: itself, before the application (the raw-socket tests below cover those).
FIELD_BYTES = bytes([9, *range(0x20, 0x7F), *range(0x80, 0x100)])
field_bytes = st.binary(max_size=120).map(lambda raw: bytes(FIELD_BYTES[b % len(FIELD_BYTES)] for b in raw))
field_text = st.text(st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\x7f"),
                     max_size=80).map(
    lambda text: text.encode("utf-8"))
field_value = st.one_of(field_text, field_bytes).map(lambda v: v.strip(b" \t"))

GRAMMAR_TOKENS = ["hmac", "Hmac", "HMAC", "Bearer", "Basic", "username", "algorithm", "headers", "signature", "=",
                  '"', "'", ",", ", ", " ", ";", "test", "other", "nobody", "hmac-sha512", "hmac-sha256",
                  "hmac-sha1", "hmac-md5", "request-line", "x-date", "date", "content-type", "content-sha512",
                  "content-length", "@request-target", "=="]
VALID_SIGNATURE = signature_for(DEFAULT_ORDER, "POST", VERIFY, signed_headers(VERIFY, VERIFY_BODY))


@st.composite
def near_valid_authorization(draw: st.DrawFn) -> bytes:
    """Kong's grammar with its parts chosen, reordered, dropped, repeated, re-quoted and then cut about."""
    username = draw(st.sampled_from([b"test", b"other", b"nobody", b"", b"TEST"]) | field_bytes)
    algorithm = draw(st.sampled_from([b"hmac-sha512", b"hmac-sha256", b"hmac-sha1", b"hmac-md5", b"HMAC-SHA512",
                                      b""]) | field_bytes)
    names = draw(st.lists(st.sampled_from(["request-line", "x-date", "date", "content-type", "content-sha512",
                                           "content-length", "@request-target", "host", ""]), max_size=7)
                 | st.just(list(DEFAULT_ORDER)))
    signature = draw(st.sampled_from([VALID_SIGNATURE, VALID_SIGNATURE.hex().encode(), b"", b"====",
                                      VALID_SIGNATURE[:-4]]) | st.binary(max_size=64).map(
        lambda raw: __import__("base64").b64encode(raw)) | field_bytes)
    params = [(b"username", username), (b"algorithm", algorithm), (b"headers", " ".join(names).encode()),
              (b"signature", signature)]
    if draw(st.booleans()):
        params = draw(st.permutations(params))
    if draw(st.integers(0, 4)) == 0:
        params = [p for i, p in enumerate(params) if i != draw(st.integers(0, len(params) - 1))]
    if draw(st.integers(0, 4)) == 0:
        params.append(draw(st.sampled_from(params)) if params else (b"username", b"test"))
    quote = draw(st.sampled_from([b'"', b'"', b"'", b""]))
    equals = draw(st.sampled_from([b"=", b"=", b" = ", b":"]))
    separator = draw(st.sampled_from([b", ", b", ", b",", b" ", b";", b",  "]))
    scheme = draw(st.sampled_from([b"hmac ", b"hmac ", b"Hmac ", b"HMAC ", b"hmac", b"", b"Bearer ", b"hmac  "]))
    value = scheme + separator.join(name + equals + quote + v + quote for name, v in params)
    for _ in range(draw(st.integers(0, 3))):  # byte-level cuts and splices
        at = draw(st.integers(0, len(value)))
        kind = draw(st.sampled_from(["cut", "insert", "truncate"]))
        if kind == "cut":
            value = value[:at] + value[at + draw(st.integers(1, 12)):]
        elif kind == "insert":
            value = value[:at] + draw(st.sampled_from(GRAMMAR_TOKENS).map(str.encode) | field_bytes) + value[at:]
        else:
            value = value[:at]
    return value.strip(b" \t")


authorization_values = st.one_of(field_value, near_valid_authorization(), near_valid_authorization())

DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Monday", "Xyz", "", "mon"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Foo", "", "nov",
          "13"]
ZONES = ["GMT", "UTC", "UT", "Z", "+0000", "-0500", "+2400", "-9999", "EST", "PDT", "", "XYZ", "+00:00", "+"]


@st.composite
def near_valid_dates(draw: st.DrawFn) -> bytes:
    """RFC 1123 dates with each part drawn from valid and invalid choices, and real dates at any offset."""
    if draw(st.booleans()):
        offset = draw(st.sampled_from([0, 299, 300, 301, -300, -301, 86400, -86400])
                      | st.integers(-10**9, 10**9))
        text = http_date(NOW + offset)
        if draw(st.booleans()):
            return text.encode()
    day = draw(st.sampled_from(DAY_NAMES))
    number = draw(st.integers(-5, 99).map(str) | st.sampled_from(["16", "00", "1e3", "", "٣"]))
    month = draw(st.sampled_from(MONTHS))
    year = draw(st.sampled_from(["2026", "26", "0", "-1", "99999", "10000", "1969", "1970", "", "9" * 30])
                | st.integers(-10**6, 10**12).map(str))
    clock = draw(st.sampled_from(["15:00:00", "15:00", "25:61:61", "99:99:99", "1:2:3", "", "15-00-00", "::"])
                 | st.tuples(st.integers(-9, 99), st.integers(-9, 99), st.integers(-9, 99)).map(
                     lambda t: "{}:{}:{}".format(*t)))
    zone = draw(st.sampled_from(ZONES))
    comma = draw(st.sampled_from([",", ",", "", " ,"]))
    parts = [f"{day}{comma}", number, month, year, clock, zone]
    if draw(st.integers(0, 3)) == 0:
        parts = draw(st.permutations(parts))
    return " ".join(parts).strip().encode("utf-8")


date_values = st.one_of(near_valid_dates(), near_valid_dates(), field_value)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-10**30, 10**30),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
                         st.sampled_from(["12345", "", "4111111111111111", str(NOW), "CA", "AC", "USD", "1.00"]))
json_values = st.recursive(json_scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=12)

TOKEN = str(uuid.UUID(int=1, version=4))
SEEDS: dict[str, list[dict[str, Any]]] = {
    "/gateway/verify": [v11(**CARD), v11(**ACH)],
    "/gateway/process": [v11(account_type="CA", amount=1.0, customer_account_token=TOKEN, source_of_funds=4,
                             participant_unique_id1="p-1")],
    "/gateway/v12/debit/process": [{
        "request": {"participant_id": "12345", "timestamp": str(NOW)},
        "transaction": {"account_type": "AC", "transaction_amount": {"currency_code": "USD", "amount": "5.00"},
                        "participant_unique_ids": {"participant_unique_id1": "pull-1"},
                        "customer_account_token": TOKEN, "source_of_funds": 4}}],
    "/gateway/v1/biller/search": [{"participant_id": 12345, "account": "1234567890", "timestamp": NOW,
                                   "version": 11}],
    "/risk/risksession/v2": [{"request": {"participant_id": "12345", "timestamp": str(NOW)}}],
    "/risk/riskscore/v2": [{
        "request": {"participant_id": "12345", "timestamp": str(NOW)},
        "transaction": {"account_type": "AC", "transaction_amount": {"currency_code": "USD", "amount": "15.00"},
                        "customer_account_token": TOKEN, "customer_id": "c-2", "risk_session_token": TOKEN,
                        "dob": "01/02/2000"},
        "transaction_ifa": {"ssn": "6789", "device_id": "device-1"}}],
    "/api/v1/sessions/point-in-time/plugin": [{
        "participant_unique_id1": "session-1", "language_locale_code": "en-US",
        "recipient_information": {"first_name": "Jane", "last_name": "Doe", "address_line1": "1 Main St",
                                  "city": "Atlanta", "state": "GA", "zip_code": "30301",
                                  "email_address": "jane@example.com", "mobile_number": "5555550100"}}],
}


@st.composite
def mutated_seed(draw: st.DrawFn, path: str) -> Any:
    """A body the endpoint accepts, with fields replaced by any JSON, removed, or added (nested ones too)."""
    document = json.loads(json.dumps(draw(st.sampled_from(SEEDS[path]))))
    for _ in range(draw(st.integers(1, 4))):
        target = document
        while isinstance(target, dict) and target and draw(st.integers(0, 2)) == 0:
            child = target[draw(st.sampled_from(sorted(target)))]
            if not isinstance(child, dict):
                break
            target = child
        if not isinstance(target, dict):
            continue
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "add" or not target:
            target[draw(st.text(max_size=12))] = draw(json_values)
        elif action == "delete":
            del target[draw(st.sampled_from(sorted(target)))]
        else:
            target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
    return document


@st.composite
def json_like_garbage(draw: st.DrawFn) -> bytes:
    """Bytes that look like JSON but are not, or JSON that Python's parser takes and standard JSON does not."""
    valid = json.dumps(draw(json_values)).encode()
    kind = draw(st.sampled_from(["truncate", "splice", "constant", "digits", "overflow", "bom", "utf16", "binary",
                                 "latin1", "duplicate", "deep", "text"]))
    if kind == "truncate":
        return valid[:draw(st.integers(0, max(0, len(valid) - 1)))]
    if kind == "splice":
        at = draw(st.integers(0, len(valid)))
        return valid[:at] + draw(st.sampled_from([b"}", b"]", b",", b":", b'"', b"\\", b"\x00", b"\xff"])) + valid[at:]
    if kind == "constant":
        return b'{"participant_id": %s, "amount": %s}' % tuple(
            draw(st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1", b"nan", b"undefined"])) for _ in "ab")
    if kind == "digits":
        return b'{"participant_id": %s}' % (b"1" * draw(st.integers(4000, 20000)))
    if kind == "overflow":
        return b'{"participant_id": 12345, "amount": %s, "request": {"timestamp": 1e400}}' % draw(
            st.sampled_from([b"1e400", b"-1e999", b"1e308", b"0.1e-999", b"123456789e9999"]))
    if kind == "bom":
        return b"\xef\xbb\xbf" + valid
    if kind == "utf16":
        return valid.decode().encode("utf-16")
    if kind == "latin1":
        return b'{"recipient_first_name": "' + draw(st.binary(min_size=1, max_size=20)) + b'"}'
    if kind == "duplicate":
        return b'{"participant_id": 1, "participant_id": 12345, "participant_id": "x"}'
    if kind == "deep":
        depth = draw(st.integers(500, 5000))
        opener = draw(st.sampled_from([b"[", b'{"a":', b'{"request":']))
        return opener * depth
    if kind == "text":
        return draw(st.text(max_size=60)).encode("utf-8")
    return draw(st.binary(max_size=200))


def bodies_for(path: str) -> st.SearchStrategy[bytes]:
    documents = st.one_of(mutated_seed(path), mutated_seed(path), json_values,
                          st.dictionaries(st.text(max_size=12), json_values, max_size=6))
    return st.one_of(documents.map(lambda d: json.dumps(d, separators=(",", ":")).encode()),
                     documents.map(lambda d: json.dumps(d, ensure_ascii=False, indent=1).encode()),
                     json_like_garbage(), st.just(b""))


# -- properties ------------------------------------------------------------------------------------------------


@pytest.mark.slow
@settings(FUZZ, max_examples=1500)
@given(value=authorization_values, proxy=st.booleans())
def test_any_authorization_header_gets_a_401_that_says_why(server, client, value, proxy):
    headers = signed_headers(VERIFY, VERIFY_BODY)
    headers["authorization"] = value
    listed = titled(headers)
    if proxy:  # Kong reads Proxy-Authorization first
        listed = [("Proxy-Authorization", value) if name == "Authorization" else (name, v) for name, v in listed]
    status, content_type, body = post(client, VERIFY, listed, VERIFY_BODY)
    document = assert_names_the_problem(status, content_type, body, context=value)
    assert status in (200, 401), (status, document)
    if status == 200:  # the mutation left a valid header: then it must have been judged a success
        assert document["status"] in (100, 101), document
    else:
        assert document["diagnosis"]["code"] in CODES, document
    client.health()


@pytest.mark.slow
@settings(FUZZ, max_examples=1200)
@given(x_date=st.none() | date_values, date=st.none() | date_values, names=st.sampled_from(
    [DEFAULT_ORDER, ("request-line", "date", "content-type", "content-sha512", "content-length"),
     ("request-line", "x-date", "date", "content-type", "content-length", "content-sha512")]))
def test_any_date_is_accepted_or_refused_with_a_date_diagnosis(server, client, x_date, date, names):
    extra = {"x-date": x_date, "date": date}
    headers = signed_headers(VERIFY, VERIFY_BODY, names=names, extra=extra)
    status, content_type, body = post(client, VERIFY, titled(headers), VERIFY_BODY)
    document = assert_names_the_problem(status, content_type, body, context=(x_date, date))
    assert status in (200, 401), (status, document)
    if status == 401:
        code = document["diagnosis"]["code"]
        assert code in KONG_DATE_CODES, document
        if x_date is None and date is None:
            assert code == "date_missing", document
    client.health()


SIGNABLE = ["request-line", "x-date", "date", "content-type", "content-sha512", "content-length", "host",
            "@request-target", "x-absent", "accept", "Content-Type", "X-Date"]
REQUIRED = {"request-line", "content-type", "content-sha512", "content-length"}


@pytest.mark.slow
@settings(FUZZ, max_examples=1000)
@given(names=st.lists(st.sampled_from(SIGNABLE), max_size=9), send_date=st.booleans(), data=st.data(),
       header_case=st.sampled_from([str.lower, str.upper, str.title, lambda s: s]))
def test_any_signed_header_order_or_subset_is_judged_by_the_policy(server, client, names, send_date, data,
                                                                   header_case):
    extra = {"date": http_date(NOW).encode() if send_date else None, "host": b"127.0.0.1",
             "accept": b"*/*"}
    headers = signed_headers(VERIFY, VERIFY_BODY, names=names, extra=extra)
    authorization_value = headers.pop("authorization")
    order = data.draw(st.permutations([(header_case(name), value) for name, value in headers.items()]))
    position = data.draw(st.integers(0, len(order)))
    order.insert(position, ("Authorization", authorization_value))
    raw = b"\r\n".join([f"POST {VERIFY} HTTP/1.1".encode()] + [n.encode() + b": " + v for n, v in order])
    status, content_type, body = client.send(raw + b"\r\n\r\n" + VERIFY_BODY)
    document = assert_names_the_problem(status, content_type, body, context=(names, order))
    policy_met = REQUIRED <= set(names) and ({"x-date", "date"} & set(names))
    if policy_met:
        assert (status, document.get("status")) in ((200, 100), (200, 101)), document
    else:
        assert status == 401, document
        assert document["diagnosis"]["code"] in ("required_header_not_signed", "malformed_authorization"), document
    client.health()


@pytest.mark.slow
@settings(FUZZ, max_examples=1400)
@given(data=st.data(), path=st.sampled_from(SIGNED_PATHS))
def test_any_body_to_any_signed_endpoint_gets_json_that_names_the_problem(server, client, data, path):
    body = data.draw(bodies_for(path))
    headers = signed_headers(path, body)
    if path.startswith("/api/v1/sessions") and data.draw(st.booleans()):
        headers["idempotency-key"] = data.draw(field_value.filter(bool) | st.just(b"key-1"))
    status, content_type, answer = post(client, path, titled(headers), body)
    document = assert_names_the_problem(status, content_type, answer, context=body[:200])
    assert status != 401, f"a validly signed request was refused: {document}"
    client.health()


def test_no_property_left_a_server_error_in_the_journal(server):
    """Ordered after the properties: nothing they sent was journaled as a 5xx."""
    assert server.errors_in_journal() == []


# -- raw sockets -----------------------------------------------------------------------------------------------


def accepted_card(server: ThreadedEmulator) -> str:
    """Verify a card before the abuse: its token must still work afterwards (nothing accepted is lost)."""
    import urllib.request

    headers = signed_headers(VERIFY, VERIFY_BODY)
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{VERIFY}", data=VERIFY_BODY, method="POST",
                                     headers={k: v.decode() for k, v in titled(headers)})
    with urllib.request.urlopen(request, timeout=IO_TIMEOUT) as response:
        document = json.loads(response.read())
    assert document["status"] == 100, document
    return document["data"]["customer_account_token"]


async def still_accepts(port: int, token: str) -> None:
    """The token verified before still pays out, and health answers."""
    await health(port)
    body = json.dumps(v11(account_type="CA", amount=1.0, customer_account_token=token, source_of_funds=4,
                          participant_unique_id1=f"after-{uuid.uuid4()}")).encode()
    answer = await exchange(port, request_bytes("POST", "/gateway/process",
                                                titled(signed_headers("/gateway/process", body)), body))
    assert answer is not None
    status, _, raw = answer
    assert status == 200 and json.loads(raw)["status"] in (100, 102, 103), raw


GARBAGE = [
    b"\x00" * 64,
    bytes(range(256)),
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\xab" * 200,  # a TLS ClientHello on the plain port
    b"GET / HTTP/9.9\r\n\r\n",
    b"POST\r\n\r\n",
    b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
    b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"b" * 100_000 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(5000)) + b"\r\n",
    b"POST /gateway/verify HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST /gateway/verify HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST /gateway/verify HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"POST /gateway/verify HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    b"POST /gateway/verify HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n",
    b"GET /_emulator/health HTTP/1.1\r\nX-Bad: a\x00b\r\n\r\n",
    b"GET /_emulator/health HTTP/1.1\r\nX-Bad: a\x01\x7fb\r\n\r\n",
    b"GET /_emulator/health HTTP/1.1\r\nX Bad Name: v\r\n\r\n",
    b"\r\n\r\n\r\n\r\n",
    b"G\xffT / HTTP/1.1\r\n\r\n",
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
async def test_raw_garbage_gets_a_4xx_or_a_closed_connection_never_a_5xx(server, garbage):
    answer = await exchange(server.port, garbage, half_close=True)
    if answer is not None:
        assert 400 <= answer[0] < 500, answer
    await health(server.port)


@pytest.mark.slow
async def test_requests_cut_off_then_closed_leave_no_trace_of_an_error(server):
    token = accepted_card(server)
    start = server.last_entry()
    body = VERIFY_BODY
    full = request_bytes("POST", VERIFY, titled(signed_headers(VERIFY, body)), body)
    header_end = full.index(b"\r\n\r\n")
    cuts = [7, 30, header_end // 2, header_end + 2, header_end + 4 + len(body) // 2, len(full) - 1]
    for cut in cuts:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(full[:cut])
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        await writer.wait_closed()
    # the two cut in the body reached a handler, which records the client's going (499) once it has finished;
    # the others never made a request
    await server.journaled(VERIFY, 499, 2, since=start)
    assert server.errors_in_journal() == []
    await still_accepts(server.port, token)


@pytest.mark.slow
async def test_a_content_length_larger_than_the_body(server):
    token = accepted_card(server)
    start = server.last_entry()
    body = VERIFY_BODY
    declared = len(body) + 100
    lying = request_bytes("POST", VERIFY, titled(signed_headers(VERIFY, body, content_length=b"%d" % declared)),
                          body)
    # closed right after: nobody to answer, and no error recorded for it
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(lying)
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    # held open for a while: the server waits for the rest of the body and keeps serving everyone else
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(lying)
    await writer.drain()
    for _ in range(5):
        await asyncio.sleep(0.2)
        await health(server.port)
    # the rest arrives: the body is not the one whose digest was signed, and that is what the client is told
    writer.write(b"x" * 100)
    await writer.drain()
    status, headers, raw = await read_one(reader)
    writer.close()
    await writer.wait_closed()
    document = assert_names_the_problem(status, headers["content-type"], raw)
    assert status == 401 and document["diagnosis"]["code"] == "body_digest_mismatch", document
    # held open, then closed without the rest
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(lying)
    await writer.drain()
    await asyncio.sleep(0.5)
    writer.close()
    await writer.wait_closed()
    await server.journaled(VERIFY, 499, 2, since=start)  # both clients that went away without the rest, once handled
    assert server.errors_in_journal() == []
    await still_accepts(server.port, token)


async def read_one(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    answer = await read_response(reader)
    assert answer is not None, "the server closed the connection without answering"
    return answer


async def test_a_content_length_smaller_than_the_body(server):
    body = VERIFY_BODY
    short = len(body) - 10
    # signed for the whole body but framed shorter: the server reads the first `short` bytes only
    signed_whole = request_bytes("POST", VERIFY, titled(signed_headers(VERIFY, body, content_length=b"%d" % short)),
                                 body[:short], close=False)
    # signed for what the framing delivers: it authenticates, and the cut JSON is the problem named
    part = body[:short]
    signed_part = request_bytes("POST", VERIFY, titled(signed_headers(VERIFY, part)), part, close=False)
    for raw, code in ((signed_whole, "body_digest_mismatch"), (signed_part, "malformed_body")):
        # all in one write, as a lying client sends it: the bytes past Content-Length are a next request that is
        # not HTTP; aiohttp's parser refuses the packet with a 400 naming them (before the application sees it)
        answer = await exchange(server.port, raw + body[short:])
        if answer is not None:  # or the connection is closed
            assert 400 <= answer[0] < 500, answer
            if answer[1]["content-type"].startswith("application/json"):
                assert assert_names_the_problem(answer[0], answer[1]["content-type"], answer[2])
            else:
                assert b"Invalid method" in answer[2], answer
        # the extra bytes arriving after the answer: the first request is judged on what its framing delivered
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(raw)
        await writer.drain()
        status, headers, answer_body = await read_one(reader)
        document = assert_names_the_problem(status, headers["content-type"], answer_body)
        assert document["diagnosis"]["code"] == code, document
        if code == "malformed_body":
            assert status == 400 and "not valid JSON" in document["diagnosis"]["detail"], document
        writer.write(body[short:])
        writer.write_eof()
        try:
            leftover = await read_response(reader, timeout=5)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            leftover = None
        if leftover is not None:
            assert 400 <= leftover[0] < 500, leftover
        writer.close()
        await writer.wait_closed()
    await health(server.port)
    assert server.errors_in_journal() == []


async def test_a_chunked_body_is_read_whole_and_a_broken_one_refused(server):
    start = server.last_entry()
    body = json.dumps(v11(**ACH), separators=(",", ":")).encode()
    # no Content-Length with chunked framing: the signed content-length line is "content-length:" (Kong's rule)
    headers = signed_headers(VERIFY, body, content_length=None, extra={"content-length": None})
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7))
    raw = request_bytes("POST", VERIFY, titled(headers) + [("Transfer-Encoding", b"chunked")], chunks + b"0\r\n\r\n")
    answer = await exchange(server.port, raw)
    assert answer is not None
    document = assert_names_the_problem(answer[0], answer[1]["content-type"], answer[2])
    assert (answer[0], document["status"]) == (200, 100), document
    broken = request_bytes("POST", VERIFY, titled(headers) + [("Transfer-Encoding", b"chunked")],
                           b"5\r\n" + body[:5] + b"\r\nnot-hex\r\n" + body[5:] + b"\r\n0\r\n\r\n")
    answer = await exchange(server.port, broken)
    if answer is not None:
        assert 400 <= answer[0] < 500, answer
    # cut off in the middle of a chunk, then closed
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(raw[:-20])
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    await server.journaled(VERIFY, 499, 1, since=start)  # the client gone mid-chunk, once handled
    assert server.errors_in_journal() == []
    await health(server.port)


async def test_non_utf8_bytes_in_the_body_are_named(server):
    for body in (b'{"recipient_first_name": "\xff\xfe"}', b"\xff\xfe{}", "{}".encode("utf-16"),
                 b'{"a": "\xed\xa0\x80"}'):
        answer = await exchange(server.port, request_bytes("POST", VERIFY, titled(signed_headers(VERIFY, body)),
                                                           body))
        assert answer is not None
        document = assert_names_the_problem(answer[0], answer[1]["content-type"], answer[2])
        assert answer[0] == 400 and "UTF-8" in document["diagnosis"]["detail"], document
    await health(server.port)


NON_UTF8 = b"\xff\xfe\xc3("


@pytest.mark.parametrize("where", ["username", "algorithm", "signature", "content-type", "x-date",
                                   "content-sha512", "content-length", "extra-signed", "idempotency-key"])
async def test_non_utf8_bytes_in_headers_get_a_401_that_says_why(server, where):
    body = VERIFY_BODY
    path = VERIFY
    names: tuple[str, ...] = DEFAULT_ORDER
    extra: dict[str, bytes] = {}
    if where in ("content-type", "x-date", "content-sha512", "content-length"):
        extra[where] = NON_UTF8 if where != "content-type" else b"application/json; x=" + NON_UTF8
    if where == "extra-signed":
        names = DEFAULT_ORDER + ("x-extra",)
        extra["x-extra"] = NON_UTF8
    if where == "idempotency-key":
        path = "/api/v1/sessions/point-in-time/plugin"
        body = json.dumps(SEEDS[path][0]).encode()
        extra["idempotency-key"] = NON_UTF8
    headers = signed_headers(path, body, names=names, extra=extra)
    if where in ("username", "algorithm", "signature"):
        headers["authorization"] = headers["authorization"].replace(
            {"username": b'username="test"', "algorithm": b'algorithm="hmac-sha512"',
             "signature": b'signature="'}[where],
            {"username": b'username="t' + NON_UTF8 + b'"', "algorithm": b'algorithm="' + NON_UTF8 + b'"',
             "signature": b'signature="' + NON_UTF8}[where])
    answer = await exchange(server.port, request_bytes("POST", path, titled(headers), body))
    assert answer is not None
    if where == "content-length":  # framing: aiohttp's HTTP parser refuses it before the application
        assert answer[0] == 400 and b"Content-Length" in answer[2], answer
        await health(server.port)
        return
    document = assert_names_the_problem(answer[0], answer[1]["content-type"], answer[2], context=where)
    if where in ("extra-signed", "content-type", "idempotency-key"):  # signed faithfully, byte for byte
        assert answer[0] in (200, 400), document
    else:
        assert answer[0] == 401, document
    await health(server.port)


async def test_a_body_over_the_limit_is_413_json_naming_the_limit(small_server):
    port = small_server.port
    body = json.dumps({**v11(**CARD), "padding": "x" * (2 * SMALL_LIMIT)}).encode()
    for raw in (
        request_bytes("POST", VERIFY, titled(signed_headers(VERIFY, body)), body),  # signed: checked first
        request_bytes("POST", VERIFY, {"Content-Length": b"%d" % len(body)}, body),  # unsigned
        request_bytes("POST", VERIFY, [("Transfer-Encoding", b"chunked")],
                      b"".join(b"400\r\n" + b"x" * 1024 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"),
        request_bytes("POST", "/_emulator/scenarios", {"Content-Type": b"application/json",
                                                       "Content-Length": b"%d" % len(body)}, body),
    ):
        answer = await exchange(port, raw)
        assert answer is not None
        status, headers, answer_body = answer
        document = assert_names_the_problem(status, headers["content-type"], answer_body)
        assert status == 413, document
        assert str(SMALL_LIMIT) in document["message"] and "too large" in document["message"], document
    # a Content-Length far over the limit with only part of the body sent: refused, not awaited
    head = request_bytes("POST", VERIFY, [("Content-Length", b"%d" % (100 * SMALL_LIMIT))], b"x" * 2 * SMALL_LIMIT)
    answer = await exchange(port, head)
    if answer is not None:
        assert answer[0] == 413, answer
    # just under the limit still goes through to validation
    fits = json.dumps({**v11(**CARD), "padding": "x" * (SMALL_LIMIT - len(VERIFY_BODY) - 100)}).encode()
    assert len(fits) <= SMALL_LIMIT
    answer = await exchange(port, request_bytes("POST", VERIFY, titled(signed_headers(VERIFY, fits)), fits))
    assert answer is not None and answer[0] == 200, answer
    await health(port)


@pytest.mark.parametrize("opener", [b"[", b'{"a":', b'{"request":'])
async def test_deeply_nested_json_is_400_naming_the_depth(big_server, opener):
    body = opener * 100_000
    for headers in (signed_headers(VERIFY, body),
                    # Content-sha512 of another body, signed: the server's guess at the client's mistake
                    # parses the body too, and must survive the depth as well
                    signed_headers(VERIFY, body, content_sha512=digest(b"another body"))):
        answer = await exchange(big_server.port, request_bytes("POST", VERIFY, titled(headers), body))
        assert answer is not None
        document = assert_names_the_problem(answer[0], answer[1]["content-type"], answer[2])
        if answer[0] == 401:
            assert document["diagnosis"]["code"] == "body_digest_mismatch", document
        else:
            assert answer[0] == 400 and "nested too deeply" in document["diagnosis"]["detail"], document
    await health(big_server.port)


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["long-string", "long-array", "many-keys", "big-number", "deep-and-wide"])
async def test_huge_json_below_a_raised_limit_is_answered_not_choked_on(big_server, shape):
    size = 3 * 1024 * 1024
    if shape == "long-string":
        document: Any = {**v11(**CARD), "recipient_first_name": "J" * size}
    elif shape == "long-array":
        document = {**v11(**CARD), "notes": list(range(size // 8))}
    elif shape == "many-keys":
        document = {**v11(**CARD), **{f"k{i}": i for i in range(size // 16)}}
    elif shape == "big-number":
        document = None
    else:
        document = {**v11(**CARD), "tree": [[[["x" * 10] * 10] * 10] * 10] * 20}
    body = (b'{"participant_id": ' + b"9" * size + b"}") if document is None else json.dumps(document).encode()
    assert len(body) < RAISED_LIMIT
    answer = await exchange(big_server.port, request_bytes("POST", VERIFY, titled(signed_headers(VERIFY, body)),
                                                           body))
    assert answer is not None
    document = assert_names_the_problem(answer[0], answer[1]["content-type"], answer[2], context=shape)
    assert answer[0] in (200, 400), document
    await health(big_server.port)


async def test_non_standard_json_numbers_are_refused_not_echoed(server):
    """1e400 parses to infinity in Python; echoing it would put Infinity (not JSON) in the response."""
    for body in (b'{"request": {"participant_id": "12345", "timestamp": 1e400}}',
                 b'{"request": {"participant_id": "12345", "timestamp": "%d", "x": -1e999}}' % NOW):
        path = "/risk/risksession/v2"
        answer = await exchange(server.port, request_bytes("POST", path, titled(signed_headers(path, body)), body))
        assert answer is not None
        document = assert_names_the_problem(answer[0], answer[1]["content-type"], answer[2])
        assert answer[0] == 400, document
    await health(server.port)


async def test_a_non_utf8_admin_token_is_refused_like_any_wrong_token():
    emulator = ThreadedEmulator(admin_token="admin-secret")
    try:
        for headers in ({"X-Emulator-Admin-Token": NON_UTF8}, {"Authorization": b"Bearer " + NON_UTF8}):
            answer = await exchange(emulator.port, request_bytes("GET", "/_emulator/requests", headers))
            assert answer is not None
            document = assert_names_the_problem(answer[0], answer[1]["content-type"], answer[2])
            assert answer[0] == 401 and "admin token" in document["message"], document
        await health(emulator.port)
    finally:
        emulator.close()
