"""What the HTTP layer shows: unknown paths and methods, HTTP status of business errors, the masked journal."""

from __future__ import annotations

import uuid

import pytest

from emulator.settings import Settings
from tests.support.app import NOW, settings_for
from tests.support.bodies import ACH, CARD, v11


async def test_unknown_paths_are_404_json(emulator):
    for method, path in (("GET", "/no/such/path"), ("POST", "/gateway/verify--nothing"), ("GET", "/gateway")):
        response = await emulator.client.request(method, path)
        assert response.status == 404, path
        assert response.content_type == "application/json"
        assert (await response.json())["message"] == "no Route matched with those values"
    status, body, _ = await emulator.post("/gateway/v99/verify", v11(**CARD))  # signed, still unknown
    assert status == 404
    assert body["message"] == "no Route matched with those values"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_wrong_method_on_an_endpoint_is_405_json(emulator, method):
    response = await emulator.client.request(method, "/gateway/verify")
    assert response.status == 405
    assert response.content_type == "application/json"
    assert "POST" in response.headers["Allow"]
    assert method in (await response.json())["message"]


async def test_business_errors_are_http_200_by_default(emulator):
    status, body, _ = await emulator.post("/gateway/process", v11(
        account_type="CA", amount=1.0, customer_account_token=str(uuid.uuid4()), source_of_funds=4,
        participant_unique_id1="p"))
    assert (status, body["status"]) == (200, 760)
    status, body, _ = await emulator.post("/gateway/verify", v11(account_type="CA"))
    assert (status, body["status"]) == (200, 400)


class TestMappedHttpStatus:
    """--error-http-status mapped: the HTTP status follows the Ingo status's family."""

    @pytest.fixture
    def settings(self) -> Settings:
        return settings_for(error_http_status="mapped")

    async def test_request_errors_are_400(self, emulator):
        status, body, _ = await emulator.post("/gateway/verify", v11(account_type="CA",
                                                                      participant_unique_id1="c"))
        assert (status, body["status"]) == (400, 400)
        status, body, _ = await emulator.post("/gateway/verify", v11(**{**CARD, "recipient_state": "ZZ"}))
        assert (status, body["status"]) == (400, 401)
        status, body, _ = await emulator.post("/gateway/verify", v11(**{**CARD, "timestamp": NOW + 301}))
        assert (status, body["status"]) == (400, 402)

    async def test_token_errors_are_422(self, emulator):
        status, body, _ = await emulator.post("/gateway/process", v11(
            account_type="CA", amount=1.0, customer_account_token=str(uuid.uuid4()), source_of_funds=4,
            participant_unique_id1="p"))
        assert (status, body["status"]) == (422, 760)
        status, body, _ = await emulator.post("/gateway/v12/debit/process", {
            "request": {"participant_id": "12345", "timestamp": str(NOW)},
            "transaction": {"account_type": "AC", "transaction_amount": {"currency_code": "USD", "amount": "5.00"},
                            "participant_unique_ids": {"participant_unique_id1": "pull"},
                            "customer_account_token": str(uuid.uuid4())}})
        assert (status, body["response"]["status"]) == (422, "760")

    async def test_successes_stay_200(self, emulator, card_token):
        body = v11(account_type="CA", amount=1.0, customer_account_token=card_token, source_of_funds=4,
                   participant_unique_id1="p")
        status, first, _ = await emulator.post("/gateway/process", body)
        assert (status, first["status"]) == (200, 100)
        status, again, _ = await emulator.post("/gateway/process", body)
        assert (status, again["status"]) == (200, 101)

    async def test_session_key_mismatch_is_409(self, emulator):
        path = "/api/v1/sessions/point-in-time/plugin"
        headers = {"Idempotency-Key": "key-1"}
        first = {"participant_unique_id1": "a", "recipient_information": {}}
        status, _, _ = await emulator.post(path, first, extra_headers=headers)
        assert status == 200
        status, body, _ = await emulator.post(path, {**first, "participant_unique_id1": "b"}, extra_headers=headers)
        assert (status, body["status"]) == (409, 13723)


async def journal(emulator, path: str) -> list[dict]:
    response = await emulator.client.get(f"/_emulator/requests?path={path}")
    assert response.status == 200
    return (await response.json())["requests"]


async def test_journal_masks_account_numbers_and_drops_cvv(emulator, card_token):
    await emulator.post("/gateway/verify", v11(**ACH))
    await emulator.post("/gateway/verify", v11(account_type="CK", participant_unique_id1="check", beneficiary={
        "beneficiary_account": "3000000038", "beneficiary_first_name": "Jane", "beneficiary_last_name": "Doe",
        "beneficiary_address1": "1 Main St", "beneficiary_city": "Atlanta", "beneficiary_state": "GA",
        "beneficiary_zip": "30301"}))
    entries = await journal(emulator, "/gateway/verify")
    assert len(entries) == 3
    text = str(entries)
    assert "4111111111111111" not in text
    assert "22222222" not in text
    assert "3000000038" not in text
    check, ach, card = entries  # newest first
    assert card["request_body"]["account"] == "************1111"
    assert card["request_body"]["cvv"] == "[removed]"
    assert ach["request_body"]["account"] == "****2222"
    assert check["request_body"]["beneficiary"]["beneficiary_account"] == "******0038"
    assert card["response_body"]["data"]["last_4"] == "1111"
    assert card["ingo_status"] == 100 and card["participant_id"] == 12345


async def test_journal_keeps_no_cvv_of_a_refused_request(emulator):
    await emulator.post("/gateway/verify", v11(**{**CARD, "cvv": "4321", "recipient_state": "ZZ"}))
    entries = await journal(emulator, "/gateway/verify")
    assert entries[0]["ingo_status"] == 401
    assert "4321" not in str(entries)
    assert "4111111111111111" not in str(entries)


async def test_a_path_as_ingos_pages_print_it_is_404_and_names_the_endpoint(emulator):
    """Ingo's pages show /gateway/verify--card and the like; the real endpoints are shared (the API-specs page)."""
    for path, endpoint in (("/gateway/verify--card", "/gateway/verify"), ("/gateway/process--paypal-venmo",
                           "/gateway/process"), ("/gateway/v12/debit/process--ach", "/gateway/v12/debit/process")):
        status, body, _ = await emulator.post(path, v11(**CARD))
        assert status == 404 and body["message"] == "no Route matched with those values", body
        assert (body["diagnosis"]["code"] == "documentation_path"
                and endpoint + " for every" in body["diagnosis"]["detail"])
