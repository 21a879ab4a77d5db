"""What the admin API takes and answers, as typed models: the handlers build the answers; the admin guard checks
each body against its model (``emulator.web.declared``: unknown keys and nulls refused), and the OpenAPI document
describes them, from the route declarations (``emulator.admin.urls``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict

from emulator.core.clock import ClockSection
from emulator.core.outcomes import FamilyJson
from emulator.core.provenance import RelianceJson, ReliedJson
from emulator.core.scheduler import Due
from emulator.core.validation import Body
from emulator.findings.models import FindingJson
from emulator.gateway.schemas import ParticipantId
from emulator.snapshots.restoring import MissingEndpoint, Rescheduled
from emulator.store import Usage
from emulator.stories.replay import SAME
from emulator.stories.signing_story import Comparison, SigningStory
from emulator.stories.timeline import Links, Moment
from emulator.tenants.models import TenantJson
from emulator.waits.deliveries import DeliveryMatch
from emulator.waits.requests import RequestMatch
from emulator.waits.waiting import DEFAULT_TIMEOUT, LONGEST_WAIT, Count, Difference, OpenWait
from emulator.web.ratelimit import Window
from emulator.webhooks.events import EventRecord
from emulator.webhooks.topics import KnownTopic


class Health(TypedDict):
    """200 once the emulator is ready (scenarios loaded), 503 while it starts."""

    status: Literal["ok", "starting"]
    version: str


class RequestList(TypedDict):
    count: int
    requests: list[dict[str, Any]]


class OutcomeList(TypedDict):
    families: list[FamilyJson]


class JournalRead(TypedDict):
    """How much of a participant's traffic the journal still held when it was read."""

    entries: int
    size: Annotated[int, Field(description="the most the journal keeps (--journal-size), all participants")]
    evicted: Annotated[int, Field(description="entries that left the journal to make room since the start or the "
                                              "last reset")]


class Provenance(TypedDict):
    """The emulator's choices (and Kong's behaviours) a participant's traffic rested on, most relied on first."""

    participant_id: int | None
    journal: JournalRead
    deliveries_read: int
    count: int
    relied_on: list[ReliedJson]


class RequestStory(TypedDict):
    """One journaled request's whole story: the entry, its signing, the 401's side-by-side, a curl command that
    signs afresh, what ties it to other records, and its timeline."""

    request: dict[str, Any]
    signing: SigningStory | None
    comparisons: list[Comparison]
    curl: str
    masked: Annotated[list[str], Field(description="dotted paths of the body's masked values: a replay must fill "
                                                   "them in")]
    links: Links
    timeline: list[Moment]
    provenance: Annotated[list[RelianceJson], Field(description="each part of the answer and where it comes from: "
                                                                "an Ingo page, Kong's plugin, the emulator's choice "
                                                                "(with its reason) or the emulator's own")]


class ReplayRequest(Body):
    participant_unique_id1: Annotated[str, Field(min_length=1, description='"same" (the default), "new" or the '
                                                                           "text to send")] = SAME
    fill: Annotated[dict[str, str], Field(description="dotted paths of masked values to the values to send")] = {}
    username: Annotated[str, Field(description="the credential to sign with (default: the request's)")] | None = None


class Replayed(TypedDict):
    """The answer to a replay, and the journal id of the request it sent."""

    replay_of: int
    id: int | None
    request_id: str | None
    http_status: int
    body: Any


class ParticipantBody(Body):
    """One participant, or (the key left out) everyone."""

    participant_id: Annotated[ParticipantId, Field(description="one participant; leave the key out for everyone "
                                                               "(null is refused)")] | None = None


class Reset(TypedDict):
    reset: Literal["everything", "participant"]
    participant_id: NotRequired[int]


class RateLimits(TypedDict):
    limit_per_second: int
    enabled: bool
    credentials: dict[str, Window]


class RateLimitChange(Body):
    username: str | None = None
    refuse_next: Annotated[int, Field(ge=0)] | None = None
    reset: bool = False


