"""What a journaled answer or a webhook delivery rested on, and where each part comes from (an Ingo page, Kong's
plugin, the emulator's choice, or the emulator's own): derived when someone reads it (the journal API, the inspector,
``GET /_emulator/provenance``) from what the journal entry and the delivery already keep. Nothing here runs while a
request is answered."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

import emulator.gateway.exceptions
import emulator.sessions.models
import emulator.web.scripted
from emulator.auth.diagnosis import SOURCES as AUTH_SOURCES
from emulator.core.catalogue import catalogue
from emulator.core.errors import MAPPED_HTTP_STATUS, REFUSALS
from emulator.core.journal import Entry
from emulator.core.outcomes import CLOSED_WITHOUT_RESPONSE, FAULT_DIAGNOSES
from emulator.core.provenance import (
    HMAC_AUTH,
    OWN,
    ROUTER,
    SCENARIO,
    RelianceJson,
    ReliedJson,
    Source,
    choice,
    status_source,
)
from emulator.core.validation import models_in
from emulator.gateway.schemas import VERIFY_REQUEST, VERIFY_SCHEMAS, Strict
from emulator.scenarios.magic import SCENARIO_NAME as MAGIC_VALUES
from emulator.store import Record
from emulator.web.middlewares import DIAGNOSIS_SOURCES
from emulator.web.routes import Route
from emulator.webhooks.topics import TOPICS

#: The modules whose refusal classes (emulator.core.errors.REFUSALS) answer requests, besides the foundation's.
REFUSAL_MODULES = (emulator.gateway.exceptions, emulator.sessions.models, emulator.web.scripted)
#: The request and delivery ids kept as examples of each source, and the parts of answers named, at most.
EXAMPLES = 5
#: HTTP statuses the edge answers itself for a request's size or pace.
REQUEST_LIMITS = frozenset({408, 413})
#: Diagnosis codes of a scenario rule's refusal or fault: the rule that matched says where it comes from.
SCRIPTED = frozenset({emulator.web.scripted.ScriptedRefusal.diagnosis_code, *FAULT_DIAGNOSES})
#: The webhook deliveries read for one answer of GET /_emulator/provenance (a --data-dir keeps every one).
DELIVERIES_READ = 10_000


@dataclass(frozen=True)
class Reliance:
    """One part of an answer (or of a webhook delivery) and where it comes from."""

    what: str
    source: Source

    def as_json(self) -> RelianceJson:
        return {"what": self.what, "source": self.source.as_json()}


# -- routes by the path a journal entry keeps -------------------------------------------------------------------

def _pattern(path: str) -> re.Pattern[str]:
    """An aiohttp route path as a regular expression over concrete paths (``{name}``, ``{name:regex}``)."""
    parts: list[str] = []
    position = 0
    for found in re.finditer(r"\{([^}:]+)(?::([^}]*))?\}", path):
        parts.append(re.escape(path[position:found.start()]))
        parts.append(f"(?:{found.group(2)})" if found.group(2) else "[^{}/]+")
        position = found.end()
    parts.append(re.escape(path[position:]))
    return re.compile("".join(parts))


class RouteIndex:
    """The app's route declarations, found by the method and the concrete path a journal entry keeps."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)
        self._fixed = {(r.method, r.path): r for r in self.routes if "{" not in r.path}
        self._templated = [(r.method, _pattern(r.path), r) for r in self.routes if "{" in r.path]

    def find(self, method: str, path: str) -> Route | None:
        route = self._fixed.get((method, path))
        if route is not None:
            return route
        return next((r for m, pattern, r in self._templated if m == method and pattern.fullmatch(path)), None)


# -- one answer --------------------------------------------------------------------------------------------------

