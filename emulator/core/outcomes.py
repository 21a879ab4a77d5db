"""Outcome families: what a request's answer, a webhook delivery or a finding means to the client, in one word.

The one classification the inspector shows (in words, colour and icon), the journal answers with, and the admin
filters take; its tone (good, wait, bad, warn) picks the colour, so a decline never looks like an approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from typing_extensions import TypedDict

from emulator.core.catalogue import catalogue

Tone = Literal["good", "wait", "warn", "bad"]


@dataclass(frozen=True)
class Family:
    """One outcome family: its code, its label, its tone, the symbol shown beside it, and what it means."""

    code: str
    label: str
    tone: Tone
    icon: str
    meaning: str


#: Every family, in the order the inspector lists them.
FAMILIES: dict[str, Family] = {f.code: f for f in (
    Family("approved", "Approved", "good", "✓", "Ingo accepted the request (status 100, or an AVS soft result)"),
    Family("pending", "Pending", "wait", "◷", "accepted but not final: a webhook or a retry tells the end"),
    Family("idempotent_replay", "Idempotent replay", "wait", "↻",
           "the same participant_unique_id1 again: Ingo answers the first request's result (101) or that it is "
           "still under way (104)"),
    Family("declined", "Declined", "bad", "✕", "Ingo refused the payment or the account (an issuer, velocity, routing "
                                          "or token decline)"),
    Family("validation_error", "Validation error", "warn", "!", "the request itself was wrong: a field, a path, a "
                                                           "method or a body the API refuses"),
    Family("auth_refused", "Auth refused", "bad", "⊘", "Kong refused the signature (HTTP 401)"),
    Family("throttled", "Throttled", "warn", "‖", "over the rate limit (HTTP 429): retry after the window"),
    Family("system_error", "System error", "bad", "✱", "Ingo or the emulator failed (HTTP 5xx or an Ingo 5xx status)"),
    Family("injected_fault", "Injected fault", "bad", "⚡", "a scenario rule closed the connection or answered a load "
                                                      "balancer's page"),
    Family("delivered", "Delivered", "good", "✓", "the receiver answered 2xx"),
    Family("retrying", "Retrying", "wait", "◷", "not yet delivered: another attempt is scheduled"),
    Family("undelivered", "Undelivered", "bad", "✕", "every attempt failed"),
    Family("finding", "Finding", "warn", "⚠", "a client mistake that would lose money against Ingo"),
)}

#: Ingo statuses that are neither final approvals nor declines.
PENDING_STATUSES = frozenset({102, 103})
REPLAY_STATUSES = frozenset({101, 104})
#: Diagnosis codes of a fault a scenario rule injected.
FAULT_DIAGNOSES = frozenset({"scenario_fault"})
#: The journal's status for a connection closed without an answer (nginx's 444).
CLOSED_WITHOUT_RESPONSE = 444


def request_family(http_status: int, ingo_status: int | None, diagnosis_code: str | None = None,
                   fault: bool = False) -> str:
    """The family of one answered request."""
    if fault or diagnosis_code in FAULT_DIAGNOSES or http_status == CLOSED_WITHOUT_RESPONSE:
        return "injected_fault"
    if http_status == 401:
        return "auth_refused"
    if http_status == 429:
        return "throttled"
    if http_status >= 500:
        return "system_error"
    if ingo_status is not None:
        return _ingo_family(ingo_status)
    return "validation_error" if http_status >= 400 else "approved"


def _ingo_family(ingo_status: int) -> str:
    if ingo_status in REPLAY_STATUSES:
        return "idempotent_replay"
    if ingo_status in PENDING_STATUSES:
        return "pending"
    known = catalogue().get(ingo_status)
    if known is None:
        return "system_error" if ingo_status >= 500 else "declined"
    if known.family in ("success", "soft_verification"):
        return "approved"
    if known.family in ("request", "session"):  # 400-402; 13723, an idempotency key sent twice with two bodies
        return "validation_error"
    if known.family in ("system", "general"):  # 500, 501; 900, a general system error
        return "system_error"
    return "declined"  # velocity, routing, card_token, issuer_decline


def delivery_family(status: str) -> str:
    """The family of a webhook delivery, by its status (pending, delivering, succeeded, failed)."""
    return {"succeeded": "delivered", "failed": "undelivered"}.get(status, "retrying")


class FamilyJson(TypedDict):
    """An outcome family as the admin API lists it."""

    code: str
    label: str
    tone: Tone
    icon: str
    meaning: str


def listing() -> list[FamilyJson]:
    """Every family, for the inspector's legend and filters."""
    return [{"code": f.code, "label": f.label, "tone": f.tone, "icon": f.icon, "meaning": f.meaning}
            for f in FAMILIES.values()]
