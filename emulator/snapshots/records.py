"""Every kind of record the store holds, as the emulator reads it back: exactly the keys its owner writes, each of
its type, with the values that are looked up (account types, statuses, topics) among those that exist.

A restore checks each record of an archive against its kind here before the store takes any, so that nothing the
emulator reads later (a replay, a listing sorted by ``created``, a follow-up firing, the inspector's timeline) meets a
value it cannot use. A new field in a record is added to its model here, and a new kind to :data:`KINDS`; the
round trip of a snapshot (``tests/snapshots/test_snapshot.py``) fails until it is.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from emulator.core.clock import Moment
from emulator.core.stateful import ARCHIVED, Json, Participant
from emulator.gateway.answer_shapes import PayeeAddress
from emulator.gateway.models import PAYABLE_AS
from emulator.plugin.models import DESTINATIONS
from emulator.sessions.models import TRANSITIONS
from emulator.sessions.schemas import RecipientInformation
from emulator.store.state import RecordKind
from emulator.webhooks import delivery, followups
from emulator.webhooks.topics import TOPICS

Text = Annotated[str, Field(max_length=10_000)]
Amount = Annotated[str, Field(pattern=r"^\d{1,12}(\.\d{1,6})?$")]


def _one_of(known: Any, what: str) -> Any:
    def check(value: str) -> str:
        if value not in known:
            raise ValueError(f"{value[:80]!r} is not {what} this emulator knows")
        return value
    return AfterValidator(check)


AccountType = Annotated[str, _one_of(PAYABLE_AS, "an account type")]
Topic = Annotated[str, _one_of(TOPICS, "a webhook topic")]


class _Record(BaseModel):
    model_config = ARCHIVED


class IssuerRecord(PayeeAddress):
    """The issuer a verify found (``gateway.directory``): shown again on every re-verify, its limits enforced."""

    __pydantic_config__ = ARCHIVED  # type: ignore[misc]

    issuing_network: str
    credit_enabled: Literal[0, 1]
    debit_enabled: Literal[0, 1]
    limits: Annotated[list[Amount], Field(min_length=2, max_length=2)]
    card_type: str


class TokenRecord(_Record):
    """A tokenized account (``gateway.models``): what verify, process, debit and the state listing read."""

    token: str
    account_type: AccountType
    last_4: Annotated[str, Field(max_length=4)]
    account: str | None
    routing_number: str | None
    expiration_date: str
    payee_id: str | None
    issuer: IssuerRecord | None
    recipient: dict[str, Text | None]
    participant_unique_id1: str | None
    created: Moment


class FingerprintRecord(_Record):
    """The token an account's fingerprint stands for (the same account verified again keeps its token)."""

    token: str


class TransactionRecord(_Record):
    """A payment with its idempotency key (``gateway.models``): what a replay answers and the state listing shows."""

    kind: Literal["process", "debit"]
    transaction_id: int | str
    amount: float
    account_type: AccountType
    customer_account_token: str
    last_4: Annotated[str, Field(max_length=4)]
    created: Moment
    status: int
    data: dict[str, Json]


class RiskSessionRecord(_Record):
    """A risk session (``gateway.models``): a risk score checks it has not expired."""

    token: str
    expires: Moment


class RiskAssessmentRecord(_Record):
    """A risk assessment a debit may name."""

    token: str
    customer_account_token: str
    created: Moment


def _recipient(value: dict[str, Any]) -> dict[str, Any]:
    RecipientInformation.model_validate(value)  # what the session was created with, as the request model has it
    return value


class SessionRecord(_Record):
    """An iFrame session (``sessions.models``, ``plugin.models``): its page, its state and what completed it."""

    id: str
    participant_id: Participant
    status: Annotated[str, _one_of(TRANSITIONS, "a session status")]
    created: Moment
    participant_unique_id1: str
    participant_unique_id2: str
    recipient_information: Annotated[dict[str, Json], AfterValidator(_recipient)]
    host_uri: str
    language_locale_code: str
    tracer_token: str
    mounted: bool
    idempotency_key: str | None
    attempts: Annotated[int, Field(ge=0)]
    url_issued_at: Moment | None = None
    url_ticks: Annotated[int, Field(ge=0)] | None = None
    mounted_at: Moment | None = None
    funding_destination: Annotated[str, _one_of(DESTINATIONS, "a funding destination")] | None = None
    ended_at: Moment | None = None
    customer_account_token: str | None = None
    last_4: str | None = None
    account_type: str | None = None
    closed_ticks: str | None = None
    last_error: str | None = None
    last_error_message: str | None = None


class SessionKeyRecord(_Record):
    """A session's Idempotency-Key (``sessions.models``): within its two hours, the same key re-issues it."""

    session_id: str
    fingerprint: str
    expires: Moment


class AttemptRecord(_Record):
    """One attempt of a webhook delivery (``webhooks.delivery``)."""

    attempt: Annotated[int, Field(ge=1)]
    time: Moment
    wall_time: Moment | None
    http_status: Annotated[int, Field(ge=100, le=999)] | None
    latency_ms: Annotated[float, Field(ge=0)] | None
    error: str | None
    response_body: str | None
    ok: bool


class DeliveryRecord(_Record):
    """A webhook delivery with its attempts (``webhooks.delivery``): what resuming, attempting and listing read."""

    id: str
    event_id: str
    topic: Topic
    participant_id: Participant
    endpoint_id: str
    url: str
    body: str
    status: Literal["pending", "delivering", "succeeded", "failed"]
    attempts: Annotated[list[AttemptRecord], Field(max_length=1000)]
    created: Moment
    next_attempt_at: Moment | None


class FollowUpRecord(_Record):
    """A follow-up event due later (``webhooks.followups``): what resuming and firing it read."""

    id: str
    due: Moment
    topic: Topic
    participant_id: Participant
    ancillary: dict[str, Json]
    event: dict[str, Json]
    status: int | None
    message: str | None
    source: str
    label: str


#: Every kind of record a snapshot may carry, and how each is read back.
KINDS: dict[str, RecordKind] = {
    "token": RecordKind(TokenRecord, key_field="token"),
    "token_fingerprint": RecordKind(FingerprintRecord),
    "transaction": RecordKind(TransactionRecord),
    "risk_session": RecordKind(RiskSessionRecord, key_field="token"),
    "risk_assessment": RecordKind(RiskAssessmentRecord, key_field="token"),
    "session": RecordKind(SessionRecord, key_field="id", participant_field="participant_id"),
    "session_key": RecordKind(SessionKeyRecord),
    delivery.KIND: RecordKind(DeliveryRecord, key_field="id", participant_field="participant_id"),
    followups.KIND: RecordKind(FollowUpRecord, key_field="id", participant_field="participant_id"),
}
