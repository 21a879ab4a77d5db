"""The OpenAPI document: served as committed, true to the routes, valid OpenAPI 3.1, and true to real answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

from emulator.app import ROUTES, create_app
from emulator.core.validation import validate
from emulator.gateway import schemas as gw
from emulator.openapi import document as openapi
from emulator.settings import Settings
from tests.support.app import NOW, Signed, settings_for
from tests.support.bodies import CARD, v11
from tests.support.paths import ROOT

DOCUMENT = ROOT / "docs" / "openapi.json"
REGENERATE = "regenerate it: scripts/regenerate"
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item if method in METHODS}


def conforms(document: dict[str, Any], path: str, method: str, status: int, body: Any,
             headers: Any = None) -> None:
    """``body`` (and the required ``headers``) match what the document says ``method path`` answers with ``status``."""
    response = document["paths"][path][method.lower()]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, f"{method} {path} {status} breaks the document: {problems}\n{body}"
    for name, header in response.get("headers", {}).items():
        if header.get("required"):
            assert headers is not None and name in headers, f"{method} {path} {status} lacks the header {name}"


async def test_served_document_is_the_committed_file(aiohttp_client) -> None:
    client = await aiohttp_client(create_app(Settings(quiet=True)))
    response = await client.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.text() == openapi.render(ROUTES), "the served document is not the one the builder makes"
    assert DOCUMENT.read_text(encoding="utf-8") == openapi.render(ROUTES), f"docs/openapi.json is stale; {REGENERATE}"


async def test_openapi_json_is_open_even_with_an_admin_token(aiohttp_client) -> None:
    client = await aiohttp_client(create_app(Settings(quiet=True, admin_token="s3cret")))
    assert (await client.get("/openapi.json")).status == 200


def test_every_route_is_documented_and_every_operation_is_a_route(document: dict[str, Any]) -> None:
    app = create_app(Settings(quiet=True))
    served = {(route.method, openapi.openapi_path(route.resource.canonical))
              for route in app.router.routes() if route.method != "*" and route.resource is not None}
    documented = operations(document)
    assert served - documented == set(), f"routes missing from the document; {REGENERATE}"
    assert documented - served == set(), f"documented operations no route serves; {REGENERATE}"


def test_every_operation_documents_its_success_and_refusals_carry_a_message(document: dict[str, Any]) -> None:
    """A generated client needs the success answer of every operation (a 201 included), and must not read a
    refusal (a 409 of minting a tenant that exists, a 503 of too many waits) as the success shape."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert any(code.startswith("2") for code in answers), f"{method.upper()} {path}: no success answer"
    minting = document["paths"]["/_emulator/credentials"]["post"]["responses"]
    assert "201" in minting and minting["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/Message")
    waiting = document["paths"]["/_emulator/requests/wait"]["post"]["responses"]
    assert waiting["409"]["content"] == waiting["200"]["content"]  # near misses come in the answer's shape
    assert waiting["503"]["content"]["application/json"]["schema"]["$ref"].endswith("/Message")


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    errors = [str(error.message) for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_the_only_server_is_where_the_emulator_listens_by_default(document: dict[str, Any]) -> None:
    defaults = Settings()
    assert [server["url"] for server in document["servers"]] == [f"http://{defaults.host}:{defaults.port}"]


def test_signed_operations_document_signing_and_refusals(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["hmac"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "request-line x-date content-type content-sha512 content-length" in scheme["description"]
    signed = [(path, item["post"]) for path, item in document["paths"].items()
              if item.get("post", {}).get("security") == [{"hmac": []}]]
    assert {path for path, _ in signed} == {
        "/gateway/verify", "/gateway/process", "/gateway/v12/debit/process", "/gateway/v1/biller/search",
        "/gateway/search", "/risk/risksession/v2", "/risk/riskscore/v2", "/api/v1/sessions/point-in-time/plugin"}
    for path, operation in signed:
        assert {"200", "400", "401", "413", "429"} <= set(operation["responses"]), path
        assert {p["name"] for p in operation["parameters"]} >= {"X-Date", "Content-sha512"}, path
        assert operation["requestBody"]["content"]["application/json"]["examples"], path
        assert "RateLimit-Remaining" in operation["responses"]["429"]["headers"], path
    verify = document["components"]["schemas"]["VerifyRequest"]
    assert verify["discriminator"]["propertyName"] == "account_type"
    assert set(verify["discriminator"]["mapping"]) == set(gw.VERIFY_SCHEMAS)


def test_request_examples_are_valid_for_the_document_and_for_the_server(document: dict[str, Any]) -> None:
    models = {"VerifyRequest": None, "Process": gw.Process, "Debit": gw.Debit, "RiskSession": gw.RiskSession,
              "RiskScore": gw.RiskScore, "BillerSearch": gw.BillerSearch,
              "PayeeSearch": gw.PayeeSearch}
    seen = 0
    for item in document["paths"].values():
        body = item.get("post", {}).get("requestBody", {}).get("content", {}).get("application/json")
        if not body or "examples" not in body:
            continue
        schema = body["schema"]
        validator = Draft202012Validator({**schema, "components": document["components"]})
        for name, example in body["examples"].items():
            value = example["value"]
            assert not list(validator.iter_errors(value)), (name, list(validator.iter_errors(value)))
            model_name = schema["$ref"].rsplit("/", 1)[1]
            model: Any = models.get(model_name, ...)
            if model is None:
                model = gw.VERIFY_SCHEMAS[value["account_type"]][0]
            if model is not ...:
                validate(model, value)
            seen += 1
    assert seen >= 10


# -- real answers conform: the paths Schemathesis reaches only by luck --------------------------------------

async def test_a_payment_flow_answers_as_documented(emulator: Signed, document: dict[str, Any]) -> None:
    status, body, headers = await emulator.post("/gateway/verify", v11(**CARD))
    assert (status, body["status"]) == (200, 100)
    conforms(document, "/gateway/verify", "POST", 200, body, headers)
    token = body["data"]["customer_account_token"]

    payout = v11(account_type="CA", amount=10.5, customer_account_token=token, source_of_funds=4,
                 participant_unique_id1="payout-1")
    for expected in (100, 101):  # the replay answers with the same data
        status, body, _ = await emulator.post("/gateway/process", payout)
        assert (status, body["status"]) == (200, expected), body
        conforms(document, "/gateway/process", "POST", 200, body)

    request = {"participant_id": "12345", "timestamp": str(NOW)}
    status, body, _ = await emulator.post("/risk/risksession/v2", {"request": request})
    assert body["response"]["status"] == "100"
    conforms(document, "/risk/risksession/v2", "POST", 200, body)
    amount = {"currency_code": "USD", "amount": "15.00"}
    status, body, _ = await emulator.post("/risk/riskscore/v2", {"request": request, "transaction": {
        "account_type": "CA", "transaction_amount": amount, "customer_account_token": token,
        "risk_session_token": body["session"]["risk_session_token"]}})
    assert body["response"]["status"] == "100", body
    conforms(document, "/risk/riskscore/v2", "POST", 200, body)
    status, body, _ = await emulator.post("/gateway/v12/debit/process", {"request": request, "transaction": {
        "account_type": "CA", "transaction_amount": amount, "customer_account_token": token,
        "participant_unique_ids": {"participant_unique_id1": "pull-1"},
        "risk_assessment_token": body["transaction"]["risk_assessment_token"]}})
    assert body["response"]["status"] == "100", body
    conforms(document, "/gateway/v12/debit/process", "POST", 200, body)

    status, body, _ = await emulator.post("/gateway/v1/biller/search", {"participant_id": 12345,
                                                                        "account": "1234567890"})
    assert body["status"] == 100
    conforms(document, "/gateway/v1/biller/search", "POST", 200, body)
    session = {"participant_unique_id1": "s-1", "recipient_information": {"first_name": "Jane"}}
    for expected in (100, 101):
        status, body, _ = await emulator.post("/api/v1/sessions/point-in-time/plugin", session,
                                              extra_headers={"Idempotency-Key": "key-1"})
        assert body["status"] == expected, body
        conforms(document, "/api/v1/sessions/point-in-time/plugin", "POST", 200, body)


async def test_refusals_answer_as_documented(emulator: Signed, document: dict[str, Any]) -> None:
    wrong = ('hmac username="test", algorithm="hmac-sha512", headers="request-line x-date content-type '
             'content-sha512 content-length", signature="' + "A" * 86 + '=="')
    status, body, headers = await emulator.post("/gateway/verify", v11(**CARD),
                                                extra_headers={"Authorization": wrong})
    assert (status, body["diagnosis"]["code"]) == (401, "signature_mismatch")
    conforms(document, "/gateway/verify", "POST", 401, body, headers)
    status, body, _ = await emulator.post("/gateway/v12/debit/process", b"[1, 2")
    assert status == 400
    conforms(document, "/gateway/v12/debit/process", "POST", 400, body)
    status, body, _ = await emulator.post("/gateway/verify", v11(**dict(CARD, account="4111111111111112")))
    assert status == 200 and body["status"] != 100 and body["diagnosis"]["field"] == "account", body
    conforms(document, "/gateway/verify", "POST", 200, body)


@pytest.mark.parametrize("settings", [Settings(rate_limit=1, quiet=True, max_body_size=2048)])
async def test_rate_limit_and_size_refusals_answer_as_documented(emulator: Signed, document: dict[str, Any]
                                                                 ) -> None:
    status, body, headers = await emulator.post("/gateway/v1/biller/search", {"participant_id": 12345,
                                                                              "account": "1234567890"})
    assert status == 200
    conforms(document, "/gateway/v1/biller/search", "POST", 200, body, headers)
    assert "RateLimit-Remaining" in headers
    status, body, headers = await emulator.post("/gateway/v1/biller/search", {"participant_id": 12345,
                                                                              "account": "1234567890"})
    assert status == 429
    conforms(document, "/gateway/v1/biller/search", "POST", 429, body, headers)
    status, body, headers = await emulator.post("/gateway/verify", v11(**CARD, participant_unique_id2="x" * 4096))
    assert status == 413
    conforms(document, "/gateway/verify", "POST", 413, body, headers)


@pytest.mark.parametrize("settings", [settings_for(error_http_status="mapped")])
async def test_mapped_business_errors_answer_as_documented(emulator: Signed, document: dict[str, Any]) -> None:
    status, body, _ = await emulator.post("/gateway/process", v11(
        account_type="CA", amount=10.5, customer_account_token="no-such-token", source_of_funds=4,
        participant_unique_id1="payout-2"))
    assert status in (400, 409, 422, 503), (status, body)
    conforms(document, "/gateway/process", "POST", status, body)
