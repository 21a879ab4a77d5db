"""Rules of Ingo's pages that a client written from those pages alone checks, and that the emulator once departed
from: raw account data beside a token, the older biller search, biller limits, retail track data, one open-banking
object, tokens that keep their meaning, and X-Date as Kong reads it.

Each request is sent as such a client sends it: Ingo's own example bodies (tests/data/ingo_examples.json, only
their timestamp made current), signed by tests/support/outside.py (hashlib and hmac, not the project's signer), to a
real emulator process on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from tests.support.ingo_examples import EXAMPLES, now_dated
from tests.support.outside import Client, admin, call
from tests.support.sockets import free_port

pytestmark = pytest.mark.slow

SECRET = "ingopay-emulator-secret"  # the built-in credential "test" (participant 12345)
INCORRECT = "Transaction Failure- Contact Ingo Payments Client Services at 877-739-2926"
MISSING = "Transaction Failure - Contact Ingo Payments Client Services at 877-739-2926"
MESSAGES = {400: MISSING, 401: INCORRECT, 700: "Account not currently available for processing via Ingo"}
DATE_REQUIRED = ("HMAC signature cannot be verified, a valid date or x-date header is required for "
                 "HMAC Authentication")
TRACK1 = EXAMPLES["retail process"]["request"]["track1"]
TRACK2 = EXAMPLES["retail process"]["request"]["track2"]


@contextmanager
def running(tmp: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[Client, Path]]:
    """A real emulator with ``args``; its client (the built-in credential) and the file its log goes to."""
    port = free_port()
    log = tmp / f"emulator-{port}.log"
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), *args],
                                   stdout=subprocess.PIPE, stderr=sink, text=True,
                                   env={**os.environ, **(env or {})})
        try:
            assert process.stdout is not None and "ready on" in process.stdout.readline()
            yield Client(f"http://127.0.0.1:{port}", "test", SECRET, 12345), log
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=15)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Path]]:
    """One emulator on its default settings for the module, logging one line per request."""
    with running(tmp_path_factory.mktemp("log")) as started:
        yield started


@pytest.fixture
def client(served: tuple[Client, Path]) -> Client:
    """The module's emulator, reset: each test starts from no tokens and no payments."""
    status, _ = admin(served[0].url, "POST", "/_emulator/reset", {})
    assert status == 200
    return served[0]


def send(client: Client, path: str, body: dict[str, Any], *, x_date: str | None = None) -> tuple[int, Any]:
    """``body`` as sent (no fields added), signed: (HTTP status, JSON answer). As a careful client does, a 429 is
    sent again once Retry-After has passed (Ingo allows 5 requests a second)."""
    raw = json.dumps(body).encode()
    while True:
        status, headers, answer = call(client.url, "POST", path, raw,
                                       headers=client.headers(path, raw, x_date=x_date))
        if status != 429:
            return status, answer
        time.sleep(float(headers.get("Retry-After", "1")))


def example(name: str, **changes: Any) -> dict[str, Any]:
    """Ingo's example request ``name`` dated now, with ``changes`` (None removes a field)."""
    body = now_dated(EXAMPLES[name])
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def refused(answer: Any, status: int, field: str) -> str:
    """Assert an Ingo refusal ``status`` naming ``field``; return the diagnosis."""
    assert answer["status"] == status, answer
    assert answer["client_message"] == MESSAGES[status], answer
    assert answer["data"] == {}
    assert answer["diagnosis"]["field"] == field, answer
    return str(answer["diagnosis"]["detail"])


# -- 1. raw account data beside a token ------------------------------------------------------------------------


RAW_CARD = {"account": "4111111111111111", "expiration_date": "2612", "recipient_first_name": "Alex",
            "recipient_last_name": "Rivera", "recipient_address1": "100 Innovation Way", "recipient_city": "Anytown",
            "recipient_state": "GA", "recipient_zip": "00000"}


@pytest.mark.parametrize("leaked", [RAW_CARD, {"account": "4111111111111111"}, {"expiration_date": "2612"},
                                    {"recipient_last_name": "Rivera"}], ids=["all", "account", "expiry", "name"])
