"""A scenario file from a recording: rules that answer each endpoint as the upstream did, matching on what the
requests with the same answer had in common. Only what the scenario format can say is generated: the Ingo status,
message, HTTP status and ``data`` of an answer in Ingo's envelope. Tokens a client sends back are left to the
emulator (:data:`~emulator.proxy.twin.TRANSLATED`), and so are the request's own fields that the answer echoes and
the :data:`~emulator.proxy.drift.VOLATILE` values the emulator computes per request (ids, echoes, dates), unless
their JSON type is not the usual one of the endpoint (drift worth replaying); other values are replayed as
recorded. Answers that differ only in volatile values count as the same answer."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from emulator.core.limits import DEFAULT_LIMITS
from emulator.proxy.drift import VOLATILE, json_type
from emulator.proxy.recording import Recorded
from emulator.proxy.twin import TRANSLATED
from emulator.scenarios.schema import ACCOUNT_TYPES

#: Statuses the emulator gives on its own to a repeated request (idempotent replays): never scripted.
REPLAY_STATUSES = frozenset({101, 104})


@dataclass(frozen=True)
class RecordedAnswer:
    """What a rule can replay of one recorded answer; two answers are equal when they differ in volatile values
    only."""

    http_status: int
    status: int
    message: str
    data: str = field(compare=False)  # JSON text of the data a rule sets
    essence: str = ""  # the data without volatile values: what tells answers apart

    def respond(self) -> dict[str, Any]:
        respond: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.http_status != 200:
            respond["http_status"] = self.http_status
        data = json.loads(self.data)
        if data:
            respond["data"] = data
        return respond


    def settled(self, usual: Mapping[str, str]) -> RecordedAnswer:
        """This answer without the volatile values the emulator computes itself (ids, echoes, dates, tokens), so
        that its own show through (a new id for each push, the same for its idempotent replay, the request's own
        timestamp echoed); one whose JSON type is not the ``usual`` one of its endpoint is drift, and kept."""
        data = json.loads(self.data)
        kept = {key: value if key in VOLATILE else _own(value, key) for key, value in data.items()
                if key not in VOLATILE or json_type(value) != usual.get(key, json_type(value))}
        essence = {key: json_type(value) if key in VOLATILE else value for key, value in kept.items()}
        return RecordedAnswer(self.http_status, self.status, self.message, json.dumps(kept, sort_keys=True),
                      json.dumps(essence, sort_keys=True))


def _own(value: Any, path: str) -> Any:
    """``value`` (at ``path`` in the answer's data) with each volatile value inside it (a date in a verify's
    issuers) made a template of the emulator's own answer at the same place."""
    if isinstance(value, dict):
        return {key: f"{{{{response.{path}.{key}}}}}" if key in VOLATILE and not isinstance(item, (dict, list))
                else _own(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_own(item, f"{path}.{index}") for index, item in enumerate(value)]
    return value


def usual_types(answers: list[RecordedAnswer]) -> dict[str, str]:
    """For each volatile field of these answers' data, its most common JSON type (none when types tie)."""
    seen: dict[str, Counter[str]] = {}
    for answer in answers:
        for key, value in json.loads(answer.data).items():
            if key in VOLATILE:
                seen.setdefault(key, Counter())[json_type(value)] += 1
    usual = {}
    for key, counts in seen.items():
        ranked = counts.most_common(2)
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            usual[key] = ranked[0][0]
    return usual


def replayable(document: Any, http_status: int, fields: dict[str, Any]) -> RecordedAnswer | None:
    """The replayable part of an answer in Ingo's v11, session or v12 envelope (``fields``: the request's, which
    the emulator echoes itself); None for anything else."""
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("client_message"), str) and isinstance(document.get("status"), int) \
            and not isinstance(document.get("status"), bool):
        return _answer(http_status, document["status"], document["client_message"], document.get("data"), fields)
    response = document.get("response")
    if isinstance(response, dict) and isinstance(response.get("message"), str) \
            and str(response.get("status", "")).isdigit():
        sections = [value for key, value in document.items() if key not in ("request", "response", "diagnosis")]
        data = sections[0] if len(sections) == 1 else None
        return _answer(http_status, int(response["status"]), response["message"], data, fields)
    return None


def _answer(http_status: int, status: int, message: str, data: Any, fields: dict[str, Any]) -> RecordedAnswer:
    kept = {key: value for key, value in data.items()
            if key not in TRANSLATED and fields.get(key, _ABSENT) != value} if isinstance(data, dict) else {}
    essence = {key: value for key, value in kept.items() if key not in VOLATILE}
    return RecordedAnswer(http_status, status, message, json.dumps(kept, sort_keys=True),
                          json.dumps(essence, sort_keys=True))


_ABSENT = object()


def _fields(body: Any) -> dict[str, Any]:
    """Where a request's fields are: the top level (v11), with v12's ``transaction`` and ``request`` objects."""
    if not isinstance(body, dict):
        return {}
    found = dict(body)
    for section in ("request", "transaction"):
        if isinstance(body.get(section), dict):
            found = {**body[section], **found}
    return found


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


