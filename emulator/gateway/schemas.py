"""Request schemas of the gateway endpoints, with the types, lengths and formats of Ingo's reference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from emulator.core.provenance import Source, choice, ingo

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP AA AE AP".split()
)

Str255 = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Optional255 = Annotated[str, StringConstraints(max_length=255)] | None
#: The PayPal / Venmo pages allow 254 characters where the others allow 255.
Str254 = Annotated[str, StringConstraints(min_length=1, max_length=254)]
Optional254 = Annotated[str, StringConstraints(max_length=254)] | None


def _digits_as_text(value: Any) -> Any:
    """A phone number sent as a JSON number, as Ingo's own ACH verify example sends it, read as its digits."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else value



State = Annotated[str, StringConstraints(pattern=r"^(?:" + "|".join(sorted(US_STATES)) + r")$")]
Zip = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}(?:-[0-9]{4})?$")]
Phone = Annotated[str, BeforeValidator(_digits_as_text), StringConstraints(pattern=r"^[0-9]{10}$")]
#: A process's recipient_phone: 10 digits on every process page but check by mail's, which allows 25 characters
#: (the domain applies the 10 digits per account type).
ProcessPhone = Annotated[str, BeforeValidator(_digits_as_text), StringConstraints(max_length=25)]
Amount = Annotated[float, Field(ge=0.01, allow_inf_nan=False)]
YYMM = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}(?:0[1-9]|1[0-2])$")]
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]+$", min_length=1, max_length=255)]

#: Every account type verify accepts, and what each means.
VERIFY_ACCOUNT_TYPES = {
    "CA": "card (debit, prepaid or credit)", "AC": "ACH (also RTP)", "SD": "same-day ACH",
    "WT": "wire (tokenized for debit)", "BP": "bill pay", "PD": "PayPal verified", "PU": "PayPal unverified",
    "VE": "Venmo", "CK": "check by mail",
}
#: Every account type process accepts.
PROCESS_ACCOUNT_TYPES = ("CA", "AC", "SD", "RT", "BP", "PD", "PU", "VE", "CK")


class Strict(BaseModel):
    """JSON types as Ingo documents them: no strings for numbers, no numbers for strings.

    A request model names where its field rules come from: ``source``, the Ingo page that lists them, and
    ``field_sources``, the fields whose rule is the emulator's choice instead (a nested model without a source of
    its own follows the model that holds it).
    """

    model_config = ConfigDict(strict=True, extra="ignore", defer_build=True)  # built on first use: less idle memory
    source: ClassVar[Source | None] = None
    field_sources: ClassVar[Mapping[str, Source]] = {}


_VERIFY = "https://developers.ingopayments.com/docs/ingopay/verify/"
#: The biller searches list neither timestamp nor version: checking them when sent is the emulator's choice.
_SEARCH_FIELDS = {"timestamp": choice("search-timestamp-version"), "version": choice("search-timestamp-version")}


#: Ingo's participant ids.
ParticipantId = Annotated[int, Field(ge=1, le=99999)]


class V11(Strict):
    participant_id: ParticipantId
    timestamp: int
    version: Literal[11]


class Retail(Strict):
    store_id: Optional255 = None
    clerk_id: Optional255 = None
    terminal_id: Optional255 = None


class VerifyCommon(V11, Retail):
    account_type: str
    participant_unique_id1: Str255
    participant_unique_id2: Optional255 = None
    amount: Amount | None = None
    customer_account_token: Str255 | None = None
    third_party_token: dict[str, Any] | None = None
    recipient_phone: Phone | None = None


class RecipientFields(Strict):
    recipient_first_name: Str255 | None = None
    recipient_last_name: Str255 | None = None
    recipient_business_name: Annotated[str, StringConstraints(max_length=150)] | None = None
    recipient_address1: Str255 | None = None
    recipient_address2: Optional255 = None
    recipient_city: Str255 | None = None
    recipient_state: State | None = None
    recipient_zip: Zip | None = None


