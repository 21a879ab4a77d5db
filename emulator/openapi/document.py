"""The OpenAPI 3.1 document of the emulated API, built from the route tables and the request models.

Served unsigned at ``GET /openapi.json``; a copy is committed at ``docs/openapi.json``. Regenerate it after
changing a route or a request model with::

    python -m emulator.openapi > docs/openapi.json

(``tests/test_openapi.py`` fails while the two differ, and while a route of the app is missing from the document.)
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import sys
from typing import Any, Callable, Iterable

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from emulator import __version__
from emulator.auth.diagnosis import CANNOT_VERIFY, DOES_NOT_MATCH, UNAUTHORIZED
from emulator.web.envelopes import Dialect
from emulator.gateway import schemas as gw
from emulator.web.state import RouteSpec
from emulator.sessions import schemas as ss
from emulator.settings import Settings

from emulator.openapi.urls import OPENAPI_PATH  # noqa: E402  (one place for the path)
REF = "#/components/schemas/{model}"
#: Where the emulator listens by default (the Settings defaults); the document's only server.
DEFAULT_SERVER = f"http://{Settings.host}:{Settings.port}"
JSON = "application/json"

#: The example ``timestamp`` of the reference's bodies. Replace it with the current Unix time when you send an
#: example: the emulator refuses a body timestamp more than --clock-skew seconds away (Ingo status 402).
EXAMPLE_TIMESTAMP = 1576097360
EXAMPLE_TOKEN = "ca875cce-58c0-46a0-8f14-676190cc7df6"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def obj(properties: dict[str, Any] | None = None, required: Iterable[str] = (), **extra: Any) -> dict[str, Any]:
    """A JSON object schema (other properties allowed unless ``additionalProperties`` says otherwise)."""
    schema: dict[str, Any] = {"type": "object"}
    if properties:
        schema["properties"] = properties
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NULLABLE_STRING = {"type": ["string", "null"]}
DATE_MDY = {"type": "string", "pattern": r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$", "examples": ["04/21/2026"]}
MESSAGE = obj({"message": STRING}, ["message"])


# -- request bodies ----------------------------------------------------------------------------------------

#: One verify schema per request model, with the account types it checks (VERIFY_SCHEMAS, grouped by model).
def _verify_branches() -> list[tuple[type[BaseModel], list[str]]]:
    branches: dict[type[BaseModel], list[str]] = {}
    for account_type, (model, _required) in gw.VERIFY_SCHEMAS.items():
        branches.setdefault(model, []).append(account_type)
    return [(model, sorted(types)) for model, types in branches.items()]


REQUEST_MODELS: list[type[BaseModel]] = [
    *[model for model, _ in _verify_branches()], gw.Process, gw.Debit, gw.RiskSession, gw.RiskScore,
    gw.BillerSearch, ss.CreateSession,
]


def _request_schemas() -> dict[str, Any]:
    """components/schemas for every request model (and the models they use), as pydantic describes them."""
    _, top = models_json_schema([(model, "validation") for model in REQUEST_MODELS], ref_template=REF)
    found: dict[str, Any] = top.get("$defs", {})
    for model, account_types in _verify_branches():
        schema = found[model.__name__]
        schema["properties"]["account_type"] = {
            "type": "string", "enum": account_types,
            "description": "; ".join(f"{t}: {gw.VERIFY_ACCOUNT_TYPES[t]}" for t in account_types)}
        raw = gw.VERIFY_SCHEMAS[account_types[0]][1]
        schema["description"] = (
            f"Verify (tokenize) an account of type {', '.join(account_types)}. Send either "
            f"customer_account_token (re-verify) or the raw form, which needs {', '.join(raw)}; never both.")
    found["Process"]["properties"]["account_type"] = {"type": "string", "enum": list(gw.PROCESS_ACCOUNT_TYPES)}
    for name in ("VerifyCard", "VerifyBank", "VerifyBillPay", "VerifyWallet", "VerifyCheck", "Process",
                 "BillerSearch"):
        found[name]["properties"]["timestamp"] = dict(
            found[name]["properties"]["timestamp"],
            description="Unix seconds; more than --clock-skew (300 s) from the emulator clock is refused with "
                        "Ingo status 402")
    found["VerifyRequest"] = {
        "description": "A verify request: its account_type picks the fields that apply.",
        "oneOf": [ref(model.__name__) for model, _ in _verify_branches()],
        "discriminator": {"propertyName": "account_type", "mapping": {
            account_type: REF.format(model=model.__name__)
            for model, types in _verify_branches() for account_type in types}},
    }
    return found


RECIPIENT = {"recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
             "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}
V11_BASE = {"participant_id": 12345, "timestamp": EXAMPLE_TIMESTAMP, "version": 11}
V12_REQUEST = {"participant_id": "12345", "timestamp": str(EXAMPLE_TIMESTAMP)}


def _examples(**named: dict[str, Any]) -> dict[str, Any]:
    return {name: {"summary": name.replace("_", " "), "value": value} for name, value in named.items()}


REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "verify": _examples(
        card={**V11_BASE, "account_type": "CA", "participant_unique_id1": "customer-1", "account": "4111111111111111",
              "expiration_date": "2912", "cvv": "123", **RECIPIENT},
        ach={**V11_BASE, "account_type": "AC", "participant_unique_id1": "customer-2", "account": "22222222",
             "routing_number": "011000015", "fi_account_type": "1", "fi_account_classification": "1", **RECIPIENT},
        billpay={**V11_BASE, "account_type": "BP", "participant_unique_id1": "customer-3", "payee_id": "123457",
                 "account": "1234567890", **RECIPIENT},
        paypal={**V11_BASE, "account_type": "PU", "participant_unique_id1": "customer-4",
                "account": "jane.doe@example.com", "receiver_type": 1, **RECIPIENT},
        check={**V11_BASE, "account_type": "CK", "participant_unique_id1": "customer-5", "recipient_is_beneficiary": 1,
               "beneficiary": {"beneficiary_account": "00000038", "beneficiary_first_name": "Jane",
                               "beneficiary_last_name": "Doe", "beneficiary_address1": "1 Main St",
                               "beneficiary_city": "Atlanta", "beneficiary_state": "GA", "beneficiary_zip": "30301"}},
    ),
    "process": _examples(
        card={**V11_BASE, "account_type": "CA", "amount": 10.5, "customer_account_token": EXAMPLE_TOKEN,
              "source_of_funds": 4, "recipient_phone": "1231231234", "participant_unique_id1": "payout-1"},
    ),
    "debit": _examples(
        ach={"request": V12_REQUEST, "transaction": {
            "account_type": "AC", "transaction_amount": {"currency_code": "USD", "amount": "101.96"},
            "participant_unique_ids": {"participant_unique_id1": "pull-1"},
            "customer_account_token": EXAMPLE_TOKEN, "source_of_funds": 4,
            "additional_detail": {"source_name": "CorpDisb", "descriptive_purpose": "Refund"}}},
    ),
    "risk_session": _examples(session={"request": V12_REQUEST}),
    "risk_score": _examples(
        score={"request": V12_REQUEST, "transaction": {
            "account_type": "AC", "transaction_amount": {"currency_code": "USD", "amount": "15.00"},
            "customer_account_token": EXAMPLE_TOKEN, "risk_session_token": "0f7e2a3c-4b5d-4e6f-8a9b-0c1d2e3f4a5b",
            "customer_id": "customer-2", "phone_verified": "false", "email_verified": "true",
            "dob": "01/02/2000"}},
    ),
    "biller_search": _examples(search={"participant_id": 12345, "account": "1234567890", "rail_type": "CREDIT"}),
    "session": _examples(
        session={"participant_unique_id1": "session-1", "language_locale_code": "en-US",
                 "host_uri": "https://shop.example.com",
                 "recipient_information": {"first_name": "Jane", "last_name": "Doe", "city": "Atlanta",
                                           "state": "GA", "zip_code": "30301"}},
    ),
}


# -- responses ---------------------------------------------------------------------------------------------

def _response_schemas() -> dict[str, Any]:
    diagnosis = obj({"code": STRING, "detail": STRING, "field": STRING}, ["code", "detail"],
                    description="The emulator's explanation of a refusal (not sent by Ingo; --no-diagnosis "
                                "leaves it out)")
    credit_info = obj({"min": STRING, "max": STRING, "card_type": STRING, "estimated_posting_time": STRING,
                       "estimated_posting_date": DATE_MDY},
                      ["min", "max", "card_type", "estimated_posting_time", "estimated_posting_date"])
    issuer = obj({"payee_id": STRING, "payee_name": STRING, "payee_address": NULLABLE_STRING,
                  "payee_city": NULLABLE_STRING, "payee_state": NULLABLE_STRING, "payee_zip": NULLABLE_STRING,
                  "credit_info": ref("CreditInfo"), "issuing_network": STRING,
                  "credit_enabled": {"enum": [0, 1]}, "debit_enabled": {"enum": [0, 1]}},
                 ["payee_id", "payee_name", "credit_info", "issuing_network", "credit_enabled", "debit_enabled"])
    ids = {"participant_unique_id1": STRING, "participant_unique_id2": STRING}
    verify = obj({"customer_account_token": STRING, "last_4": STRING, "request_timestamp": INTEGER,
                  "issuers": {"type": "array", "items": ref("Issuer")}, "estimated_posting_date": DATE_MDY,
                  "estimated_posting_time": STRING, "expiration_date": STRING, "count": INTEGER, **ids},
                 ["customer_account_token", "last_4", "request_timestamp", *ids])
    payment = obj({"estimated_posting_time": STRING, "estimated_posting_date": DATE_MDY,
                   "transaction_id": INTEGER, "request_timestamp": INTEGER, "customer_account_token": STRING,
                   "check_number": {"type": "string", "description": "account_type CK only"}, **ids},
                  ["estimated_posting_time", "estimated_posting_date", "transaction_id", "customer_account_token",
                   *ids])
    biller = obj({"id": STRING, "name": STRING, "address": STRING, "city": STRING, "state": STRING, "zip": STRING,
                  "min": STRING, "max": STRING, "card_type": STRING, "estimated_posting_time": STRING,
                  "estimated_posting_date": DATE_MDY, "credit_enabled": {"enum": [0, 1]},
                  "debit_enabled": {"enum": [0, 1]}}, ["id", "name", "min", "max", "credit_enabled", "debit_enabled"])
    debit = obj({"estimated_posting_date": DATE_MDY, "estimated_posting_time": STRING,
                 "transaction_id": {"type": "string", "pattern": "^[0-9]+$"}, "customer_account_token": STRING,
                 "participant_unique_ids": obj(ids, list(ids))},
                ["estimated_posting_date", "estimated_posting_time", "transaction_id", "customer_account_token",
                 "participant_unique_ids"])
    session = obj({"session_identifier": STRING, "authorized_url": {"type": "string", "format": "uri"},
                   "authorized_url_expiration_utc": {
                       "type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"},
                   **ids}, ["session_identifier", "authorized_url", "authorized_url_expiration_utc", *ids])
    v11_common = {"status": {"type": "integer", "description": "Ingo's status: 100 success, others in the catalogue"},
                  "client_message": STRING, "data": {"type": "object"}, "diagnosis": ref("Diagnosis")}
    v11 = obj({**v11_common, "time": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{4}$"},
               "recipient_message": {"type": "string", "description": "PayPal/Venmo verify only"}},
              ["status", "client_message", "data", "time"],
              description="The gateway's v11 envelope. Business refusals answer HTTP 200 with their Ingo status "
                          "here (or a mapped 4xx/5xx with --error-http-status mapped).")
    session_envelope = obj({**v11_common, "time": {"type": "number"}}, ["status", "client_message", "data", "time"],
                           description="Session Management's envelope: like v11, but time is a number")
    v12 = obj({"request": {"type": "object", "description": "the request's `request` object, echoed"},
               "response": obj({"status": {"type": "string", "pattern": "^[0-9]+$"}, "message": STRING,
                                "duration": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{4}$"}},
                               ["status", "message", "duration"]),
               "diagnosis": ref("Diagnosis")},
              ["request", "response"], description="The v12 envelope of debit and risk: strings everywhere")
    kong = obj({"message": {"enum": [UNAUTHORIZED, CANNOT_VERIFY + ", a valid date or x-date header is required "
                                     "for HMAC Authentication", CANNOT_VERIFY, DOES_NOT_MATCH]},
                "request_id": STRING,
                "diagnosis": obj({"code": STRING, "detail": STRING}, ["code", "detail"],
                                 description="Why the signature was refused (not sent by Kong; --no-diagnosis "
                                             "leaves it out). Some codes add facts such as signing_string, "
                                             "server_time or offset_seconds.")},
               ["message", "request_id"])
    return {
        "Diagnosis": diagnosis, "CreditInfo": credit_info, "Issuer": issuer, "VerifyResult": verify,
        "PaymentResult": payment, "Biller": biller,
        "BillerSearchResult": obj({"billers": {"type": "array", "items": ref("Biller")}}, ["billers"]),
        "DebitResult": debit, "RiskSessionResult": obj({"risk_session_token": STRING}, ["risk_session_token"]),
        "RiskScoreResult": obj({"score": STRING, "risk_assessment_token": STRING, "fraud_guarantee": obj(
            {"guarantee_requested": STRING, "transaction_guaranteed": STRING})},
            ["score", "risk_assessment_token", "fraud_guarantee"]),
        "SessionResult": session, "V11Envelope": v11, "SessionEnvelope": session_envelope, "V12Envelope": v12,
        "KongUnauthorized": kong,
        "Error": obj({"message": STRING, "request_id": STRING}, ["message"]),
        "RateLimited": obj({"message": {"const": "API rate limit exceeded"}}, ["message"]),
    }


def _when_status(statuses: list[int], then: dict[str, Any], *, v12: bool = False) -> dict[str, Any]:
    """``then`` applies when the Ingo status is one of ``statuses`` (success answers carry their result)."""
    if v12:
        condition = {"properties": {"response": {"properties": {"status": {"enum": [str(s) for s in statuses]}},
                                                 "required": ["status"]}}, "required": ["response"]}
    else:
        condition = {"properties": {"status": {"enum": statuses}}, "required": ["status"]}
    return {"if": condition, "then": then}


#: What each signed endpoint takes and answers: summary, request schema, success schema.
SIGNED: dict[str, dict[str, Any]] = {
    "verify": {"summary": "Verify (tokenize) a recipient account", "request": "VerifyRequest",
               "success": _when_status([100], {"properties": {"data": ref("VerifyResult")}})},
    "process": {"summary": "Push a payment to a tokenized account (idempotent on participant_unique_id1)",
                "request": "Process",
                "success": _when_status([100, 101], {"properties": {"data": ref("PaymentResult")}})},
    "debit": {"summary": "Pull money from a tokenized card or bank account (v12)", "request": "Debit",
              "success": _when_status([100, 101], {"properties": {"transaction": ref("DebitResult")},
                                                   "required": ["transaction"]}, v12=True)},
    "biller_search": {"summary": "Find billers that accept an account number", "request": "BillerSearch",
                      "success": _when_status([100], {"properties": {"data": ref("BillerSearchResult")}})},
    "risk_session": {"summary": "Create a risk session (v12)", "request": "RiskSession",
                     "success": _when_status([100], {"properties": {"session": ref("RiskSessionResult")},
                                                     "required": ["session"]}, v12=True)},
    "risk_score": {"summary": "Score a transaction for risk (v12)", "request": "RiskScore",
                   "success": _when_status([100], {"properties": {"transaction": ref("RiskScoreResult")},
                                                   "required": ["transaction"]}, v12=True)},
    "session": {"summary": "Create an iFrame session and its authorized URL", "request": "CreateSession",
                "success": _when_status([100, 101], {"properties": {"data": ref("SessionResult")}})},
}
ENVELOPES = {Dialect.V11: "V11Envelope", Dialect.V12: "V12Envelope", Dialect.SESSION: "SessionEnvelope"}

RATE_HEADERS = {
    "RateLimit-Limit": "requests allowed per second for this credential",
    "RateLimit-Remaining": "requests left in the current one-second window",
    "RateLimit-Reset": "seconds until the window frees a request",
    "X-RateLimit-Limit-Second": "Kong's name for RateLimit-Limit",
    "X-RateLimit-Remaining-Second": "Kong's name for RateLimit-Remaining",
}

HMAC_DESCRIPTION = """\
Kong `hmac-auth`, as Ingo documents it:

    Authorization: hmac username="<username>", algorithm="hmac-sha512", \
