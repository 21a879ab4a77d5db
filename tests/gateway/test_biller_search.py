"""POST /gateway/v1/biller/search: billers for a bill account number, 700 when none takes it."""

from __future__ import annotations

from tests.support.app import NOW

INCORRECT = "Transaction Failure- Contact Ingo Payments Client Services at 877-739-2926"


async def search(emulator, **fields):
    status, body, _ = await emulator.post("/gateway/v1/biller/search", {"participant_id": 12345, **fields})
    assert status == 200, body
    return body


async def test_billers_for_an_account_number(emulator):
    body = await search(emulator, account="1234567890", timestamp=NOW, version=11)
    assert body["status"] == 100
    assert body["client_message"] == "Success"
    assert isinstance(body["time"], str)
    billers = body["data"]["billers"]
    assert len(billers) >= 1
    for biller in billers:
        assert set(biller) == {"id", "name", "address", "city", "state", "zip", "min", "max", "card_type",
                               "estimated_posting_time", "estimated_posting_date", "credit_enabled",
                               "debit_enabled"}
        assert isinstance(biller["id"], str) and biller["id"].isdigit()
        assert float(biller["min"]) < float(biller["max"])
        assert "." in biller["min"] and len(biller["min"].split(".")[1]) == 2
        assert biller["card_type"] == "NA"
        assert biller["estimated_posting_time"] == "Payment will post 11/18/2026"
        assert biller["estimated_posting_date"] == "11/18/2026"
        assert (biller["credit_enabled"], biller["debit_enabled"]) == (1, 0)


async def test_search_as_reference_2_5_documents_it_without_timestamp_or_version(emulator):
    body = await search(emulator, account="1234567890")
    assert body["status"] == 100


async def test_debit_rail(emulator):
    body = await search(emulator, account="1234567890", rail_type="DEBIT")
    assert all((b["credit_enabled"], b["debit_enabled"]) == (0, 1) for b in body["data"]["billers"])


async def test_no_biller_takes_the_account_is_700(emulator):
    body = await search(emulator, account="no-such-account", timestamp=NOW, version=11)
    assert body["status"] == 700
    assert body["client_message"] == "Account not currently available for processing via Ingo"
    assert body["data"] == {}


async def test_search_validation(emulator):
    body = await search(emulator)
    assert body["status"] == 400
    assert body["diagnosis"]["field"] == "account"
    body = await search(emulator, account="1234567890", rail_type="WIRE")
    assert body["status"] == 401
    assert body["client_message"] == INCORRECT
    body = await search(emulator, account="1234567890", timestamp=NOW - 301)
    assert body["status"] == 402
    body = await search(emulator, account="1234567890", version=10)
    assert body["status"] == 401
    body = await search(emulator, account="1234567890", participant_id=54321)
    assert body["status"] == 401