class VerifyCard(VerifyCommon, RecipientFields):
    source = ingo(_VERIFY + "card", "and the retail card-present verify page")
    # digits, or a masked number (digits and X, as Ingo's retail card-present example sends) from a retail client
    account: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}[0-9X]{6,13}$")] | None = None
    expiration_date: YYMM | None = None
    cvv: Annotated[str, StringConstraints(pattern=r"^[0-9]{3,4}$")] | None = None
    payee_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None


class VerifyBank(VerifyCommon, RecipientFields):
    source = ingo(_VERIFY + "ach", "and the wire verify page")
    account: Annotated[str, StringConstraints(pattern=r"^[0-9]{4,17}$")] | None = None
    routing_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")] | None = None
    fi_account_type: Annotated[str, StringConstraints(max_length=2)] | None = None
    fi_account_classification: Annotated[str, StringConstraints(max_length=2)] | None = None


class VerifyBillPay(VerifyCommon, RecipientFields):
    source = ingo(_VERIFY + "billpay")
    account: Str255 | None = None
    payee_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None


#: receiver_type: what the wallet ``account`` is (PayPal / Venmo verify page).
RECEIVER_TYPES = {1: "EMAIL", 2: "PHONE", 3: "PAYPAL_ID", 4: "USER_HANDLE"}
#: The receiver types each wallet account type takes: PAYPAL_ID is PayPal's only, USER_HANDLE Venmo's only
#: (PD, PayPal verified, is named on the process pages only; the emulator treats it as PayPal).
RECEIVER_TYPES_FOR = {"PU": (1, 2, 3), "PD": (1, 2, 3), "VE": (1, 2, 4)}


class VerifyWallet(VerifyCommon, RecipientFields):
    source = ingo(_VERIFY + "paypal-venmo")
    participant_unique_id1: Str254
    participant_unique_id2: Optional254 = None
    customer_account_token: Str254 | None = None
    account: Str254 | None = None
    receiver_type: Annotated[int, Field(ge=1, le=4)] | None = None  # strict: true is no 1
    recipient_first_name: Str254 | None = None
    recipient_last_name: Str254 | None = None
    recipient_address1: Str254 | None = None
    recipient_address2: Optional254 = None
    recipient_city: Str254 | None = None


class Beneficiary(Strict):
    beneficiary_account: Str255 | None = None
    beneficiary_first_name: Str255
    beneficiary_last_name: Str255
    beneficiary_address1: Str255
    beneficiary_address2: Optional255 = None
    beneficiary_city: Str255
    beneficiary_state: State
    beneficiary_zip: Zip
    beneficiary_phone: Annotated[str, StringConstraints(max_length=25)] | None = None


class CheckRecipient(Strict):
    recipient_line1: Str255
    recipient_address1: Str255
    recipient_address2: Optional255 = None
    recipient_city: Str255
    recipient_state: State
    recipient_zip: Zip
    recipient_phone: Annotated[str, StringConstraints(max_length=25)] | None = None


class VerifyCheck(VerifyCommon):
    source = ingo(_VERIFY + "check")
    recipient_is_beneficiary: Literal[0, 1] = 1
    beneficiary: Beneficiary | None = None
    recipient: CheckRecipient | None = None


#: Which schema checks a verify of each account type, and which fields the raw (token-less) form requires.
VERIFY_SCHEMAS: dict[str, tuple[type[VerifyCommon], tuple[str, ...]]] = {
    "CA": (VerifyCard, ("account", "recipient_first_name", "recipient_last_name", "recipient_address1",
                        "recipient_city", "recipient_state", "recipient_zip")),
    "AC": (VerifyBank, ("account", "routing_number", "recipient_first_name", "recipient_last_name",
                        "recipient_address1", "recipient_city", "recipient_state", "recipient_zip")),
    "BP": (VerifyBillPay, ("account", "payee_id", "recipient_first_name", "recipient_last_name",
                           "recipient_address1", "recipient_city", "recipient_state", "recipient_zip")),
    "PD": (VerifyWallet, ("account", "receiver_type", "recipient_first_name", "recipient_last_name",
                          "recipient_address1", "recipient_city", "recipient_state", "recipient_zip")),
    "CK": (VerifyCheck, ("beneficiary",)),
}
VERIFY_SCHEMAS["SD"] = VERIFY_SCHEMAS["WT"] = VERIFY_SCHEMAS["AC"]
VERIFY_SCHEMAS["PU"] = VERIFY_SCHEMAS["VE"] = VERIFY_SCHEMAS["PD"]
#: The verify request as one schema (the OpenAPI document composes it from VERIFY_SCHEMAS, picked by account_type).
VERIFY_REQUEST = "VerifyRequest"

