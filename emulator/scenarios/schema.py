"""The scenario file format, as pydantic models; shorthand forms are normalised before validation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from emulator.core.catalogue import catalogue
from emulator.core.durations import parse_duration
from emulator.core.patterns import MAX_PATTERN, compile_pattern
from emulator.webhooks.topics import KnownTopic

ENDPOINTS = ("verify", "process", "debit", "biller_search", "search", "risk_session", "risk_score", "session",
             "plugin")
ACCOUNT_TYPES = ("CA", "AC", "SD", "WT", "RT", "BP", "PD", "PU", "VE", "CK")
FUNDING_DESTINATIONS = ("debit", "credit", "ach", "billpay", "paypal", "check")
FAULTS = ("connection_reset", "empty_reply", "hang", "http_502", "http_503", "http_504")


class DuplicateRuleName(ValueError):
    """Two rules of a scenario share a name (the loader reports it at the second name)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _as_text_match(value: Any) -> Any:
    return {"exact": value} if isinstance(value, str) else value


def _as_amount_match(value: Any) -> Any:
    return {"exact": value} if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _as_nth(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"in": [value]}
    if isinstance(value, list):
        return {"in": value}
    return value


def _as_latency(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"min": value, "max": value}
    return value


def _as_fault(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


def _compile(pattern: str) -> str:
    """A pattern RE2 runs within the limits, as written and ignoring case (names match so); PatternError if not."""
    compile_pattern(pattern)
    compile_pattern(pattern, ignore_case=True)
    return pattern


#: The longest wait a scenario may script (a follow-up a year later): dates derived from the clock stay in range.
LONGEST_WAIT = 366 * 86400
Duration = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=float | str),
                     Field(ge=0, le=LONGEST_WAIT)]


class TextMatch(Strict):
    """Conditions on a text field; all given must hold. A plain string means ``exact``."""

    exact: str | None = None
    prefix: str | None = None
    regex: str | None = Field(default=None, max_length=MAX_PATTERN,
                              description="RE2 syntax (no backreferences or lookaround); matched anywhere in the text")
    last4: str | None = Field(default=None, pattern=r"^.{4}$")

    _check_regex = field_validator("regex")(lambda cls, v: v if v is None else _compile(v))

    @model_validator(mode="after")
    def _satisfiable(self) -> TextMatch:
        """Conditions no text can meet are refused (compared ignoring case, as a name is): they never match."""
        exact = self.exact.casefold() if self.exact is not None else None
        if exact is not None and self.prefix is not None and not exact.startswith(self.prefix.casefold()):
            raise ValueError("exact does not start with prefix: no text can match")  # values unsaid: an account
        if exact is not None and self.last4 is not None and exact[-4:] != self.last4.casefold():
            raise ValueError("exact does not end with last4: no text can match")
        return self


TextCondition = Annotated[TextMatch, BeforeValidator(_as_text_match, json_schema_input_type=str | TextMatch)]


class AmountMatch(Strict):
    """Conditions on the amount; a plain number means ``exact``. ``cents`` is the part after the point."""

    exact: float | None = None
    min: float | None = None
    max: float | None = None
    cents: list[Annotated[int, Field(ge=0, le=99)]] | None = None

    @field_validator("cents", mode="before")
    @classmethod
    def _cents_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _satisfiable(self) -> AmountMatch:
        """Conditions no amount can meet are refused: a rule or a wait on them would never match."""
        exact, low, high = self.exact, self.min, self.max
        if low is not None and high is not None and low > high:
            raise ValueError(f"min {low:g} is more than max {high:g}: no amount can match")
        if exact is not None and (low is not None and exact < low or high is not None and exact > high):
            raise ValueError(f"exact {exact:g} is outside min and max: no amount can match")
        if exact is not None and self.cents is not None and round(exact * 100) % 100 not in self.cents:
            raise ValueError(f"exact {exact:g} does not have the cents {self.cents}: no amount can match")
        return self


AmountCondition = Annotated[AmountMatch, BeforeValidator(_as_amount_match, json_schema_input_type=float | AmountMatch)]


class RecipientMatch(Strict):
    """Conditions on the recipient's name fields."""

    first_name: TextCondition | None = None
    last_name: TextCondition | None = None
    business_name: TextCondition | None = None


