"""Every webhook topic the emulator can send, with Ingo's description, version and usual status."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """One webhook topic: the name Ingo sends in ``metadata.topic`` and what it means."""

    name: str
    description: str
    version: str
    status: int | None  # the event status it usually carries (None: decided by the flow)


TOPICS: dict[str, Topic] = {t.name: t for t in (
    Topic("plugin.transaction.account.tokenization.success",
          "This event reports successful tokenization of a recipient disbursement account. Includes the token "
          "and other account information.", "3", 100),
    Topic("plugin.transaction.recipient.verification.rvdm.success",
          "This event reports that recipient verification data matching passed.", "3", 1103),
    Topic("plugin.transaction.recipient.verification.rvdm.soft_failure",
          "This event reports that recipient verification data matching passed with a soft failure.", "3", 1104),
    Topic("plugin.transaction.recipient.verification.rvdm.failure",
          "This event reports that recipient verification data matching failed.", "3", 1105),
    Topic("plugin.transaction.account.verification.ach.nav.failure",
          "This event reports Name on Account Validation (NAV) validation failure on an ACH payment request.", "1",
          777),
    Topic("plugin.transaction.session.request.terminated",
          "Overall max account verification attempts limit exceeded", "1", 1127),
    Topic("gateway.transaction.recipient.verification.ofac.status.suspended",
          "This event reports that OFAC screening found a possible match and processing is suspended.", "1", 1106),
    Topic("gateway.transaction.recipient.verification.ofac.status.cleared",
          "This event reports that an OFAC suspension was cleared and processing resumes.", "1", 1107),
    Topic("gateway.transaction.recipient.verification.ofac.status.failure",
          "This event reports that an OFAC match was confirmed and the transaction is terminated.", "1", 1108),
    Topic("gateway.transaction.recipient.payment.status.returned",
          "This event reports that a payment was returned by the issuer.", "1", 1114),
    Topic("gateway.transaction.recipient.payment.status.check.issued",
          "This event reports that a check was issued.", "1", 100),
    Topic("gateway.transaction.recipient.payment.status.check.paid",
          "This event reports that a check was paid.", "1", 100),
    Topic("gateway.transaction.recipient.payment.status.check.stopped",
          "This event reports that a check was stopped.", "1", 100),
    Topic("gateway.transaction.recipient.status.payment.check.returned",
          "This event reports that a check was returned.", "1", 1114),
    Topic("gateway.transaction.recipient.payment.status.terminated",
          "This event reports that a disbursement was terminated.", "1", 1113),
    Topic("gateway.transaction.recipient.payment.status.success",
          "This event reports the final status of a payment that was pending (102) or queued (103).", "1", 1125),
)}