def test_process_refuses_raw_card_fields_next_to_the_token_as_verify_does(client, leaked):
    """Process/card: "When provided, raw account fields (...) must be omitted"; verify/card says the same."""
    status, push = send(client, "/gateway/process", example("card process", **leaked))
    assert status == 200
    detail = refused(push, 401, "customer_account_token")
    assert all(name in detail for name in leaked)
    assert "4111111111111111" not in json.dumps(push)
    raw_free = example("card verify", **dict.fromkeys([*RAW_CARD, "cvv", "recipient_address2"]))
    status, reverify = send(client, "/gateway/verify", {**raw_free, "customer_account_token": push_token(), **leaked})
    assert (reverify["status"], reverify["client_message"], reverify["diagnosis"]["code"],
            reverify["diagnosis"]["field"]) == (401, INCORRECT, push["diagnosis"]["code"], "customer_account_token")
    status, paid = send(client, "/gateway/process", example("card process"))  # nothing was paid before
    assert paid["status"] == 100, paid


def push_token() -> str:
    return str(EXAMPLES["card process"]["request"]["customer_account_token"])


def test_a_refused_push_is_not_remembered_under_its_id(client):
    send(client, "/gateway/process", example("card process", account="4111111111111111"))
    status, paid = send(client, "/gateway/process", example("card process"))
    assert paid["status"] == 100  # not 101: the refusal made no payment


def test_an_ach_push_with_the_routing_number_is_refused(client):
    status, push = send(client, "/gateway/process", example("ACH process", routing_number="011000015"))
    assert "routing_number" in refused(push, 401, "customer_account_token")


# -- 2. the older biller search (/gateway/search) --------------------------------------------------------------


def search(client: Client, **fields: Any) -> Any:
    status, answer = send(client, "/gateway/search", {"participant_id": 12345, "account_type": "BP", **fields})
    assert status == 200, answer
    return answer


def test_search_finds_billers_flagged_bp_from_the_same_directory(client):
    answer = search(client, account="12345678")
    assert (answer["status"], answer["client_message"]) == (100, "Success")
    payees = answer["data"]["payees"]
    assert answer["data"]["count"] == len(payees) == 1
    payee = payees[0]
    assert list(payee) == ["payee_id", "payee_name", "payee_address", "payee_city", "payee_state", "payee_zip",
                           "account_type", "credit_info", "issuing_network", "credit_enabled", "debit_enabled"]
    assert (payee["payee_id"], payee["payee_name"], payee["account_type"]) == (
        "123457", "First Service Middle Jersey", "BP")
    assert (payee["credit_info"]["min"], payee["credit_info"]["max"]) == ("5.00", "2000.00")
    newer = send(client, "/gateway/v1/biller/search", example("biller search"))[1]["data"]["billers"][0]
    assert (newer["id"], newer["name"], newer["min"], newer["max"]) == (
        payee["payee_id"], payee["payee_name"], payee["credit_info"]["min"], payee["credit_info"]["max"])


def test_search_flags_a_card_number_card_based_and_the_card_verify_takes_it(client):
    payees = search(client, account="4111111111111111")["data"]["payees"]
    card = [p for p in payees if p["account_type"] == "CA"]
    assert [(p["payee_id"], p["payee_name"]) for p in card] == [
        ("526263", "Bank of America - Platinum MasterCard and Visa")]
    assert {p["account_type"] for p in payees} == {"CA", "BP"}  # the card's balance paydown biller too
    verified = send(client, "/gateway/verify", example("card verify"))[1]
    assert verified["data"]["issuers"][0]["payee_id"] == card[0]["payee_id"]


def test_search_narrows_by_the_payee_fields(client):
    assert [p["payee_id"] for p in search(client, account="4111111111111111", payee_name="bank of america",
                                          payee_state="DE", payee_zip="19850")["data"]["payees"]] == ["526263"]
    assert [p["payee_id"] for p in search(client, account="1234567890", payee_city="springfield")["data"][
        "payees"]] == ["123459"]
    nothing = search(client, account="12345678", payee_name="Nobody Utilities")
    assert "payee_name" in refused(nothing, 700, "account")


@pytest.mark.parametrize("fields, status, field", [
    ({"account_type": "CA", "account": "12345678"}, 401, "account_type"),
    ({"account_type": None, "account": "12345678"}, 400, "account_type"),
    ({}, 400, "account"),
    ({"account": "1" * 256}, 401, "account"),
    ({"account": "12345678", "payee_state": "Georgia"}, 401, "payee_state"),
    ({"account": "12345678", "payee_zip": "123"}, 401, "payee_zip"),
    ({"account": "12345678", "payee_name": "x" * 256}, 401, "payee_name"),
    ({"account": "12345678", "amount": 0}, 401, "amount"),
    ({"account": "12345678", "version": 10}, 401, "version"),
], ids=["not-BP", "no-account-type", "no-account", "account-256", "state", "zip", "name-256", "amount-0",
        "version"])
