"""The OpenAPI 3.1 document of the emulated API, built from the route declarations and their models.

Every route comes from the route tables (``*/urls.py``); request bodies, answers and envelopes are the models the
code uses (``*/schemas.py``, ``*/answer_shapes.py``, ``web/envelopes.py``), described by pydantic. Served
unsigned at ``GET /openapi.json``; a copy is committed at ``docs/openapi.json`` (``scripts/regenerate`` rewrites it;
``tests/openapi/test_openapi.py`` fails while the two differ).
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterable
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from emulator import __version__
from emulator.auth.diagnosis import Unauthorized
from emulator.auth.kong_signing import DEFAULT_SIGNED_HEADERS
from emulator.core.credentials import DEFAULT_PARTICIPANT_ID, DEFAULT_SECRET, DEFAULT_USERNAME
from emulator.core.provenance import HMAC_AUTH, Source, choice
from emulator.gateway import schemas as gw
from emulator.settings import Settings
from emulator.web import envelopes
from emulator.web.envelopes import Dialect
from emulator.web.middlewares import ADMIN_PREFIX, OPEN_ADMIN_PATHS, OPEN_ADMIN_PREFIXES
from emulator.web.ratelimit import HEADERS as RATE_HEADERS
from emulator.web.ratelimit import RateLimited
from emulator.web.replies import Message
from emulator.web.routes import Query, Route

REF = "#/components/schemas/{model}"
#: Where the emulator listens by default (the Settings defaults); the document's only server.
DEFAULT_SERVER = f"http://{Settings.host}:{Settings.port}"
JSON = "application/json"

#: The example ``timestamp`` of the reference's bodies. Replace it with the current Unix time when you send an
#: example: the emulator refuses a body timestamp more than --clock-skew seconds away (Ingo status 402).
EXAMPLE_TIMESTAMP = 1576097360
EXAMPLE_TOKEN = "ca875cce-58c0-46a0-8f14-676190cc7df6"
#: Models every document describes, whatever the routes: the envelopes and the refusals.
COMMON_MODELS: tuple[type, ...] = (*envelopes.MODELS.values(), Unauthorized, Message, RateLimited)


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def name_of(model: Any) -> str:
    return getattr(model, "__name__", str(model))


# -- request bodies ----------------------------------------------------------------------------------------

#: One verify schema per request model, with the account types it checks (VERIFY_SCHEMAS, grouped by model).
def _verify_branches() -> list[tuple[type[BaseModel], list[str]]]:
    branches: dict[type[BaseModel], list[str]] = {}
    for account_type, (model, _required) in gw.VERIFY_SCHEMAS.items():
        branches.setdefault(model, []).append(account_type)
    return [(model, sorted(types)) for model, types in branches.items()]


def _describe_requests(found: dict[str, Any]) -> None:
    """What pydantic cannot say about the request models: each verify branch's account types and the fields its
    raw form needs, the timestamp's window, and the verify request as one schema over its branches."""
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
                 "BillerSearch", "PayeeSearch"):
        found[name]["properties"]["timestamp"] = dict(
            found[name]["properties"]["timestamp"],
            description="Unix seconds; more than --clock-skew (300 s) from the real time is refused with "
                        "Ingo status 402")
    found[gw.VERIFY_REQUEST] = {
        "description": "A verify request: its account_type picks the fields that apply.",
        "oneOf": [ref(model.__name__) for model, _ in _verify_branches()],
        "discriminator": {"propertyName": "account_type", "mapping": {
            account_type: REF.format(model=model.__name__)
            for model, types in _verify_branches() for account_type in types}},
    }


RECIPIENT = {"recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
             "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}
V11_BASE = {"participant_id": DEFAULT_PARTICIPANT_ID, "timestamp": EXAMPLE_TIMESTAMP, "version": 11}
V12_REQUEST = {"participant_id": str(DEFAULT_PARTICIPANT_ID), "timestamp": str(EXAMPLE_TIMESTAMP)}


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
    "search": _examples(
        biller={"participant_id": 12345, "account_type": "BP", "account": "1234567890", "amount": 25.0},
        card={"participant_id": 12345, "account_type": "BP", "account": "4111111111111111",
              "payee_name": "Bank of America"},
    ),
    "session": _examples(
        session={"participant_unique_id1": "session-1", "language_locale_code": "en-US",
                 "host_uri": "https://shop.example.com",
                 "recipient_information": {"first_name": "Jane", "last_name": "Doe", "city": "Atlanta",
                                           "state": "GA", "zip_code": "30301"}},
    ),
}


