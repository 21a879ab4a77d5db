"""Matching journal entries: the scenario files' match keys, plus what only the journal knows (path, statuses, the
rule that answered, body fields)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import Field, model_validator

from emulator.core.journal import Entry
from emulator.core.masking import CREDENTIAL_HEADERS, REDACTED, UNKEPT_HEADERS, last_four, mask
from emulator.scenarios.engine import amount_matches, text_matches
from emulator.scenarios.facts import Facts
from emulator.scenarios.schema import Match, TextCondition, TextMatch
from emulator.waits.waiting import EVERYTHING, Difference, Scope, Statuses, WaitMatch, one_or_all

#: Where a request's facts are read from its body when the domain never saw it (refused before validation).
BODY_FACTS = ("account_type", "amount", "participant_unique_id1")


class RequestMatch(Match, WaitMatch):
    """Which journal entries a wait counts: every key given must hold. The scenario keys (endpoint, account_type,
    account, amount, recipient, participant_unique_id1, headers, funding_destination) mean what they mean in a
    rule; ``body`` maps dotted paths of the (masked) request body to the values they must have."""

    path: TextCondition | None = None
    method: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    http_status: Statuses | None = None
    ingo_status: Statuses | None = None
    rule: TextCondition | None = None
    participant_id: Annotated[int, Field(ge=1, le=99999)] | None = None
    body: dict[Annotated[str, Field(min_length=1, max_length=200)], Any] | None = None

    @model_validator(mode="after")
    def _answerable(self) -> RequestMatch:
        if self.nth is not None:
            raise ValueError("nth: counts matches of a scenario rule; a wait says how many with count")
        account = self.account
        if account is not None and (account.prefix is not None or account.regex is not None):
            raise ValueError("account: the journal keeps account numbers masked, so a wait matches them by exact "
                             "(the full number) or last4, not by prefix or regex")
        for name, condition in (self.headers or {}).items():
            _kept_header(name, condition)
        for path, wanted in (self.body or {}).items():
            _kept_value(path, wanted)
        return self

    def shown(self) -> dict[str, Any]:
        """The keys given, as a listing or a message shows them: account numbers masked to their last four (the
        ``account`` asked for, and any in ``body`` or elsewhere)."""
        document = self.model_dump(exclude_none=True, by_alias=True)
        account = document.get("account")
        if isinstance(account, dict) and account.get("exact"):
            account["exact"] = last_four(account["exact"])
        body = document.get("body")
        if isinstance(body, dict):  # dotted paths: the last name says what the value is
            document["body"] = {path: mask({path.rsplit(".", 1)[-1]: value}).popitem()[1]
                                for path, value in body.items()}
        return dict(mask(document))

    def scope(self) -> Scope:
        """Where a wait for this match is filed: its participant, else its one endpoint, else its exact path."""
        if self.participant_id is not None:
            return ("participant", self.participant_id)
        if self.endpoint is not None and len(self.endpoint) == 1:
            return ("endpoint", self.endpoint[0])
        if self.path is not None and self.path.exact is not None:
            return ("path", self.path.exact)
        return EVERYTHING


def scopes(entry: Entry) -> tuple[Scope, ...]:
    """The scopes a journal entry is offered under: its participant's, its endpoint's, its path's."""
    return (("participant", entry.participant_id), ("endpoint", entry.endpoint), ("path", entry.path))


def _kept_header(name: str, condition: TextMatch) -> None:
    """A ValueError when the journal never keeps what a header condition asks for: a wait on it could only time
    out."""
    lowered = name.lower()
    if lowered not in UNKEPT_HEADERS:
        return
    if lowered not in CREDENTIAL_HEADERS:
        raise ValueError(f"headers.{name}: the journal never keeps this header's value (it shows {REDACTED}), so no "
                         "request can match")
    for kind, value in (("exact", condition.exact), ("last4", condition.last4)):
        if value is not None and REDACTED not in value:
            raise ValueError(f"headers.{name}: the journal keeps this header with its credential redacted, so "
                             f"{kind} never matches; match its scheme, username or algorithm with prefix or regex")


def _kept_value(path: str, wanted: Any) -> None:
    """A ValueError when a body value could never be seen as given: the journal keeps bodies masked."""
    leaf = path.rsplit(".", 1)[-1]
    kept = mask({leaf: wanted})[leaf]
    if kept != wanted:
        raise ValueError(f"body.{path}: the journal keeps this value masked (as {kept!r}), so the value given "
                         "never matches; expect the masked form")