def test_search_field_rules(client, fields, status, field):
    body = {"participant_id": 12345, "account_type": "BP", **fields}
    answer = send(client, "/gateway/search", {k: v for k, v in body.items() if v is not None})[1]
    refused(answer, status, field)


def test_search_is_signed_like_the_other_gateway_routes(client):
    raw = json.dumps({"participant_id": 12345, "account_type": "BP", "account": "12345678"}).encode()
    status, _, answer = call(client.url, "POST", "/gateway/search", raw,
                             headers=client.headers("/gateway/verify", raw))  # signed for another path
    assert (status, answer["message"]) == (401, "HMAC signature does not match")
    assert search(client, account="12345678", payee_zip="00000-1234", timestamp=int(time.time()),
                  version=11)["status"] == 100


# -- 3. biller limits ------------------------------------------------------------------------------------------


def test_a_biller_whose_limits_leave_out_the_amount_is_not_offered(client):
    """1234567890 is taken by 123457 (5.00 to 2000.00) and 123459 (1.00 to 500.00)."""
    newer = "/gateway/v1/biller/search"
    both = send(client, newer, example("biller search", account="1234567890", amount=None))[1]["data"]["billers"]
    assert [b["id"] for b in both] == ["123457", "123459"]
    over = send(client, newer, example("biller search", account="1234567890"))[1]  # Ingo's 1010.5
    assert [b["id"] for b in over["data"]["billers"]] == ["123457"]
    under = send(client, newer, example("biller search", account="1234567890", amount=3))[1]
    assert [b["id"] for b in under["data"]["billers"]] == ["123459"]
    edge = send(client, newer, example("biller search", account="1234567890", amount=500))[1]
    assert [b["id"] for b in edge["data"]["billers"]] == ["123457", "123459"]
    none = send(client, newer, example("biller search", account="1234567890", amount=2500))[1]
    detail = refused(none, 700, "amount")
    assert "5.00 to 2000.00" in detail and "1.00 to 500.00" in detail
    older = search(client, account="1234567890", amount=1010.5)["data"]["payees"]
    assert [p["payee_id"] for p in older] == ["123457"]


def test_with_biller_limits_flag_a_biller_out_of_range_is_listed_disabled(tmp_path):
    with running(tmp_path, "--biller-limits", "flag") as (client, _):
        billers = send(client, "/gateway/v1/biller/search", example("biller search", account="1234567890"))[1]
        assert [(b["id"], b["credit_enabled"], b["debit_enabled"]) for b in billers["data"]["billers"]] == [
            ("123457", 1, 0), ("123459", 0, 0)]
        payees = search(client, account="1234567890", amount=2500)["data"]["payees"]
        assert [(p["payee_id"], p["credit_enabled"]) for p in payees] == [("123457", 0), ("123459", 0)]


# -- 4. retail card-present track data -------------------------------------------------------------------------


@pytest.mark.parametrize("field, value", [
    ("track1", TRACK1[:-1]),  # no end sentinel
    ("track1", TRACK1[1:]),  # no start sentinel
    ("track1", TRACK1.replace("%B", "%A")),  # not format B
    ("track1", TRACK1[:-1] + "0" * (256 - len(TRACK1)) + "?"),  # the pattern, but 256 characters
    ("track2", TRACK2[:-1]),
    ("track2", TRACK2[1:]),
    ("track2", TRACK2.replace("=", "^")),
    ("track2", TRACK2[:-1] + "0" * (256 - len(TRACK2)) + "?"),
], ids=["t1-end", "t1-start", "t1-format", "t1-256", "t2-end", "t2-start", "t2-separator", "t2-256"])
def test_track_data_must_have_its_sentinels_pattern_and_length(served, client, field, value):
    status, answer = send(client, "/gateway/process", example("retail process", **{field: value}))
    refused(answer, 401, field)
    assert value not in json.dumps(answer) and value[1:-1] not in json.dumps(answer)
    assert never_kept(served, value)


def test_ingos_track_data_is_paid_and_never_logged_or_kept(served, client):
    status, answer = send(client, "/gateway/process", example("retail process"))
    assert answer["status"] == 100, answer
    assert never_kept(served, TRACK1) and never_kept(served, TRACK2)