HMAC_DESCRIPTION = f"""\
Kong `hmac-auth`, as Ingo documents it:

    Authorization: hmac username="<username>", algorithm="hmac-sha512", \
headers="{' '.join(DEFAULT_SIGNED_HEADERS)}", signature="<Base64 signature>"

- `signature` is Base64 of HMAC-SHA512(secret, signing string) (`hmac-sha256`, Ingo's legacy option, only with
  `--algorithms hmac-sha512,hmac-sha256`).
- The signing string is one line per name in `headers=`, in that order, joined with `\\n`: `request-line` gives
  `POST /path?query HTTP/1.1`; any other name gives `<name>: <header value>`.
- `X-Date` (RFC 1123, e.g. `Fri, 17 Jan 2020 19:59:29 GMT`) must be within 300 s (`--clock-skew`) of the real
  time, whatever the emulator clock shows (`--signature-clock emulator` checks it against the emulator clock).
- `Content-sha512` is Base64 of the raw SHA-512 digest of the body; `Content-Length` the body's length in bytes;
  `Content-Type: application/json`.
- `request-line` and `x-date` must be signed, and `content-type`, `content-sha512`, `content-length` too when
  there is a body.

The built-in credential is username `{DEFAULT_USERNAME}`, secret `{DEFAULT_SECRET}`, participant_id \
`{DEFAULT_PARTICIPANT_ID}`. A refusal
is HTTP 401 with Kong's `message`, a `request_id` and the emulator's `diagnosis`."""


