"""The v12 endpoints: POST /gateway/v12/debit/process, /risk/risksession/v2 and /risk/riskscore/v2."""

from __future__ import annotations

import uuid

import pytest

from tests.support.app import NOW
from tests.support.bodies import ACH, debit_body, echo, risk_session, score_body, v11

INCORRECT = "Transaction Failure- Contact Ingo Payments Client Services at 877-739-2926"
MISSING = "Transaction Failure - Contact Ingo Payments Client Services at 877-739-2926"


@pytest.fixture
async def ach_token(emulator) -> str:
    status, body, _ = await emulator.post("/gateway/verify", v11(**ACH))
    assert status == 200 and body["status"] == 100, body
    return body["data"]["customer_account_token"]


async def post(emulator, path: str, body) -> dict:
    status, document, _ = await emulator.post(path, body)
    assert status == 200, document
    return document


def assert_uuid4(value: str) -> None:
    assert uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value


# -- debit -----------------------------------------------------------------------------------------------------


async def test_debit_answers_in_the_v12_envelope(emulator, ach_token):
    sent = debit_body(ach_token)
    body = await post(emulator, "/gateway/v12/debit/process", sent)
    assert set(body) == {"request", "response", "transaction"}
    assert body["request"] == {"participant_id": "12345", "timestamp": str(NOW)}
    response = body["response"]
    assert response["status"] == "100"
    assert response["message"] == "Success"
    assert isinstance(response["duration"], str) and float(response["duration"]) >= 0
    transaction = body["transaction"]
    assert isinstance(transaction["transaction_id"], str) and transaction["transaction_id"].isdigit()
    assert transaction["customer_account_token"] == ach_token
    assert transaction["participant_unique_ids"] == {"participant_unique_id1": "pull-1",
                                                     "participant_unique_id2": "pull-2"}
    assert transaction["estimated_posting_date"] == "11/17/2026"
    assert transaction["estimated_posting_time"] == "Payment will post 11/17/2026"
    assert "status" not in body and "data" not in body


async def test_card_debit(emulator, card_token):
    body = await post(emulator, "/gateway/v12/debit/process", debit_body(card_token, account_type="CA",
                                                                           amount="20.00"))
    assert body["response"]["status"] == "100"
    assert body["transaction"]["customer_account_token"] == card_token


@pytest.mark.parametrize("path, value", [
    (("request", "participant_id"), 12345),
    (("request", "timestamp"), NOW),
    (("transaction", "transaction_amount", "amount"), 101.96),
    (("transaction", "transaction_amount", "currency_code"), "EUR"),
    (("transaction", "transaction_amount", "amount"), "101.965"),
    (("transaction", "account_type"), "PD"),
])
async def test_debit_wants_strings_where_ingo_documents_strings(emulator, ach_token, path, value):
    body = debit_body(ach_token)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    document = await post(emulator, "/gateway/v12/debit/process", body)
    assert document["response"]["status"] == "401"
    assert document["response"]["message"] == INCORRECT
    assert document["diagnosis"]["field"] == ".".join(path)
    assert document["request"] == body["request"]
    assert "transaction" not in document


async def test_debit_without_transaction_is_400(emulator):
    document = await post(emulator, "/gateway/v12/debit/process", {"request": echo()})
    assert document["response"]["status"] == "400"
    assert document["response"]["message"] == MISSING
    assert document["diagnosis"]["field"] == "transaction"


async def test_debit_of_a_zero_amount_is_401(emulator, ach_token):
    document = await post(emulator, "/gateway/v12/debit/process", debit_body(ach_token, amount="0.00"))
    assert document["response"]["status"] == "401"


async def test_debit_for_another_participant_id_is_401(emulator, ach_token):
    body = debit_body(ach_token)
    body["request"]["participant_id"] = "54321"
    document = await post(emulator, "/gateway/v12/debit/process", body)
    assert document["response"]["status"] == "401"
    assert document["diagnosis"]["field"] == "request.participant_id"


async def test_debit_timestamp_too_far_off_is_402(emulator, ach_token):
    document = await post(emulator, "/gateway/v12/debit/process", debit_body(ach_token, timestamp=NOW + 301))
    assert document["response"]["status"] == "402"


async def test_debit_with_an_unknown_token_is_760(emulator):
    document = await post(emulator, "/gateway/v12/debit/process", debit_body(str(uuid.uuid4())))
    assert document["response"]["status"] == "760"
    assert document["response"]["message"] == "Invalid customer account token"


async def test_debit_of_a_card_token_as_ach_is_761(emulator, card_token):
    document = await post(emulator, "/gateway/v12/debit/process", debit_body(card_token))
    assert document["response"]["status"] == "761"


async def test_debit_above_the_maximum_the_verify_shows_is_not_refused(emulator, ach_token):
    document = await post(emulator, "/gateway/v12/debit/process", debit_body(ach_token, amount="1000.01"))
    assert document["response"]["status"] == "100", document


