"""The iFrame plugin's domain: what an authorized URL shows, mounting, submitting, cancelling.

Everything the page does goes through :class:`Plugin`; the page (``static/page.js``) only renders and forwards
the SDK events the server builds here, so the server is the one source of truth for states and payloads.

A submission that passes the form checks and recipient data matching tokenizes through the gateway's verify: it is
a :class:`Submission` holding the gateway's :class:`Pending` step, which whoever applies the scenario rules carries
out (or refuses, or faults) like any gateway request; :meth:`Plugin.conclude` and :meth:`Plugin.refused` then say
what the page shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from emulator.core.answer import Answer
from emulator.core.clock import Clock
from emulator.core.errors import IngoError
from emulator.gateway import directory
from emulator.gateway.answer_shapes import VerifyData
from emulator.gateway.models import Emit, Gateway
from emulator.gateway.schemas import US_STATES
from emulator.plugin import rvdm
from emulator.scenarios.facts import Pending
from emulator.sessions.models import (
    ACTIVE,
    CANCELED,
    COMPLETED,
    DEFAULT_HOST_URI,
    EXPIRED,
    TERMINATED,
    SessionNotFound,
    SessionService,
)
from emulator.store import Record, Store

#: FUNDING_DESTINATIONS of the SDK: the value, the verify account_type, PAGE_LOAD's page name, the heading.
DESTINATIONS = {
    "debit": ("CA", "DebitFunding", "Debit card"),
    "credit": ("CA", "CreditFunding", "Credit card"),
    "ach": ("AC", "AchFunding", "Bank account (ACH)"),
    "billpay": ("BP", "BillPayFunding", "Pay a bill"),
    "paypal": ("PD", "PayPalFunding", "PayPal"),
}
#: SDK EVENTS: the constant name and its event_name.
EVENTS = {name: f"iip.webplugin.{name.lower()}" for name in (
    "TOKEN_SUCCESS", "FUNDING_CANCELED", "TERMINAL_FAILURE", "TERMINAL_FAILURE_ACKNOWLEDGED",
    "MAX_VERIFICATION_ATTEMPTS_EXCEEDED", "PAGE_LOAD")}
#: ``error`` of TERMINAL_FAILURE when no Ingo status explains it (the emulator's own codes).
SESSION_EXPIRED = "session_expired"
#: The webhook Ingo sends when a session is terminated for too many failed verifications, and its status.
SESSION_TERMINATED = "plugin.transaction.session.request.terminated"
MAX_ATTEMPTS_EXCEEDED = 1127
#: The iFrame's ACH name and address verification failure (a scenario rule sends it: the magic value 99007770).
NAV_FAILURE = "plugin.transaction.account.verification.ach.nav.failure"
#: Ingo status codes a submission answers inline (the recipient corrects a field) rather than as a failure.
INLINE_CODES = frozenset({400, 401, 402, 751, 1042})
FI_ACCOUNT_TYPES = {"checking": "1", "savings": "2"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ZIP = re.compile(r"^[0-9]{5}(?:-?[0-9]{4})?$")
_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])\s*/\s*([0-9]{2})$")


class Refused(Exception):
    """The URL cannot do this now (not mounted, expired, already completed...): HTTP 409 with the page state."""

    def __init__(self, state: PageState) -> None:
        super().__init__(state.name)
        self.state = state


@dataclass
class PageState:
    """What an authorized URL shows: active (the capture form) or a page that explains why not."""

    name: str  # active | expired | closed | completed | canceled | terminated | not_found
    http_status: int
    title: str
    text: str
    event: dict[str, Any] | None = None  # the SDK event the page posts to the host once it is mounted

    def as_json(self) -> dict[str, Any]:
        return {"state": self.name, "title": self.title, "text": self.text, "event": self.event}


@dataclass
class Submitted:
    """The answer to a submission: what the page shows and the SDK event it forwards (if any)."""

    outcome: str  # token_success | retry | terminal_failure | max_attempts | invalid
    http_status: int = 200
    event: dict[str, Any] | None = None
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "event": self.event, "message": self.message, "errors": self.errors,
                **self.details}


def origin_of(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}".lower()


def host_allows(host_uri: str, origin: str) -> bool:
    """Whether a page at ``origin`` may mount a session created for ``host_uri``.

    An explicit host_uri must match exactly (scheme, host and port). The default host_uri (none was sent)
    is ``http://localhost``; it admits http://localhost on any port, where partners develop.
    """
    origin = origin.lower().rstrip("/")
    if host_uri == DEFAULT_HOST_URI:
        parts = urlsplit(origin)
        return parts.scheme == "http" and parts.hostname == "localhost"
    return origin == origin_of(host_uri)


def frame_ancestors(host_uri: str) -> str:
    """The CSP ``frame-ancestors`` source that lets only the session's host page frame it."""
    return "http://localhost:*" if host_uri == DEFAULT_HOST_URI else origin_of(host_uri)


