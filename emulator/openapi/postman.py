"""A Postman collection (format v2.1) of the emulated API, derived from the OpenAPI document.

Each example of each signed operation becomes a request; the collection's pre-request script
(``postman_prerequest.js``) signs it as Ingo requires. Time-bound fields use ``{{$timestamp}}``, and tokens that an
earlier request returns reach the later ones through collection variables set by the test scripts. A run paces
the signed requests to Ingo's 5 a second. The admin API is sent unsigned, in the folders of ``postman_admin``: a
story that deletes what it creates, and the requests sent only on their own (resets), which a run with other
requests skips. ``scripts/regenerate`` rewrites the committed copy
(``docs/ingopay-emulator.postman_collection.json``); ``tests/openapi/test_postman.py`` fails while the two differ,
and runs the collection with newman against the emulator.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

from emulator.auth.kong_signing import DEFAULT_SIGNED_HEADERS
from emulator.core.credentials import DEFAULT_PARTICIPANT_ID, DEFAULT_SECRET, DEFAULT_USERNAME
from emulator.core.limits import INGO_REQUESTS_PER_SECOND
from emulator.openapi import postman_admin
from emulator.openapi.document import EXAMPLE_TIMESTAMP, JSON

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
#: The tag of the admin API's operations (sent unsigned, in the folders of postman_admin).
ADMIN_TAG = "Admin"
ADMIN_FOLDERS = (postman_admin.STORY_FOLDER, postman_admin.ON_ITS_OWN_FOLDER)
#: A run's own variables (pm.variables: they last for the run and are never saved in the collection).
RUN_VARIABLES = {"answered": "ingoAnsweredAt", "others": "ingoRunHasOthers"}
CHAINED = "a token that an earlier request returns (its test script sets it)"
#: Postman's dynamic variable for the current Unix time in seconds.
NOW = "$timestamp"
#: Tokens that requests pass on: (field, account type or None) -> the collection variable holding it.
Chained = dict[tuple[str, str | None], str]


def _camel(name: str) -> str:
    """``customer_account_token`` as a Postman variable name: ``customerAccountToken``."""
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the document, in its order."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def is_signed(operation: dict[str, Any]) -> bool:
    """Whether the operation takes Ingo's HMAC signature."""
    return operation.get("security") == [{"hmac": []}]