def _request_model(route: Route | None, body: Any) -> type[BaseModel] | None:
    kind = route.doc.body if route is not None else None
    if kind == VERIFY_REQUEST:
        account_type = body.get("account_type") if isinstance(body, dict) else None
        return VERIFY_SCHEMAS.get(account_type if isinstance(account_type, str) else "CA", VERIFY_SCHEMAS["CA"])[0]
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def field_source(model: type[BaseModel] | None, path: str) -> Source | None:
    """Where the rule of the field at ``path`` (dotted, as a diagnosis names it) comes from: the emulator's choice
    when a model on the way says so in ``field_sources``, else the page of the innermost model with a ``source``."""
    if model is None:
        return None
    found: Source | None = getattr(model, "source", None)
    current: type[BaseModel] | None = model
    for part in path.split("."):
        if current is None:
            break
        chosen = current.field_sources.get(part) if issubclass(current, Strict) else None
        if chosen is not None:
            return chosen
        info = current.model_fields.get(part)
        inner = next(iter(models_in(info.annotation)), None) if info is not None else None
        inner_source = getattr(inner, "source", None)
        if isinstance(inner_source, Source):
            found = inner_source
        current = inner
    return found


def refusal_source(code: str) -> Source | None:
    """Where the rule behind a diagnosis code comes from (every code the emulator journals has one)."""
    refusal = REFUSALS.get(code)
    if refusal is not None:
        return refusal.source
    return AUTH_SOURCES.get(code) or DIAGNOSIS_SOURCES.get(code)


def _message_of(body: Any) -> str | None:
    """The Ingo message an answer carried (v11 ``client_message``, v12 ``response.message``)."""
    if not isinstance(body, dict):
        return None
    response = body.get("response")
    message = response.get("message") if isinstance(response, dict) else body.get("client_message")
    return message if isinstance(message, str) else None


def relied_on(entry: Entry, routes: RouteIndex) -> list[Reliance]:
    """Every part of ``entry``'s answer, each with its source, in the order a person reads the answer."""
    found: list[Reliance] = []
    status, ingo_status = entry.http_status, entry.ingo_status
    diagnosis = entry.diagnosis if isinstance(entry.diagnosis, dict) else {}
    code = diagnosis.get("code") if isinstance(diagnosis.get("code"), str) else None
    route = routes.find(entry.method, entry.path)
    if entry.extra.get("fault") or status == CLOSED_WITHOUT_RESPONSE:
        found.append(Reliance(f"the fault {entry.extra.get('fault') or 'injected'}", SCENARIO))
    elif status == 401 and ingo_status is None:
        found.append(Reliance(f"the 401 ({code or 'refused signature'})",
                              (refusal_source(code) if code else None) or HMAC_AUTH))
    elif status == 429:
        found.append(Reliance("the 429 and its headers", choice("throttle-body")))
    elif status == 404 and route is None:
        found.append(Reliance("the 404 for a path no route serves", ROUTER))
    elif status == 405:
        found.append(Reliance(f"the 405 for {entry.method}", choice("method-not-allowed")))
    elif status in REQUEST_LIMITS:
        found.append(Reliance(f"the {status} for the request's size or pace", choice("request-limits")))
    elif status == 499 or (status >= 500 and ingo_status is None):
        found.append(Reliance(f"the {status}: the emulator's own answer", OWN))
    elif route is not None and route.source is not None:
        found.append(Reliance("the answer's shape", route.source))
    if ingo_status is not None:
        found.extend(_ingo_status(entry, ingo_status, code))
    if code is not None and code not in SCRIPTED and not (status == 401 and ingo_status is None):
        field = diagnosis.get("field")
        rule = field_source(_request_model(route, entry.request_body), field) \
            if isinstance(field, str) and code in ("missing_parameter", "invalid_parameter") else None
        source = rule or refusal_source(code)
        if source is not None:
            found.append(Reliance(f"the refusal {code}" + (f" of {field}" if isinstance(field, str) else ""),
                                  source))
    rule_label = entry.matched_rule
    if rule_label and rule_label != "none":
        scenario = rule_label.split("/", 1)[0]
        found.append(Reliance(f"the scenario rule {rule_label}",
                              choice("magic-values") if scenario == MAGIC_VALUES else SCENARIO))
    return _unique(found)