def event(session: Record, name: str, **extra: Any) -> dict[str, Any]:
    """An SDK event payload: session_identifier, tracer_token and event_name first (reference 6)."""
    return {"session_identifier": session["id"], "tracer_token": session["tracer_token"],
            "event_name": EVENTS[name], **extra}


def ancillary(session: Record) -> dict[str, Any]:
    """``data.ancillary`` of the session's webhooks: its participant ids, session id and tracer token."""
    return {"participant_unique_id1": session["participant_unique_id1"],
            "participant_unique_id2": session.get("participant_unique_id2", ""),
            "session_id": session["id"], "tracer_token": session["tracer_token"]}


def webhook_issuers(issuers: list[Any]) -> list[dict[str, Any]]:
    """The verify answer's issuers as the tokenization webhook prints them: Ingo's webhook pages show an issuer's
    address fields as strings, "" where there is none (the PayPal example), where its ACH verify answer has null."""
    return [{name: "" if value is None else value for name, value in issuer.items()} for issuer in issuers]


@dataclass
class Submission:
    """A submission that passed the form checks and recipient data matching, before it tokenizes: the gateway's
    pending verify (scenario rules for ``plugin``, then for ``verify``, answer it), which settles by completing the
    session (its answer's data is then what the page shows)."""

    session: Record
    ticks: str
    destination: str
    account_type: str
    matched: rvdm.Matching
    attempts: int
    pending: Pending[Answer[VerifyData]]


