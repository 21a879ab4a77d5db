"""POST /gateway/process: pushes per account type, posting estimates, refusals and idempotency."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from emulator.settings import Settings
from tests.support.app import NOW, settings_for
from tests.support.bodies import ACH, BENEFICIARY, CARD, RECIPIENT, v11

MISSING = "Transaction Failure - Contact Ingo Payments Client Services at 877-739-2926"
INCORRECT = "Transaction Failure- Contact Ingo Payments Client Services at 877-739-2926"


async def tokenize(emulator, account_type: str) -> str:
    """Verify an account of ``account_type`` and return its token."""
    fields: dict[str, Any]
    if account_type == "CA":
        fields = CARD
    elif account_type in ("AC", "SD"):
        fields = {**ACH, "account_type": account_type}
    elif account_type == "BP":
        status, found, _ = await emulator.post("/gateway/v1/biller/search", v11(account="1234567890"))
        assert status == 200 and found["status"] == 100, found
        fields = {"account_type": "BP", "participant_unique_id1": "bill", "account": "1234567890",
                  "payee_id": found["data"]["billers"][0]["id"], **RECIPIENT}
    elif account_type in ("PD", "PU", "VE"):
        fields = {"account_type": account_type, "participant_unique_id1": "wallet", "account": "jane.doe@example.com",
                  "receiver_type": 1, **RECIPIENT}
    else:
        fields = {"account_type": "CK", "participant_unique_id1": "check", "beneficiary": BENEFICIARY}
    status, body, _ = await emulator.post("/gateway/verify", v11(**fields))
    assert status == 200 and body["status"] == 100, body
    return body["data"]["customer_account_token"]


def push(token: str, account_type: str = "CA", puid1: str = "payment-1", **fields):
    return v11(**{"account_type": account_type, "amount": 10.5, "customer_account_token": token,
                  "source_of_funds": 4, "participant_unique_id1": puid1, **fields})


async def process(emulator, body):
    status, document, _ = await emulator.post("/gateway/process", body)
    assert status == 200, document
    return document


@pytest.mark.parametrize("verified_as, paid_as, posting_time, posting_date", [
    ("CA", "CA", "Payment will post within 5 minutes.", "11/16/2026"),
    ("AC", "AC", "Payment will post 11/17/2026", "11/17/2026"),
    ("AC", "SD", "Payment will post 11/16/2026", "11/16/2026"),
    ("SD", "SD", "Payment will post 11/16/2026", "11/16/2026"),
    ("AC", "RT", "Payment will post within 5 minutes.", "11/16/2026"),
    ("BP", "BP", "Payment will post 11/18/2026", "11/18/2026"),
    ("PD", "PD", "Payment will post within 5 minutes.", "11/16/2026"),
    ("PU", "PU", "Payment will post within 5 minutes.", "11/16/2026"),
    ("VE", "VE", "Payment will post within 5 minutes.", "11/16/2026"),
    ("CK", "CK", "Payment will post 7-10 Days", "11/25/2026"),
])
async def test_push_succeeds_with_the_posting_estimate_of_its_type(emulator, verified_as, paid_as, posting_time,
                                                                  posting_date):
    token = await tokenize(emulator, verified_as)
    body = await process(emulator, push(token, paid_as, participant_unique_id2="second"))
    assert body["status"] == 100
    assert body["client_message"] == "Success"
    data = body["data"]
    assert data["estimated_posting_time"] == posting_time
    assert data["estimated_posting_date"] == posting_date
    assert isinstance(data["transaction_id"], int) and not isinstance(data["transaction_id"], bool)
    assert data["request_timestamp"] == NOW
    assert data["customer_account_token"] == token
    assert data["participant_unique_id1"] == "payment-1"
    assert data["participant_unique_id2"] == "second"
    assert ("check_number" in data) == (paid_as == "CK")


async def test_check_push_returns_a_check_number_string(emulator):
    token = await tokenize(emulator, "CK")
    first = await process(emulator, push(token, "CK", "check-1", check_memo_data="Rebate"))
    second = await process(emulator, push(token, "CK", "check-2"))
    assert isinstance(first["data"]["check_number"], str)
    assert first["data"]["check_number"].isdigit()
    assert first["data"]["check_number"] != second["data"]["check_number"]


async def test_transaction_ids_are_integers_that_increase(emulator, card_token):
    ids = []
    for n in range(3):
        body = await process(emulator, push(card_token, puid1=f"payment-{n}"))
        ids.append(body["data"]["transaction_id"])
    assert all(isinstance(i, int) for i in ids)
    assert ids[0] < ids[1] < ids[2]


async def test_posting_dates_skip_the_weekend(emulator):
    ach = await tokenize(emulator, "AC")
    check = await tokenize(emulator, "CK")
    emulator.clock.advance(4 * 86400)  # Friday 20 November 2026 (business time; the client signs at its own)
    body = await process(emulator, push(ach, "AC", "friday-ach"))
    assert body["data"]["estimated_posting_date"] == "11/23/2026"
    body = await process(emulator, push(check, "CK", "friday-check"))
    assert body["data"]["estimated_posting_date"] == "12/01/2026"
    emulator.clock.advance(86400)  # Saturday
    body = await process(emulator, push(ach, "SD", "saturday-sd"))
    assert body["data"]["estimated_posting_time"] == "Payment will post 11/23/2026"


# -- refusals --------------------------------------------------------------------------------------------------


async def test_amount_zero_is_401(emulator, card_token):
    body = await process(emulator, push(card_token, amount=0))
    assert body["status"] == 401
    assert body["client_message"] == INCORRECT
    assert body["diagnosis"]["field"] == "amount"


async def test_amount_as_a_string_is_401(emulator, card_token):
    body = await process(emulator, {**push(card_token), "amount": "10.50"})
    assert body["status"] == 401
    assert body["diagnosis"]["field"] == "amount"


async def test_amount_missing_is_400(emulator, card_token):
    fields = {k: v for k, v in push(card_token).items() if k != "amount"}
    body = await process(emulator, fields)
    assert body["status"] == 400
    assert body["client_message"] == MISSING
    assert body["diagnosis"]["field"] == "amount"


@pytest.mark.parametrize("name", ["customer_account_token", "participant_unique_id1", "account_type"])
async def test_required_process_field_missing_is_400(emulator, card_token, name):
    fields = {k: v for k, v in push(card_token).items() if k != name}
    body = await process(emulator, fields)
    assert body["status"] == 400
    assert body["diagnosis"]["field"] == name


async def test_the_issuer_maximum_is_shown_not_enforced(emulator, card_token):
    """Ingo's ACH process example pays 1010.5 to an account its ACH verify example shows with max 1000.00: the
    maximum a verify shows is no per-payment refusal (a scenario or magic value answers 710 when needed)."""
    body = await process(emulator, push(card_token, amount=1500.01))
    assert body["status"] == 100, body


async def test_amount_below_the_issuer_minimum_is_refused(emulator, card_token):
    # The card's issuer (verify) needs at least 0.05.
    body = await process(emulator, push(card_token, amount=0.04))
    assert body["status"] == 602


async def test_unknown_token_is_760(emulator):
    body = await process(emulator, push(str(uuid.uuid4())))
    assert body["status"] == 760
    assert body["client_message"] == "Invalid customer account token"
    assert body["diagnosis"]["field"] == "customer_account_token"


async def test_card_token_paid_as_ach_is_761(emulator, card_token):
    body = await process(emulator, push(card_token, "AC"))
    assert body["status"] == 761
    assert body["client_message"] == "Customer account token is not valid for this account type"


async def test_unknown_process_account_type_is_401(emulator, card_token):
    body = await process(emulator, push(card_token, "WT"))
    assert body["status"] == 401  # wire tokens are for debit only
    body = await process(emulator, push(card_token, "XX", "payment-xx"))
    assert body["status"] == 401
    assert body["diagnosis"]["field"] == "account_type"


@pytest.mark.parametrize("changes, field", [
    ({"source_of_funds": 5}, "source_of_funds"),
    ({"source_of_funds": "4"}, "source_of_funds"),
    ({"participant_id": "12345"}, "participant_id"),
    ({"version": 10}, "version"),
    ({"participant_unique_id1": "p" * 256}, "participant_unique_id1"),
    ({"check_memo_data": "m" * 31}, "check_memo_data"),
])
async def test_incorrect_process_field_is_401(emulator, card_token, changes, field):
    body = await process(emulator, {**push(card_token), **changes})
    assert body["status"] == 401
    assert body["diagnosis"]["field"] == field


async def test_additional_detail_rules(emulator):
    token = await tokenize(emulator, "AC")
    detail = {"source_name": "CorpDisb", "descriptive_purpose": "Reimbursement"}  # 8 + 13 = 21 characters
    assert (await process(emulator, push(token, "AC", "ach-1", additional_detail=detail)))["status"] == 100
    too_long = {"source_name": "CorpDisbX", "descriptive_purpose": "Reimbursement"}  # 22 characters
    body = await process(emulator, push(token, "AC", "ach-2", additional_detail=too_long))
    assert body["status"] == 401
    body = await process(emulator, push(token, "RT", "rtp-1", additional_detail=detail))
    assert body["status"] == 401
    assert body["diagnosis"]["field"] == "additional_detail"


async def test_process_timestamp_too_far_off_is_402(emulator, card_token):
    body = await process(emulator, push(card_token, timestamp=NOW - 301))
    assert body["status"] == 402


# -- idempotency -----------------------------------------------------------------------------------------------


async def test_same_participant_unique_id1_replays_the_original_with_101(emulator, card_token):
    first = await process(emulator, push(card_token, puid1="payment-7", participant_unique_id2="two"))
    emulator.clock.advance(60)
    again = await process(emulator, push(card_token, puid1="payment-7", participant_unique_id2="two",
                                         timestamp=NOW + 60))
    assert again["status"] == 101
    assert again["client_message"] == "Success - Idempotent Response"
    assert again["data"] == first["data"]
    nxt = await process(emulator, push(card_token, puid1="payment-8", timestamp=NOW + 60))
    assert nxt["status"] == 100
    assert nxt["data"]["transaction_id"] != first["data"]["transaction_id"]


async def test_a_failed_original_is_not_replayed(emulator, card_token):
    declined = await process(emulator, push(card_token, puid1="payment-9", amount=0.01))  # under the card's minimum
    assert declined["status"] == 602
    retried = await process(emulator, push(card_token, puid1="payment-9", amount=50))
    assert retried["status"] == 100
    assert isinstance(retried["data"]["transaction_id"], int)
    unknown = await process(emulator, push(str(uuid.uuid4()), puid1="payment-10"))
    assert unknown["status"] == 760
    assert (await process(emulator, push(card_token, puid1="payment-10")))["status"] == 100


class TestInProgress:
    """With a slow push, a second request for the same participant_unique_id1 sees 104."""

    @pytest.fixture
    def settings(self) -> Settings:
        return settings_for(process_delay=0.5)

    async def test_concurrent_duplicate_gets_104_then_101(self, emulator, card_token):
        body = push(card_token, puid1="slow-1")
        results = await asyncio.gather(emulator.post("/gateway/process", body),
                                       emulator.post("/gateway/process", body))
        by_status = {document["status"]: document for _, document, _ in results}
        assert sorted(by_status) == [100, 104]
        assert by_status[104]["client_message"] == "In Progress - Idempotent Response"
        assert by_status[104]["data"]["participant_unique_id1"] == "slow-1"
        later = await process(emulator, body)
        assert later["status"] == 101
        assert later["data"]["transaction_id"] == by_status[100]["data"]["transaction_id"]

    async def test_different_ids_do_not_block_each_other(self, emulator, card_token):
        results = await asyncio.gather(emulator.post("/gateway/process", push(card_token, puid1="slow-a")),
                                       emulator.post("/gateway/process", push(card_token, puid1="slow-b")))
        assert [document["status"] for _, document, _ in results] == [100, 100]


@pytest.mark.parametrize("account_type", ["CA", "AC", "BP", "PU", "VE"])
async def test_recipient_phone_on_process_is_10_digits(emulator, account_type):
    """Ingo's card, ACH, BillPay and PayPal process pages: "10-digit recipient phone number"."""
    token = await tokenize(emulator, "AC" if account_type == "AC" else account_type)
    body = await process(emulator, push(token, account_type, recipient_phone="+1 (555) 555-0100"))
    assert body["status"] == 401 and body["diagnosis"]["field"] == "recipient_phone", body
    body = await process(emulator, push(token, account_type, "payment-2", recipient_phone="5555550100"))
    assert body["status"] == 100, body


async def test_a_check_allows_a_recipient_phone_of_25_characters(emulator):
    token = await tokenize(emulator, "CK")
    body = await process(emulator, push(token, "CK", recipient_phone="+1 (555) 555-0100 ext 12"))
    assert body["status"] == 100, body
    body = await process(emulator, push(token, "CK", "payment-2", recipient_phone="x" * 26))
    assert body["status"] == 401 and body["diagnosis"]["field"] == "recipient_phone", body
