"""The final-outcome webhook of a payment: which topic and status follow a push or a pull, if any, and when not.

Ingo's IngoPay quick-start (https://developers.ingopayments.com/docs/ingopay/quick-start) says a real-time webhook
with the final transaction outcome follows a process call, and that it is authoritative because some payment types
complete asynchronously. The topics, and which answers count as final, are the emulator's choices (docs/contract.md,
"A webhook after every payment"); ``--payment-webhooks off`` sends none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from emulator.core.catalogue import catalogue

#: The endpoints that move money: a push (v11 process) and a pull (v12 debit).
PAYMENT_ENDPOINTS = frozenset({"process", "debit"})
#: The topics of a payment's final outcome (the gateway.* names are the emulator's; see topics.py).
SUCCESS = "gateway.transaction.recipient.payment.status.success"
TERMINATED = "gateway.transaction.recipient.payment.status.terminated"
#: Ingo's status on each (its Notify pages: 1125 "Success", 1113 "Disbursement / Payment has been terminated").
SUCCESS_STATUS, TERMINATED_STATUS = 1125, 1113
#: Answers that report no final outcome now: a stand-in or a queued push (a follow-up event brings it when it
#: settles), a payment still in progress (104) and a replay (101: its outcome went with the original).
NOT_FINAL = frozenset({101, 102, 103, 104})
#: Families of a refusal that ends the payment for good (a decline). The others are no transaction outcome: a
#: request the client must correct (request), or one whose outcome is unknown and is retried (system, general).
DECLINES = frozenset({"velocity", "routing", "card_token", "issuer_decline"})
#: Topics that settle a payment, or hold it until a later event settles it: when a rule schedules one of these, that
#: event is the payment's outcome and the emulator sends none of its own (never two finals for one payment).
SETTLING = frozenset({
    SUCCESS, TERMINATED,
    "gateway.transaction.recipient.verification.ofac.status.suspended",
    "gateway.transaction.recipient.verification.ofac.status.cleared",
    "gateway.transaction.recipient.verification.ofac.status.failure",
})
#: The outcome webhook a check push sends of its own (``check.issued``, Ingo's topic): it stands for the final one.
CHECK_ISSUED = "gateway.transaction.recipient.payment.status.check.issued"


@dataclass(frozen=True)
class FinalOutcome:
    """The final-outcome event to send now: its topic, its status, and the refusal it reports (if any)."""

    topic: str
    status: int
    reason_code: int | None = None  # the decline the answer carried (a terminated payment only)


def final_outcome(status: int, *, refused: bool, scheduled: Iterable[str], check: bool = False) -> FinalOutcome | None:
    """The event that reports a payment answered ``status`` now, or None when none is sent now.

    ``refused``: the answer refused the payment (nothing was paid); ``scheduled``: the topics a scenario rule schedules
    about it; ``check``: a check push (which announces itself with ``check.issued`` when paid).
    """
    if any(topic in SETTLING for topic in scheduled):
        return None  # the rule's events settle it, or hold it until they do
    known = catalogue().get(status)
    if refused:
        if known is not None and known.family in DECLINES:
            return FinalOutcome(TERMINATED, TERMINATED_STATUS, reason_code=status)
        return None
    if status in NOT_FINAL or check or (known is not None and not known.is_success):
        return None
    return FinalOutcome(SUCCESS, SUCCESS_STATUS)
