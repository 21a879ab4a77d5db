"""Every rule a rehearsal judges scenarios by, by name, with Ingo's words for it (what a failure breaks)."""

from __future__ import annotations

from emulator.readiness import payment_rules as payments
from emulator.readiness import webhook_rules as webhooks
from emulator.readiness.verdict import MANUAL, Judge, Status, Verdict

__all__ = ["JUDGES", "MANUAL", "Judge", "Status", "Verdict"]


#: Every rule, by the name a plan's scenario uses (its ``judge``, or its id).
JUDGES: dict[str, Judge] = {
    "verify-tokenization": Judge("a verify of a valid account answers 100 with a customer_account_token",
                                 payments.verify_tokenization),
    "token-reuse": Judge("after a verify, name the account by its customer_account_token alone; raw account data "
                         "travels once, to tokenize", payments.token_reuse),
    "process-with-token": Judge("a push names the account by the customer_account_token of a verify",
                                payments.process_with_token),
    "idempotent-retry": Judge("after a push whose outcome is unknown, retry with the same participant_unique_id1 "
                              "(Ingo answers 101 without paying again), never under a new one",
                              payments.idempotent_retry),
    "pending-is-success": Judge("treat 102 (pending issuer response) as a success: never pay the payout again, and "
                                "take its final status from the webhook", payments.pending_is_success),
    "retry-spacing": Judge("throttle idempotent retries to at least 3-4 seconds after the previous attempt ended",
                           payments.retry_spacing),
    "no-retry-on-decline": Judge("never retry a card issuer decline (851-867) automatically: send the recipient to "
                                 "the issuer", payments.no_retry_on_decline),
    "rate-limit-respected": Judge("stay at five requests a second or fewer, and after a 429 wait the Retry-After",
                                  payments.rate_limit_respected),
    "webhook-acknowledged": Judge("answer every webhook delivery with a 2xx within 10 seconds (acknowledge first, "
                                  "process later)", webhooks.webhook_acknowledged),
    "webhook-signature-verified": Judge("verify X-Ingo-Signature on every delivery and refuse one that does not "
                                        "verify", webhooks.webhook_signature_verified),
    "webhook-duplicate-acknowledged": Judge("a delivery may come more than once: deduplicate on metadata.id and "
                                            "acknowledge the repeat with a 2xx",
                                            webhooks.webhook_duplicate_acknowledged),
    "ofac-suspended-cleared": Judge("while a recipient's OFAC review is suspended (1106) do not pay it; acknowledge "
                                    "suspended, then cleared (1107), in order", webhooks.ofac_suspended_cleared),
    "ofac-suspended-failed": Judge("a recipient whose OFAC review failed (1108) must not be paid; acknowledge "
                                   "suspended, then failure, in order", webhooks.ofac_suspended_failed),
    "payment-returned": Judge("acknowledge the returned-payment webhook (1114) and reverse the payout on your side",
                              webhooks.payment_returned),
    "iframe-tokenization": Judge("an iFrame session tokenizes the account, its tokenization webhook is acknowledged, "
                                 "and the token is paid out with POST /gateway/process", webhooks.iframe_tokenization),
}