#: Fields that make up the raw form: sent together with a token they are refused, on verify and process alike.
#: Ingo: "If provided, third_party_token and all raw card fields (account, expiration_date, recipient_first_name,
#: recipient_last_name, recipient_address1, recipient_address2, recipient_city, recipient_state, recipient_zip) must
#: be omitted" (https://developers.ingopayments.com/docs/ingopay/verify/card); "When provided, raw account fields
#: (account, expiration_date, recipient_first_name, recipient_last_name, recipient_address1, recipient_city,
#: recipient_state, recipient_zip) must be omitted" (https://developers.ingopayments.com/docs/ingopay/process/card);
#: the ACH and PayPal / Venmo verify pages say "never both" of their raw fields (routing_number, receiver_type).
RAW_FIELDS = frozenset({
    "account", "routing_number", "expiration_date", "cvv", "recipient_first_name", "recipient_last_name",
    "recipient_address1", "recipient_address2", "recipient_city", "recipient_state", "recipient_zip",
    "beneficiary", "recipient",
})


class AdditionalDetail(Strict):
    source_name: Annotated[str, StringConstraints(min_length=1, max_length=21)]
    descriptive_purpose: Annotated[str, StringConstraints(min_length=1, max_length=21)]


#: Track 1 as the retail card-present process page gives it: "from and including the beginning sentinel to and
#: including the ending sentinel", at most 255 characters, matching this pattern
#: (https://developers.ingopayments.com/docs/ingopay/process/retail-card-present).
TRACK1_PATTERN = r"^(%B)([0-9]{12,22})([/^])([\s\S]*)([/^])([0-9]{2})([0-9]{2})([0-9]*)([?])$"
#: Track 2: the same page says only "from and including the beginning sentinel to and including the ending
#: sentinel" in what could be read of it; the emulator's reading, made like track 1's pattern and ISO/IEC 7813:
#: start sentinel ';', 12-22 digits, separator '=', YYMM, digits, end sentinel '?', at most 255 characters
#: (Ingo's example: ";4111111111111111=26121010000000000000?").
TRACK2_PATTERN = r"^(;)([0-9]{12,22})(=)([0-9]{2})([0-9]{2})([0-9]*)([?])$"
Track1 = Annotated[str, StringConstraints(max_length=255, pattern=TRACK1_PATTERN)]
Track2 = Annotated[str, StringConstraints(max_length=255, pattern=TRACK2_PATTERN)]


class Process(V11, Retail):
    source = ingo("https://developers.ingopayments.com/docs/ingopay/process/card", "and each account type's process "
                  "page")
    field_sources = {"track2": choice("track2-pattern")}
    account_type: str
    amount: Amount
    customer_account_token: Str255
    source_of_funds: Literal[1, 2, 3, 4]
    participant_unique_id1: Str255
    participant_unique_id2: Optional255 = None
    recipient_phone: ProcessPhone | None = None
    sender: dict[str, Any] | None = None
    ledger: dict[str, Any] | None = None
    additional_detail: AdditionalDetail | None = None
    check_memo_data: Annotated[str, StringConstraints(max_length=30)] | None = None
    remittance_memo_data: Annotated[str, StringConstraints(max_length=193)] | None = None
    # card-present track data (retail clients); never kept nor logged (emulator.core.masking.SECRET_KEYS)
    track1: Track1 | None = None
    track2: Track2 | None = None