def entry_facts(facts: Facts) -> dict[str, Any]:
    """What an entry keeps of the facts rules matched on: the account masked to its last four, no credentials."""
    return {
        "endpoint": facts.endpoint, "account_type": facts.account_type,
        "account": last_four(facts.account) if facts.account else None, "amount": facts.amount,
        "recipient": dict(facts.recipient), "participant_unique_id1": facts.participant_unique_id1,
        "funding_destination": facts.funding_destination,
    }


def _fact(entry: Entry, name: str) -> Any:
    if entry.facts is not None and entry.facts.get(name) is not None:
        return entry.facts[name]
    if name in BODY_FACTS and isinstance(entry.request_body, dict):
        return entry.request_body.get(name)
    return None


def body_value(document: Any, path: str) -> tuple[bool, Any]:
    """The value at a dotted path (list items by index), and whether it is there."""
    current = document
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


def _text(condition: TextMatch) -> Any:
    shown = condition.model_dump(exclude_none=True)
    return shown["exact"] if list(shown) == ["exact"] else shown


def differences(match: RequestMatch, entry: Entry, digest: Callable[[str], str]) -> list[Difference]:
    """The keys of ``match`` that ``entry`` misses (none: it matches); ``digest`` is the journal's account digest."""
    missed: list[Difference] = []

    def miss(key: str, expected: Any, actual: Any) -> None:
        missed.append({"key": key, "expected": expected, "actual": actual})

    if match.path is not None and not text_matches(match.path, entry.path):
        miss("path", _text(match.path), entry.path)
    if match.method is not None and entry.method.upper() != match.method.upper():
        miss("method", match.method.upper(), entry.method)
    if match.http_status is not None and entry.http_status not in match.http_status:
        miss("http_status", one_or_all(match.http_status), entry.http_status)
    if match.ingo_status is not None and entry.ingo_status not in match.ingo_status:
        miss("ingo_status", one_or_all(match.ingo_status), entry.ingo_status)
    if match.rule is not None and not text_matches(match.rule, entry.matched_rule):
        miss("rule", _text(match.rule), entry.matched_rule)
    if match.participant_id is not None and entry.participant_id != match.participant_id:
        miss("participant_id", match.participant_id, entry.participant_id)
    if match.endpoint is not None and entry.endpoint not in match.endpoint:
        miss("endpoint", one_or_all(match.endpoint), entry.endpoint)
    for name in ("account_type", "funding_destination"):
        wanted = getattr(match, name)
        if wanted is not None and _fact(entry, name) not in wanted:
            miss(name, one_or_all(wanted), _fact(entry, name))
    if match.account is not None:
        shown = _fact(entry, "account")
        exact, last4 = match.account.exact, match.account.last4
        if (exact is not None and (entry.account_digest is None or digest(exact) != entry.account_digest)) or \
                (last4 is not None and (shown is None or shown[-4:] != last4)):
            miss("account", last_four(exact) if exact else {"last4": last4}, shown)
    if match.amount is not None:
        amount = _fact(entry, "amount")
        if not amount_matches(match.amount, amount if isinstance(amount, (int, float)) else None):
            wanted_amount = match.amount.model_dump(exclude_none=True)
            miss("amount", wanted_amount.get("exact", wanted_amount), amount)
    if match.recipient is not None:
        names = _fact(entry, "recipient") or {}
        for name in ("first_name", "last_name", "business_name"):
            condition = getattr(match.recipient, name)
            if condition is not None and not text_matches(condition, names.get(name), ignore_case=True):
                miss(f"recipient.{name}", _text(condition), names.get(name))
    if match.participant_unique_id1 is not None:
        value = _fact(entry, "participant_unique_id1")
        if not text_matches(match.participant_unique_id1, value if isinstance(value, str) else None):
            miss("participant_unique_id1", _text(match.participant_unique_id1), value)
    if match.headers:
        headers = _fact(entry, "headers") or entry.headers()
        for name, condition in match.headers.items():
            if not text_matches(condition, headers.get(name.lower())):
                miss(f"headers.{name}", _text(condition), headers.get(name.lower()))
    for path, wanted in (match.body or {}).items():
        present, value = body_value(entry.request_body, path)
        if not present or value != wanted:
            miss(f"body.{path}", wanted, value if present else None)
    return missed