class Plugin:
    """The iFrame page's operations on one emulator's sessions, through its gateway, announced on its outbox."""

    def __init__(self, sessions: SessionService, gateway: Gateway, store: Store, clock: Clock, *,
                 rules: Mapping[str, str], max_attempts: int, emit: Emit | None = None,
                 signature_now: Callable[[], float] | None = None) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.store = store
        self.clock = clock
        self.rules = dict(rules)
        self.max_attempts = max_attempts
        self.emit = emit
        self.signature_now = signature_now or clock.now  # the time the iFrame's verify body is dated with

    # -- what a URL shows ------------------------------------------------------------------------------

    def open(self, session_id: str, ticks: str, mac: str) -> tuple[Record, PageState]:
        """The session and its page state; an Active session whose URL expired unmounted becomes Expired."""
        try:
            _, session = self.sessions.open(session_id, ticks, mac)
        except SessionNotFound:
            return {}, PageState("not_found", 404, "Session not found",
                                 "This link does not belong to a session, or it was altered.")
        return session, self.state(session, ticks)

    def state(self, session: Record, ticks: str) -> PageState:
        status = session.get("status", ACTIVE)
        destination = session.get("funding_destination") or ""
        if status == COMPLETED:
            return PageState("completed", 410, "Already completed",
                             f"This session was completed: the account ending {session.get('last_4', '')} was "
                             "saved. A completed session cannot be mounted again.",
                             event(session, "TOKEN_SUCCESS",
                                   customer_account_token=session.get("customer_account_token"),
                                   funding_destination=destination))
        if status == CANCELED:
            return PageState("canceled", 410, "Canceled",
                             "The recipient canceled this session. Create a new session to start again.",
                             event(session, "FUNDING_CANCELED", funding_destination=destination))
        if status == TERMINATED:
            return PageState("terminated", 410, "Too many attempts",
                             "The details entered did not match too many times, so this session was ended. "
                             "Create a new session to start again.",
                             event(session, "MAX_VERIFICATION_ATTEMPTS_EXCEEDED", funding_destination=destination,
                                   error=str(rvdm.FAILURE)))
        if self.sessions.url_expired(session, ticks):
            if status == ACTIVE and str(session.get("url_ticks")) == ticks:
                session = self.sessions.transition(session, EXPIRED)
            return PageState("expired", 410, "Link expired",
                             "This link was not opened within 30 seconds, or a newer link replaced it. Ask for "
                             "a new link: create the session again with the same Idempotency-Key.",
                             event(session, "TERMINAL_FAILURE", funding_destination=destination,
                                   error=SESSION_EXPIRED))
        if str(session.get("closed_ticks")) == ticks:
            error = session.get("last_error") or "500"
            return PageState("closed", 410, "This link has ended",
                             "This link ended after a failure. Ask for a new link: create the session again "
                             "with the same Idempotency-Key.",
                             event(session, "TERMINAL_FAILURE", funding_destination=destination, error=error))
        return PageState("active", 200, "Add your account", f"Session {session['id']} is {ACTIVE}.")

    def _active(self, session_id: str, ticks: str, mac: str, *, mounted: bool = True) -> Record:
        session, state = self.open(session_id, ticks, mac)
        if state.name != "active":
            raise Refused(state)
        if mounted and not session.get("mounted"):
            raise Refused(PageState("not_mounted", 409, "Not mounted",
                                    "Mount this page with IngoInstantPayments.mount() first."))
        return session

    # -- mount, cancel, acknowledge ----------------------------------------------------------------------

    def mount(self, session_id: str, ticks: str, mac: str, *, origin: str,
              funding_destination: str) -> dict[str, Any]:
        """The SDK's host page (``origin``, checked against host_uri) mounts the URL for a destination."""
        session, state = self.open(session_id, ticks, mac)
        if state.name == "not_found":
            raise Refused(state)
        if not host_allows(session["host_uri"], origin):
            raise Refused(PageState("wrong_origin", 403, "Not allowed here",
                                    f"This session can only be mounted by {session['host_uri']}."))
        if state.name != "active":
            return state.as_json()
        if funding_destination not in DESTINATIONS:
            raise Refused(PageState("bad_destination", 400, "Unknown funding destination",
                                    f"funding destination {funding_destination!r} is not one of "
                                    f"{', '.join(DESTINATIONS)}"))
        session = self.sessions.transition(session, ACTIVE, mounted=True, mounted_at=self._now(session),
                                           funding_destination=funding_destination)
        _, page, heading = DESTINATIONS[funding_destination]
        return {**state.as_json(), "title": heading,
                "event": event(session, "PAGE_LOAD", funding_destination=funding_destination,
                               content={"page": page}),
                "funding_destination": funding_destination, "recipient": session["recipient_information"],
                "fields": list(FORM_FIELDS[funding_destination]),
                "attempts": session.get("attempts", 0), "max_attempts": self.max_attempts,
                "now": self._now(session), "states": sorted(US_STATES),
                "billers": [_biller(b) for b in directory.BILLERS] if funding_destination == "billpay" else []}

    def _now(self, session: Record) -> float:
        """The business time of the session's participant."""
        return self.clock.now(session["participant_id"])

    def cancel(self, session_id: str, ticks: str, mac: str) -> dict[str, Any]:
        session = self._active(session_id, ticks, mac)
        session = self.sessions.transition(session, CANCELED, ended_at=self._now(session))
        return self.state(session, ticks).as_json()

    def acknowledge(self, session_id: str, ticks: str, mac: str) -> dict[str, Any]:
        """The recipient pressed Continue on a failure page: TERMINAL_FAILURE_ACKNOWLEDGED."""
        session, state = self.open(session_id, ticks, mac)
        if state.name not in ("closed", "expired"):
            raise Refused(state)
        failure = state.event or {}
        return {"state": state.name, "event": event(session, "TERMINAL_FAILURE_ACKNOWLEDGED",
                                                    funding_destination=failure.get("funding_destination", ""),
                                                    error=failure.get("error"))}

    def billers(self, session_id: str, ticks: str, mac: str, query: str, account: str) -> list[dict[str, Any]]:
        """Biller search inside the page: by name, and by account format when an account is typed."""
        self._active(session_id, ticks, mac)
        words = query.casefold().split()
        found = [b for b in directory.BILLERS
                 if all(w in b.name.casefold() for w in words) and (not account or b.matches(account))]
        return [_biller(b) for b in found]

    # -- submit ---------------------------------------------------------------------------------------------

    def submit(self, session_id: str, ticks: str, mac: str, form: Mapping[str, Any]) -> Submitted | Submission:
        """Check the form and match the recipient data (RVDM): what the page shows when either fails, else the
        submission ready to tokenize through the gateway's verify."""
        session = self._active(session_id, ticks, mac)
        destination = session["funding_destination"]
        errors = check_form(destination, form, self._now(session))
        if errors:
            return Submitted("invalid", 422, message="Check the highlighted fields.", errors=errors)
        submitted = recipient_fields(destination, form)
        matched = rvdm.evaluate(self.rules, session["recipient_information"], submitted)
        attempts = int(session.get("attempts", 0))
        if not matched.passed:
            return self._rvdm_failure(session, matched, attempts + 1)
        body = verify_body(session, destination, form, self.signature_now())
        try:
            pending = self.gateway.verify(session["participant_id"], body, endpoint="plugin")
        except IngoError as error:
            return self._refusal(session, ticks, destination, error)
        # The iFrame tokenizes through verify: the bundled magic values (written for verify) decline inside it too,
        # and a rule that names plugin wins over a verify rule for the same submission.
        pending.facts.fallback = "verify"
        pending.facts.funding_destination = destination
        pending.ancillary = ancillary(session)
        pending.event_members = lambda topic, status: self._members(topic, status, matched, attempts)
        submission = Submission(session, ticks, destination, body["account_type"], matched, attempts, pending)
        pending.settle = lambda answer: Answer(answer.status, self.conclude(submission, answer))
        return submission

    def _members(self, topic: str, status: int | None, matched: rvdm.Matching, attempts: int) -> dict[str, Any]:
        """Ingo's ``data.event`` members of a plugin.* event a scenario rule sends about this submission (the magic
        values' RVDM and NAV outcomes): what the page shows of the attempt. Ingo's pages: rvdm-verification-success
        and ach-nameaddress-verification-failure (tests/data/iframe-webhooks.json)."""
        if topic in rvdm.TOPICS.values():  # this attempt's matching, passed or not as the rule's status says
            failed = status == rvdm.FAILURE
            return {**matched.event(attempts + 1 if failed else attempts, self.max_attempts), "has_passed": not failed}
        if topic == NAV_FAILURE:  # a failed account verification: this attempt counts
            return {"max_attempts": self.max_attempts, "attempt_count": attempts + 1}
        return {}

    def refused(self, submission: Submission, error: IngoError) -> Submitted:
        """What the page shows when the tokenization is refused (a scenario rule's status)."""
        session = self._still_active(submission)
        return self._refusal(session, submission.ticks, submission.destination, error)

    def _still_active(self, submission: Submission) -> Record:
        """The session as it is now (a rule's latency may have let the recipient cancel meanwhile); Refused with
        its page state when it is no longer Active."""
        session = self.store.get("session", submission.session["participant_id"], submission.session["id"])
        if session is None or session.get("status", ACTIVE) != ACTIVE:
            raise Refused(self.state(session or submission.session, submission.ticks))
        return session

    def _refusal(self, session: Record, ticks: str, destination: str, error: IngoError) -> Submitted:
        if error.code in INLINE_CODES and error.field:
            return Submitted("invalid", 422, message="Check the highlighted fields.",
                             errors={_form_field(destination, error.field): error.detail})
        return self._terminal(session, ticks, str(error.code), error.message)

    def conclude(self, submission: Submission, answer: Answer[VerifyData]) -> Submitted:
        """The account is tokenized: the session is Completed, its webhooks sent, TOKEN_SUCCESS posted."""
        session, destination, data = self._still_active(submission), submission.destination, answer.data
        matched, attempts = submission.matched, submission.attempts
        account_type = submission.account_type
        token = data["customer_account_token"]
        session = self.sessions.transition(session, COMPLETED, customer_account_token=token,
                                           last_4=data.get("last_4", ""), account_type=account_type,
                                           ended_at=self._now(session))
        self._emit(session, matched.topic, matched.event(attempts, self.max_attempts), matched.status)
        account_id = str(self.store.next_id("plugin_account_id"))
        self._emit(session, "plugin.transaction.account.tokenization.success", {
            "last_4": data.get("last_4", ""), "issuers": webhook_issuers(data.get("issuers", [])), "status": "100",
            "customer_account_token": token, "account_type": account_type, "attempt_count": attempts,
            "max_attempts": self.max_attempts, "client_message": "Success", "account_id": account_id}, 100)
        payload = event(session, "TOKEN_SUCCESS", customer_account_token=token, funding_destination=destination)
        return Submitted("token_success", event=payload, message="Your account was added.",
                         details={"last_4": data.get("last_4", ""), "soft_mismatches": matched.soft_mismatches})

    def _rvdm_failure(self, session: Record, matched: rvdm.Matching, attempts: int) -> Submitted:
        destination = session["funding_destination"]
        self._emit(session, matched.topic, matched.event(attempts, self.max_attempts), matched.status)
        labels = [LABELS[rvdm.FIELDS[name]] for name in matched.hard_mismatches]
        if attempts >= self.max_attempts:
            session = self.sessions.transition(session, TERMINATED, attempts=attempts, ended_at=self._now(session))
            self._emit(session, SESSION_TERMINATED, {}, MAX_ATTEMPTS_EXCEEDED)
            payload = event(session, "MAX_VERIFICATION_ATTEMPTS_EXCEEDED", funding_destination=destination,
                            error=str(rvdm.FAILURE))
            return Submitted("max_attempts", event=payload,
                             message="The details entered did not match too many times. This session has ended.",
                             details={"attempts": attempts, "max_attempts": self.max_attempts})
        self.sessions.transition(session, ACTIVE, attempts=attempts)
        left = self.max_attempts - attempts
        return Submitted("retry", message=f"These details do not match what we have on file: {', '.join(labels)}. "
                                          f"{left} attempt{'s' if left != 1 else ''} left.",
                         errors={_form_field(destination, rvdm.FIELDS[n]): "Does not match our records"
                                 for n in matched.hard_mismatches},
                         details={"attempts": attempts, "max_attempts": self.max_attempts, "remaining": left})

    def _terminal(self, session: Record, ticks: str, code: str, message: str) -> Submitted:
        """A refusal ends this URL (the session stays Active: re-issue it with the Idempotency-Key)."""
        destination = session["funding_destination"]
        session = self.sessions.transition(session, ACTIVE, closed_ticks=ticks, last_error=code,
                                           last_error_message=message)
        payload = event(session, "TERMINAL_FAILURE", funding_destination=destination, error=code)
        return Submitted("terminal_failure", event=payload, message=message, details={"error": code})

    def _emit(self, session: Record, topic: str, body: dict[str, Any], status: int) -> None:
        if self.emit is not None:
            self.emit(topic, session["participant_id"], ancillary=ancillary(session), event=body, status=status,
                      source="flow:plugin")


