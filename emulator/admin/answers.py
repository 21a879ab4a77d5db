"""What the admin API takes and answers, as typed models: the handlers build these, and the OpenAPI document
describes them from the route declarations (``emulator.admin.urls``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from emulator.core.scheduler import Due
from emulator.web.ratelimit import Window
from emulator.webhooks.events import EventRecord


class Health(TypedDict):
    """200 once the emulator is ready (scenarios loaded), 503 while it starts."""

    status: Literal["ok", "starting"]
    version: str


class RequestList(TypedDict):
    count: int
    requests: list[dict[str, Any]]


class ParticipantBody(TypedDict, total=False):
    participant_id: int


class Reset(TypedDict):
    reset: Literal["everything", "participant"]
    participant_id: NotRequired[int]


class RateLimits(TypedDict):
    limit_per_second: int
    enabled: bool
    credentials: dict[str, Window]


class RateLimitChange(TypedDict, total=False):
    username: str
    refuse_next: Annotated[int, Field(ge=0)]
    reset: bool


class SignRequest(TypedDict):
    method: NotRequired[str]
    path: Annotated[str, Field(examples=["/gateway/verify"])]
    headers: NotRequired[dict[str, str]]
    body: NotRequired[Annotated[str, Field(description="the raw body text, as sent")]]
    body_base64: NotRequired[str]
    username: NotRequired[str]
    http_version: NotRequired[str]


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
    now: float
    iso: str
    frozen: bool
    offset_seconds: float
    pending: list[Due]
    pending_count: int


class ClockChange(TypedDict, total=False):
    set: Annotated[float | str, Field(description="unix seconds, an ISO 8601 time or an HTTP date")]
    freeze: bool
    advance: Annotated[float, Field(ge=0)]


class ClockChanged(ClockState):
    fired: int


class ScenarioList(TypedDict):
    scenarios: list[dict[str, Any]]


class Added(TypedDict):
    added: list[str]


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


class EventToEmit(TypedDict):
    topic: str
    participant_id: int
    event: NotRequired[dict[str, Any]]
    ancillary: NotRequired[dict[str, Any]]
    status: NotRequired[int]
    message: NotRequired[str]


class DeliveryList(TypedDict):
    count: int
    deliveries: list[dict[str, Any]]


class EndpointList(TypedDict):
    endpoints: list[dict[str, Any]]


class EndpointToAdd(TypedDict):
    url: Annotated[str, Field(json_schema_extra={"format": "uri"})]
    secret: NotRequired[str]
    topics: NotRequired[list[str]]
    participant_id: NotRequired[int]


class Removed(TypedDict):
    removed: str


class State(TypedDict):
    """Tokens (last four only), sessions and transactions, newest first."""

    tokens: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
