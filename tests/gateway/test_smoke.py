"""The documented happy path: tokenize a card, push money with the token, replay it idempotently."""

from tests.support.bodies import CARD, v11


async def test_verify_then_process_then_idempotent_replay(emulator, card_token):
    process = v11(account_type="CA", amount=10.5, customer_account_token=card_token, source_of_funds=4,
                  participant_unique_id1="payment-1")
    status, first, headers = await emulator.post("/gateway/process", process)
    assert status == 200
    assert first["status"] == 100 and first["client_message"] == "Success"
    assert isinstance(first["data"]["transaction_id"], int)
    assert isinstance(first["time"], str)
    status, again, _ = await emulator.post("/gateway/process", process)
    assert again["status"] == 101
    assert again["client_message"] == "Success - Idempotent Response"
    assert again["data"]["transaction_id"] == first["data"]["transaction_id"]


async def test_health_and_unknown_path(emulator):
    response = await emulator.client.get("/_emulator/health")
    assert response.status == 200 and (await response.json())["status"] == "ok"
    response = await emulator.client.get("/no/such/path")
    assert response.status == 404
    assert (await response.json())["message"] == "no Route matched with those values"


async def test_journal_masks_card_and_drops_cvv(emulator, card_token):
    response = await emulator.client.get("/_emulator/requests?path=/gateway/verify")
    entry = (await response.json())["requests"][0]
    assert entry["request_body"]["account"] == "************1111"
    assert entry["request_body"]["cvv"] == "[removed]"
    assert "4111111111111111" not in str(entry)
    assert CARD["account"] not in str(entry)