async def test_debit_is_idempotent_on_participant_unique_id1(emulator, ach_token):
    first = await post(emulator, "/gateway/v12/debit/process", debit_body(ach_token, "pull-7"))
    again = await post(emulator, "/gateway/v12/debit/process", debit_body(ach_token, "pull-7"))
    assert again["response"]["status"] == "101"
    assert again["response"]["message"] == "Success - Idempotent Response"
    assert again["transaction"] == first["transaction"]
    other = await post(emulator, "/gateway/v12/debit/process", debit_body(ach_token, "pull-8"))
    assert other["response"]["status"] == "100"
    assert int(other["transaction"]["transaction_id"]) > int(first["transaction"]["transaction_id"])


async def test_debit_and_push_keep_separate_idempotency(emulator, ach_token):
    pull = await post(emulator, "/gateway/v12/debit/process", debit_body(ach_token, "same-id"))
    push = await post(emulator, "/gateway/process", v11(account_type="AC", amount=5.0, source_of_funds=4,
                                                         customer_account_token=ach_token,
                                                         participant_unique_id1="same-id"))
    assert pull["response"]["status"] == "100"
    assert push["status"] == 100


# -- risk ------------------------------------------------------------------------------------------------------


async def test_risk_session_answers_in_the_v12_envelope(emulator):
    body = await post(emulator, "/risk/risksession/v2", {"request": echo()})
    assert set(body) == {"request", "response", "session"}
    assert body["request"] == echo()
    assert body["response"]["status"] == "100"
    assert body["response"]["message"] == "Success"
    assert isinstance(body["response"]["duration"], str)
    assert_uuid4(body["session"]["risk_session_token"])


async def test_risk_session_with_a_numeric_participant_id_is_401(emulator):
    body = await post(emulator, "/risk/risksession/v2", {"request": {"participant_id": 12345,
                                                                     "timestamp": str(NOW)}})
    assert body["response"]["status"] == "401"


async def test_risk_score_then_debit_with_the_assessment(emulator, ach_token):
    session = await risk_session(emulator)
    body = await post(emulator, "/risk/riskscore/v2", score_body(ach_token, session))
    assert set(body) == {"request", "response", "transaction"}
    assert body["response"]["status"] == "100"
    transaction = body["transaction"]
    assert transaction["score"] == "3000"
    assert_uuid4(transaction["risk_assessment_token"])
    assert transaction["fraud_guarantee"] == {"guarantee_requested": "1", "transaction_guaranteed": "1"}
    debit = await post(emulator, "/gateway/v12/debit/process",
                       debit_body(ach_token, risk_assessment_token=transaction["risk_assessment_token"]))
    assert debit["response"]["status"] == "100"


async def test_debit_with_an_unknown_risk_assessment_token_is_401(emulator, ach_token):
    document = await post(emulator, "/gateway/v12/debit/process",
                          debit_body(ach_token, risk_assessment_token=str(uuid.uuid4())))
    assert document["response"]["status"] == "401"
    assert document["diagnosis"]["field"] == "transaction.risk_assessment_token"


async def test_risk_score_with_an_unknown_session_is_401(emulator, ach_token):
    body = await post(emulator, "/risk/riskscore/v2", score_body(ach_token, str(uuid.uuid4())))
    assert body["response"]["status"] == "401"
    assert body["diagnosis"]["field"] == "transaction.risk_session_token"


async def test_risk_session_expires_after_30_minutes(emulator, ach_token):
    session = await risk_session(emulator)
    emulator.clock.advance(1799)  # business time moves; the client signs at its own time, as ever
    body = await post(emulator, "/risk/riskscore/v2", score_body(ach_token, session))
    assert body["response"]["status"] == "100"
    emulator.clock.advance(2)  # 1801 s after the session was created
    body = await post(emulator, "/risk/riskscore/v2", score_body(ach_token, session))
    assert body["response"]["status"] == "401"
    assert body["diagnosis"]["field"] == "transaction.risk_session_token"
    assert "expired" in body["diagnosis"]["detail"]


async def test_risk_score_only_for_card_and_ach(emulator, ach_token):
    session = await risk_session(emulator)
    body = await post(emulator, "/risk/riskscore/v2", score_body(ach_token, session, account_type="PD"))
    assert body["response"]["status"] == "401"
    assert body["diagnosis"]["field"] == "transaction.account_type"


async def test_risk_score_with_boolean_flags_instead_of_strings_is_401(emulator, ach_token):
    session = await risk_session(emulator)
    body = score_body(ach_token, session)
    body["transaction"]["phone_verified"] = False
    document = await post(emulator, "/risk/riskscore/v2", body)
    assert document["response"]["status"] == "401"
    assert document["diagnosis"]["field"] == "transaction.phone_verified"