class V12Request(Strict):
    participant_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}$")]
    timestamp: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,32}$")]


class Money(Strict):
    currency_code: Literal["USD"]
    amount: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,13}(?:\.[0-9]{1,2})?$")]


class ParticipantIds(Strict):
    participant_unique_id1: Str255
    participant_unique_id2: Optional255 = None


class DebitTransaction(Strict):
    account_type: Literal["CA", "AC", "SD", "WT"]
    transaction_amount: Money
    participant_unique_ids: ParticipantIds
    customer_account_token: Str255
    source_of_funds: Literal[1, 2, 3, 4] | None = None
    recipient_phone: Annotated[str, StringConstraints(max_length=25)] | None = None
    risk_assessment_token: Str255 | None = None
    additional_detail: AdditionalDetail | None = None
    sender_account: Annotated[str, StringConstraints(max_length=100)] | None = None


class Debit(Strict):
    source = ingo("https://developers.ingopayments.com/docs/ingopay/debit/process-ach", "and the debit card page")
    request: V12Request
    transaction: DebitTransaction
    ledger: dict[str, Any] | None = None
    sender: dict[str, Any] | None = None


class RiskSession(Strict):
    source = ingo("https://developers.ingopayments.com/docs/ingopay/risk/risk-session")
    request: V12Request


class RiskTransaction(Strict):
    account_type: Literal["AC", "CA"]
    transaction_amount: Money
    customer_account_token: Str255
    risk_session_token: Str255
    customer_id: Optional255 = None
    phone: Annotated[str, StringConstraints(max_length=25)] | None = None
    phone_verified: Literal["true", "false"] | None = None
    email: Optional255 = None
    email_verified: Literal["true", "false"] | None = None
    dob: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$")] | None = None


class OpenBanking(Strict):
    """Open banking data passed through to the risk vendor: "Exactly one of open_banking_plaid or open_banking_other
    should be provided — not both" (https://developers.ingopayments.com/docs/ingopay/risk/risk-score; the domain
    checks it). Their members are not published."""

    open_banking_plaid: dict[str, Any] | None = None
    open_banking_other: dict[str, Any] | None = None


class RiskScore(Strict):
    source = ingo("https://developers.ingopayments.com/docs/ingopay/risk/risk-score")
    request: V12Request
    transaction: RiskTransaction
    transaction_ifa: dict[str, Any] | None = None
    transaction_open_banking: OpenBanking | None = None


class BillerSearch(Retail):
    # Reference 2.5 documents only participant_id, account, amount and rail_type; timestamp and version
    # (reference 2.0) are checked when sent.
    source = ingo("https://developers.ingopayments.com/docs/ingopay/ancillary/biller-search")
    field_sources = _SEARCH_FIELDS
    participant_id: ParticipantId
    timestamp: int | None = None
    version: Literal[11] | None = None
    account: Str255
    amount: Amount | None = None
    rail_type: Literal["CREDIT", "DEBIT"] = "CREDIT"


class PayeeSearch(Retail):
    """The older biller / payee search (``POST /gateway/search``), as
    https://developer-payments.ingomoney.com/en/ingopay-api/gateway/search lists its parameters: participant_id,
    account_type ("BP"), account (255) required; amount, payee_name, payee_address1, payee_address2, payee_city
    (255 each), payee_state (2, a postal abbreviation), payee_zip (xxxxx or xxxxx-xxxx) optional; store_id and
    clerk_id for retail clients. timestamp and version, which the readable part of the page does not list, are
    checked when sent (as on the newer search)."""

    source = ingo("https://developer-payments.ingomoney.com/en/ingopay-api/gateway/search")
    field_sources = _SEARCH_FIELDS
    participant_id: ParticipantId
    timestamp: int | None = None
    version: Literal[11] | None = None
    account_type: Literal["BP"]
    account: Str255
    amount: Amount | None = None
    payee_name: Optional255 = None
    payee_address1: Optional255 = None
    payee_address2: Optional255 = None
    payee_city: Optional255 = None
    payee_state: State | None = None
    payee_zip: Zip | None = None