def _signed_parameters(endpoint: str) -> list[dict[str, Any]]:
    parameters = [
        {"name": "X-Date", "in": "header", "required": True,
         "description": "RFC 1123 date, within --clock-skew (300 s) of the real time; signed",
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


# -- schemas -----------------------------------------------------------------------------------------------

def _schemas(routes: Iterable[Route]) -> dict[str, Any]:
    """components/schemas: every request model (validation) and answer model (serialization) the routes name, with
    the models they use, as pydantic describes them."""
    requests: dict[str, Any] = {name_of(model): model for model, _ in _verify_branches()}
    answers: dict[str, Any] = {name_of(model): model for model in COMMON_MODELS}
    for route in routes:
        doc = route.doc
        if _is_model(doc.body):
            requests[name_of(doc.body)] = doc.body
        if _is_model(doc.answer):
            answers[name_of(doc.answer)] = doc.answer
    inputs: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [
        (name, "validation", TypeAdapter(model)) for name, model in requests.items()]
    inputs += [(name, "serialization", TypeAdapter(model)) for name, model in answers.items() if name not in requests]
    _, top = TypeAdapter.json_schemas(inputs, ref_template=REF)
    found: dict[str, Any] = top.get("$defs", {})
    for schema in found.values():
        _drop_titles(schema)
    _describe_requests(found)
    _sources(found, requests.values())
    return dict(sorted(found.items()))


def _sources(found: dict[str, Any], models: Iterable[Any]) -> None:
    """``x-source`` on each request model (the page of its field rules) and on each field whose rule is the
    emulator's choice instead (``emulator.core.provenance``)."""
    for model in models:
        schema = found.get(name_of(model))
        source: Source | None = getattr(model, "source", None)
        if schema is None or source is None:
            continue
        schema["x-source"] = source.as_json()
        for field, chosen in getattr(model, "field_sources", {}).items():
            schema["properties"][field]["x-source"] = chosen.as_json()


def _is_model(kind: Any) -> bool:
    """A model the document describes as a component: a pydantic model or a TypedDict (not str, dict or a name)."""
    return isinstance(kind, type) and (issubclass(kind, BaseModel) or hasattr(kind, "__required_keys__"))


def _drop_titles(schema: Any) -> None:
    """pydantic titles every property after its name; the names say it already."""
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for item in properties.values():
                if isinstance(item, dict):
                    item.pop("title", None)
        for value in schema.values():
            _drop_titles(value)
    elif isinstance(schema, list):
        for value in schema:
            _drop_titles(value)


def _schema_of(kind: Any) -> dict[str, Any]:
    """A reference to a model's component, or the inline schema of a plain type (str, dict)."""
    if _is_model(kind):
        return ref(name_of(kind))
    if isinstance(kind, str):
        return ref(kind)
    return {"type": "string"} if kind is str else {"type": "object"}


def _query_schema(query: Query) -> dict[str, Any]:
    if get_origin(query.type) is Literal:
        return {"enum": list(get_args(query.type))}
    if query.type is not int:
        return {"type": "string"}
    return {"type": "integer"} if query.minimum is None else {"type": "integer", "minimum": query.minimum}


# -- operations --------------------------------------------------------------------------------------------

def _summary(route: Route) -> str:
    """The declared summary, else the first paragraph of the handler's docstring, else the method and path."""
    text = route.doc.summary or inspect.cleandoc(route.handler.__doc__ or "").split("\n\n")[0]
    return " ".join(text.split()) or f"{route.method} {route.path}"


def _when_status(statuses: Iterable[int], then: dict[str, Any], *, v12: bool = False) -> dict[str, Any]:
    """``then`` applies when the Ingo status is one of ``statuses`` (success answers carry their result)."""
    codes = list(statuses)
    if v12:
        condition = {"properties": {"response": {"properties": {"status": {"enum": [str(s) for s in codes]}},
                                                 "required": ["status"]}}, "required": ["response"]}
    else:
        condition = {"properties": {"status": {"enum": codes}}, "required": ["status"]}
    return {"if": condition, "then": then}


def _signed_operation(route: Route) -> dict[str, Any]:
    spec, doc = route.spec, route.doc
    endpoint = spec.endpoint or ""
    dialect = spec.dialect or Dialect.V11
    envelope = name_of(envelopes.MODELS[dialect])
    carried: dict[str, Any] = {"properties": {spec.section: _schema_of(doc.answer)}}
    if dialect is Dialect.V12:
        carried["required"] = [spec.section]
    success = {"allOf": [ref(envelope)], **_when_status(doc.answered_by, carried, v12=dialect is Dialect.V12)}
    mapped = ("(only with --error-http-status mapped) a business refusal of this family, in the endpoint's "
              "envelope")

    def envelope_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description, "content": {JSON: {"schema": schema}}}

    mapped_source = {"x-source": choice("business-error-http-mapped").as_json()}
    return {
        "operationId": endpoint,
        "summary": _summary(route),
        "tags": [doc.tag],
        **_source_of(route),
        "security": [{"hmac": []}],
        "parameters": _signed_parameters(endpoint),
        "requestBody": {"required": True, "content": {JSON: {
            "schema": _schema_of(doc.body), "examples": REQUEST_EXAMPLES[endpoint]}}},
        "responses": {
            "200": {"description": "The outcome, in the envelope: Ingo status 100 (or 101, a replay) carries the "
                                   "result; any other status is a business refusal (the Ingo status, message and "
                                   "diagnosis in the body)",
                    "headers": {name: {"description": text + " (absent with --rate-limit 0)",
                                       "schema": {"type": "string", "pattern": "^[0-9]+$"}}
                                for name, _, text in RATE_HEADERS},
                    "content": {JSON: {"schema": success}}},
            "400": {**envelope_response("The body is not a JSON object (Ingo status 401, diagnosis malformed_body); "
                                        "with --error-http-status mapped also request errors", ref(envelope)),
                    "x-source": choice("malformed-body").as_json()},
            "401": {"description": "The HMAC signature was refused (Kong's message)",
                    "x-source": HMAC_AUTH.as_json(),
                    "headers": {"WWW-Authenticate": {"required": True, "schema": {"const": "hmac"}}},
                    "content": {JSON: {"schema": ref(name_of(Unauthorized))}}},
            **({"409": {**envelope_response(mapped + " (session)", ref(envelope)), **mapped_source}}
               if endpoint == "session" else {}),
            "413": {"description": "The body is larger than --max-body-size",
                    "content": {JSON: {"schema": ref(name_of(Message))}}},
            "422": {**envelope_response(mapped + " (velocity, routing, token, issuer)", ref(envelope)),
                    **mapped_source},
            "429": {"description": "More than --rate-limit requests in one second for this credential",
                    "x-source": choice("throttle-body").as_json(),
                    "headers": {**{name: {"required": True, "description": text,
                                          "schema": {"type": "string", "pattern": "^[0-9]+$"}}
                                   for name, _, text in RATE_HEADERS},
                                "Retry-After": {"required": True, "description": "seconds to wait",
                                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
                    "content": {JSON: {"schema": ref(name_of(RateLimited))}}},
            "503": {**envelope_response(mapped + " (system)", ref(envelope)), **mapped_source},
        },
    }


def _source_of(route: Route) -> dict[str, Any]:
    """The operation's ``x-source``: where the route's answer comes from (``emulator.core.provenance``)."""
    source = route.source
    return {"x-source": source.as_json()} if source is not None else {}


#: What an answer with each HTTP status means, unless the route says otherwise.
STATUS_MEANINGS = {200: "OK", 201: "Created", 400: "The request is not valid",
                   403: "Refused in this configuration (the message says why)", 404: "Not found"}


def _operation(route: Route) -> dict[str, Any]:
    """An unsigned route: the admin API, the iFrame plugin's routes, this document."""
    doc = route.doc
    operation: dict[str, Any] = {"summary": _summary(route), "tags": [doc.tag], **_source_of(route)}
    if doc.query:
        operation["parameters"] = [{"name": q.name, "in": "query", "required": q.required,
                                    "description": q.description, "schema": _query_schema(q)}
                                   for q in doc.query]
    if doc.body is not None:
        operation["requestBody"] = {"required": doc.body_required,
                                    "content": {doc.body_media_type: {"schema": _schema_of(doc.body)}}}
    described = {doc.status: STATUS_MEANINGS.get(doc.status, "OK"), **doc.responses}
    if doc.answer is None:
        responses: dict[str, Any] = {str(status): {"description": text} for status, text in described.items()}
    else:
        content = {doc.media_type: {"schema": _schema_of(doc.answer)},
                   **{media: {"schema": _schema_of(kind)} for media, kind in doc.alternatives.items()}}
        responses = {str(status): {"description": text, "content": content} for status, text in described.items()}
    # the admin guard refuses a query parameter or body key the route does not declare (emulator.web.declared)
    checked = (400,) if _needs_admin_token(route.path) else ()
    for status in sorted({*doc.errors, *checked, *doc.refusals}):
        responses[str(status)] = {"description": doc.refusals.get(status) or STATUS_MEANINGS.get(status, "Refused"),
                                  "content": {JSON: {"schema": ref(name_of(Message))}}}
    if _needs_admin_token(route.path):
        operation["security"] = [{}, {"adminToken": []}]
        responses["401"] = {"description": "Only with --admin-token: the token is missing or wrong",
                            "content": {JSON: {"schema": ref(name_of(Message))}}}
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def _needs_admin_token(path: str) -> bool:
    """Whether --admin-token guards the route (the admin API, except health and the inspector's files)."""
    return path.startswith(ADMIN_PREFIX) and path not in OPEN_ADMIN_PATHS and not path.startswith(OPEN_ADMIN_PREFIXES)


def openapi_path(path: str) -> str:
    """An aiohttp route path as OpenAPI writes it: ``{name:.*}`` becomes ``{name}``."""
    return re.sub(r"\{([^}:]+):[^}]*\}", r"{\1}", path)


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"\{([^}]+)\}", path)]


def build_document(routes: Iterable[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes`` (the app's: ``emulator.app.ROUTES``)."""
    routes = tuple(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation = _signed_operation(route) if route.spec.signed else _operation(route)
        name = openapi_path(route.path)
        parameters = _path_parameters(name)
        if parameters:
            operation["parameters"] = parameters + operation.get("parameters", [])
        paths.setdefault(name, {})[route.method.lower()] = operation
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
        "tags": [{"name": name} for name in dict.fromkeys(route.doc.tag for route in routes)],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "hmac": {"type": "apiKey", "in": "header", "name": "Authorization", "description": HMAC_DESCRIPTION},
                "adminToken": {"type": "http", "scheme": "bearer",
                               "description": "Only with --admin-token (also accepted as X-Emulator-Admin-Token)"},
            },
            "schemas": _schemas(routes),
        },
    }


def render(routes: Iterable[Route]) -> str:
    """The document as the committed file holds it: indented, keys in order, a final newline."""
    return json.dumps(build_document(routes), indent=2, ensure_ascii=False) + "\n"
