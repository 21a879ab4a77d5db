"""Outcome coverage: which of Ingo's documented outcome families and webhook topics a participant's traffic met,
which it never met, and the trigger that meets each here (the bundled magic values, a clock step, the iFrame)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from typing_extensions import TypedDict

from emulator.core.catalogue import catalogue
from emulator.core.journal import Entry
from emulator.core.outcomes import FAMILIES
from emulator.readiness import traffic
from emulator.scenarios import magic
from emulator.webhooks.events import Event
from emulator.webhooks.topics import TOPICS

#: Examples (request or event ids) shown of each met family, at most.
EXAMPLES = 5
#: The decline families Ingo publishes, by the catalogue's family name: (label, Ingo's range, a magic value).
DECLINES = {"velocity": ("Declined: validation and velocity", "600-616", 601),
            "routing": ("Declined: transaction and routing", "700-742", 700),
            "card_token": ("Declined: card data and token", "750-815", 751),
            "issuer_decline": ("Declined: card issuer", "851-867", 851)}
#: Ranges of the decline families, for a code the catalogue does not list.
RANGES = {"velocity": range(600, 617), "routing": range(700, 743), "card_token": range(750, 816),
          "issuer_decline": range(851, 868)}


def decline_family(code: int | None) -> str | None:
    """The decline family of an Ingo status, if it is a decline."""
    if code is None:
        return None
    known = catalogue().get(code)
    if known is not None:
        return known.family if known.family in DECLINES else None
    return next((family for family, codes in RANGES.items() if code in codes), None)


def magic_trigger(code: int) -> str:
    """How the bundled magic values produce an Ingo status, in words a report can carry (amount cents and last names;
    docs/magic-values.md lists the cards too)."""
    cents = next((c for c, status in magic.CENTS.items() if status == code), None)
    where = " or ".join(filter(None, (f"amount cents .{cents:02d} on process" if cents is not None else None,
                                      f"a token verified with recipient last name {magic.last_name(code)}")))
    return f"magic value {code}: {where}"


@dataclass(frozen=True)
class Family:
    """One outcome a report covers: its code and label, how to meet it, and which requests meet it."""

    code: str
    label: str
    how: str
    meets: Callable[[Entry], bool]


def _family(code: str, how: str, meets: Callable[[Entry], bool] | None = None) -> Family:
    return Family(code, FAMILIES[code].label, how, meets or (lambda entry: entry.outcome == code))


def _declined(name: str) -> Callable[[Entry], bool]:
    return lambda entry: decline_family(entry.ingo_status) == name


#: Ingo's documented outcome families, in the order a report lists them.
OUTCOMES: tuple[Family, ...] = (
    _family("approved", "verify Ingo's example card (docs/testing-scenarios.md), then push to its token"),
    Family("pending", "Pending (102)", magic_trigger(102), lambda entry: entry.ingo_status == 102),
    Family("queued", "Queued (103)", magic_trigger(103), lambda entry: entry.ingo_status == 103),
    _family("idempotent_replay", "send a push again with the same participant_unique_id1 (101; 104 while the first "
                                 "is under way, with --process-delay)"),
    *(Family(name, f"{label} ({codes})", magic_trigger(example), _declined(name))
      for name, (label, codes, example) in DECLINES.items()),
    _family("validation_error", "leave a required field out of a request (amount on a push)"),
    _family("auth_refused", "sign a request with a wrong secret"),
    _family("throttled", "POST /_emulator/ratelimit {\"username\": \"…\", \"refuse_next\": 1}, or send more than "
                         "five requests in a second with rate limiting on"),
    _family("system_error", magic_trigger(500)),
    Family("no_answer", "No answer (connection dropped, client timeout)",
           "the readiness-triggers scenario of docs/readiness.md: amount cents .44 drops the connection after "
           "processing, .45 answers after your client's timeout",
           lambda entry: entry.outcome == "injected_fault" or traffic.client_gone(entry)),
)


def topic_trigger(topic: str) -> str:
    """How a webhook topic is sent here."""
    for code, (_, events) in magic.FOLLOW_UPS.items():
        for after, name, _status in events:
            if name == topic:
                endpoint = magic.FOLLOW_UP_ENDPOINT.get(code, ["process"])[0]
                later = f", then advance the clock {after}" if after not in ("0s", "0") else ""
                return f"{magic_trigger(code)} ({endpoint}){later}"
    if topic.startswith("plugin.transaction.account.tokenization"):
        return "complete an iFrame session (docs/plugin.md)"
    if topic == "plugin.transaction.session.request.terminated":
        return "fail the iFrame's recipient data matching --plugin-max-attempts times"
    if topic.endswith("check.issued"):
        return "push to a check account (account_type CK)"
    return "a scenario rule's events (docs/scenarios.md, respond.events)"


class CoverageItem(TypedDict):
    """One outcome family or webhook topic: met or not, examples of it, and how to meet it here."""

    code: str
    label: str
    kind: Literal["outcome", "topic"]
    met: bool
    count: int
    examples: list[str]
    how: str


class CoverageJson(TypedDict):
    """What the traffic met and never met, in one sentence and item by item."""

    summary: str
    met: list[str]
    never_met: list[str]
    items: list[CoverageItem]


def coverage(entries: Iterable[Entry], events: Iterable[Event]) -> CoverageJson:
    """The coverage of a rehearsal's requests and emitted events."""
    entries, events = list(entries), list(events)
    items: list[CoverageItem] = []
    for family in OUTCOMES:
        met = [entry.request_id for entry in entries if family.meets(entry)]
        items.append({"code": family.code, "label": family.label, "kind": "outcome", "met": bool(met),
                      "count": len(met), "examples": met[:EXAMPLES], "how": family.how})
    for topic in TOPICS.values():
        sent = [event.id for event in events if event.topic == topic.name]
        items.append({"code": topic.name, "label": topic.name, "kind": "topic", "met": bool(sent),
                      "count": len(sent), "examples": sent[:EXAMPLES], "how": topic_trigger(topic.name)})
    met = [item["code"] for item in items if item["met"]]
    never = [item["code"] for item in items if not item["met"]]
    return {"summary": summary(items), "met": met, "never_met": never, "items": items}


def summary(items: list[CoverageItem]) -> str:
    """One sentence: what was met, and a warning by name when only approvals were."""
    outcomes = [item for item in items if item["kind"] == "outcome"]
    met = [item["label"] for item in outcomes if item["met"]]
    topics = sum(1 for item in items if item["kind"] == "topic" and item["met"])
    never = [item["label"] for item in outcomes if not item["met"]]
    if not met:
        return "The traffic met no outcome yet."
    if met == [FAMILIES["approved"].label]:
        return (f"The traffic only ever saw approvals: it never met {', '.join(never)}; a client tested this way "
                "has not been shown to handle any other answer.")
    return (f"The traffic met {len(met)} of {len(outcomes)} outcome families ({', '.join(met)}) and {topics} of "
            f"{len(items) - len(outcomes)} webhook topics" + (f"; never met: {', '.join(never)}." if never else "."))