headers="request-line x-date content-type content-sha512 content-length", signature="<Base64 signature>"

- `signature` is Base64 of HMAC-SHA512(secret, signing string) (`hmac-sha256` is accepted as legacy).
- The signing string is one line per name in `headers=`, in that order, joined with `\\n`: `request-line` gives
  `POST /path?query HTTP/1.1`; any other name gives `<name>: <header value>`.
- `X-Date` (RFC 1123, e.g. `Fri, 17 Jan 2020 19:59:29 GMT`) must be within 300 s of the emulator clock.
- `Content-sha512` is Base64 of the raw SHA-512 digest of the body; `Content-Length` the body's length in bytes;
  `Content-Type: application/json`.
- `request-line` and `x-date` must be signed, and `content-type`, `content-sha512`, `content-length` too when
  there is a body.

The built-in credential is username `test`, secret `ingopay-emulator-secret`, participant_id `12345`. A refusal
is HTTP 401 with Kong's `message`, a `request_id` and the emulator's `diagnosis`."""


def _signed_parameters(endpoint: str) -> list[dict[str, Any]]:
    parameters = [
        {"name": "X-Date", "in": "header", "required": True,
         "description": "RFC 1123 date, within 300 s of the emulator clock; signed",
         "schema": {"type": "string", "examples": ["Fri, 17 Jan 2020 19:59:29 GMT"]}},
        {"name": "Content-sha512", "in": "header", "required": True,
         "description": "Base64 of the raw SHA-512 digest of the body; signed",
         "schema": {"type": "string", "pattern": "^[A-Za-z0-9+/]{86}==$"}},
    ]
    if endpoint == "session":
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "description": "Within 2 hours the same key and body re-issue the session (status 101); "
                                          "other parameters are refused (13723)",
                           "schema": {"type": "string", "minLength": 1, "maxLength": 250}})
    return parameters


def _signed_operation(spec: RouteSpec, handler: Callable[..., Any]) -> dict[str, Any]:
    endpoint = spec.endpoint or ""
    about = SIGNED[endpoint]
    envelope = ENVELOPES[spec.dialect or Dialect.V11]
    success = {"allOf": [ref(envelope)], **about["success"]}
    mapped = ("(only with --error-http-status mapped) a business refusal of this family, in the endpoint's "
              "envelope")

    def envelope_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description, "content": {JSON: {"schema": schema}}}

    return {
        "operationId": endpoint,
        "summary": about["summary"],
        "tags": ["Session Management" if endpoint == "session" else "Risk" if endpoint.startswith("risk")
                 else "Gateway"],
        "security": [{"hmac": []}],
        "parameters": _signed_parameters(endpoint),
        "requestBody": {"required": True, "content": {JSON: {
            "schema": ref(about["request"]), "examples": REQUEST_EXAMPLES[endpoint]}}},
        "responses": {
            "200": {"description": "The outcome, in the envelope: Ingo status 100 (or 101, a replay) carries the "
                                   "result; any other status is a business refusal (the Ingo status, message and "
                                   "diagnosis in the body)",
                    "headers": {name: {"description": text + " (absent with --rate-limit 0)",
                                       "schema": {"type": "string", "pattern": "^[0-9]+$"}}
                                for name, text in RATE_HEADERS.items()},
                    "content": {JSON: {"schema": success}}},
            "400": envelope_response("The body is not a JSON object (Ingo status 401, diagnosis malformed_body); "
                                     "with --error-http-status mapped also request errors", ref(envelope)),
            "401": {"description": "The HMAC signature was refused (Kong's message)",
                    "headers": {"WWW-Authenticate": {"required": True, "schema": {"const": "hmac"}}},
                    "content": {JSON: {"schema": ref("KongUnauthorized")}}},
            **({"409": envelope_response(mapped + " (session)", ref(envelope))} if endpoint == "session" else {}),
            "413": {"description": "The body is larger than --max-body-size", "content": {JSON: {"schema": ref("Error")}}},
            "422": envelope_response(mapped + " (velocity, routing, token, issuer)", ref(envelope)),
            "429": {"description": "More than --rate-limit requests in one second for this credential",
                    "headers": {**{name: {"required": True, "description": text,
                                          "schema": {"type": "string", "pattern": "^[0-9]+$"}}
                                   for name, text in RATE_HEADERS.items()},
                                "Retry-After": {"required": True, "description": "seconds to wait",
                                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
                    "content": {JSON: {"schema": ref("RateLimited")}}},
            "503": envelope_response(mapped + " (system)", ref(envelope)),
        },
    }


# -- unsigned routes: the admin API, the session page, this document ---------------------------------------

def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _json_body(schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def _ok(schema: dict[str, Any], status: str = "200", description: str = "OK", **more: dict[str, Any]
        ) -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": schema}}}, **more}


BAD = {"400": {"description": "The request is not valid", "content": {JSON: {"schema": ref("Error")}}}}
NOT_FOUND = {"404": {"description": "Not found", "content": {JSON: {"schema": ref("Error")}}}}
PARTICIPANT_BODY = _json_body(obj({"participant_id": INTEGER}))
RATELIMIT = obj({"limit_per_second": INTEGER, "enabled": {"type": "boolean"},
                 "credentials": {"type": "object", "additionalProperties": obj(
                     {"limit": INTEGER, "in_window": INTEGER, "remaining": INTEGER, "forced_refusals": INTEGER})}},
                ["limit_per_second", "enabled", "credentials"])
CLOCK = obj({"now": {"type": "number"}, "iso": STRING, "frozen": {"type": "boolean"}, "offset_seconds": {"type": "number"},
             "pending": {"type": "array"}, "pending_count": INTEGER},
            ["now", "iso", "frozen", "offset_seconds", "pending", "pending_count"])
LISTED = {"type": "array", "items": {"type": "object"}}

#: The admin API's main operations, keyed by (method, path as in the route table).
ADMIN: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/_emulator/health"): {
        "summary": "Ready once scenarios are loaded (open even with --admin-token)",
        "responses": {**_ok(obj({"status": {"const": "ok"}, "version": STRING}, ["status", "version"])),
                      **_ok(obj({"status": {"const": "starting"}, "version": STRING}, ["status"]), "503",
                            "Still starting")}},
    ("GET", "/_emulator/requests"): {
        "summary": "The request journal (masked), newest first",
        "parameters": [_q("path", STRING, "path prefix"), _q("status", INTEGER, "HTTP status"),
                       _q("participant", INTEGER, "participant_id"), _q("limit", INTEGER, "at most this many")],
        "responses": {**_ok(obj({"count": INTEGER, "requests": LISTED}, ["count", "requests"])), **BAD}},
    ("POST", "/_emulator/reset"): {
        "summary": "Reset everything, or one participant ({\"participant_id\": N})", "requestBody": PARTICIPANT_BODY,
        "responses": {**_ok(obj({"reset": {"enum": ["everything", "participant"]}, "participant_id": INTEGER},
                                ["reset"])), **BAD}},
    ("GET", "/_emulator/ratelimit"): {"summary": "Each credential's rate window", "responses": _ok(RATELIMIT)},
    ("POST", "/_emulator/ratelimit"): {
        "summary": "Make a credential's next N requests get 429, or reset windows",
        "requestBody": _json_body(obj({"username": STRING, "refuse_next": {"type": "integer", "minimum": 0},
                                       "reset": {"type": "boolean"}})),
        "responses": {**_ok(RATELIMIT), **BAD}},
    ("POST", "/_emulator/sign"): {
        "summary": "The signing oracle: the signing string and signature the server expects",
        "requestBody": _json_body(obj({
            "method": STRING, "path": {"type": "string", "examples": ["/gateway/verify"]},
            "headers": {"type": "object", "additionalProperties": STRING},
            "body": {"type": "string", "description": "the raw body text, as sent"},
            "body_base64": STRING, "username": STRING, "http_version": STRING}, ["path"]), required=True),
        "responses": {**_ok(obj({"signing_string": STRING, "signature": STRING, "algorithm": STRING,
                                 "username": STRING, "signed_headers": {"type": "array", "items": STRING},
                                 "expected_content_sha512": STRING, "expected_content_length": STRING,
                                 "authorization": STRING},
                                ["signing_string", "signature", "algorithm", "username", "signed_headers",
                                 "expected_content_sha512", "expected_content_length", "authorization"])),
                      **BAD}},
    ("GET", "/_emulator/clock"): {"summary": "The emulator clock and the jobs waiting on it", "responses": _ok(CLOCK)},
    ("POST", "/_emulator/clock"): {
        "summary": "Set, freeze or advance the emulator clock (firing what falls due)",
        "requestBody": _json_body(obj({"set": {"type": ["number", "string"]}, "freeze": {"type": "boolean"},
                                       "advance": {"type": "number", "minimum": 0}}), required=True),
        "responses": {**_ok({"allOf": [CLOCK, obj({"fired": INTEGER}, ["fired"])]}), **BAD}},
    ("GET", "/_emulator/scenarios"): {"summary": "Loaded scenarios and their rules",
                                      "responses": _ok(obj({"scenarios": LISTED}, ["scenarios"]))},
    ("POST", "/_emulator/scenarios"): {
        "summary": "Add scenarios from a YAML document",
        "parameters": [_q("name", STRING, "source name shown in problems")],
        "requestBody": {"required": True, "content": {"application/yaml": {"schema": STRING}}},
        "responses": {**_ok(obj({"added": {"type": "array", "items": STRING}}, ["added"]), "201", "Added"), **BAD}},
    ("POST", "/_emulator/scenarios/reload"): {
        "summary": "Re-read the configured scenario files",
        "responses": {**_ok(obj({"reloaded": {"type": "array", "items": STRING}}, ["reloaded"])), **BAD}},
    ("POST", "/_emulator/scenarios/{name}/activate"): {
        "summary": "Activate a named scenario (for everyone or one participant)", "requestBody": PARTICIPANT_BODY,
        "responses": {**_ok(obj({"activated": STRING, "participant_id": {"type": ["integer", "null"]}})),
                      **BAD, **NOT_FOUND}},
    ("POST", "/_emulator/scenarios/{name}/deactivate"): {
        "summary": "Deactivate a named scenario", "requestBody": PARTICIPANT_BODY,
        "responses": {**_ok(obj({"deactivated": STRING, "participant_id": {"type": ["integer", "null"]}})),
                      **BAD, **NOT_FOUND}},
    ("GET", "/_emulator/triggers"): {
        "summary": "The magic values and triggers of the loaded scenarios",
        "parameters": [_q("scenario", STRING, "only this scenario")],
        "responses": _ok(obj({"count": INTEGER, "triggers": LISTED}, ["count", "triggers"]))},
    ("GET", "/_emulator/events"): {
        "summary": "Webhook events emitted, newest first",
        "parameters": [_q("topic", STRING, "topic"), _q("participant", STRING, "participant_id")],
        "responses": _ok(obj({"count": INTEGER, "events": LISTED}, ["count", "events"]))},
    ("POST", "/_emulator/events"): {
        "summary": "Emit a webhook event now",
        "requestBody": _json_body(obj({"topic": STRING, "participant_id": INTEGER, "event": {"type": "object"},
                                       "ancillary": {"type": "object"}, "status": INTEGER, "message": STRING},
                                      ["topic", "participant_id"]), required=True),
        "responses": {**_ok({"type": "object"}, "201", "Emitted"), **BAD}},
    ("GET", "/_emulator/webhooks"): {
        "summary": "Webhook deliveries with their attempts, newest first",
        "parameters": [_q("topic", STRING, "topic"),
                       _q("status", {"enum": ["pending", "delivering", "succeeded", "failed"]}, "delivery status"),
                       _q("participant", INTEGER, "participant_id"), _q("event_id", STRING, "event id")],
        "responses": {**_ok(obj({"count": INTEGER, "deliveries": LISTED}, ["count", "deliveries"])), **BAD}},
    ("GET", "/_emulator/webhooks/endpoints"): {
        "summary": "Webhook endpoints", "responses": _ok(obj({"endpoints": LISTED}, ["endpoints"]))},
    ("POST", "/_emulator/webhooks/endpoints"): {
        "summary": "Add a webhook endpoint",
        "requestBody": _json_body(obj({"url": {"type": "string", "format": "uri"}, "secret": STRING,
                                       "topics": {"type": "array", "items": STRING}, "participant_id": INTEGER},
                                      ["url"]), required=True),
        "responses": {**_ok({"type": "object"}, "201", "Added"), **BAD}},
    ("DELETE", "/_emulator/webhooks/endpoints/{id}"): {
        "summary": "Remove a webhook endpoint",
        "responses": {**_ok(obj({"removed": STRING}, ["removed"])), **NOT_FOUND}},
    ("GET", "/_emulator/webhooks/{id}"): {
        "summary": "One delivery with its attempts", "responses": {**_ok({"type": "object"}), **NOT_FOUND}},
    ("POST", "/_emulator/webhooks/{id}/redeliver"): {
        "summary": "Send a delivery again now", "responses": {**_ok({"type": "object"}), **NOT_FOUND}},
    ("GET", "/_emulator/state"): {
        "summary": "What the emulator holds (tokens, sessions, recent transactions), read only",
        "responses": {**_ok({"type": "object"}), **BAD}},
}

PAGE = {
    "summary": "The page an authorized_url opens (in the session's iFrame)",
    "tags": ["iFrame plugin"],
    "parameters": [
        {"name": "t", "in": "query", "required": True, "description": "the URL's issue time in .NET ticks",
         "schema": STRING},
        {"name": "h", "in": "query", "required": True, "description": "the URL's MAC", "schema": STRING},
    ],
    "responses": {str(status): {"description": text, "content": {"text/html": {"schema": STRING}}}
                  for status, text in ((200, "The session page"), (404, "No such session, or the URL was altered"),
                                       (410, "The URL expired (not opened within 30 s, or a newer one was issued)"))},
}
DOCUMENT = {
    "summary": "This OpenAPI document",
    "tags": ["Emulator"],
    "responses": _ok({"type": "object", "required": ["openapi", "paths"]}),
}


def openapi_path(path: str) -> str:
    """An aiohttp route path as OpenAPI writes it: ``{name:.*}`` becomes ``{name}``."""
    return re.sub(r"\{([^}:]+):[^}]*\}", r"{\1}", path)


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": STRING}
            for name in re.findall(r"\{([^}]+)\}", path)]


def _describe(handler: Callable[..., Any]) -> str:
    return inspect.cleandoc(handler.__doc__ or "").split("\n\n")[0]


def _admin_operation(method: str, path: str, handler: Callable[..., Any]) -> dict[str, Any]:
    known = ADMIN.get((method, path))
    operation: dict[str, Any] = {"tags": ["Admin"], "security": [{}, {"adminToken": []}]}
    if known is None:  # a route without its own entry yet: its docstring, and an unspecified answer
        operation.update(summary=_describe(handler) or f"{method} {path}",
                         responses={"200": {"description": "OK"}})
    else:
        operation.update(copy.deepcopy(known))
        operation.setdefault("description", _describe(handler))
        operation["responses"]["401"] = {
            "description": "Only with --admin-token: the token is missing or wrong",
            "content": {JSON: {"schema": ref("Error")}}}
    if not operation.get("description"):
        operation.pop("description", None)
    return operation


def route_tables() -> list[tuple[str, str, Callable[..., Any], RouteSpec | None]]:
    """Every route create_app registers from the route tables: (method, path, handler, spec; None: admin)."""
    from emulator.admin import urls as admin_urls
    from emulator.gateway import urls as gateway_urls
    from emulator.plugin import urls as plugin_urls
    from emulator.sessions import urls as session_urls

    routes: list[tuple[str, str, Callable[..., Any], RouteSpec | None]] = [
        (m, p, h, s) for m, p, h, s in [*gateway_urls.ROUTES, *session_urls.ROUTES, *plugin_urls.ROUTES]]
    routes += [(m, p, h, None) for m, p, h in [*admin_urls.ROUTES, *ROUTES]]
    return routes


def _plugin_operation(method: str, path: str, handler: Callable[..., Any]) -> dict[str, Any]:
    """The iFrame plugin's routes (opened by the browser, not by a client): described, not specified."""
    if (method, path) == ("GET", "/plugin/session/{session_id}"):
        return copy.deepcopy(PAGE)
    return {"summary": _describe(handler) or f"{method} {path}", "tags": ["iFrame plugin"],
            "responses": {"200": {"description": "OK"}}}


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route in the route tables."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler, spec in route_tables():
        if spec is not None and spec.signed:
            operation = _signed_operation(spec, handler)
        elif spec is not None:
            operation = _plugin_operation(method, path, handler)
        elif path == OPENAPI_PATH:
            operation = copy.deepcopy(DOCUMENT)
        else:
            operation = _admin_operation(method, path, handler)
        name = openapi_path(path)
        parameters = _path_parameters(name)
        if parameters:
            operation["parameters"] = parameters + operation.get("parameters", [])
        paths.setdefault(name, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "IngoPay API (ingopay-emulator)",
            "version": __version__,
            "description": "The IngoPay gateway and Session Management API as ingopay-emulator serves it, with "
                           "the emulator's admin API under /_emulator (open on loopback; --admin-token "
                           "guards it). Point both Ingo base URLs at the emulator. Business refusals answer "
                           "HTTP 200 with their Ingo status in the body unless --error-http-status mapped. "
                           "Scenario rules (X-Emulator-Scenario, magic values) may change answers and inject "
                           "faults beyond what is described here.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": DEFAULT_SERVER,
                     "description": "The emulator on its default address (--host, --port change it)"}],
        "tags": [{"name": "Gateway"}, {"name": "Risk"}, {"name": "Session Management"}, {"name": "iFrame plugin"},
                 {"name": "Admin"}, {"name": "Emulator"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "hmac": {"type": "apiKey", "in": "header", "name": "Authorization", "description": HMAC_DESCRIPTION},
                "adminToken": {"type": "http", "scheme": "bearer",
                               "description": "Only with --admin-token (also accepted as X-Emulator-Admin-Token)"},
            },
            "schemas": {**_request_schemas(), **_response_schemas()},
        },
    }


def render(document: dict[str, Any] | None = None) -> str:
    """The document as the committed file holds it: indented, keys in order, a final newline."""
    return json.dumps(document if document is not None else build_document(), indent=2, ensure_ascii=False) + "\n"


_RENDERED: dict[str, bytes] = {}


async def serve(request: web.Request) -> web.Response:
    """GET /openapi.json: this document (unsigned)."""
    if "body" not in _RENDERED:
        _RENDERED["body"] = render().encode("utf-8")
    return web.Response(body=_RENDERED["body"], content_type=JSON, charset="utf-8")


#: The route create_app adds (unsigned, like the admin API); see emulator.openapi.urls for the lazy handler.
ROUTES = [("GET", OPENAPI_PATH, serve)]


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