#: What a rule may match a request on, in the order tried: the name, how to read it from the request's fields, and
#: the ``match`` condition for a value.
CANDIDATES: tuple[tuple[str, Callable[[dict[str, Any]], Any], Callable[[Any], dict[str, Any]]], ...] = (
    ("participant_unique_id1", lambda f: _text(f.get("participant_unique_id1")),
     lambda v: {"participant_unique_id1": v}),
    ("account", lambda f: (_text(str(f["account"])) or "")[-4:] or None if f.get("account") is not None else None,
     lambda v: {"account": {"last4": v}}),
    ("amount", lambda f: _number(f.get("amount")), lambda v: {"amount": v}),
    ("account_type", lambda f: f.get("account_type") if f.get("account_type") in ACCOUNT_TYPES else None,
     lambda v: {"account_type": v}),
    ("recipient", lambda f: _text(f.get("recipient_last_name")), lambda v: {"recipient": {"last_name": v}}),
)


@dataclass(frozen=True)
class Generated:
    """The scenario file's text, and what could not be made a rule (one line each)."""

    text: str
    rules: int
    skipped: tuple[str, ...]


def from_recording(recorded: list[Recorded], endpoints: Mapping[str, str], *, name: str = "recorded",
                   max_bytes: int = DEFAULT_LIMITS.max_bytes) -> Generated:
    """A scenario file whose rules replay the recorded answers; ``endpoints`` maps paths to scenario endpoint names.
    The file stays within ``max_bytes`` (what the emulator reads of a scenario file): an answer too large for it is
    not replayed, and listed."""
    groups: dict[str, list[tuple[dict[str, Any], RecordedAnswer, str]]] = {}
    skipped: list[str] = []
    for item in recorded:
        document = item.document
        if item.kind != "exchange":
            continue
        request, answer = document["request"], document.get("answer")
        label = f"{item.path.name} ({request['method']} {request['target']})"
        endpoint = endpoints.get(str(request["target"]).split("?", 1)[0])
        if answer is None:
            skipped.append(f"{label}: the upstream gave no answer ({document.get('upstream_error', {}).get('kind')})")
            continue
        if endpoint is None:
            skipped.append(f"{label}: not an endpoint scenarios can answer")
            continue
        fields = _fields(request.get("body", {}).get("json"))
        replayed = replayable(answer.get("body", {}).get("json"), int(answer["status"]), fields)
        if replayed is None:
            skipped.append(f"{label}: HTTP {answer['status']} outside Ingo's envelope (a gateway's answer, which "
                           "scenario rules cannot give)")
            continue
        if replayed.status in REPLAY_STATUSES:
            continue  # the emulator answers a repeated request so itself
        if len(replayed.data) > max_bytes // 2:
            skipped.append(f"{label}: its data is {len(replayed.data)} bytes of JSON, too large for a scenario "
                           f"file (at most {max_bytes} bytes are read, --scenario-max-bytes)")
            continue
        groups.setdefault(endpoint, []).append((fields, replayed, label))
    rules: list[dict[str, Any]] = []
    for endpoint, members in groups.items():
        usual = usual_types([answer for _, answer, _ in members])
        rules += _rules(endpoint, [(fields, answer.settled(usual), label) for fields, answer, label in members])
    while True:
        text = _file(name, rules, skipped)
        if len(text.encode("utf-8")) <= max_bytes or not rules:
            return Generated(text, len(rules), tuple(skipped))
        largest = max(rules, key=lambda rule: len(json.dumps(rule)))  # the rest still fit: drop the largest
        rules.remove(largest)
        skipped.append(f"rule {largest['name']} ({largest['description']}): dropped, the file would exceed "
                       f"{max_bytes} bytes (--scenario-max-bytes)")


def _file(name: str, rules: list[dict[str, Any]], skipped: list[str]) -> str:
    document = {"version": 1, "scenarios": [{
        "name": name, "description": "Answers recorded through ingopay-emulator proxy, replayed offline",
        "rules": rules}]}
    header = ["# Generated by `ingopay-emulator scenarios from-recording`: each rule replays what the upstream",
              "# answered to the recorded requests it matches (tokens, ids, dates and the fields the emulator echoes",
              "# from the request are the emulator's own).",
              *(f"# not replayed: {line}" for line in skipped)]
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
    return "\n".join(header) + "\n" + body


def _rules(endpoint: str, members: list[tuple[dict[str, Any], RecordedAnswer, str]]) -> list[dict[str, Any]]:
    """Rules for one endpoint: one for all when its answers agree, else one per value of the field that tells them
    apart with the fewest values (what the requests with the same answer had in common), else (no field does) the
    most common answer."""
    answers = Counter(answer for _, answer, _ in members)
    if len(answers) == 1:
        return [_rule(f"{endpoint}-1", {"endpoint": endpoint}, members[0][1], [m[2] for m in members])]
    splits = []
    for _name, read, condition in CANDIDATES:
        values: dict[Any, RecordedAnswer] = {}
        labels: dict[Any, list[str]] = {}
        for fields, answer, label in members:
            value = read(fields)
            if value is None or values.setdefault(value, answer) != answer:
                break
            labels.setdefault(value, []).append(label)
        else:
            splits.append((len(values), values, labels, condition))
    if splits:
        _, values, labels, condition = min(splits, key=lambda split: split[0])
        return [_rule(f"{endpoint}-{index}", {"endpoint": endpoint, **condition(value)}, answer, labels[value])
                for index, (value, answer) in enumerate(values.items(), start=1)]
    common = answers.most_common(1)[0][0]
    return [_rule(f"{endpoint}-1", {"endpoint": endpoint}, common,
                  [m[2] for m in members if m[1] == common])]


def _rule(name: str, match: dict[str, Any], answer: RecordedAnswer, labels: list[str]) -> dict[str, Any]:
    return {"name": name, "description": "recorded: " + "; ".join(labels[:5]) + (" ..." if len(labels) > 5 else ""),
            "match": match, "respond": answer.respond()}
