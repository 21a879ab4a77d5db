"""POST /gateway/verify: every account type, re-verify with a token, and every way a request is refused."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support.app import NOW
from tests.support.bodies import ACH, BENEFICIARY, CARD, RECIPIENT, v11

MISSING = "Transaction Failure - Contact Ingo Payments Client Services at 877-739-2926"
INCORRECT = "Transaction Failure- Contact Ingo Payments Client Services at 877-739-2926"
CHECK_DIGIT = "Check Digit Failure - Please check account number and try again."


def assert_uuid4(value: str) -> None:
    parsed = uuid.UUID(value)
    assert parsed.version == 4
    assert str(parsed) == value  # lowercase, hyphenated


async def verify(emulator, **fields):
    status, body, _ = await emulator.post("/gateway/verify", v11(**fields))
    assert status == 200, body
    return body


async def find_biller(emulator, account: str) -> str:
    status, body, _ = await emulator.post("/gateway/v1/biller/search", {"participant_id": 12345,
                                                                          "timestamp": NOW, "account": account})
    assert status == 200 and body["status"] == 100, body
    return body["data"]["billers"][0]["id"]


def only_issuer(body) -> dict:
    assert body["data"]["count"] == 1
    assert len(body["data"]["issuers"]) == 1
    return body["data"]["issuers"][0]


# -- success per account type ----------------------------------------------------------------------------------


async def test_card_verify_answers_like_ingos_example(emulator):
    body = await verify(emulator, **{**CARD, "participant_unique_id2": "second-id"})
    assert body["status"] == 100
    assert body["client_message"] == "Success"
    assert isinstance(body["time"], str) and float(body["time"]) >= 0
    data = body["data"]
    assert_uuid4(data["customer_account_token"])
    assert data["last_4"] == "1111"
    assert data["request_timestamp"] == NOW and isinstance(data["request_timestamp"], int)
    assert data["participant_unique_id1"] == "customer-1"
    assert data["participant_unique_id2"] == "second-id"
    assert data["expiration_date"] == "2912"
    issuer = only_issuer(body)
    assert issuer["payee_id"] == "526263"
    assert issuer["issuing_network"] == "Visa"
    assert issuer["credit_info"]["min"] == "0.05"
    assert issuer["credit_info"]["max"] == "1500.00"
    assert issuer["credit_info"]["card_type"] == "Debit"
    assert issuer["credit_info"]["estimated_posting_time"] == "Payment will post within 5 minutes."
    assert issuer["credit_info"]["estimated_posting_date"] == "11/16/2026"
    assert issuer["credit_enabled"] == 1
    assert "4111111111111111" not in str(body)
    assert "cvv" not in data


@pytest.mark.parametrize("account_type, posting_time, posting_date", [
    ("AC", "Payment will post 11/17/2026", "11/17/2026"),
    ("SD", "Payment will post 11/16/2026", "11/16/2026"),
    ("WT", "Payment will post 11/17/2026", "11/17/2026"),
])
async def test_bank_verify_returns_test_bank_for_ingos_example_routing_number(emulator, account_type,
                                                                               posting_time, posting_date):
    body = await verify(emulator, **{**ACH, "account_type": account_type})
    assert body["status"] == 100
    data = body["data"]
    assert_uuid4(data["customer_account_token"])
    assert data["last_4"] == "2222"
    assert isinstance(data["request_timestamp"], int)
    issuer = only_issuer(body)
    assert issuer["payee_id"] == "550333"
    assert issuer["payee_name"] == "Test Bank"
    assert issuer["payee_address"] is None
    assert issuer["issuing_network"] == "NA"
    assert issuer["credit_info"]["min"] == "0.10"
    assert issuer["credit_info"]["max"] == "1000.00"
    assert issuer["credit_info"]["card_type"] == "DDA"
    assert issuer["credit_info"]["estimated_posting_time"] == posting_time
    assert issuer["credit_info"]["estimated_posting_date"] == posting_date


async def test_billpay_verify_with_a_payee_id_from_biller_search(emulator):
    payee_id = await find_biller(emulator, "1234567890")
    body = await verify(emulator, account_type="BP", participant_unique_id1="bill-1", account="1234567890",
                        payee_id=payee_id, **RECIPIENT)
    assert body["status"] == 100
    data = body["data"]
    assert_uuid4(data["customer_account_token"])
    assert data["last_4"] == "7890"
    issuer = only_issuer(body)
    assert issuer["payee_id"] == payee_id
    assert issuer["credit_info"]["card_type"] == "NA"
    assert issuer["credit_info"]["estimated_posting_time"] == "Payment will post 11/18/2026"
    assert issuer["credit_info"]["estimated_posting_date"] == "11/18/2026"
    assert float(issuer["credit_info"]["min"]) <= float(issuer["credit_info"]["max"])


async def test_billpay_verify_with_an_unknown_payee_is_not_available(emulator):
    body = await verify(emulator, account_type="BP", participant_unique_id1="bill-1", account="1234567890",
                        payee_id="999999", **RECIPIENT)
    assert body["status"] == 700
    assert body["client_message"] == "Account not currently available for processing via Ingo"


async def test_billpay_verify_without_payee_id_is_missing(emulator):
    body = await verify(emulator, account_type="BP", participant_unique_id1="bill-1", account="1234567890",
                        **RECIPIENT)
    assert body["status"] == 400
    assert body["client_message"] == MISSING
    assert body["diagnosis"]["field"] == "payee_id"


@pytest.mark.parametrize("account_type, payee_name", [("PD", "Paypal"), ("PU", "Paypal"), ("VE", "Venmo")])
async def test_wallet_verify_answers_as_ingos_example_shows(emulator, account_type, payee_name):
    body = await verify(emulator, account_type=account_type, participant_unique_id1="wallet-1",
                        account="jane.doe@example.com", receiver_type=1, **RECIPIENT)
    assert body["status"] == 100
    assert body["client_message"] == "Success"
    assert body["recipient_message"] == "Success"
    data = body["data"]
    assert_uuid4(data["customer_account_token"])
    # the last four of the wallet's id (Ingo's example: "k6Aw" for jane.doe@example.com), not of what was sent
    assert re.fullmatch(r"[0-9A-Za-z]{4}", data["last_4"]) and data["last_4"] != ".com"
    assert data["expiration_date"] == ""
    issuer = only_issuer(body)
    assert [issuer[k] for k in ("payee_address", "payee_city", "payee_state", "payee_zip")] == ["", "", "", ""]
    assert issuer["payee_name"] == payee_name
    assert issuer["credit_info"]["min"] == "0.01"
    assert issuer["credit_info"]["max"] == "10000.00"
    assert issuer["credit_info"]["estimated_posting_time"] == "Payment will post within 5 minutes."


async def test_recipient_message_is_only_for_paypal_and_venmo(emulator):
    body = await verify(emulator, **CARD)
    assert "recipient_message" not in body


async def test_check_verify_has_posting_estimate_and_no_issuers(emulator):
    body = await verify(emulator, account_type="CK", participant_unique_id1="check-1", beneficiary=BENEFICIARY)
    assert body["status"] == 100
    data = body["data"]
    assert_uuid4(data["customer_account_token"])
    assert data["last_4"] == "0038"
    assert data["estimated_posting_time"] == "Payment will post 7-10 Days"
    assert data["estimated_posting_date"] == "11/25/2026"
    assert data["request_timestamp"] == NOW
    assert "issuers" not in data and "count" not in data


async def test_check_verify_needs_recipient_when_recipient_is_not_the_beneficiary(emulator):
    body = await verify(emulator, account_type="CK", participant_unique_id1="check-1", beneficiary=BENEFICIARY,
                        recipient_is_beneficiary=0)
    assert body["status"] == 400
    assert body["client_message"] == MISSING
    assert body["diagnosis"]["field"] == "recipient"
    recipient = {"recipient_line1": "c/o Acme", "recipient_address1": "2 Oak Ave", "recipient_city": "Austin",
                 "recipient_state": "TX", "recipient_zip": "73301"}
    body = await verify(emulator, account_type="CK", participant_unique_id1="check-1", beneficiary=BENEFICIARY,
                        recipient_is_beneficiary=0, recipient=recipient)
    assert body["status"] == 100


async def test_check_verify_without_beneficiary_is_missing(emulator):
    body = await verify(emulator, account_type="CK", participant_unique_id1="check-1")
    assert body["status"] == 400
    assert body["diagnosis"]["field"] == "beneficiary"


async def test_check_verify_checks_the_nested_beneficiary(emulator):
    body = await verify(emulator, account_type="CK", participant_unique_id1="check-1",
                        beneficiary={**BENEFICIARY, "beneficiary_state": "XX"})
    assert body["status"] == 401
    assert body["client_message"] == INCORRECT
    assert body["diagnosis"]["field"] == "beneficiary.beneficiary_state"


async def test_the_same_account_verified_twice_keeps_its_token(emulator):
    first = await verify(emulator, **CARD)
    second = await verify(emulator, **{**CARD, "participant_unique_id1": "customer-1-again"})
    assert second["data"]["customer_account_token"] == first["data"]["customer_account_token"]
    other_card = await verify(emulator, **{**CARD, "account": "5555555555554444"})
    assert other_card["data"]["customer_account_token"] != first["data"]["customer_account_token"]
    assert other_card["data"]["last_4"] == "4444"
    assert other_card["data"]["issuers"][0]["issuing_network"] == "MasterCard"


# -- re-verify with a token ------------------------------------------------------------------------------------


async def test_reverify_with_a_token_returns_the_same_token(emulator, card_token):
    body = await verify(emulator, account_type="CA", participant_unique_id1="customer-1",
                        customer_account_token=card_token)
    assert body["status"] == 100
    assert body["data"]["customer_account_token"] == card_token
    assert body["data"]["last_4"] == "1111"
    assert body["data"]["issuers"][0]["payee_id"] == "526263"


async def test_token_and_raw_fields_together_are_refused_naming_the_fields(emulator):
    ach = await verify(emulator, **ACH)
    token = ach["data"]["customer_account_token"]
    body = await verify(emulator, account_type="AC", participant_unique_id1="customer-2",
                        customer_account_token=token, routing_number="011000015", recipient_zip="73301")
    assert body["status"] == 401
    assert body["client_message"] == INCORRECT
    assert "routing_number" in body["diagnosis"]["detail"]
    assert "recipient_zip" in body["diagnosis"]["detail"]
    assert body["data"] == {}


async def test_unknown_token_is_760(emulator):
    body = await verify(emulator, account_type="CA", participant_unique_id1="customer-1",
                        customer_account_token=str(uuid.uuid4()))
    assert body["status"] == 760
    assert body["client_message"] == "Invalid customer account token"


async def test_token_of_another_participant_is_760(emulator, card_token):
    other = emulator.as_user("other")
    status, body, _ = await other.post("/gateway/verify", v11(
        participant_id=54321, account_type="CA", participant_unique_id1="customer-1",
        customer_account_token=card_token))
    assert status == 200
    assert body["status"] == 760


async def test_reverify_as_another_account_type_is_refused(emulator, card_token):
    body = await verify(emulator, account_type="AC", participant_unique_id1="customer-1",
                        customer_account_token=card_token)
    assert body["status"] == 761


# -- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["account", "recipient_first_name", "recipient_last_name", "recipient_address1",
                                  "recipient_city", "recipient_state", "recipient_zip"])
async def test_missing_raw_card_field_is_400(emulator, name):
    fields = {k: v for k, v in CARD.items() if k != name}
    body = await verify(emulator, **fields)
    assert body["status"] == 400
    assert body["client_message"] == MISSING
    assert body["diagnosis"]["field"] == name


async def test_null_raw_field_is_400(emulator):
    body = await verify(emulator, **{**ACH, "routing_number": None})
    assert body["status"] == 400
    assert body["client_message"] == MISSING


@pytest.mark.parametrize("name", ["participant_id", "timestamp", "version", "participant_unique_id1",
                                  "account_type"])
async def test_missing_envelope_field_is_400(emulator, name):
    fields = {k: v for k, v in v11(**CARD).items() if k != name}
    status, body, _ = await emulator.post("/gateway/verify", fields)
    assert status == 200
    assert body["status"] == 400
    assert body["client_message"] == MISSING


@pytest.mark.parametrize("changes, field", [
    ({"participant_id": "12345"}, "participant_id"),
    ({"timestamp": str(NOW)}, "timestamp"),
    ({"account": 4111111111111111}, "account"),
    ({"recipient_state": "ZZ"}, "recipient_state"),
    ({"recipient_zip": "3030"}, "recipient_zip"),
    ({"recipient_zip": "30301-12"}, "recipient_zip"),
    ({"recipient_first_name": "J" * 256}, "recipient_first_name"),
    ({"recipient_city": "A" * 256}, "recipient_city"),
    ({"participant_unique_id1": "x" * 256}, "participant_unique_id1"),
    ({"participant_unique_id1": ""}, "participant_unique_id1"),
    ({"recipient_business_name": "B" * 151}, "recipient_business_name"),
    ({"expiration_date": "12/29"}, "expiration_date"),
    ({"expiration_date": "2913"}, "expiration_date"),
    ({"expiration_date": "291"}, "expiration_date"),
    ({"cvv": "12a"}, "cvv"),
    ({"recipient_phone": "555-0100"}, "recipient_phone"),
    ({"amount": 0}, "amount"),
    ({"version": 12}, "version"),
])
async def test_incorrect_field_is_401_naming_it(emulator, changes, field):
    status, body, _ = await emulator.post("/gateway/verify", {**v11(**CARD), **changes})
    assert status == 200
    assert body["status"] == 401
    assert body["client_message"] == INCORRECT
    assert body["diagnosis"]["field"] == field


async def test_unknown_account_type_is_401(emulator):
    body = await verify(emulator, **{**CARD, "account_type": "ZZ"})
    assert body["status"] == 401
    assert body["client_message"] == INCORRECT
    assert body["diagnosis"]["field"] == "account_type"


@pytest.mark.parametrize("account_type", [7, ["CA"], {"type": "CA"}, "ca"])
async def test_account_type_of_the_wrong_shape_is_401(emulator, account_type):
    body = await verify(emulator, **{**CARD, "account_type": account_type})
    assert body["status"] == 401
    assert body["diagnosis"]["field"] == "account_type"


async def test_card_failing_luhn_is_1042(emulator):
    body = await verify(emulator, **{**CARD, "account": "4111111111111112"})
    assert body["status"] == 1042
    assert body["client_message"] == CHECK_DIGIT


async def test_routing_number_failing_its_checksum_is_1042(emulator):
    body = await verify(emulator, **{**ACH, "routing_number": "011000016"})
    assert body["status"] == 1042
    assert body["client_message"] == CHECK_DIGIT


async def test_card_expired_last_month_is_751_and_this_month_is_fine(emulator):
    # The frozen clock is in November 2026 (YYMM 2611).
    body = await verify(emulator, **{**CARD, "expiration_date": "2610"})
    assert body["status"] == 751
    assert body["client_message"] == "Card expired"
    body = await verify(emulator, **{**CARD, "expiration_date": "2611"})
    assert body["status"] == 100


@pytest.mark.parametrize("offset, status", [(300, 100), (-300, 100), (301, 402), (-301, 402)])
async def test_body_timestamp_is_checked_against_the_clock(emulator, offset, status):
    body = await verify(emulator, **{**CARD, "timestamp": NOW + offset})
    assert body["status"] == status
    if status == 402:
        assert body["client_message"] == INCORRECT
        assert body["diagnosis"]["field"] == "timestamp"


async def test_participant_id_of_another_participant_is_401(emulator):
    body = await verify(emulator, **{**CARD, "participant_id": 54321})
    assert body["status"] == 401
    assert body["diagnosis"]["field"] == "participant_id"


async def test_body_that_is_not_json_is_http_400_with_a_diagnosis(emulator):
    status, body, headers = await emulator.post("/gateway/verify", "participant_id=12345&account_type=CA")
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    assert body["status"] == 401
    assert "JSON" in body["diagnosis"]["detail"]


async def test_json_array_body_is_http_400(emulator):
    status, body, _ = await emulator.post("/gateway/verify", [v11(**CARD)])
    assert status == 400
    assert "object" in body["diagnosis"]["detail"]


async def test_empty_body_is_http_400(emulator):
    status, body, _ = await emulator.post("/gateway/verify", b"")
    assert status == 400
    assert "empty" in body["diagnosis"]["detail"]


async def test_amex_card_cannot_receive_push(emulator):
    body = await verify(emulator, **{**CARD, "account": "378282246310005"})
    assert body["status"] == 700


async def test_validation_detail_never_echoes_a_card_number_or_cvv(emulator):
    # A PAN with spaces and a five-digit CVV fail their formats; the explanation must not carry them.
    status, body, _ = await emulator.post("/gateway/verify", v11(**{**CARD, "account": "4111 1111 1111 1111"}))
    assert body["status"] == 401
    assert "4111 1111 1111 1111" not in str(body)
    status, body, _ = await emulator.post("/gateway/verify", v11(**{**CARD, "cvv": "98765"}))
    assert body["status"] == 401
    assert "98765" not in str(body)
    response = await emulator.client.get("/_emulator/requests?path=/gateway/verify")
    journal = str(await response.json())
    assert "4111 1111 1111 1111" not in journal and "98765" not in journal


# -- PayPal / Venmo: receiver_type and the required fields (docs/ingopay/verify/paypal-venmo) ---------------------

WALLET = {"participant_unique_id1": "wallet-1", "account": "jane.doe@example.com", **RECIPIENT}


@pytest.mark.parametrize("account_type, receiver_type", [("PU", 1), ("PU", 2), ("PU", 3), ("VE", 1), ("VE", 2),
                                                         ("VE", 4), ("PD", 3)])
async def test_each_receiver_type_of_its_wallet_is_accepted(emulator, account_type, receiver_type):
    body = await verify(emulator, account_type=account_type, receiver_type=receiver_type, **WALLET)
    assert body["status"] == 100, body


@pytest.mark.parametrize("account_type, receiver_type", [("VE", 3), ("PU", 4), ("PD", 4)])
async def test_a_receiver_type_of_the_other_wallet_is_401_naming_it(emulator, account_type, receiver_type):
    body = await verify(emulator, account_type=account_type, receiver_type=receiver_type, **WALLET)
    assert (body["status"], body["client_message"]) == (401, INCORRECT), body
    assert body["diagnosis"]["field"] == "receiver_type" and "is not for account_type" in body["diagnosis"]["detail"]


@pytest.mark.parametrize("receiver_type", [0, 5, 9, "1", True])
async def test_a_receiver_type_outside_1_to_4_is_401(emulator, receiver_type):
    body = await verify(emulator, account_type="PU", receiver_type=receiver_type, **WALLET)
    assert body["status"] == 401 and body["diagnosis"]["field"] == "receiver_type", body


@pytest.mark.parametrize("missing", ["receiver_type", "recipient_address1", "recipient_city", "recipient_state",
                                     "recipient_zip", "account", "recipient_first_name"])
async def test_a_wallet_without_a_required_field_is_400_naming_it(emulator, missing):
    fields = {"account_type": "VE", "receiver_type": 1, **WALLET}
    del fields[missing]
    body = await verify(emulator, **fields)
    assert (body["status"], body["client_message"]) == (400, MISSING), body
    assert body["diagnosis"]["field"] == missing


async def test_wallet_ids_and_names_are_at_most_254_characters(emulator):
    body = await verify(emulator, account_type="PU", receiver_type=1, **{**WALLET, "participant_unique_id1": "x" * 255})
    assert body["status"] == 401 and body["diagnosis"]["field"] == "participant_unique_id1", body
    body = await verify(emulator, account_type="PU", receiver_type=1, **{**WALLET, "participant_unique_id1": "x" * 254})
    assert body["status"] == 100, body


async def test_a_phone_sent_as_a_number_is_read_as_its_digits(emulator):
    """Ingo's ACH verify example sends "recipient_phone": 1231231234, a bare number."""
    body = await verify(emulator, **{**ACH, "recipient_phone": 1231231234})
    assert body["status"] == 100, body
    body = await verify(emulator, **{**ACH, "participant_unique_id1": "c-2", "recipient_phone": 123})
    assert body["status"] == 401 and body["diagnosis"]["field"] == "recipient_phone", body


async def test_a_masked_card_number_is_taken_from_a_retail_client_only(emulator):
    """Ingo's retail card-present example sends 411111XXXXXXXXXX with its store, clerk and terminal."""
    masked = {**CARD, "account": "411111XXXXXXXXXX"}
    body = await verify(emulator, **masked)
    assert body["status"] == 401 and body["diagnosis"]["field"] == "account", body
    body = await verify(emulator, **masked, store_id="STORE-001", clerk_id="CLK-007", terminal_id="TERM-042")
    assert body["status"] == 100, body
    assert only_issuer(body)["payee_id"] == "526263"  # the BIN's issuer, as in Ingo's example