class SignRequest(Body):
    method: str = "POST"
    path: Annotated[str, Field(examples=["/gateway/verify"])]
    headers: dict[str, str] = {}
    body: Annotated[str, Field(description="the raw body text, as sent")] = ""
    body_base64: str | None = None
    username: str = "test"
    http_version: str = "1.1"

    @field_validator("body", mode="before")
    @classmethod
    def _raw(cls, value: Any) -> Any:
        if isinstance(value, (dict, list)):
            raise ValueError("body must be the raw text that is sent (serialise the JSON yourself: the bytes matter)")
        return value


class Signature(TypedDict):
    signing_string: str
    signature: str
    algorithm: str
    username: str
    signed_headers: list[str]
    expected_content_sha512: str
    expected_content_length: str
    authorization: str


class ClockState(TypedDict):
    """A clock and the jobs waiting on it: the emulator clock, or (``?participant_id=N``) the clock that
    participant's business time is read from, its own or (``own_clock`` false) the emulator clock."""

    participant_id: Annotated[int | None, Field(description="the participant whose clock this is (null: the "
                                                            "emulator clock)")]
    own_clock: Annotated[bool, Field(description="whether the participant has a clock of its own (false: it "
                                                 "follows the emulator clock)")]
    participant_clocks: Annotated[int, Field(description="how many participants have a clock of their own")]
    now: float
    iso: str
    frozen: bool
    offset_seconds: float
    wall_time: Annotated[float, Field(description="the machine's clock, unix seconds")]
    next_due: Annotated[float | None, Field(description="when the soonest pending job shown falls due")]
    pending: Annotated[list[Due], Field(description="the jobs waiting on the emulator clock (participants with a "
                                                    "clock of their own left out), or the participant's")]
    pending_count: int


def _number(value: int | float, name: str) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} is too large for the emulator clock (1970 to 9998)") from None


def _instant(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("set must be unix seconds or an ISO 8601 time such as 2026-01-17T19:59:29Z")
    return value if isinstance(value, str) else _number(value, "set")


def _seconds_or_next_due(value: Any) -> Any:
    if value != "next_due" and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0):
        raise ValueError('advance must be a number of seconds >= 0, or "next_due"')
    return value if isinstance(value, str) else _number(value, "advance")


class ClockChange(Body):
    """Any of set, freeze and advance (each value is checked before any is applied), of the emulator clock or of one
    participant's own."""

    participant_id: Annotated[ParticipantId, Field(description="move this participant's own clock only (made from "
                                                               "the emulator clock the first time); leave the key "
                                                               "out for the emulator clock (null is refused)")] \
        | None = None
    set: Annotated[float | str, BeforeValidator(_instant),
                   Field(description="unix seconds, an ISO 8601 time or an HTTP date")] | None = None
    freeze: bool | None = None
    advance: Annotated[Annotated[float, Field(ge=0)] | Literal["next_due"], BeforeValidator(_seconds_or_next_due),
                       Field(description='seconds (>= 0), or "next_due": to the soonest pending job')] | None = None

    @model_validator(mode="after")
    def _something(self) -> ClockChange:
        if not self.model_fields_set - {"participant_id"}:
            raise ValueError("expected an object with any of: set, freeze, advance (and participant_id to move one "
                             "participant's clock)")
        return self


class ClockChanged(ClockState):
    fired: int


class ScenarioList(TypedDict):
    scenarios: list[dict[str, Any]]


class Added(TypedDict):
    added: list[str]


class Deleted(TypedDict):
    deleted: str


class Reloaded(TypedDict):
    reloaded: list[str]


class Activated(TypedDict):
    activated: str
    participant_id: int | None


class Deactivated(TypedDict):
    deactivated: str
    participant_id: int | None


class TriggerList(TypedDict):
    count: int
    triggers: list[dict[str, Any]]


class EventList(TypedDict):
    count: int
    events: list[EventRecord]


class EventToEmit(Body):
    topic: KnownTopic
    participant_id: ParticipantId
    event: dict[str, Any] = {}
    ancillary: dict[str, Any] = {}
    status: int | None = None
    message: str | None = None


class DeliveryList(TypedDict):
    count: int
    deliveries: list[dict[str, Any]]
    hint: NotRequired[str]  # ?status= named a status by another word than the API's (delivered)


class EndpointList(TypedDict):
    endpoints: list[dict[str, Any]]


class Removed(TypedDict):
    removed: str


