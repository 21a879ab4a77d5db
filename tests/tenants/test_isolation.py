"""Two credentials ("test"/12345 and "other"/54321) never see each other's tokens, payments or sessions."""

from __future__ import annotations

from tests.support.app import NOW
from tests.support.bodies import ACH, CARD, v11

SESSION = {"participant_unique_id1": "session-1", "recipient_information": {"first_name": "Jane"}}


def as_other(**fields):
    return {**v11(**fields), "participant_id": 54321}


def push(token: str, puid1: str = "payment-1", account_type: str = "CA"):
    return {"account_type": account_type, "amount": 25.0, "customer_account_token": token, "source_of_funds": 4,
            "participant_unique_id1": puid1}


async def test_a_token_belongs_to_the_participant_that_verified_it(emulator, card_token):
    other = emulator.as_user("other")
    _, body, _ = await other.post("/gateway/verify", as_other(account_type="CA", participant_unique_id1="c",
                                                              customer_account_token=card_token))
    assert body["status"] == 760
    _, body, _ = await other.post("/gateway/process", as_other(**push(card_token)))
    assert body["status"] == 760
    _, body, _ = await other.post("/gateway/v12/debit/process", {
        "request": {"participant_id": "54321", "timestamp": str(NOW)},
        "transaction": {"account_type": "CA", "transaction_amount": {"currency_code": "USD", "amount": "5.00"},
                        "participant_unique_ids": {"participant_unique_id1": "pull-1"},
                        "customer_account_token": card_token}})
    assert body["response"]["status"] == "760"
    # ... and still works for its owner.
    _, body, _ = await emulator.post("/gateway/process", v11(**push(card_token)))
    assert body["status"] == 100


async def test_the_same_account_gets_a_different_token_per_participant(emulator, card_token):
    other = emulator.as_user("other")
    _, body, _ = await other.post("/gateway/verify", as_other(**CARD))
    assert body["status"] == 100
    assert body["data"]["customer_account_token"] != card_token


async def test_idempotency_records_are_per_participant(emulator, card_token):
    other = emulator.as_user("other")
    _, body, _ = await other.post("/gateway/verify", as_other(**ACH))
    other_token = body["data"]["customer_account_token"]
    _, mine, _ = await emulator.post("/gateway/process", v11(**push(card_token, "shared-id")))
    _, theirs, _ = await other.post("/gateway/process", as_other(**push(other_token, "shared-id", "AC")))
    assert mine["status"] == 100
    assert theirs["status"] == 100
    assert theirs["data"]["transaction_id"] != mine["data"]["transaction_id"]
    assert theirs["data"]["customer_account_token"] == other_token
    _, replay, _ = await other.post("/gateway/process", as_other(**push(other_token, "shared-id", "AC")))
    assert replay["status"] == 101
    assert replay["data"]["transaction_id"] == theirs["data"]["transaction_id"]


async def test_idempotency_keys_of_sessions_are_per_participant(emulator):
    other = emulator.as_user("other")
    headers = {"Idempotency-Key": "shared-key"}
    path = "/api/v1/sessions/point-in-time/plugin"
    _, mine, _ = await emulator.post(path, SESSION, extra_headers=headers)
    _, theirs, _ = await other.post(path, {**SESSION, "participant_unique_id1": "different"},
                                    extra_headers=headers)
    assert mine["status"] == 100
    assert theirs["status"] == 100  # not 13723: the key was used by another participant
    assert theirs["data"]["session_identifier"] != mine["data"]["session_identifier"]


async def test_risk_sessions_are_per_participant(emulator, card_token):
    _, session, _ = await emulator.post("/risk/risksession/v2",
                                        {"request": {"participant_id": "12345", "timestamp": str(NOW)}})
    other = emulator.as_user("other")
    _, body, _ = await other.post("/gateway/verify", as_other(**CARD))
    other_token = body["data"]["customer_account_token"]
    _, score, _ = await other.post("/risk/riskscore/v2", {
        "request": {"participant_id": "54321", "timestamp": str(NOW)},
        "transaction": {"account_type": "CA", "transaction_amount": {"currency_code": "USD", "amount": "5.00"},
                        "customer_account_token": other_token,
                        "risk_session_token": session["session"]["risk_session_token"]}})
    assert score["response"]["status"] == "401"
    assert score["diagnosis"]["field"] == "transaction.risk_session_token"


async def test_a_participant_cannot_speak_for_another(emulator):
    other = emulator.as_user("other")
    _, body, _ = await other.post("/gateway/verify", v11(**CARD))  # participant_id 12345, signed as "other"
    assert body["status"] == 401
    assert body["diagnosis"]["field"] == "participant_id"
