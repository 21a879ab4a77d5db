"""Request bodies the tests send, as Ingo's pages show them: v11 gateway bodies (a card, a bank account, a
recipient, a beneficiary, an iFrame session) and the v12 debit and risk bodies."""

from __future__ import annotations

from typing import Any

from tests.support.app import NOW, Signed


def v11(**fields: Any) -> dict[str, Any]:
    """participant_id, timestamp and version as the test clock sees them, plus ``fields``."""
    return {"participant_id": 12345, "timestamp": NOW, "version": 11, **fields}


CARD = {"account_type": "CA", "participant_unique_id1": "customer-1", "account": "4111111111111111",
        "expiration_date": "2912", "cvv": "123", "recipient_first_name": "Jane", "recipient_last_name": "Doe",
        "recipient_address1": "1 Main St", "recipient_city": "Atlanta", "recipient_state": "GA",
        "recipient_zip": "30301"}
ACH = {"account_type": "AC", "participant_unique_id1": "customer-2", "account": "22222222",
       "routing_number": "011000015", "fi_account_type": "1", "fi_account_classification": "1",
       "recipient_first_name": "John", "recipient_last_name": "Roe", "recipient_address1": "2 Oak Ave",
       "recipient_city": "Austin", "recipient_state": "TX", "recipient_zip": "73301"}

SESSION = {"participant_unique_id1": "session-request-1",
           "recipient_information": {"first_name": "Jane", "last_name": "Doe", "address_line1": "1 Main St",
                                     "city": "Atlanta", "state": "GA", "zip_code": "30301",
                                     "email_address": "jane.doe@example.com", "mobile_number": "5555550100"},
           "language_locale_code": "en-US"}
RECIPIENT = {"recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
             "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}
BENEFICIARY = {"beneficiary_account": "3000000038", "beneficiary_first_name": "Jane",
               "beneficiary_last_name": "Doe", "beneficiary_address1": "1 Main St", "beneficiary_city": "Atlanta",
               "beneficiary_state": "GA", "beneficiary_zip": "30301"}


def echo(timestamp: int = NOW, participant_id: str = "12345") -> dict[str, str]:
    """A v12 body's ``request`` object: the participant and the timestamp, as strings."""
    return {"participant_id": participant_id, "timestamp": str(timestamp)}


def debit_body(token: str, puid1: str = "pull-1", amount: str = "101.96", account_type: str = "AC",
               timestamp: int = NOW, **transaction: Any) -> dict[str, Any]:
    """A v12 debit (pull) of ``amount`` from the account of ``token``."""
    return {"request": echo(timestamp),
            "transaction": {"account_type": account_type,
                            "transaction_amount": {"currency_code": "USD", "amount": amount},
                            "participant_unique_ids": {"participant_unique_id1": puid1,
                                                       "participant_unique_id2": "pull-2"},
                            "customer_account_token": token, "source_of_funds": 4, **transaction}}


async def risk_session(emulator: Signed, timestamp: int = NOW) -> str:
    """A new risk session's token (POST /risk/risksession/v2)."""
    status, body, _ = await emulator.post("/risk/risksession/v2", {"request": echo(timestamp)})
    assert status == 200 and body["response"]["status"] == "100", body
    return str(body["session"]["risk_session_token"])


def score_body(token: str, session: str, timestamp: int = NOW, account_type: str = "AC") -> dict[str, Any]:
    """A v12 risk score request for the account of ``token`` in risk session ``session``."""
    return {"request": echo(timestamp),
            "transaction": {"account_type": account_type,
                            "transaction_amount": {"currency_code": "USD", "amount": "15.00"},
                            "customer_account_token": token, "customer_id": "customer-2",
                            "risk_session_token": session, "phone": "5555550100", "phone_verified": "false",
                            "email": "john@example.com", "email_verified": "true", "dob": "01/02/2000"},
            "transaction_ifa": {"ssn": "6789", "device_id": "device-1"}}