class Memory(TypedDict):
    """What the emulator keeps, within which caps, and how much it has let go to stay within them (since it started
    or the last reset): ``records`` per kind of stored record, each cap per participant (with ``--data-dir`` there
    are none: the disk keeps every record); ``events``, ``journal`` and ``findings`` are shared by all participants.
    docs/contract.md, "What the emulator keeps in memory", has the rules."""

    store: Literal["memory", "sqlite"]
    records: dict[str, Usage]
    events: Usage
    journal: Usage
    findings: Usage


class State(TypedDict):
    """Tokens (last four only), sessions and transactions, newest first; and what memory keeps and let go."""

    tokens: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
    memory: Memory


class RequestWait(Body):
    """POST /_emulator/requests/wait: how many journal entries matching ``match`` to wait for, and how long."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [{"match": {"endpoint": "verify", "http_status": 200}, "count": {"at_least": 0}, "timeout": 1}]})

    match: RequestMatch = Field(default_factory=RequestMatch)
    count: Count = Field(default_factory=Count, description="N (exactly N) or {at_least, at_most}")
    timeout: Annotated[float, Field(ge=0, le=LONGEST_WAIT, description="seconds")] = DEFAULT_TIMEOUT
    since: Annotated[int, Field(ge=0, description="count only entries after this journal id (last_id)")] = 0


class DeliveryWait(Body):
    """POST /_emulator/webhooks/wait: how many deliveries matching ``match`` to wait for, and how long."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [{"match": {"status": "succeeded"}, "count": {"at_least": 0}, "timeout": 1}]})

    match: DeliveryMatch = Field(default_factory=DeliveryMatch)
    count: Count = Field(default_factory=Count, description="N (exactly N) or {at_least, at_most}")
    timeout: Annotated[float, Field(ge=0, le=LONGEST_WAIT, description="seconds")] = DEFAULT_TIMEOUT


class WaitList(TypedDict):
    """GET /_emulator/waits: how many waits are open, and the longest-waiting of them (at most 100)."""

    count: int
    waits: list[OpenWait]


class RequestNearMiss(TypedDict):
    request: dict[str, Any]
    differences: list[Difference]


class DeliveryNearMiss(TypedDict):
    delivery: dict[str, Any]
    differences: list[Difference]


class RequestsSeen(TypedDict):
    """200: the wait was met. 409: it was not (``reason``), with the closest entries and how each differed."""

    matched: int
    requests: list[dict[str, Any]]
    last_id: int
    reason: NotRequired[Literal["timeout", "too_many"]]
    message: NotRequired[str]
    near_misses: NotRequired[list[RequestNearMiss]]


class DeliveriesSeen(TypedDict):
    """200: the wait was met. 409: it was not (``reason``), with the closest deliveries and how each differed."""

    matched: int
    deliveries: list[dict[str, Any]]
    reason: NotRequired[Literal["timeout", "too_many"]]
    message: NotRequired[str]
    near_misses: NotRequired[list[DeliveryNearMiss]]
    hint: NotRequired[str]  # match.status named a status by another word than the API's (delivered)


class FindingList(TypedDict):
    count: int
    findings: list[FindingJson]


class CredentialListed(TypedDict):
    username: str
    participant_id: int
    minted: bool
    webhook_endpoint: str | None


class CredentialList(TypedDict):
    credentials: list[CredentialListed]


class TenantRemoved(TypedDict):
    removed: str
    participant_id: int


class RestoredCounts(TypedDict):
    """How much of each section a restore put in place (store records by kind)."""

    records: dict[str, int]
    journal: int
    events: int
    findings: int
    scenarios: int


class SnapshotSeed(TypedDict):
    """--seed of the emulator the snapshot was taken from, and of this one."""

    snapshot: int | None
    this_emulator: int | None


class SnapshotRestored(TypedDict):
    """POST /_emulator/snapshot: what was restored, and what a restored emulator cannot bring back (secrets)."""

    restored: RestoredCounts
    rescheduled: Rescheduled
    taken_at: str
    emulator_version: str
    clock: ClockSection
    seed: SnapshotSeed
    tenants_without_secrets: list[TenantJson]
    webhook_endpoints_missing: list[MissingEndpoint]
    notes: list[str]