# -- the forms ---------------------------------------------------------------------------------------------

#: Form field names (the page's ``name`` attributes) and their labels.
LABELS = {"first_name": "First name", "last_name": "Last name", "business_name": "Business name",
          "address_line1": "Street address", "city": "City", "state": "State", "zip_code": "ZIP code",
          "card_number": "Card number", "expiration": "Expiration (MM/YY)", "cvv": "Security code (CVV)",
          "routing_number": "Routing number", "account_number": "Account number", "account_kind": "Account type",
          "biller_id": "Biller", "email": "PayPal email"}
ADDRESS = ("address_line1", "city", "state", "zip_code")
#: The fields each destination asks for, in order.
FORM_FIELDS = {
    "debit": ("card_number", "expiration", "cvv", "first_name", "last_name", *ADDRESS),
    "credit": ("card_number", "expiration", "cvv", "first_name", "last_name", *ADDRESS),
    "ach": ("routing_number", "account_number", "account_kind", "first_name", "last_name", *ADDRESS),
    "billpay": ("biller_id", "account_number", "first_name", "last_name", *ADDRESS),
    # PayPal / Venmo verify requires the address too (receiver_type 1: the email is the account)
    "paypal": ("email", "first_name", "last_name", *ADDRESS),
}
#: verify's field names -> the form's, for errors the gateway raises.
_VERIFY_TO_FORM = {"recipient_first_name": "first_name", "recipient_last_name": "last_name",
                   "recipient_address1": "address_line1", "recipient_city": "city", "recipient_state": "state",
                   "recipient_zip": "zip_code", "expiration_date": "expiration", "routing_number": "routing_number",
                   "payee_id": "biller_id", "cvv": "cvv"}


