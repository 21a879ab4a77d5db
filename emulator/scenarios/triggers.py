"""Describing rules as triggers people can read: in the admin API, the CLI and docs/magic-values.md."""

from __future__ import annotations

from typing import Any

from emulator.core.catalogue import catalogue
from emulator.core.durations import format_duration
from emulator.scenarios.engine import Engine
from emulator.scenarios.schema import Event, Match, Rule, TextMatch
from emulator.webhooks.topics import TOPICS


def _text(condition: TextMatch) -> str:
    parts = []
    if condition.exact is not None:
        parts.append(condition.exact)
    if condition.prefix is not None:
        parts.append(f"starting {condition.prefix}")
    if condition.last4 is not None:
        parts.append(f"ending {condition.last4}")
    if condition.regex is not None:
        parts.append(f"matching /{condition.regex}/")
    return " ".join(parts)


def describe(match: Match) -> str:
    """A short sentence of the conditions, e.g. ``account 4000000085100008 (CA)``."""
    parts = []
    if match.account is not None:
        kinds = f" ({', '.join(match.account_type)})" if match.account_type else ""
        parts.append(f"account {_text(match.account)}{kinds}")
    elif match.account_type:
        parts.append(f"account type {', '.join(match.account_type)}")
    if match.amount is not None:
        a = match.amount
        if a.cents is not None:
            parts.append("amount cents " + ", ".join(f".{c:02d}" for c in a.cents))
        if a.exact is not None:
            parts.append(f"amount {a.exact:.2f}")
        if a.min is not None or a.max is not None:
            parts.append(f"amount {a.min if a.min is not None else ''}..{a.max if a.max is not None else ''}")
    if match.recipient is not None:
        for name in ("first_name", "last_name", "business_name"):
            condition = getattr(match.recipient, name)
            if condition is not None:
                parts.append(f"recipient {name.replace('_', ' ')} {_text(condition)}")
    if match.participant_unique_id1 is not None:
        parts.append(f"participant_unique_id1 {_text(match.participant_unique_id1)}")
    for header, condition in (match.headers or {}).items():
        parts.append(f"header {header}: {_text(condition)}")
    if match.funding_destination:
        parts.append(f"funding destination {', '.join(match.funding_destination)}")
    if match.nth is not None:
        n = match.nth
        if n.in_:
            parts.append("match number " + ", ".join(map(str, n.in_)))
        if n.from_ is not None or n.to is not None:
            parts.append(f"matches {n.from_ or 1} to {n.to if n.to is not None else 'any'}")
        if n.every:
            parts.append(f"every {n.every}th match")
    return "; ".join(parts) or "any request"


def source_of(code: int | None, message: str | None) -> tuple[str | None, str | None]:
    """Who defines an answer, and the Ingo page that documents it.

    ``ingo`` (with its page) or ``emulator`` for a catalogued code, ``scenario`` when the rule gives its own
    message, ``None`` when there is no status (a fault).
    """
    if message is not None:
        return "scenario", None
    if code is None or code not in catalogue():
        return None, None
    status = catalogue()[code]
    return status.source, status.page


def event_row(event: Event) -> dict[str, Any]:
    """A follow-up event: when (seconds, and as people write it), its topic, status and who defines the status."""
    source, page = source_of(event.status if event.status is not None else TOPICS[event.topic].status,
                             event.message)
    topic = TOPICS[event.topic]
    return {"after_seconds": event.after, "after": format_duration(event.after), "topic": event.topic,
            "status": event.status, "source": source, "page": page,
            "topic_source": topic.source.owner if topic.source else None, "topic_page": topic.page}


def row(scenario: str, rule: Rule) -> dict[str, Any]:
    """One rule as a trigger: what it matches, where, what it answers, who defines that, what follows."""
    respond = rule.respond
    code = respond.status
    if respond.message is not None:
        message = respond.message
    elif code is not None and code in catalogue():
        message = catalogue()[code].message
    else:
        message = None
    source, page = source_of(code, respond.message)
    return {
        "scenario": scenario, "rule": rule.name, "trigger": describe(rule.match),
        "endpoint": ", ".join(rule.match.endpoint) if rule.match.endpoint else "any",
        "status": code, "message": message, "source": source, "page": page,
        "fault": respond.fault.type if respond.fault else None,
        "events": [event_row(e) for e in respond.events],
    }


def rows(engine: Engine, *, scenario: str | None = None) -> list[dict[str, Any]]:
    """Every loaded rule (of one scenario, if named) as a trigger row."""
    found: list[dict[str, Any]] = []
    for name, loaded in engine.scenarios.items():
        if scenario is not None and name != scenario:
            continue
        found.extend(row(name, rule) for rule in loaded.rules)
    return found


#: The SOURCE column's words for a row's source.
SOURCE_LABELS = {"ingo": "Ingo", "emulator": "emulator's", "scenario": "scenario's"}


def event_line(event: dict[str, Any]) -> str:
    """A follow-up event for the terminal, e.g. ``+ 1114 gateway.transaction...returned after 2d (Ingo)``."""
    status = event["status"] if event["status"] is not None else TOPICS[event["topic"]].status
    source = SOURCE_LABELS.get(event["source"] or "")
    topic = SOURCE_LABELS.get(event.get("topic_source") or "")
    said = f"(code: {source}; topic: {topic})" if source and topic and source != topic else \
        f"({source})" if source else None
    parts = ("+", status, event["topic"], "after", event["after"], said)
    return " ".join(str(part) for part in parts if part is not None)


def text_table(found: list[dict[str, Any]]) -> str:
    """A plain-text table for the terminal; each follow-up event on its own indented line below its rule."""
    header = ("TRIGGER", "ENDPOINT", "STATUS", "SOURCE", "MESSAGE")
    lines = [(r["trigger"], r["endpoint"], "" if r["status"] is None else str(r["status"]),
              SOURCE_LABELS.get(r["source"] or "", ""), r["message"] or r["fault"] or "") for r in found]
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    # one width per column, one line per rule, one cell per column in each line: every zip pairs equal lengths
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for r, line in zip(found, lines, strict=True):
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        out += ["    " + event_line(event) for event in r["events"]]
    return "\n".join(out)