class NthMatch(Strict):
    """Which matches of this rule respond: listed ones (``in``), a range (``from``/``to``), or ``every`` k-th."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    in_: list[Annotated[int, Field(ge=1)]] | None = Field(default=None, alias="in")
    from_: Annotated[int, Field(ge=1)] | None = Field(default=None, alias="from")
    to: Annotated[int, Field(ge=1)] | None = None
    every: Annotated[int, Field(ge=1)] | None = None


NthCondition = Annotated[NthMatch, BeforeValidator(_as_nth, json_schema_input_type=int | list[int] | NthMatch)]


def _listed(kind: Any) -> Any:
    return Annotated[list[kind], BeforeValidator(_as_list, json_schema_input_type=kind | list[kind])]


class Match(Strict):
    """When a rule applies. Every condition given must hold; an empty match applies to every request."""

    endpoint: _listed(Literal[ENDPOINTS]) | None = None  # type: ignore[valid-type]
    account_type: _listed(Literal[ACCOUNT_TYPES]) | None = None  # type: ignore[valid-type]
    account: TextCondition | None = None
    amount: AmountCondition | None = None
    recipient: RecipientMatch | None = None
    participant_unique_id1: TextCondition | None = None
    headers: dict[str, TextCondition] | None = None
    funding_destination: _listed(Literal[FUNDING_DESTINATIONS]) | None = None  # type: ignore[valid-type]
    nth: NthCondition | None = None


class Latency(Strict):
    """Seconds to wait before answering: fixed (a number) or uniformly between ``min`` and ``max``."""

    min: Annotated[float, Field(ge=0, le=600)]
    max: Annotated[float, Field(ge=0, le=600)]

    @model_validator(mode="after")
    def _ordered(self) -> Latency:
        if self.max < self.min:
            raise ValueError("max must not be less than min")
        return self


class Fault(Strict):
    """A transport failure instead of (or after) an answer."""

    type: Literal[FAULTS]  # type: ignore[valid-type]
    after_processing: bool = False
    seconds: Annotated[float, Field(gt=0, le=3600)] = 120.0


class Event(Strict):
    """A follow-up webhook event, due ``after`` seconds on the emulator clock."""

    after: Duration = 0.0
    topic: KnownTopic
    status: int | None = None
    message: str | None = None
    data: dict[str, Any] | None = None


class Respond(Strict):
    """What a matching rule does."""

    message: str | None = None
    status: int | None = None
    http_status: Annotated[int, Field(ge=100, le=599)] | None = None
    data: dict[str, Any] | None = None
    latency: Annotated[Latency, BeforeValidator(_as_latency, json_schema_input_type=float | Latency)] | None = None
    fault: Annotated[Fault, BeforeValidator(_as_fault, json_schema_input_type=Literal[FAULTS] | Fault)] | None = None
    events: list[Event] = Field(default_factory=list)

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: int | None, info: Any) -> int | None:
        if value is not None and value not in catalogue() and info.data.get("message") is None:
            raise ValueError(f"unknown Ingo status {value}, expected a code from the catalogue "
                             "(ingopay-emulator triggers lists them), or give 'message' with it")
        return value


class Rule(Strict):
    """One rule: when ``match`` holds, ``respond``."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: str | None = None
    match: Match = Field(default_factory=Match)
    respond: Respond


class Scenario(Strict):
    """A named, ordered list of rules; the first rule that matches wins."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    description: str | None = None
    active: bool = True
    rules: list[Rule]

    @model_validator(mode="after")
    def _unique_rule_names(self) -> Scenario:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise DuplicateRuleName(f"two rules are named {rule.name!r}; rule names must be unique in a scenario")
            seen.add(rule.name)
        return self


class ScenarioFile(Strict):
    """A scenario file: a list of scenarios."""

    model_config = ConfigDict(extra="forbid", strict=True, title="ingopay-emulator scenario file")

    version: Literal[1] = 1
    scenarios: list[Scenario]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the format, for editors (yaml-language-server) and `ingopay-emulator schema`."""
    schema = ScenarioFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/ingopay-emulator/ingopay-emulator/scenario.schema.json"
    return schema
