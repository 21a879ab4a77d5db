"""The emulated gateway: tokens, payments and their rules, independent of HTTP.

Each operation validates its request and returns a :class:`Pending`: the facts scenario rules match on, and how to
carry the request out. Whoever applies the rules (the HTTP edge) carries it out unless a rule refuses or
faults it first. A replay of an earlier payment is answered at once, as an :class:`Answer`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar, cast

from emulator.core.answer import Answer
from emulator.core.clock import Clock
from emulator.core.errors import InvalidParameter, MissingParameter, TimestampTooDistant
from emulator.core.ids import IdFactory
from emulator.core.validation import validate
from emulator.gateway import directory, examples, schemas
from emulator.gateway.answer_shapes import (
    Biller,
    BillerSearchData,
    DebitData,
    InFlight,
    Issuer,
    Payee,
    PayeeSearchData,
    PaymentData,
    RiskScoreData,
    RiskSessionData,
    VerifyData,
)
from emulator.gateway.exceptions import (
    AccountNotAvailable,
    AmountBelowMinimum,
    CardExpired,
    CheckDigitFailure,
    InvalidToken,
    TokenAccountTypeMismatch,
)
from emulator.gateway.posting import estimated_posting
from emulator.scenarios.facts import Facts, Pending
from emulator.store import Record, Store
from emulator.webhooks.events import GATEWAY_SESSION_ID

#: Which process account types a token of each verified type can pay.
PAYABLE_AS = {"CA": {"CA"}, "AC": {"AC", "SD", "RT"}, "SD": {"AC", "SD", "RT"}, "BP": {"BP"}, "PD": {"PD"},
              "PU": {"PU"}, "VE": {"VE"}, "CK": {"CK"}, "WT": set()}
#: Which debit account types a token of each verified type can be pulled as.
PULLABLE_AS = {"CA": {"CA"}, "AC": {"AC", "SD"}, "SD": {"AC", "SD"}, "WT": {"WT"}}
RISK_SESSION_LIFETIME = 30 * 60
WALLET_TYPES = ("PD", "PU", "VE")
#: The funding destination (the iFrame SDK's names) an API request of each account type stands for.
FUNDING_BY_ACCOUNT_TYPE = {"CA": "debit", "AC": "ach", "SD": "ach", "RT": "ach", "WT": "ach", "BP": "billpay",
                           "PD": "paypal", "PU": "paypal", "VE": "paypal", "CK": "check"}


#: What a token does not stand for: the ids, time and amount of the request that asked for it, and the CVV (never
#: kept). Everything else a raw verify sends (the account, the customer's names, address and phone, the card's
#: expiry, the payee) is the data a token represents.
NOT_TOKEN_DATA = frozenset({"participant_id", "participant_unique_id1", "participant_unique_id2", "timestamp",
                            "version", "amount", "cvv", "store_id", "clerk_id", "terminal_id",
                            "customer_account_token", "third_party_token"})
#: How biller search shows a biller whose limits exclude the amount: left out, or listed with credit_enabled and
#: debit_enabled 0 (--biller-limits; Ingo says only that the amount is "used to validate against biller transaction
#: limits", https://developers.ingopayments.com/docs/ingopay/ancillary/biller-search).
BillerLimits = Literal["omit", "flag"]
#: The payee fields that narrow the older search's results (how each matches: :func:`_payee_matches`).
PAYEE_FILTERS = ("payee_name", "payee_address1", "payee_address2", "payee_city", "payee_state", "payee_zip")
Candidate = TypeVar("Candidate")


def refuse_raw_beside_token(body: dict[str, Any]) -> None:
    """The one rule of verify and process: with a customer_account_token, the raw account fields must be omitted
    (Ingo's verify and process pages, quoted at :data:`emulator.gateway.schemas.RAW_FIELDS`): 401 naming them."""
    sent_raw = sorted(name for name in schemas.RAW_FIELDS if body.get(name) is not None)
    if sent_raw:
        raise InvalidParameter(
            "the raw account fields must be omitted when customer_account_token is sent (send either the token or "
            f"the raw fields, never both); also sent: {', '.join(sent_raw)}", field="customer_account_token")


def token_identity(participant_id: int, account_type: str, request: Any) -> str:
    """What a raw verify's token stands for, as a digest: "the account number and customer data"
    (https://developers.ingopayments.com/docs/ingopay/process/card). The same data gives the same digest, so the
    same token; other data (another name, address, phone or expiry) another token. A SHA-256 digest: the account
    number in it is not kept."""
    data = request.model_dump(mode="json", exclude=NOT_TOKEN_DATA, exclude_none=True)
    material = json.dumps([participant_id, account_type, data], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


def issuer_entry(issuer: dict[str, Any], account_type: str, now: float) -> Issuer:
    """An issuer of the directory as verify answers it (in Ingo's key order), its limits in ``credit_info``."""
    entry = dict(issuer)
    low, high = entry.pop("limits")
    issuer_type = entry.pop("card_type")
    posting_time, posting_date = estimated_posting(account_type, now)
    entry["credit_info"] = {"min": low, "max": high, "card_type": issuer_type,
                            "estimated_posting_time": posting_time, "estimated_posting_date": posting_date}
    return cast(Issuer, {k: entry[k] for k in Issuer.__annotations__})


def _is_retail(request: Any) -> bool:
    """Whether the request comes from a retail client: it names its store, clerk and terminal."""
    return all(getattr(request, name, None) for name in ("store_id", "clerk_id", "terminal_id"))


class Emit(Protocol):
    """Sends a webhook event (the outbox's ``emit``)."""

    def __call__(self, topic: str, participant_id: int, *, ancillary: dict[str, Any], event: dict[str, Any],
                 status: int | None = None, message: str | None = None, source: str = "flow") -> Any: ...


def beneficiary_of(request: schemas.VerifyCheck) -> schemas.Beneficiary:
    """The beneficiary of a raw check verify (the raw form requires it: checked before this is asked)."""
    assert request.beneficiary is not None, "verify checks the raw form's required fields first"
    return request.beneficiary


def request_account(request: Any) -> str:
    """The account number of a raw verify: the beneficiary's for a check (which may have none)."""
    if isinstance(request, schemas.VerifyCheck):
        return beneficiary_of(request).beneficiary_account or ""
    return str(request.account)


def recipient_names(first: str | None, last: str | None, business: str | None = None) -> dict[str, str | None]:
    return {"first_name": first, "last_name": last, "business_name": business}


def ancillary(puid1: str | None, puid2: str | None) -> dict[str, Any]:
    """``data.ancillary`` of the webhook events a gateway request causes (reference 5.2)."""
    return {"participant_unique_id1": puid1 or "", "participant_unique_id2": puid2 or "",
            "session_id": GATEWAY_SESSION_ID}


def facts(endpoint: str, participant_id: int, **known: Any) -> Facts:
    """What rules match on, with the funding destination the account type stands for."""
    found = Facts(endpoint, participant_id, **known)
    found.funding_destination = FUNDING_BY_ACCOUNT_TYPE.get(found.account_type or "")
    return found


def token_facts(token: Record) -> dict[str, Any]:
    """What rules can match on a tokenized account."""
    recipient = token.get("recipient") or {}
    return {"account_type": token["account_type"], "account": token.get("account"), "token": token,
            "recipient": recipient_names(recipient.get("first_name"), recipient.get("last_name"),
                                         recipient.get("business_name"))}


class Gateway:
    """Verify, process, debit, risk and biller search for every participant, on one store and clock."""

    def __init__(self, store: Store, clock: Clock, *, seed: int | None, clock_skew: int, body_timestamp_check: bool,
                 process_delay: float, emit: Emit | None = None,
                 signature_now: Callable[[], float] | None = None, biller_limits: BillerLimits = "omit") -> None:
        self.store = store
        self.emit = emit
        self.clock = clock
        self.signature_now = signature_now or clock.now  # what the body timestamp is checked against
        self.clock_skew = clock_skew
        self.body_timestamp_check = body_timestamp_check
        self.process_delay = process_delay  # seconds a push takes (makes 104 observable)
        self.biller_limits = biller_limits
        self.ids = IdFactory(seed)
        self.in_flight: set[tuple[int, str, str]] = set()

    # -- shared checks -------------------------------------------------------------------------------

    def check_participant(self, participant_id: int, given: int | str, field_name: str = "participant_id") -> None:
        if int(given) != participant_id:
            raise InvalidParameter(
                f"{field_name} {given} does not belong to the credential that signed the request "
                f"(participant {participant_id})", field=field_name)

    def check_timestamp(self, given: int | str, field_name: str = "timestamp") -> None:
        if not self.body_timestamp_check:
            return
        offset = int(given) - int(self.signature_now())
        if abs(offset) > self.clock_skew:
            direction = "ahead of" if offset > 0 else "behind"
            raise TimestampTooDistant(
                f"{field_name} {given} is {abs(offset)} s {direction} the server's clock; at most "
                f"{self.clock_skew} s either way is allowed", field=field_name)

    def token(self, participant_id: int, token: str) -> Record:
        record = self.store.get("token", participant_id, token) or examples.token(token)
        if record is None:
            raise InvalidToken(f"customer_account_token {token!r} was not issued to participant {participant_id}",
                               field="customer_account_token")
        return record

    # -- verify --------------------------------------------------------------------------------------

    def verify(self, participant_id: int, body: dict[str, Any],
               endpoint: str = "verify") -> Pending[Answer[VerifyData]]:
        """Tokenize (or re-verify) an account. The same account and customer data verified again keeps its token
        and changes nothing; other data gets another token, so a later verify never changes what an earlier token
        does (docs/contract.md). ``endpoint`` names the caller for scenario rules: "plugin" when the iFrame page
        submits."""
        account_type = body.get("account_type")
        if account_type is None:
            raise MissingParameter("account_type is required and must not be null", field="account_type")
        if not isinstance(account_type, str) or account_type not in schemas.VERIFY_SCHEMAS:
            raise InvalidParameter(
                f"account_type {account_type!r} is not one of {', '.join(schemas.VERIFY_ACCOUNT_TYPES)}",
                field="account_type")
        model, required = schemas.VERIFY_SCHEMAS[account_type]
        request: Any = validate(model, body)  # one of the verify models: the account type says which
        self.check_participant(participant_id, request.participant_id)
        self.check_timestamp(request.timestamp)
        if request.customer_account_token is not None:
            return self._reverify(participant_id, request, body)
        if request.third_party_token is not None:
            raise InvalidParameter("third_party_token is not enabled for this participant",
                                   field="third_party_token")
        for name in required:
            if getattr(request, name, None) is None:
                raise MissingParameter(
                    f"{name} is required when no customer_account_token is sent", field=name)
        if isinstance(request, schemas.VerifyCheck) and request.recipient_is_beneficiary == 0 \
                and request.recipient is None:
            raise MissingParameter("recipient is required when recipient_is_beneficiary is 0", field="recipient")
        issuer = self._issuer_for(participant_id, account_type, request)
        if isinstance(request, schemas.VerifyCheck):
            b = beneficiary_of(request)
            account, names = b.beneficiary_account, recipient_names(b.beneficiary_first_name, b.beneficiary_last_name)
        else:
            account = request.account
            names = recipient_names(request.recipient_first_name, request.recipient_last_name,
                                    request.recipient_business_name)

        async def tokenize() -> Answer[VerifyData]:
            fingerprint = token_identity(participant_id, account_type, request)
            existing = self.store.get("token_fingerprint", participant_id, fingerprint)
            record = self.store.get("token", participant_id, existing["token"]) if existing else None
            if record is None:
                token = self.ids.uuid4()
                record = self._token_record(participant_id, token, account_type, request, issuer)
                self.store.put("token", participant_id, token, record)
                self.store.put("token_fingerprint", participant_id, fingerprint, {"token": token})
            elif record.get("account") != request_account(request):
                # restored from a snapshot, which keeps the number masked: the digest proves it is this number
                record = {**record, "account": request_account(request)}
                self.store.put("token", participant_id, record["token"], record)
            return Answer(100, self._verify_data(participant_id, record, request))

        return Pending(facts(endpoint, participant_id, account_type=account_type, account=account,
                             amount=request.amount, recipient=names,
                             participant_unique_id1=request.participant_unique_id1, request=body),
                       tokenize, ancillary(request.participant_unique_id1, request.participant_unique_id2))

    def _reverify(self, participant_id: int, request: Any, body: dict[str, Any]) -> Pending[Answer[VerifyData]]:
        refuse_raw_beside_token(body)
        record = self.token(participant_id, request.customer_account_token)
        if record["account_type"] != request.account_type:
            raise TokenAccountTypeMismatch(
                f"customer_account_token was issued for account_type {record['account_type']}, "
                f"not {request.account_type}", field="account_type")

        async def answer() -> Answer[VerifyData]:
            return Answer(100, self._verify_data(participant_id, record, request))

        return Pending(facts("verify", participant_id, amount=request.amount,
                             participant_unique_id1=request.participant_unique_id1, request=body,
                             **token_facts(record)),
                       answer, ancillary(request.participant_unique_id1, request.participant_unique_id2))

    def _issuer_for(self, participant_id: int, account_type: str, request: Any) -> dict[str, Any] | None:
        if account_type == "CA":
            if "X" in request.account:
                if not _is_retail(request):
                    raise InvalidParameter("a masked card number (digits and X) is taken only from a retail "
                                           "card-present client: send store_id, clerk_id and terminal_id with it",
                                           field="account")
            elif not directory.luhn_ok(request.account):
                raise CheckDigitFailure("the card number fails the Luhn check", field="account")
            expiry = request.expiration_date
            if expiry and directory.card_expired(int(expiry[:2]), int(expiry[2:]), self.clock.now(participant_id)):
                raise CardExpired(f"the card expired at the end of {request.expiration_date} (YYMM)",
                                  field="expiration_date")
            if request.payee_id is not None:
                raise InvalidParameter("payee_id is only for account_type BP", field="payee_id")
            if directory.card_network(request.account) == "American Express":
                raise AccountNotAvailable("American Express cards cannot receive push payments",
                                          field="account")
            return directory.card_issuer(request.account)
        if account_type in ("AC", "SD", "WT"):
            if not directory.routing_ok(request.routing_number):
                raise CheckDigitFailure("the routing number fails the ABA checksum", field="routing_number")
            return directory.bank_issuer(request.routing_number)
        if account_type == "BP":
            biller = directory.BILLERS_BY_ID.get(request.payee_id)
            if biller is None:
                raise AccountNotAvailable(f"payee_id {request.payee_id!r} is not a known biller; "
                                          "find billers with /gateway/v1/biller/search", field="payee_id")
            if not biller.matches(request.account):
                raise AccountNotAvailable(f"account does not match the account format of biller {biller.id}",
                                          field="account")
            return directory.biller_issuer(biller)
        if account_type in ("PD", "PU", "VE"):
            allowed = schemas.RECEIVER_TYPES_FOR[account_type]
            if request.receiver_type not in allowed:
                names = ", ".join(f"{code} ({schemas.RECEIVER_TYPES[code]})" for code in allowed)
                raise InvalidParameter(
                    f"receiver_type {request.receiver_type} ({schemas.RECEIVER_TYPES[request.receiver_type]}) is not "
                    f"for account_type {account_type}; use one of {names}", field="receiver_type")
            return directory.wallet_issuer(account_type)
        return None  # check by mail has no issuer

    def _token_record(self, participant_id: int, token: str, account_type: str, request: Any,
                      issuer: dict[str, Any] | None) -> Record:
        account = request_account(request)
        if isinstance(request, schemas.VerifyCheck):
            b = beneficiary_of(request)
            recipient = {"first_name": b.beneficiary_first_name, "last_name": b.beneficiary_last_name,
                         "address1": b.beneficiary_address1, "city": b.beneficiary_city,
                         "state": b.beneficiary_state, "zip": b.beneficiary_zip}
        else:
            recipient = {"first_name": request.recipient_first_name, "last_name": request.recipient_last_name,
                         "business_name": request.recipient_business_name, "address1": request.recipient_address1,
                         "city": request.recipient_city, "state": request.recipient_state,
                         "zip": request.recipient_zip}
        if account_type in WALLET_TYPES:
            last_4 = directory.wallet_id(account_type, account)[-4:]  # the wallet's id ends it, not what was sent
        else:
            last_4 = account[-4:] if account else ""
        return {
            "token": token, "account_type": account_type, "last_4": last_4,
            # The vault keeps the number so scenario rules can match it at process time; no API returns it.
            "account": account, "routing_number": getattr(request, "routing_number", None),
            "expiration_date": getattr(request, "expiration_date", None) or "",
            "payee_id": getattr(request, "payee_id", None), "issuer": issuer, "recipient": recipient,
            "participant_unique_id1": request.participant_unique_id1, "created": self.clock.now(participant_id),
        }

    def _verify_data(self, participant_id: int, record: Record, request: Any) -> VerifyData:
        now = self.clock.now(participant_id)
        data: dict[str, Any] = {"customer_account_token": record["token"], "last_4": record["last_4"],
                                "request_timestamp": int(now)}
        account_type = record["account_type"]
        posting_time, posting_date = estimated_posting(account_type, now)
        if record.get("issuer"):
            data["issuers"] = [issuer_entry(record["issuer"], account_type, now)]
        else:
            data["estimated_posting_date"] = posting_date
            data["estimated_posting_time"] = posting_time
        data["participant_unique_id1"] = request.participant_unique_id1
        data["participant_unique_id2"] = request.participant_unique_id2 or ""
        if record["account_type"] in ("CA", *WALLET_TYPES):  # Ingo's card and PayPal examples print it, no other
            data["expiration_date"] = record["expiration_date"]
        if record.get("issuer"):
            data["count"] = 1
        return cast(VerifyData, data)

    # -- process (push) ------------------------------------------------------------------------------

    def process(self, participant_id: int, body: dict[str, Any]
                ) -> Answer[PaymentData | InFlight] | Pending[Answer[PaymentData]]:
        """Push money to a tokenized account; idempotent on participant_unique_id1."""
        request = validate(schemas.Process, body)
        self.check_participant(participant_id, request.participant_id)
        self.check_timestamp(request.timestamp)
        refuse_raw_beside_token(body)  # a push names its account by token only (process/card page)
        replay = self._replay(participant_id, "process", request.participant_unique_id1)
        if replay is not None:
            return replay
        if request.account_type not in schemas.PROCESS_ACCOUNT_TYPES:
            raise InvalidParameter(f"account_type {request.account_type!r} is not one of "
                                   f"{', '.join(schemas.PROCESS_ACCOUNT_TYPES)}", field="account_type")
        token = self.token(participant_id, request.customer_account_token)
        if request.account_type not in token.get("payable_as", PAYABLE_AS[token["account_type"]]):
            raise TokenAccountTypeMismatch(
                f"customer_account_token was verified as {token['account_type']} and cannot be paid as "
                f"{request.account_type}", field="account_type")
        phone = request.recipient_phone
        if phone is not None and request.account_type != "CK" and not (len(phone) == 10 and phone.isdigit()):
            raise InvalidParameter(f"recipient_phone must be a 10-digit phone number for account_type "
                                   f"{request.account_type} (up to 25 characters for CK only)", field="recipient_phone")
        if request.account_type in WALLET_TYPES:
            for name in ("participant_unique_id1", "participant_unique_id2", "customer_account_token"):
                value = getattr(request, name)
                if value is not None and len(value) > 254:
                    raise InvalidParameter(f"{name}: must be at most 254 characters for PayPal and Venmo",
                                           field=name)
        if request.account_type == "RT" and request.additional_detail is not None:
            raise InvalidParameter("additional_detail must be omitted for account_type RT", field="additional_detail")
        if request.additional_detail is not None:
            detail = request.additional_detail
            if len(detail.source_name) + len(detail.descriptive_purpose) > 21:
                raise InvalidParameter("additional_detail.source_name and descriptive_purpose together must be "
                                       "at most 21 characters", field="additional_detail")
        self._check_limits(token, request.amount)
        events = ancillary(request.participant_unique_id1, request.participant_unique_id2)

        async def pay() -> Answer[PaymentData]:
            key = (participant_id, "process", request.participant_unique_id1)
            self.in_flight.add(key)
            try:
                if self.process_delay > 0:
                    await asyncio.sleep(self.process_delay)
                data = self._payment_data(participant_id, request.account_type, token,
                                          request.participant_unique_id1, request.participant_unique_id2)
                if request.account_type == "CK":
                    data["check_number"] = str(self.store.next_id("check_number"))
                self._remember(participant_id, "process", request.participant_unique_id1, data, request.amount,
                               token)
                if request.account_type == "CK" and self.emit is not None:
                    self.emit("gateway.transaction.recipient.payment.status.check.issued", participant_id,
                              ancillary=dict(events),
                              event={"check_number": data["check_number"], "check_amount": f"{request.amount:.2f}",
                                     "transaction_id": str(data["transaction_id"])},
                              status=100, source="flow:process")
            finally:
                self.in_flight.discard(key)
            return Answer(100, data)

        return Pending(facts("process", participant_id, amount=request.amount,
                             participant_unique_id1=request.participant_unique_id1, request=body,
                             **dict(token_facts(token), account_type=request.account_type)),
                       pay, events)

    def _replay(self, participant_id: int, kind: str, puid1: str) -> Answer[Any] | None:
        """The answer to a payment already under way (104) or made (101) with this participant_unique_id1."""
        if (participant_id, kind, puid1) in self.in_flight:
            return Answer(104, InFlight(participant_unique_id1=puid1))
        previous = self.store.get("transaction", participant_id, f"{kind}:{puid1}")
        if previous is not None:
            return Answer(101, dict(previous["data"]))
        return None

    def _remember(self, participant_id: int, kind: str, puid1: str, data: PaymentData | DebitData, amount: float,
                  token: Record) -> None:
        self.store.put("transaction", participant_id, f"{kind}:{puid1}", {
            "kind": kind, "transaction_id": data["transaction_id"], "amount": amount,
            "account_type": token["account_type"], "customer_account_token": token["token"],
            "last_4": token["last_4"], "created": self.clock.now(participant_id), "status": 100, "data": data})

    @staticmethod
    def _check_limits(token: Record, amount: float) -> None:
        """The destination's minimum (credit_info.min). Its maximum is shown, not enforced: Ingo's own ACH process
        example pays 1010.5 to the account its ACH verify example shows with a maximum of 1000.00
        (docs/contract.md); a scenario or magic value answers 710 when a test needs it."""
        issuer = token.get("issuer")
        if not issuer:
            return
        low = float(issuer["limits"][0])
        if amount < low:
            raise AmountBelowMinimum(f"amount {amount:.2f} is below this destination's minimum of {low:.2f}",
                                     field="amount")

    def _payment_data(self, participant_id: int, account_type: str, token: Record, puid1: str,
                      puid2: str | None) -> PaymentData:
        now = self.clock.now(participant_id)
        posting_time, posting_date = estimated_posting(account_type, now)
        return {"estimated_posting_time": posting_time, "estimated_posting_date": posting_date,
                "transaction_id": self.store.next_id("transaction"), "request_timestamp": int(now),
                "customer_account_token": token["token"], "participant_unique_id1": puid1,
                "participant_unique_id2": puid2 or ""}

    # -- debit (pull, v12) ---------------------------------------------------------------------------

    def debit(self, participant_id: int, body: dict[str, Any]
              ) -> Answer[DebitData | InFlight] | Pending[Answer[DebitData]]:
        """Pull money from a tokenized card or bank account (v12 envelope)."""
        request = validate(schemas.Debit, body)
        self.check_participant(participant_id, request.request.participant_id, "request.participant_id")
        self.check_timestamp(request.request.timestamp, "request.timestamp")
        tx = request.transaction
        puid1 = tx.participant_unique_ids.participant_unique_id1
        replay = self._replay(participant_id, "debit", puid1)
        if replay is not None:
            return replay
        token = self.token(participant_id, tx.customer_account_token)
        if tx.account_type not in PULLABLE_AS.get(token["account_type"], set()):
            raise TokenAccountTypeMismatch(
                f"customer_account_token was verified as {token['account_type']} and cannot be pulled as "
                f"{tx.account_type}", field="transaction.account_type")
        if tx.risk_assessment_token is not None and \
                self.store.get("risk_assessment", participant_id, tx.risk_assessment_token) is None and \
                examples.risk_assessment(tx.risk_assessment_token) is None:
            raise InvalidParameter("transaction.risk_assessment_token was not issued by /risk/riskscore/v2 "
                                   "for this participant", field="transaction.risk_assessment_token")
        amount = float(tx.transaction_amount.amount)
        if amount < 0.01:
            raise InvalidParameter("transaction.transaction_amount.amount must be at least 0.01",
                                   field="transaction.transaction_amount.amount")
        self._check_limits(token, amount)
        puid2 = tx.participant_unique_ids.participant_unique_id2

        async def pull() -> Answer[DebitData]:
            posting_time, posting_date = estimated_posting("AC" if tx.account_type in ("AC", "SD") else tx.account_type,
                                                           self.clock.now(participant_id))
            data: DebitData = {"estimated_posting_date": posting_date,
                               "estimated_posting_time": f"Payment will post {posting_date}",
                               "transaction_id": str(self.store.next_id("transaction")),
                               "customer_account_token": token["token"],
                               "participant_unique_ids": {"participant_unique_id1": puid1,
                                                          "participant_unique_id2": puid2 or ""}}
            self._remember(participant_id, "debit", puid1, data, amount, token)
            return Answer(100, data)

        return Pending(facts("debit", participant_id, amount=amount, participant_unique_id1=puid1, request=body,
                             **dict(token_facts(token), account_type=tx.account_type)),
                       pull, ancillary(puid1, puid2))

    # -- risk ----------------------------------------------------------------------------------------

    def risk_session(self, participant_id: int, body: dict[str, Any]) -> Pending[Answer[RiskSessionData]]:
        request = validate(schemas.RiskSession, body)
        self.check_participant(participant_id, request.request.participant_id, "request.participant_id")
        self.check_timestamp(request.request.timestamp, "request.timestamp")

        async def open_session() -> Answer[RiskSessionData]:
            token = self.ids.uuid4()
            self.store.put("risk_session", participant_id, token,
                           {"token": token, "expires": self.clock.now(participant_id) + RISK_SESSION_LIFETIME})
            return Answer(100, {"risk_session_token": token})

        return Pending(facts("risk_session", participant_id, request=body), open_session, ancillary(None, None))

    def risk_score(self, participant_id: int, body: dict[str, Any]) -> Pending[Answer[RiskScoreData]]:
        request = validate(schemas.RiskScore, body)
        self.check_participant(participant_id, request.request.participant_id, "request.participant_id")
        self.check_timestamp(request.request.timestamp, "request.timestamp")
        self._check_open_banking(request.transaction_open_banking)
        tx = request.transaction
        session = self.store.get("risk_session", participant_id, tx.risk_session_token) or \
            examples.risk_session(tx.risk_session_token)
        if session is None:
            raise InvalidParameter("transaction.risk_session_token was not issued by /risk/risksession/v2 for "
                                   "this participant", field="transaction.risk_session_token")
        if session["expires"] < self.clock.now(participant_id):
            raise InvalidParameter("transaction.risk_session_token has expired (risk sessions last 30 minutes)",
                                   field="transaction.risk_session_token")
        token = self.token(participant_id, tx.customer_account_token)
        if tx.account_type not in PULLABLE_AS.get(token["account_type"], set()):
            raise TokenAccountTypeMismatch(
                f"customer_account_token was verified as {token['account_type']}, not {tx.account_type}",
                field="transaction.account_type")

        async def score() -> Answer[RiskScoreData]:
            assessment = self.ids.uuid4()
            self.store.put("risk_assessment", participant_id, assessment,
                           {"token": assessment, "customer_account_token": token["token"],
                            "created": self.clock.now(participant_id)})
            return Answer(100, {"score": "3000", "risk_assessment_token": assessment,
                                "fraud_guarantee": {"guarantee_requested": "1", "transaction_guaranteed": "1"}})

        return Pending(facts("risk_score", participant_id, amount=float(tx.transaction_amount.amount), request=body,
                             **dict(token_facts(token), account_type=tx.account_type)),
                       score, ancillary(None, None))

    @staticmethod
    def _check_open_banking(open_banking: schemas.OpenBanking | None) -> None:
        """"Exactly one of open_banking_plaid or open_banking_other should be provided — not both"
        (https://developers.ingopayments.com/docs/ingopay/risk/risk-score): the object itself is conditional (sent
        only by clients configured for open banking), so without it nothing is asked; with it, one member."""
        if open_banking is None:
            return
        sent = [name for name in ("open_banking_plaid", "open_banking_other")
                if getattr(open_banking, name) is not None]
        if len(sent) > 1:
            raise InvalidParameter("transaction_open_banking: send exactly one of open_banking_plaid or "
                                   "open_banking_other, not both", field="transaction_open_banking")
        if not sent:
            raise MissingParameter("transaction_open_banking needs exactly one of open_banking_plaid or "
                                   "open_banking_other (or leave the object out)", field="transaction_open_banking")

    # -- biller search -------------------------------------------------------------------------------

    def biller_search(self, participant_id: int, body: dict[str, Any]) -> Pending[Answer[BillerSearchData]]:
        """The billers that take an account number (and, when an amount is sent, whose limits take it)."""
        request = validate(schemas.BillerSearch, body)
        self.check_participant(participant_id, request.participant_id)
        if request.timestamp is not None:
            self.check_timestamp(request.timestamp)

        async def search() -> Answer[BillerSearchData]:
            found = [b for b in directory.BILLERS if b.matches(request.account)]
            if not found:
                raise AccountNotAvailable("no biller accepts an account number of this format", field="account")
            posting_time, posting_date = estimated_posting("BP", self.clock.now(participant_id))
            credit = request.rail_type == "CREDIT"
            billers: list[Biller] = [
                {"id": b.id, "name": b.name, "address": b.address, "city": b.city, "state": b.state, "zip": b.zip,
                 "min": b.min, "max": b.max, "card_type": "NA", "estimated_posting_time": posting_time,
                 "estimated_posting_date": posting_date, "credit_enabled": 1 if takes and credit else 0,
                 "debit_enabled": 1 if takes and not credit else 0}
                for b, takes in self._within_limits([(b, b.limits) for b in found], request.amount)]
            return Answer(100, {"billers": billers})

        return Pending(facts("biller_search", participant_id, account=request.account, amount=request.amount,
                             request=body), search, ancillary(None, None))

    def payee_search(self, participant_id: int, body: dict[str, Any]) -> Pending[Answer[PayeeSearchData]]:
        """The older search (``/gateway/search``): from the same directory, the billers that take the account number
        (flagged BP) and, for a card number, the card's issuer (flagged CA, verified as a card), narrowed by the payee
        fields sent and, when an amount is sent, by each one's limits
        (https://developer-payments.ingomoney.com/en/ingopay-api/gateway/search)."""
        request = validate(schemas.PayeeSearch, body)
        self.check_participant(participant_id, request.participant_id)
        if request.timestamp is not None:
            self.check_timestamp(request.timestamp)
        filters = {name: getattr(request, name) for name in PAYEE_FILTERS if getattr(request, name)}

        async def search() -> Answer[PayeeSearchData]:
            found: list[tuple[dict[str, Any], Literal["CA", "BP"]]] = [
                (directory.biller_issuer(b), "BP") for b in directory.BILLERS if b.matches(request.account)]
            if _payable_card(request.account):
                found.append((directory.card_issuer(request.account), "CA"))
            matching = [(issuer, kind) for issuer, kind in found if _payee_matches(issuer, filters)]
            if not matching:
                sent = f" and {', '.join(filters)} as sent" if found and filters else ""
                raise AccountNotAvailable(f"no biller or card issuer takes this account number{sent}", field="account")
            now = self.clock.now(participant_id)
            payees: list[Payee] = []
            for (issuer, kind), takes in self._within_limits([(m, m[0]["limits"]) for m in matching],
                                                             request.amount):
                entry: dict[str, Any] = dict(issuer_entry(issuer, kind, now), account_type=kind)
                payee = cast(Payee, {k: entry[k] for k in Payee.__annotations__})
                if not takes:
                    payee["credit_enabled"] = payee["debit_enabled"] = 0
                payees.append(payee)
            return Answer(100, {"payees": payees, "count": len(payees)})

        return Pending(facts("search", participant_id, account_type="BP", account=request.account,
                             amount=request.amount, request=body), search, ancillary(None, None))

    def _within_limits(self, found: list[tuple[Candidate, tuple[str, str]]], amount: float | None
                       ) -> list[tuple[Candidate, bool]]:
        """Each destination found, with whether its limits take ``amount`` (both ends included; any amount when
        none is sent). Ingo checks a sent amount "against biller transaction limits" and does not say how a biller
        out of range is shown: by default (--biller-limits omit) it is left out, and when none is left the search
        answers 700 naming the limits; with --biller-limits flag it is listed with credit_enabled and debit_enabled
        0 (docs/contract.md)."""
        if amount is None:
            return [(candidate, True) for candidate, _ in found]
        judged = [(candidate, directory.within(limits, amount)) for candidate, limits in found]
        if self.biller_limits == "flag":
            return judged
        kept: list[tuple[Candidate, bool]] = [(candidate, takes) for candidate, takes in judged if takes]
        if not kept:
            ranges = ", ".join(f"{low} to {high}" for _, (low, high) in found)
            raise AccountNotAvailable(f"amount {amount:.2f} is outside the limits of every destination that takes "
                                      f"this account number ({ranges})", field="amount")
        return kept


def _payable_card(account: str) -> bool:
    """Whether the searched account is a card number a push can reach (the card verify's own checks)."""
    return (account.isdigit() and 12 <= len(account) <= 19 and directory.luhn_ok(account)
            and directory.card_network(account) != "American Express")


def _payee_matches(issuer: dict[str, Any], filters: dict[str, str]) -> bool:
    """Whether a payee answers the payee fields sent: the name and first address line contain what was sent, the
    city and state are it (any case), the zip's first five digits are it; payee_address2 matches any payee (the
    directory keeps no second address line)."""
    def text(name: str) -> str:
        return str(issuer.get(name) or "").casefold()

    for name, wanted in filters.items():
        wanted = wanted.casefold()
        if name == "payee_name" and wanted not in text("payee_name"):
            return False
        if name == "payee_address1" and wanted not in text("payee_address"):
            return False
        if name in ("payee_city", "payee_state") and wanted != text(name):
            return False
        if name == "payee_zip" and wanted[:5] != text("payee_zip")[:5]:
            return False
    return True
