"""What the gateway answers: the ``data`` of v11 answers and the sections of v12 answers, as typed models.

The domain builds these and the OpenAPI document describes them (``emulator.openapi``): one definition of each
answer. A scenario rule's ``data`` overrides may add keys, so the documented objects allow more properties.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

#: Ingo's posting dates: month/day/year.
DateMDY = Annotated[str, Field(pattern=r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$", examples=["04/21/2026"])]
Flag = Literal[0, 1]


class CreditInfo(TypedDict):
    """The destination's limits and when a payment to it posts."""

    min: str
    max: str
    card_type: str
    estimated_posting_time: str
    estimated_posting_date: DateMDY


class PayeeAddress(TypedDict):
    """Who a payee is and where: the fields an issuer of verify and a payee of the older search share."""

    payee_id: str
    payee_name: str
    payee_address: str | None
    payee_city: str | None
    payee_state: str | None
    payee_zip: str | None


class Issuer(PayeeAddress):
    """Who holds the verified account: a card issuer, a bank, a biller or a wallet provider."""

    credit_info: CreditInfo
    issuing_network: str
    credit_enabled: Flag
    debit_enabled: Flag


class VerifyData(TypedDict):
    """A verified (tokenized) account: its token and, for cards, banks, billers and wallets, its issuer."""

    customer_account_token: str
    last_4: str
    request_timestamp: int
    issuers: NotRequired[list[Issuer]]
    estimated_posting_date: NotRequired[DateMDY]
    estimated_posting_time: NotRequired[str]
    participant_unique_id1: str
    participant_unique_id2: str
    expiration_date: NotRequired[Annotated[str, Field(description="cards and PayPal/Venmo only")]]
    count: NotRequired[int]


class PaymentData(TypedDict):
    """A push payment made (100) or the one already made with this participant_unique_id1 (101)."""

    estimated_posting_time: str
    estimated_posting_date: DateMDY
    transaction_id: int
    request_timestamp: int
    customer_account_token: str
    participant_unique_id1: str
    participant_unique_id2: str
    check_number: NotRequired[Annotated[str, Field(description="account_type CK only")]]


class InFlight(TypedDict):
    """A payment (push or pull) with this participant_unique_id1 is still being processed (104)."""

    participant_unique_id1: str


class Biller(TypedDict):
    """A biller that accepts the searched account number."""

    id: str
    name: str
    address: str
    city: str
    state: str
    zip: str
    min: str
    max: str
    card_type: str
    estimated_posting_time: str
    estimated_posting_date: DateMDY
    credit_enabled: Flag
    debit_enabled: Flag


class BillerSearchData(TypedDict):
    """The billers that accept the account number."""

    billers: list[Biller]


class Payee(PayeeAddress):
    """A payee of the older search: a biller (account_type BP) or a card's issuer (CA), with its limits. Ingo's
    page says each result is flagged card-based (CA) or not (BP); the rest of its shape is the emulator's, made
    like verify's issuers (the page's answer could not be read)."""

    account_type: Literal["CA", "BP"]
    credit_info: CreditInfo
    issuing_network: str
    credit_enabled: Flag
    debit_enabled: Flag


class PayeeSearchData(TypedDict):
    """The payees that accept the account number (older search), and how many."""

    payees: list[Payee]
    count: int


class ParticipantUniqueIds(TypedDict):
    participant_unique_id1: str
    participant_unique_id2: str


class DebitData(TypedDict):
    """A pull made (100) or the one already made with this participant_unique_id1 (101): the v12 ``transaction``."""

    estimated_posting_date: DateMDY
    estimated_posting_time: str
    transaction_id: Annotated[str, Field(pattern=r"^[0-9]+$")]
    customer_account_token: str
    participant_unique_ids: ParticipantUniqueIds


class RiskSessionData(TypedDict):
    """A risk session: the v12 ``session``."""

    risk_session_token: str


class FraudGuarantee(TypedDict):
    guarantee_requested: str
    transaction_guaranteed: str


class RiskScoreData(TypedDict):
    """A transaction's risk score: the v12 ``transaction``."""

    score: str
    risk_assessment_token: str
    fraud_guarantee: FraudGuarantee
