"""Every webhook topic the emulator can send: its description, version and usual status, and where it comes from
(the Ingo page that shows it, or the emulator's choice of name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

from emulator.core.provenance import Source, choice, ingo


@dataclass(frozen=True)
class Topic:
    """One webhook topic: the name in ``metadata.topic``, what it means, and where it comes from.

    ``source`` is ``ingo(<the page that shows this topic>)`` or ``choice(<id>)`` for a name the emulator chose (the
    id registered in ``emulator/core/provenance.py``); tests/core/test_provenance.py fails for a topic without one.
    """

    name: str
    description: str
    version: str
    status: int | None  # the event status it usually carries (None: decided by the flow)
    source: Source | None = None

    def __post_init__(self) -> None:
        if self.source is not None and not isinstance(self.source, Source):
            raise TypeError(f"topic {self.name}: source is {self.source!r}; give ingo(\"<the page's URL>\") or "
                            "choice(\"<id>\") from emulator.core.provenance")

    @property
    def page(self) -> str | None:
        """The Ingo page that shows this topic (None: the emulator's name)."""
        return self.source.ref if self.source is not None and self.source.kind == "ingo" else None


_SUMMARIES = ingo("https://developer-payments.ingomoney.com/en/ingopay-api/webhook-events/summaries")
_IFRAME_HOOKS = "https://developers.ingopayments.com/iframe-webhooks/websockets/"

TOPICS: dict[str, Topic] = {t.name: t for t in (
    Topic("plugin.transaction.account.tokenization.success",
          "This event reports successful tokenization of a recipient disbursement account. Includes the token "
          "and other account information.", "3", 100,
          ingo("https://developers.ingopayments.com/ingopay-webhooks/websockets/account-tokenization-success")),
    # Ingo's RVDM pages print the event but cut the topic off: the name and text are the emulator's, by analogy.
    # A soft failure (1104) comes on the success topic, as Ingo's iFrame testing page says.
    Topic("plugin.transaction.recipient.verification.rvdm.success",
          "This event reports that recipient verification data matching passed.", "3", 1103, choice("topic-rvdm")),
    Topic("plugin.transaction.recipient.verification.rvdm.failure",
          "This event reports that recipient verification data matching failed.", "3", 1105, choice("topic-rvdm")),
    Topic("plugin.transaction.account.verification.ach.nav.failure",
          "This event reports Name on Account Validation (NAV) validation failure on an ACH payment request.", "1",
          777, ingo("https://developers.ingopayments.com/ingopay-webhooks/websockets/ach-nameaddress-verification-"
                    "failure")),
    Topic("plugin.transaction.session.request.terminated",
          "Overall max account verification attempts limit exceeded", "1", 1127,
          ingo("https://developers.ingopayments.com/api-reference/websockets/session-terminated")),
    Topic("gateway.transaction.recipient.verification.ofac.status.suspended",
          "This event reports an initial hit in OFAC screening resulting in a suspension of payment processing "
          "while the OFAC hit is verified.", "1", 1106, _SUMMARIES),
    Topic("gateway.transaction.recipient.verification.ofac.status.cleared",
          "This event reports the clearing of a transaction that was suspended due to an intial OFAC hit. "
          "Transaction processing will now resume.", "1", 1107, _SUMMARIES),
    Topic("gateway.transaction.recipient.verification.ofac.status.failure",
          "This event reports the the confirmation of an initial hit in OFAC screening. The transaction will now "
          "be terminated.", "1", 1108, _SUMMARIES),
    # Ingo's example prints the topic; its description is cut off after "that a previously completed": the rest is
    # the emulator's.
    Topic("gateway.transaction.recipient.payment.status.returned",
          "This event reports that a previously completed payment was returned by the issuer.", "1", 1114,
          ingo("https://developer-payments.ingomoney.com/en/ingopay-api/webhook-events/request-examples",
               "the description after \"that a previously completed\" is the emulator's")),
    Topic("gateway.transaction.recipient.payment.status.check.issued",
          "This event indicates that the Ingo supported check transaction status has been updated to check_issued.",
          "1", 100, _SUMMARIES),
    Topic("gateway.transaction.recipient.payment.status.check.paid",
          "This event indicates that the check transaction status has been updated to check paid", "1", 100,
          ingo("https://developers.ingopayments.com/ingopay-webhooks/websockets/check-paid")),
    Topic("gateway.transaction.recipient.payment.status.check.stopped",
          "This event indicates that the check stop has been confirmed (by status report file)", "1", 100,
          ingo(_IFRAME_HOOKS + "check-stopped")),
    Topic("gateway.transaction.recipient.status.payment.check.returned",
          "This event indicates that a check transaction has been returned due to positive pay exception", "1", 1114,
          ingo(_IFRAME_HOOKS + "check-returned")),
    # A payment's final outcome (webhooks/final_outcome.py). Ingo documents these on Notify's
    # transaction.recipient.payment.status.{terminated,success} topics: the status, client_message and description
    # are Ingo's, copied from those pages (api-reference/websockets/payment-terminated and .../payment-successful);
    # the gateway.* names are the emulator's choice (IngoPay's own events are gateway.*): the source is the choice
    # topic-payment-status. Version 1: Ingo's success page documents version 3, which adds account_id; "earlier
    # versions may omit account_id", and the emulator sends none.
    Topic("gateway.transaction.recipient.payment.status.terminated",
          "This event reports that the payment to the customer was not able to be completed and is being terminated "
          "by Ingo.(Terminal)", "1", 1113, choice("topic-payment-status")),
    Topic("gateway.transaction.recipient.payment.status.success",
          "This event reports that the payment to the customer was completed. (Terminal)", "1", 1125,
          choice("topic-payment-status")),
)}


def known_topic(value: str) -> str:
    """``value`` when the emulator knows the topic; a ValueError naming the topics it knows otherwise."""
    if value not in TOPICS:
        raise ValueError(f"unknown webhook topic {value[:80]!r}; expected one of: {', '.join(TOPICS)}")
    return value


#: A topic a scenario rule or an admin call names: one of :data:`TOPICS`.
KnownTopic = Annotated[str, AfterValidator(known_topic)]