def _form_field(destination: str, name: str) -> str:
    if name == "account":
        return {"debit": "card_number", "credit": "card_number", "paypal": "email"}.get(destination,
                                                                                       "account_number")
    return _VERIFY_TO_FORM.get(name, name)


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _digits(form: Mapping[str, Any], name: str) -> str:
    return re.sub(r"[\s-]", "", _text(form, name))


#: The numbers a form takes, each checked for its digits, then for its check digit or checksum: (the digits' pattern,
#: what to enter instead, the check, what to say when it fails).
_NUMBERS: dict[str, tuple[str, str, Callable[[str], bool], str]] = {
    "card_number": (r"[0-9]{12,19}", "Enter the 12 to 19 digits of the card number", directory.luhn_ok,
                    "This card number is not valid (check digit)"),
    "routing_number": (r"[0-9]{9}", "Enter the 9 digit routing number", directory.routing_ok,
                       "This routing number is not valid (checksum)"),
}


def check_form(destination: str, form: Mapping[str, Any], now: float) -> dict[str, str]:
    """The same checks the page makes before it submits (the server never trusts the browser)."""
    errors: dict[str, str] = {}
    for name in FORM_FIELDS[destination]:
        if not _text(form, name):
            errors[name] = f"{LABELS[name]} is required"
    for name, (digits, enter, valid, invalid) in _NUMBERS.items():
        if name in FORM_FIELDS[destination] and name not in errors:
            number = _digits(form, name)
            if not re.fullmatch(digits, number):
                errors[name] = enter
            elif not valid(number):
                errors[name] = invalid
    if "expiration" in FORM_FIELDS[destination] and "expiration" not in errors:
        found = _EXPIRY.match(_text(form, "expiration"))
        if found is None:
            errors["expiration"] = "Enter the expiration as MM/YY"
        elif directory.card_expired(int(found.group(2)), int(found.group(1)), now):
            errors["expiration"] = "This card has expired"
    if "cvv" in FORM_FIELDS[destination] and "cvv" not in errors and not re.fullmatch(r"[0-9]{3,4}",
                                                                                      _text(form, "cvv")):
        errors["cvv"] = "Enter the 3 or 4 digit security code"
    if destination == "ach" and "account_number" not in errors and \
            not re.fullmatch(r"[0-9]{4,17}", _digits(form, "account_number")):
        errors["account_number"] = "Enter the 4 to 17 digit account number"
    if destination == "ach" and "account_kind" not in errors and _text(form, "account_kind") not in FI_ACCOUNT_TYPES:
        errors["account_kind"] = "Choose checking or savings"
    if destination == "billpay" and "biller_id" not in errors:
        biller = directory.BILLERS_BY_ID.get(_text(form, "biller_id"))
        if biller is None:
            errors["biller_id"] = "Choose a biller from the search results"
        elif "account_number" not in errors and not biller.matches(_text(form, "account_number")):
            errors["account_number"] = f"This is not a {biller.name} account number"
    if "email" in FORM_FIELDS[destination] and "email" not in errors and not _EMAIL.match(_text(form, "email")):
        errors["email"] = "Enter an email address such as jane.doe@example.com"
    if "state" in FORM_FIELDS[destination] and "state" not in errors and _text(form, "state").upper() not in US_STATES:
        errors["state"] = "Choose a US state"
    if "zip_code" in FORM_FIELDS[destination] and "zip_code" not in errors and not _ZIP.match(_text(form, "zip_code")):
        errors["zip_code"] = "Enter a 5 digit ZIP code (or ZIP+4)"
    return errors