def never_kept(served: tuple[Client, Path], value: str) -> bool:
    """Whether ``value`` is absent from the journal, the stored state and the log (their text as served)."""
    client, log = served
    seen = [call(client.url, "GET", path)[2] for path in ("/_emulator/requests", "/_emulator/state")]
    texts = [json.dumps(document) for document in seen] + [log.read_text()]
    assert any('"/gateway/process"' in text for text in texts), "the request was journaled"
    return all(value not in text and value[1:-1] not in text for text in texts)


# -- 5. exactly one open-banking object ------------------------------------------------------------------------


@pytest.mark.parametrize("open_banking, status", [
    ({"open_banking_plaid": {"access_token": "x"}, "open_banking_other": {"provider": "y"}}, 401),
    ({}, 400),
    ({"open_banking_plaid": None, "open_banking_other": None}, 400),
    ({"open_banking_plaid": {"access_token": "x"}}, 100),
    ({"open_banking_other": {"provider": "y"}}, 100),
], ids=["both", "neither", "both-null", "plaid", "other"])
def test_risk_score_takes_exactly_one_open_banking_object(client, open_banking, status):
    body = copy.deepcopy(example("risk score"))
    body["transaction_open_banking"] = open_banking
    answer = send(client, "/risk/riskscore/v2", body)[1]
    assert answer["response"]["status"] == str(status), answer
    if status != 100:
        assert answer["diagnosis"]["field"] == "transaction_open_banking"


# -- 7. tokens keep their meaning ------------------------------------------------------------------------------


def test_a_later_verify_never_changes_what_an_earlier_token_does(client):
    """Customer A's card, then the same card for customer B with the last name Magic852 (a magic value: 852 at
    process): A's token still pays, B's declines."""
    a = send(client, "/gateway/verify", example("card verify", participant_unique_id1="customer-a"))[1]
    b = send(client, "/gateway/verify", example("card verify", participant_unique_id1="customer-b",
                                                recipient_last_name="Magic852"))[1]
    token_a, token_b = a["data"]["customer_account_token"], b["data"]["customer_account_token"]
    assert token_a != token_b
    paid_b = send(client, "/gateway/process", example("card process", customer_account_token=token_b,
                                                      participant_unique_id1="pay-b"))[1]
    assert paid_b["status"] == 852, paid_b
    paid_a = send(client, "/gateway/process", example("card process", customer_account_token=token_a,
                                                      participant_unique_id1="pay-a"))[1]
    assert paid_a["status"] == 100, paid_a


def test_the_same_account_and_customer_verified_again_keeps_its_token(client):
    first = send(client, "/gateway/verify", example("card verify"))[1]["data"]["customer_account_token"]
    again = send(client, "/gateway/verify", example("card verify", participant_unique_id1="retry-with-a-new-id"))[1]
    assert again["data"]["customer_account_token"] == first
    moved = send(client, "/gateway/verify", example("card verify", recipient_zip="30301"))[1]
    assert moved["data"]["customer_account_token"] != first  # other customer data, another token


def test_a_magic_name_verified_first_does_not_script_a_later_customers_token(client):
    b = send(client, "/gateway/verify", example("card verify", recipient_last_name="Magic852"))[1]
    a = send(client, "/gateway/verify", example("card verify", participant_unique_id1="customer-a"))[1]
    for token, puid1, status in ((a, "pay-a", 100), (b, "pay-b", 852)):
        paid = send(client, "/gateway/process", example(
            "card process", customer_account_token=token["data"]["customer_account_token"],
            participant_unique_id1=puid1))[1]
        assert paid["status"] == status, paid


# -- 8. X-Date: Ingo's documented form by default, Kong's reading on request ------------------------------------


def dated(client: Client, x_date: str) -> tuple[int, Any]:
    return send(client, "/gateway/verify", example("card verify"), x_date=x_date)


def gmt(form: str, when: float | None = None) -> str:
    return time.strftime(form, time.gmtime(time.time() if when is None else when))


@pytest.fixture(scope="module")
def kong_dates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """An emulator that reads dates as Kong's hmac-auth does (--x-date-format kong)."""
    with running(tmp_path_factory.mktemp("kong"), "--x-date-format", "kong") as (started, _):
        yield started


def test_ingos_documented_date_passes(client):
    assert dated(client, formatdate(time.time(), usegmt=True))[1]["status"] == 100