def _components(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, with a ``$ref`` to components/schemas followed."""
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _success(document: dict[str, Any], operation: dict[str, Any]) -> tuple[list[str], list[int], str, list[str]]:
    """Where the Ingo status is, which statuses succeed, where the result is and its ``*_token`` fields."""
    schema = operation["responses"]["200"]["content"][JSON]["schema"]
    condition, status_path = schema["if"], []
    while "status" not in condition["properties"]:
        (key, condition), = condition["properties"].items()
        status_path.append(key)
    status_path.append("status")
    statuses = [int(status) for status in condition["properties"]["status"]["enum"]]
    (result_key, result), = schema["then"]["properties"].items()
    tokens = [name for name in _components(document, result).get("properties", {}) if name.endswith("_token")]
    return status_path, statuses, result_key, tokens


def _account_type(body: dict[str, Any]) -> str | None:
    """The account type a request is about (v11: at the top; v12: in ``transaction``)."""
    found = body.get("account_type") or body.get("transaction", {}).get("account_type")
    return str(found) if found is not None else None


def _signed_examples(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], str, Any]]:
    """Every (method, path, operation, name, example) of the signed operations, in the document's order."""
    for method, path, operation in operations(document):
        if is_signed(operation):
            for name, example in operation["requestBody"]["content"][JSON]["examples"].items():
                yield method, path, operation, name, example


def _fields(value: Any, account_type: str | None = None) -> Iterator[tuple[str, Any, str | None]]:
    """Every (key, value, account type in force) of a JSON document, depth first."""
    if isinstance(value, dict):
        account_type = value.get("account_type", account_type)
        for key, inner in value.items():
            yield key, inner, account_type
            yield from _fields(inner, account_type)


def _variable(chained: Chained, key: str, account_type: str | None) -> str | None:
    """The variable that holds ``key`` for this account type (or for any), if a request sets one."""
    return chained.get((key, account_type)) or chained.get((key, None))


def chained_tokens(document: dict[str, Any]) -> Chained:
    """The tokens an example returns that a later example sends: (field, account type or None) -> variable."""
    produced: set[tuple[str, str | None]] = set()
    chained: Chained = {}
    for _method, _path, operation, _name, example in _signed_examples(document):
        for key, _value, account_type in _fields(example["value"]):
            for source in ((key, account_type), (key, None)):
                if source in produced:
                    chained[source] = _camel(key) + (source[1] or "")
                    break
        account_type = _account_type(example["value"])
        produced.update((token, account_type) for token in _success(document, operation)[3])
    return chained


def _chained_defaults(document: dict[str, Any], chained: Chained) -> dict[str, str]:
    """Each chained variable's default: the example's own value, so a request sent alone is still well formed."""
    values: dict[str, str] = {}
    for _method, _path, _operation, _name, example in _signed_examples(document):
        for key, value, account_type in _fields(example["value"]):
            variable = _variable(chained, key, account_type)
            if variable:
                values.setdefault(variable, value)
    return values


class _Body:
    """A JSON body whose chosen values become Postman variables (quoted where the value is a string)."""

    def __init__(self, chained: Chained) -> None:
        self.chained = chained
        self.variables: list[tuple[str, bool]] = []

    def _mark(self, variable: str, value: Any) -> str:
        self.variables.append((variable, isinstance(value, str)))
        return f"@@postman:{len(self.variables) - 1}@@"

    def _walk(self, value: Any, account_type: str | None) -> Any:
        if not isinstance(value, dict):
            return value
        account_type = value.get("account_type", account_type)
        out: dict[str, Any] = {}
        for key, inner in value.items():
            variable = _variable(self.chained, key, account_type)
            if key == "participant_id":
                out[key] = self._mark("participantId", inner)
            elif key == "timestamp" and str(inner) == str(EXAMPLE_TIMESTAMP):
                out[key] = self._mark(NOW, inner)
            elif variable:
                out[key] = self._mark(variable, inner)
            else:
                out[key] = self._walk(inner, account_type)
        return out

    def render(self, value: Any) -> str:
        """The raw body text: indented JSON, with ``{{variable}}`` where a variable stands."""
        text = json.dumps(self._walk(value, None), indent=2, ensure_ascii=False)

        def put(match: re.Match[str]) -> str:
            variable, quoted = self.variables[int(match.group(1))]
            return f'"{{{{{variable}}}}}"' if quoted else f"{{{{{variable}}}}}"

        return re.sub(r'"@@postman:(\d+)@@"', put, text)


def _url(path: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """A Postman URL on ``{{baseUrl}}``: path parameters as ``:name``, query parameters listed but disabled."""
    postman_path = re.sub(r"\{([^}]+)\}", r":\1", path)
    query = [{"key": p["name"], "value": "", "description": p.get("description", ""), "disabled": True}
             for p in parameters if p["in"] == "query"]
    url: dict[str, Any] = {"raw": "{{baseUrl}}" + postman_path, "host": ["{{baseUrl}}"],
                           "path": postman_path.strip("/").split("/")}
    if query:
        url["query"] = query
    variables = [{"key": p["name"], "value": "", "description": p.get("description", "")}
                 for p in parameters if p["in"] == "path"]
    if variables:
        url["variable"] = variables
    return url


def event(listen: str, lines: list[str]) -> dict[str, Any]:
    """A Postman event: the script ``lines`` run on ``listen`` (prerequest or test)."""
    return {"listen": listen, "script": {"type": "text/javascript", "exec": lines}}


def _test_script(document: dict[str, Any], operation: dict[str, Any], example: Any,
                 chained: Chained) -> dict[str, Any]:
    """Assert the documented success, and keep the tokens that later requests send."""
    status_path, statuses, result_key, tokens = _success(document, operation)
    status = "".join(f"[{json.dumps(key)}]" for key in status_path)
    expected = ", ".join(json.dumps(str(s)) for s in statuses)
    title = "HTTP 200 with Ingo status " + " or ".join(map(str, statuses))
    lines = [
        f"pm.test({json.dumps(title)}, function () {{",
        "    pm.response.to.have.status(200);",
        "    const answer = pm.response.json();",
        f"    pm.expect(String(answer{status})).to.be.oneOf([{expected}]);",
    ]
    account_type = _account_type(example)
    for token in tokens:
        variable = chained.get((token, account_type))
        if variable:
            lines.append(f"    pm.collectionVariables.set({json.dumps(variable)}, "
                         f"answer[{json.dumps(result_key)}][{json.dumps(token)}]);")
    lines.append("});")
    return event("test", lines)


def _signed_item(document: dict[str, Any], method: str, path: str, operation: dict[str, Any], example: Any,
                 chained: Chained, several: bool) -> dict[str, Any]:
    """One example of a signed operation as a request: its body with variables, its test script."""
    signed = set(DEFAULT_SIGNED_HEADERS)
    headers = [{"key": p["name"], "value": "", "description": p.get("description", ""),
                **({} if p.get("required") else {"disabled": True})}
               for p in operation.get("parameters", []) if p["in"] == "header" and p["name"].lower() not in signed]
    name = operation["summary"] + (f" — {example['summary']}" if several else "")
    return {
        "name": name,
        "event": [_test_script(document, operation, example["value"], chained)],
        "request": {
            "method": method, "description": operation["summary"], "header": headers,
            "body": {"mode": "raw", "raw": _Body(chained).render(example["value"]),
                     "options": {"raw": {"language": "json"}}},
            "url": _url(path, operation.get("parameters", [])),
        },
        "response": [],
    }


def pre_request_script(document: dict[str, Any]) -> list[str]:
    """The collection's pre-request script, as lines: the signed headers and the admin prefix, then the signer."""
    admin = [path for _method, path, operation in operations(document) if ADMIN_TAG in operation.get("tags", [])]
    prefix = os.path.commonprefix(admin)
    prefix = prefix[:prefix.rindex("/") + 1]
    source = resources.files("emulator.openapi").joinpath("postman_prerequest.js").read_text(encoding="utf-8")
    on_its_own = [step.name for step in postman_admin.ON_ITS_OWN]
    # One block: the sandbox keeps a context between scripts, where a second top-level const would not compile.
    return ["{", f"const SIGNED_HEADERS = {json.dumps(list(DEFAULT_SIGNED_HEADERS))};",
            f"const UNSIGNED_PREFIX = {json.dumps(prefix)};",
            f"const PER_SECOND = {INGO_REQUESTS_PER_SECOND};",
            f"const ANSWERED_AT = {json.dumps(RUN_VARIABLES['answered'])};",
            f"const RUN_HAS_OTHERS = {json.dumps(RUN_VARIABLES['others'])};",
            f"const ON_ITS_OWN = {json.dumps(on_its_own, ensure_ascii=False)};", *source.splitlines(), "}"]


def after_each_script() -> list[str]:
    """The collection's test script, run after every answer: when a signed request was answered, so that the next
    ones keep to Ingo's pace (the pre-request script waits on these times)."""
    return [
        "if (String(pm.request.headers.get('Authorization') || '').startsWith('hmac ')) {",
        f"    const answered = JSON.parse(pm.variables.get({json.dumps(RUN_VARIABLES['answered'])}) || '[]');",
        "    answered.push(Date.now());",
        f"    pm.variables.set({json.dumps(RUN_VARIABLES['answered'])}, "
        f"JSON.stringify(answered.slice(-{INGO_REQUESTS_PER_SECOND})));",
        "}",
    ]


def build_collection(document: dict[str, Any]) -> dict[str, Any]:
    """The Postman collection of the emulator's OpenAPI ``document``."""
    chained = chained_tokens(document)
    folders: dict[str, list[dict[str, Any]]] = {tag["name"]: [] for tag in document["tags"]}
    for method, path, operation in operations(document):
        tag = operation["tags"][0]
        if is_signed(operation):
            examples = operation["requestBody"]["content"][JSON]["examples"]
            folders[tag] += [_signed_item(document, method, path, operation, example, chained, len(examples) > 1)
                             for example in examples.values()]
    variables = [
        {"key": "baseUrl", "value": document["servers"][0]["url"], "description": "where the emulator listens"},
        {"key": "username", "value": DEFAULT_USERNAME, "description": "the credential's username"},
        {"key": "secret", "value": DEFAULT_SECRET, "description": "the credential's secret (signs each request)"},
        {"key": "participantId", "value": str(DEFAULT_PARTICIPANT_ID), "description": "the credential's participant"},
        *({"key": variable, "value": value, "description": CHAINED}
          for variable, value in _chained_defaults(document, chained).items()),
        *({"key": variable, "value": value, "description": description}
          for variable, (value, description) in postman_admin.KEPT.items()),
    ]
    return {
        "info": {
            "name": document["info"]["title"],
            "description": "Generated from the emulator's OpenAPI document by `python -m emulator.openapi "
                           "--postman`. The collection's pre-request script signs each request as Ingo requires "
                           "(Kong hmac-auth with the variables username and secret) and, in a run, paces the signed "
                           f"ones to Ingo's {INGO_REQUESTS_PER_SECOND} requests a second; the admin API is sent "
                           "unsigned. Run the folders in order: later requests send the tokens and ids earlier ones "
                           f"return. The folder '{postman_admin.ON_ITS_OWN_FOLDER}' (resets) is skipped in a run "
                           "with other requests: send its requests on their own.",
            "version": document["info"]["version"],
            "schema": SCHEMA,
        },
        "auth": {"type": "noauth"},
        "event": [event("prerequest", pre_request_script(document)), event("test", after_each_script())],
        "variable": variables,
        "item": [*({"name": tag, "item": items} for tag, items in folders.items() if items),
                 *postman_admin.folders(document, event)],
    }


def render(document: dict[str, Any]) -> str:
    """The collection of ``document`` as the committed file holds it: indented, a final newline."""
    return json.dumps(build_collection(document), indent=2, ensure_ascii=False) + "\n"