def recipient_fields(destination: str, form: Mapping[str, Any]) -> dict[str, str]:
    """What the recipient typed, as recipient_information keys (only the fields the form asks for)."""
    return {name: _text(form, name) for name in ("first_name", "last_name", *ADDRESS)
            if name in FORM_FIELDS[destination]}


def verify_body(session: Record, destination: str, form: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The POST /gateway/verify body the iFrame sends for this form (CVV passes through, never kept)."""
    account_type = DESTINATIONS[destination][0]
    body: dict[str, Any] = {
        "participant_id": session["participant_id"], "timestamp": int(now), "version": 11,
        "account_type": account_type, "participant_unique_id1": session["participant_unique_id1"],
        "recipient_first_name": _text(form, "first_name"), "recipient_last_name": _text(form, "last_name"),
    }
    if session.get("participant_unique_id2"):
        body["participant_unique_id2"] = session["participant_unique_id2"]
    if "address_line1" in FORM_FIELDS[destination]:
        zip_code = _digits(form, "zip_code")
        body.update(recipient_address1=_text(form, "address_line1"), recipient_city=_text(form, "city"),
                    recipient_state=_text(form, "state").upper(),
                    recipient_zip=zip_code if len(zip_code) == 5 else f"{zip_code[:5]}-{zip_code[5:]}")
    if account_type == "CA":
        month, year = _EXPIRY.match(_text(form, "expiration")).groups()  # type: ignore[union-attr]
        body.update(account=_digits(form, "card_number"), expiration_date=f"{year}{month}", cvv=_text(form, "cvv"))
    elif account_type == "AC":
        body.update(account=_digits(form, "account_number"), routing_number=_digits(form, "routing_number"),
                    fi_account_type=FI_ACCOUNT_TYPES[_text(form, "account_kind")], fi_account_classification="1")
    elif account_type == "BP":
        body.update(account=_text(form, "account_number"), payee_id=_text(form, "biller_id"))
    elif account_type == "PD":
        body.update(account=_text(form, "email"), receiver_type=1)  # 1 = EMAIL
    return body


def _biller(biller: directory.BillerEntry) -> dict[str, Any]:
    return {"id": biller.id, "name": biller.name, "city": biller.city, "state": biller.state,
            "min": biller.min, "max": biller.max}