@pytest.mark.parametrize("form, reason", [
    ("%a, %d %b %Y %H:%M:%S", "it has no zone: the time must end with ' GMT'"),
    ("%a, %d %b %Y %H:%M:%S +0000", "its zone is '+0000': the time must be given in GMT"),
    ("%A, %d-%b-%y %H:%M:%S GMT", "it is in the RFC 850 form"),
    ("%a %b %e %H:%M:%S %Y", "it is in the asctime form"),
], ids=["no-zone", "numeric-zone", "rfc-850", "asctime"])
def test_a_date_not_in_ingos_form_is_refused_naming_what_is_wrong(client, form, reason):
    status, answer = dated(client, gmt(form))
    assert (status, answer["message"]) == (401, DATE_REQUIRED)
    assert answer["diagnosis"]["code"] == "date_unparseable"
    assert reason in answer["diagnosis"]["detail"]
    assert answer["diagnosis"]["detail"].endswith(
        "Ingo's pages ask for RFC 1123 in GMT (--x-date-format kong reads it as Kong would)); "
        "expected RFC 1123 in GMT such as 'Fri, 17 Jan 2020 19:59:29 GMT'")
    assert answer["diagnosis"]["expected_format"] == "RFC 1123 in GMT, such as Fri, 17 Jan 2020 19:59:29 GMT"


def test_a_weekday_that_is_not_the_dates_is_refused(client):
    tomorrow = gmt("%a", time.time() + 86400)
    status, answer = dated(client, tomorrow + gmt(", %d %b %Y %H:%M:%S GMT"))
    assert (status, answer["diagnosis"]["code"]) == (401, "date_unparseable")
    assert f"its weekday {tomorrow!r} is not the date's" in answer["diagnosis"]["detail"]


def test_kong_reads_rfc_1123_rfc_850_and_asctime_and_a_date_without_a_zone_as_gmt(kong_dates):
    for x_date in (formatdate(time.time(), usegmt=True), gmt("%A, %d-%b-%y %H:%M:%S GMT"),
                   gmt("%a %b %e %H:%M:%S %Y"), gmt("%a, %d %b %Y %H:%M:%S")):
        status, answer = dated(kong_dates, x_date)
        assert (status, answer["status"]) == (200, 100), (x_date, answer)


@pytest.mark.parametrize("form, reason", [
    ("%a, %-d %b %Y %H:%M:%S GMT", "the day must be 2 digits"),  # Python's email.utils reads it; nginx does not
    ("%d %b %Y %H:%M:%S GMT", "expected a space before the time"),  # no weekday
    ("%a, %d %b %y %H:%M:%S GMT", "the year must be 4 digits"),
    ("%Y-%m-%dT%H:%M:%SZ", "no weekday followed by ','"),
], ids=["one-digit-day", "no-weekday", "two-digit-year", "iso-8601"])
@pytest.mark.parametrize("reader", ["client", "kong_dates"])
def test_a_date_kong_cannot_read_is_refused_naming_the_format(reader, form, reason, request):
    status, answer = dated(request.getfixturevalue(reader), gmt(form))
    assert (status, answer["message"]) == (401, DATE_REQUIRED)
    detail = answer["diagnosis"]["detail"]
    assert answer["diagnosis"]["code"] == "date_unparseable"
    assert reason in detail
    assert "expected RFC 1123 in GMT such as 'Fri, 17 Jan 2020 19:59:29 GMT'" in detail


def test_a_zone_after_the_seconds_is_not_read_by_kong_so_local_time_is_out_of_the_window(kong_dates):
    local = gmt("%a, %d %b %Y %H:%M:%S +0200", time.time() + 7200)  # 14:00 +0200 meant as 12:00 GMT
    status, answer = dated(kong_dates, local)
    assert (status, answer["diagnosis"]["code"]) == (401, "date_out_of_window")
    assert "ignores '+0200' after the seconds" in answer["diagnosis"]["detail"]
    status, answer = dated(kong_dates, gmt("%a, %d %b %Y %H:%M:%S +0200"))  # the GMT time, whatever the zone says
    assert answer["status"] == 100


def test_kong_reads_a_date_without_a_zone_as_gmt_whatever_the_servers_time_zone(tmp_path):
    with running(tmp_path, "--x-date-format", "kong", env={"TZ": "America/New_York"}) as (client, _):
        status, answer = dated(client, gmt("%a, %d %b %Y %H:%M:%S"))
        assert answer["status"] == 100, answer
