"""The scenario engine: which rule answers a request, counted per participant, first match wins."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from emulator.core.catalogue import catalogue
from emulator.core.masking import last_four
from emulator.core.patterns import compile_pattern
from emulator.core.stateful import ARCHIVED, Refused, Stateful, refusal, validated
from emulator.scenarios.catalog import Sources
from emulator.scenarios.facts import Facts
from emulator.scenarios.loader import Loaded, ScenarioError
from emulator.scenarios.schema import AmountMatch, Match, NthMatch, Respond, Rule, Scenario, TextMatch
from emulator.scenarios.templates import Templates

#: The request header that picks a scenario for one request.
SCENARIO_HEADER = "X-Emulator-Scenario"
#: The X-Emulator-Scenario value that turns scenarios off for one request.
NO_SCENARIO = "none"

#: What an engine built without sources loads again on a reset: no files, not even the bundled ones. The default
#: of Engine(sources=...), made once here (Sources is frozen, so every engine can share it).
NO_SOURCES = Sources(bundled=False)


class FromFiles(Exception):
    """A scenario the emulator's files (or the bundled set) define: every reset and reload loads it again, so it
    is not deleted; the message says what to do instead."""


@dataclass(frozen=True)
class Decision:
    """The rule that answers, or none (the emulator's default behaviour)."""

    scenario: str | None = None
    rule: str | None = None
    respond: Respond | None = None
    match_count: int = 0
    match: Match | None = None

    @property
    def label(self) -> str | None:
        return f"{self.scenario}/{self.rule}" if self.rule else None

    @property
    def status(self) -> int | None:
        return self.respond.status if self.respond else None

    @property
    def message(self) -> str | None:
        if self.respond is None or self.respond.status is None:
            return None
        if self.respond.message is not None:
            return self.respond.message
        return catalogue()[self.respond.status].message

    @property
    def fails(self) -> bool:
        """Whether the scripted status is a refusal (not a success or soft-verification result)."""
        status = self.status
        if status is None:
            return False
        known = catalogue().get(status)
        if known is not None:
            return not known.is_success
        return not 100 <= status <= 132


NO_DECISION = Decision()


class LoadedScenario(TypedDict):
    """A loaded scenario as a snapshot keeps it: where it was read from and its definition (the file's form)."""

    source: str
    definition: dict[str, Any]


class Activation(TypedDict):
    """The scenarios active for one participant, newest activation first."""

    participant_id: int
    scenarios: list[str]


class RuleCount(TypedDict):
    """How many requests of a participant a rule's conditions have held for (what ``nth`` counts)."""

    participant_id: int
    scenario: str
    rule: str
    count: int


class EngineState(TypedDict):
    """What an engine holds, as a snapshot keeps it: scenarios in consultation order, activations, rule counts."""

    loaded: list[LoadedScenario]
    active: list[str]
    active_for: list[Activation]
    counts: list[RuleCount]


class _KeptState(EngineState):
    """An engine's state as an archive must hold it."""

    __pydantic_config__ = ARCHIVED  # type: ignore[misc]


KEPT_STATE = TypeAdapter(_KeptState)


@dataclass(frozen=True)
class Restoring:
    """An archive's scenarios, validated as scenario files are, with the activations and counts that name them."""

    loaded: list[Loaded]
    state: EngineState


class RuleIndex:
    """A scenario's rules grouped so a request only looks at those that could match it.

    Per endpoint, rules whose only account condition is an exact number, whose only recipient condition
    is an exact last name, or whose only condition is the amount's cents, are found by dictionary lookup;
    the rest are always tried.
    Candidates come back in file order, so "first match wins" and the nth counts are unchanged.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._general: dict[str | None, list[tuple[int, Rule]]] = {}
        self._by_account: dict[str | None, dict[str, list[tuple[int, Rule]]]] = {}
        self._by_last_name: dict[str | None, dict[str, list[tuple[int, Rule]]]] = {}
        self._by_cents: dict[str | None, dict[int, list[tuple[int, Rule]]]] = {}
        self._endpoints = {e for rule in scenario.rules for e in (rule.match.endpoint or [])}
        for endpoint in [*self._endpoints, None]:
            general: list[tuple[int, Rule]] = []
            by_account: dict[str, list[tuple[int, Rule]]] = {}
            by_name: dict[str, list[tuple[int, Rule]]] = {}
            by_cents: dict[int, list[tuple[int, Rule]]] = {}
            for position, rule in enumerate(scenario.rules):
                match = rule.match
                if match.endpoint is not None and endpoint not in match.endpoint:
                    continue
                account, recipient = match.account, match.recipient
                if account is not None and account.exact is not None and account.prefix is None \
                        and account.regex is None and account.last4 is None:
                    by_account.setdefault(account.exact, []).append((position, rule))
                elif recipient is not None and recipient.first_name is None and recipient.business_name is None \
                        and recipient.last_name is not None and recipient.last_name.exact is not None \
                        and _exact_only(recipient.last_name):
                    by_name.setdefault(recipient.last_name.exact.casefold(), []).append((position, rule))
                elif _cents_only(match):
                    for cents in match.amount.cents:  # type: ignore[union-attr]
                        by_cents.setdefault(cents, []).append((position, rule))
                else:
                    general.append((position, rule))
            self._general[endpoint] = general
            self._by_account[endpoint] = by_account
            self._by_last_name[endpoint] = by_name
            self._by_cents[endpoint] = by_cents

    def candidates(self, facts: Facts) -> list[Rule]:
        endpoint = facts.endpoint if facts.endpoint in self._endpoints else None
        found = list(self._general[endpoint])
        if facts.account is not None:
            found += self._by_account[endpoint].get(facts.account, ())
        last_name = facts.recipient.get("last_name") if facts.recipient else None
        if last_name:
            found += self._by_last_name[endpoint].get(last_name.casefold(), ())
        if facts.amount is not None:
            found += self._by_cents[endpoint].get(round(facts.amount * 100) % 100, ())
        found.sort(key=lambda item: item[0])
        return [rule for _, rule in found]


def _cents_only(match: Match) -> bool:
    """Only the amount's cents (and perhaps the endpoint) are asked for, e.g. the bundled cents triggers."""
    amount = match.amount
    if amount is None or amount.cents is None or amount.exact is not None or amount.min is not None \
            or amount.max is not None:
        return False
    others = match.model_dump(exclude={"endpoint", "amount"}, exclude_none=True)
    return not others


def _exact_only(condition: TextMatch) -> bool:
    return condition.exact is not None and condition.prefix is None and condition.regex is None \
        and condition.last4 is None


def text_matches(condition: TextMatch, value: str | None, *, ignore_case: bool = False) -> bool:
    if value is None:
        return False
    text = value.casefold() if ignore_case else value
    if condition.exact is not None and text != (condition.exact.casefold() if ignore_case else condition.exact):
        return False
    if condition.prefix is not None and not text.startswith(
            condition.prefix.casefold() if ignore_case else condition.prefix):
        return False
    if condition.last4 is not None and text[-4:] != (condition.last4.casefold() if ignore_case else condition.last4):
        return False
    if condition.regex is not None and not compile_pattern(condition.regex, ignore_case=ignore_case).search(value):
        return False
    return True


def amount_matches(condition: AmountMatch, amount: float | None) -> bool:
    if amount is None:
        return False
    if condition.exact is not None and round(amount, 2) != round(condition.exact, 2):
        return False
    if condition.min is not None and amount < condition.min:
        return False
    if condition.max is not None and amount > condition.max:
        return False
    if condition.cents is not None and round(amount * 100) % 100 not in condition.cents:
        return False
    return True


def nth_matches(condition: NthMatch, count: int) -> bool:
    if condition.in_ is not None and count not in condition.in_:
        return False
    if condition.from_ is not None and count < condition.from_:
        return False
    if condition.to is not None and count > condition.to:
        return False
    if condition.every is not None and count % condition.every:
        return False
    return True


def conditions_hold(match: Match, facts: Facts) -> bool:
    """Every condition of ``match`` except ``nth`` holds for ``facts``."""
    if match.endpoint is not None and facts.endpoint not in match.endpoint:
        return False
    if match.account_type is not None and facts.account_type not in match.account_type:
        return False
    if match.account is not None and not text_matches(match.account, facts.account):
        return False
    if match.amount is not None and not amount_matches(match.amount, facts.amount):
        return False
    if match.recipient is not None:
        for name in ("first_name", "last_name", "business_name"):
            condition = getattr(match.recipient, name)
            if condition is not None and not text_matches(condition, facts.recipient.get(name), ignore_case=True):
                return False
    if match.participant_unique_id1 is not None and \
            not text_matches(match.participant_unique_id1, facts.participant_unique_id1):
        return False
    if match.headers:
        for name, condition in match.headers.items():
            if not text_matches(condition, facts.headers.get(name.lower())):
                return False
    if match.funding_destination is not None and facts.funding_destination not in match.funding_destination:
        return False
    return True


class Engine(Stateful[Restoring]):
    """Loaded scenarios, which are active (for everyone or per participant), and per-participant rule counts.

    Its state (stateful part ``scenarios``): a reset reads the files again (or, for one participant, forgets its
    counts and activations); a snapshot keeps every loaded scenario with its activations and counts, which a restore
    puts in place of this engine's (its ``sources`` stay its own)."""

    section = "scenarios"

    def __init__(self, loaded: Iterable[Loaded] = (), *, seed: int | None = None,
                 sources: Sources = NO_SOURCES) -> None:
        self.sources = sources  # what a reset reads again
        self.templates = Templates(seed)
        self._random = random.Random(seed)
        self.scenarios: dict[str, Scenario] = {}
        self.files: dict[str, str] = {}  # where each scenario was read from
        self.from_files: set[str] = set()  # the names the files define (loaded again on a reset), not replaced since
        self.active: list[str] = []
        self.active_for: dict[int, list[str]] = {}
        self._counts: dict[tuple[int, str, str], int] = {}
        self._indexes: dict[str, RuleIndex] = {}
        self.replace(loaded)

    def replace(self, loaded: Iterable[Loaded]) -> None:
        """Swap in a new set of scenarios (a reload); activations of names that remain are kept."""
        previous_active = set(self.active)
        known_before = set(self.scenarios)
        self.scenarios = {item.scenario.name: item.scenario for item in loaded}
        self.files = {item.scenario.name: item.source for item in loaded}
        self.from_files = set(self.scenarios)
        self.active = [name for name, s in self.scenarios.items()
                       if (name in previous_active) or (name not in known_before and s.active)]
        self.active_for = {p: [n for n in names if n in self.scenarios] for p, names in self.active_for.items()}
        self._counts.clear()

    def add(self, loaded: Iterable[Loaded]) -> list[str]:
        """Add (or replace by name) scenarios uploaded at run time; new active ones start active."""
        names = []
        for item in loaded:
            name = item.scenario.name
            self.scenarios[name] = item.scenario
            self.files[name] = item.source
            self.from_files.discard(name)  # the upload replaced the file's: deleting it is the user's to do
            if item.scenario.active and name not in self.active:
                self.active.append(name)
            elif not item.scenario.active and name in self.active:
                self.active.remove(name)
            self._counts = {k: v for k, v in self._counts.items() if k[1] != name}
            names.append(name)
        return names

    def remove(self, name: str) -> None:
        """Forget a scenario added at run time (uploaded, or restored from a snapshot), with its activations and
        counts; KeyError when no scenario has the name, FromFiles when the files define it."""
        if name not in self.scenarios:
            raise KeyError(name)
        if name in self.from_files:
            raise FromFiles(f"scenario {name!r} comes from {self.files.get(name) or 'the scenario files'}: every "
                            "reset and reload loads it again, so it is not deleted; deactivate it (POST "
                            f"/_emulator/scenarios/{name}/deactivate), or take it out of its file and reload")
        del self.scenarios[name]
        self.files.pop(name, None)
        self._indexes.pop(name, None)
        if name in self.active:
            self.active.remove(name)
        self.active_for = {p: [n for n in names if n != name] for p, names in self.active_for.items()}
        self._counts = {k: v for k, v in self._counts.items() if k[1] != name}

    def activate(self, name: str, participant_id: int | None = None) -> None:
        if name not in self.scenarios:
            raise KeyError(name)
        target = self.active if participant_id is None else self.active_for.setdefault(participant_id, [])
        if name in target:
            target.remove(name)
        target.insert(0, name)  # the newest activation is consulted first

    def deactivate(self, name: str, participant_id: int | None = None) -> None:
        if name not in self.scenarios:
            raise KeyError(name)
        target = self.active if participant_id is None else self.active_for.get(participant_id, [])
        if name in target:
            target.remove(name)

    def reset(self, participant_id: int | None = None) -> None:
        """Back to a fresh start: for everyone, the files read again (or, if they broke since, the loaded rules
        kept) with their own activations and no counts; for one participant, its counts and activations."""
        if participant_id is None:
            try:
                self.replace(self.sources.load())
            except ScenarioError:
                self._counts.clear()
            self.active_for.clear()
        else:
            self._counts = {k: v for k, v in self._counts.items() if k[0] != participant_id}
            self.active_for.pop(participant_id, None)

    def export(self) -> EngineState:
        """The scenarios, activations and counts (for a snapshot)."""
        return {
            "loaded": [{"source": self.files.get(name, ""),
                        "definition": scenario.model_dump(mode="json", by_alias=True)}
                       for name, scenario in self.scenarios.items()],
            "active": list(self.active),
            "active_for": [{"participant_id": p, "scenarios": list(names)} for p, names in self.active_for.items()],
            "counts": [{"participant_id": p, "scenario": name, "rule": rule, "count": count}
                       for (p, name, rule), count in self._counts.items()],
        }

    def check(self, section: Any) -> Restoring:
        """The archive's scenarios, validated as scenario files are (one this engine holds unchanged is reused), and
        every name its activations and counts use."""
        state = EngineState(validated(KEPT_STATE, section))  # type: ignore[misc]
        current = self.scenarios
        loaded: list[Loaded] = []
        rules: dict[str, set[str]] = {}
        for index, item in enumerate(state["loaded"]):
            name = item["definition"].get("name")
            same = current.get(name) if isinstance(name, str) else None
            if same is not None and same.model_dump(mode="json", by_alias=True) == item["definition"]:
                scenario = same
            else:
                try:
                    scenario = Scenario.model_validate(item["definition"])
                except ValidationError as exc:
                    raise refusal(exc, ("loaded", index, "definition")) from None
            if scenario.name in rules:
                raise Refused(("loaded", index), f": scenario {scenario.name!r} is loaded twice")
            rules[scenario.name] = {rule.name for rule in scenario.rules}
            loaded.append(Loaded(scenario, item["source"]))
        named: list[tuple[tuple[str | int, ...], str]] = [(("active", i), n) for i, n in enumerate(state["active"])]
        named += [(("active_for", i, "scenarios", j), n) for i, a in enumerate(state["active_for"])
                  for j, n in enumerate(a["scenarios"])]
        named += [(("counts", i, "scenario"), c["scenario"]) for i, c in enumerate(state["counts"])]
        for where, name in named:
            if name not in rules:
                raise Refused(where, f"names scenario {name[:80]!r}, which the snapshot does not load")
        for i, activation in enumerate(state["active_for"]):
            if not 1 <= activation["participant_id"] <= 99_999:
                raise Refused(("active_for", i, "participant_id"), "must be a participant id (1 to 99999)")
        for i, count in enumerate(state["counts"]):
            if count["rule"] not in rules[count["scenario"]]:
                raise Refused(("counts", i, "rule"), f"names rule {count['rule'][:80]!r}, which scenario "
                                                     f"{count['scenario']!r} does not have")
            if not 1 <= count["participant_id"] <= 99_999:
                raise Refused(("counts", i, "participant_id"), "must be a participant id (1 to 99999)")
            if count["count"] < 0:
                raise Refused(("counts", i, "count"), "must be at least 0")
        return Restoring(loaded, state)

    def load(self, checked: Restoring) -> None:
        """Take the checked scenarios, activations and counts of a snapshot; ``sources`` stay this engine's own, so
        a later reset reads this emulator's files again."""
        state = checked.state
        self.scenarios = {item.scenario.name: item.scenario for item in checked.loaded}
        self.files = {item.scenario.name: item.source for item in checked.loaded}
        self.active = list(state["active"])
        self.active_for = {a["participant_id"]: list(a["scenarios"]) for a in state["active_for"]}
        self._counts = {(c["participant_id"], c["scenario"], c["rule"]): c["count"] for c in state["counts"]}

    def order_for(self, participant_id: int, requested: str | None = None) -> list[str]:
        """Scenario names in the order they are consulted for this participant."""
        if requested is not None and requested.strip().lower() == NO_SCENARIO:
            return []
        names: list[str] = []
        if requested is not None and requested in self.scenarios:
            names.append(requested)
        for name in [*self.active_for.get(participant_id, []), *self.active]:
            if name not in names:
                names.append(name)
        return names

    def why(self, decision: Decision, participant_id: int, requested: str | None = None) -> dict[str, Any] | None:
        """Why ``decision``'s rule answered, for a person: its scenario, how that scenario was chosen, the
        conditions the rule matches on, and how many times it has matched; None when no rule answered."""
        if decision.rule is None or decision.scenario is None:
            return None
        if requested is not None and requested == decision.scenario:
            chosen = f"named by the request's {SCENARIO_HEADER} header"
        elif decision.scenario in self.active_for.get(participant_id, []):
            chosen = f"activated for participant {participant_id}"
        else:
            chosen = "active for every participant"
        match = decision.match.model_dump(mode="json", exclude_none=True) if decision.match is not None else {}
        if "account" in match:  # kept in the journal, so masked as the journal masks: the last four only
            match["account"] = _last_fours(match["account"])
        return {"scenario": decision.scenario, "rule": decision.rule, "chosen": chosen, "match": match,
                "match_count": decision.match_count}

    def decide(self, facts: Facts, requested: str | None = None) -> Decision:
        """The first rule whose conditions (and nth) hold, counting matches per participant and rule; then, when
        none does and the facts name a fallback endpoint, the first such rule for that endpoint."""
        decision = self._first_match(facts, requested)
        if decision.rule is None and facts.fallback is not None:
            return self._first_match(replace(facts, endpoint=facts.fallback, fallback=None), requested)
        return decision

    def _first_match(self, facts: Facts, requested: str | None) -> Decision:
        for name in self.order_for(facts.participant_id, requested):
            scenario = self.scenarios[name]
            index = self._indexes.get(name)
            if index is None or index.scenario is not scenario:
                index = self._indexes[name] = RuleIndex(scenario)
            for rule in index.candidates(facts):
                if not conditions_hold(rule.match, facts):
                    continue
                key = (facts.participant_id, name, rule.name)
                count = self._counts.get(key, 0) + 1
                self._counts[key] = count
                if rule.match.nth is not None and not nth_matches(rule.match.nth, count):
                    continue
                return Decision(name, rule.name, rule.respond, count, rule.match)
        return NO_DECISION

    def latency(self, decision: Decision) -> float:
        respond = decision.respond
        if respond is None or respond.latency is None:
            return 0.0
        return self._random.uniform(respond.latency.min, respond.latency.max)

    def overrides(self, decision: Decision, facts: Facts, data: Mapping[str, Any]) -> dict[str, Any]:
        """The response ``data`` with the rule's overrides applied (templates rendered)."""
        merged = dict(data)
        if decision.respond is not None and decision.respond.data:
            context = {"request": facts.request, "response": data, "token": _public_token(facts.token),
                       "now": None}
            merged.update(self.templates.render(decision.respond.data, context))
        return merged

    def listing(self) -> list[dict[str, Any]]:
        result = []
        for name, scenario in self.scenarios.items():
            result.append({"name": name, "description": scenario.description, "source": self.files.get(name),
                           "deletable": name not in self.from_files, "active": name in self.active,
                           "active_for": sorted(p for p, names in self.active_for.items() if name in names),
                           "rules": [_rule_summary(rule) for rule in scenario.rules]})
        return result


def _last_fours(condition: Any) -> Any:
    """An account condition with every number in it masked to its last four (a prefix or pattern as well)."""
    if isinstance(condition, dict):
        return {key: _last_fours(value) for key, value in condition.items()}
    if isinstance(condition, list):
        return [_last_fours(item) for item in condition]
    return last_four(condition) if isinstance(condition, str) else condition


def _public_token(token: Mapping[str, Any] | None) -> dict[str, Any]:
    if not token:
        return {}
    return {k: token.get(k) for k in ("token", "account_type", "last_4", "expiration_date", "payee_id")}


def _rule_summary(rule: Rule) -> dict[str, Any]:
    return {"name": rule.name, "description": rule.description,
            "match": rule.match.model_dump(exclude_none=True, by_alias=True),
            "respond": rule.respond.model_dump(exclude_none=True, exclude_defaults=True)}