def _ingo_status(entry: Entry, ingo_status: int, code: str | None) -> list[Reliance]:
    known = catalogue().get(ingo_status)
    message = _message_of(entry.response_body)
    parts: list[Reliance] = []
    source = status_source(ingo_status)
    if known is not None and message is not None and message != known.message:
        parts.append(Reliance(f"Ingo status {ingo_status} with the scenario's message", SCENARIO))
    elif source is not None:
        parts.append(Reliance(f"Ingo status {ingo_status} and its message", source))
    if known is None or known.is_success or code == "malformed_body":
        return parts
    if entry.http_status == 200:
        parts.append(Reliance("HTTP 200 for a business refusal", choice("business-error-http-200")))
    elif entry.http_status == MAPPED_HTTP_STATUS.get(known.family):
        parts.append(Reliance(f"HTTP {entry.http_status} for a business refusal", choice("business-error-http-mapped")))
    return parts


def _unique(found: list[Reliance]) -> list[Reliance]:
    """Each part once."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for item in found:
        key = (item.what, item.source.ref)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def choices_of(entry: Entry, routes: RouteIndex) -> list[str]:
    """The emulator's choices ``entry``'s answer rested on, by ref (``choice:<id>``), for the journal's list."""
    return list(dict.fromkeys(r.source.ref for r in relied_on(entry, routes) if r.source.is_choice))


# -- one webhook delivery ------------------------------------------------------------------------------------------

def delivery_relied_on(record: Record) -> list[Reliance]:
    """What a delivery's receiver relied on: the signature it checked, a retry, the topic's name."""
    found: list[Reliance] = []
    attempts = record.get("attempts") or []
    if any(isinstance(a, dict) and a.get("http_status") is not None for a in attempts):
        found.append(Reliance("X-Ingo-Signature", choice("webhook-signature")))
    if len(attempts) > 1 or (attempts and record.get("status") == "pending"):
        found.append(Reliance("the attempts after the first", choice("retry-schedule")))
    topic = TOPICS.get(str(record.get("topic")))
    if topic is not None and topic.source is not None and topic.source.kind != "ingo":
        found.append(Reliance(f"the topic {topic.name}", topic.source))
    return found


# -- a participant's traffic ---------------------------------------------------------------------------------------

@dataclass
class _Tally:
    source: Source
    count: int = 0
    parts: dict[str, None] = field(default_factory=dict)
    request_ids: list[str] = field(default_factory=list)
    delivery_ids: list[str] = field(default_factory=list)

    def add(self, reliance: Reliance, *, request_id: str | None = None, delivery_id: str | None = None) -> None:
        self.count += 1
        if len(self.parts) < EXAMPLES:
            self.parts.setdefault(reliance.what)
        if request_id is not None and len(self.request_ids) < EXAMPLES and request_id not in self.request_ids:
            self.request_ids.append(request_id)
        if delivery_id is not None and len(self.delivery_ids) < EXAMPLES and delivery_id not in self.delivery_ids:
            self.delivery_ids.append(delivery_id)

    def as_json(self) -> ReliedJson:
        return {"source": self.source.as_json(), "count": self.count, "parts": list(self.parts),
                "request_ids": self.request_ids, "delivery_ids": self.delivery_ids}


def tally(entries: Iterable[Entry], deliveries: Iterable[Record], routes: RouteIndex) -> list[ReliedJson]:
    """The emulator's choices and Kong's behaviours the entries (newest first) and deliveries rested on, each with
    how many answers and deliveries did and a few of their ids; most relied on first."""
    tallies: dict[str, _Tally] = {}

    def counted(reliance: Reliance) -> _Tally | None:
        if reliance.source.kind not in ("choice", "kong"):
            return None
        return tallies.setdefault(reliance.source.ref, _Tally(reliance.source))

    for entry in entries:
        seen: set[str] = set()
        for reliance in relied_on(entry, routes):
            found = counted(reliance)
            if found is not None and reliance.source.ref not in seen:  # once per answer
                seen.add(reliance.source.ref)
                found.add(reliance, request_id=entry.request_id)
    for record in itertools.islice(deliveries, DELIVERIES_READ):
        for reliance in delivery_relied_on(record):
            found = counted(reliance)
            if found is not None:
                found.add(reliance, delivery_id=str(record.get("id")))
    ordered = sorted(tallies.values(), key=lambda t: (-t.count, t.source.ref))
    return [t.as_json() for t in ordered]
