"""The kinds of money-safety finding (each with the Ingo rule it breaks), and choosing some of them by name.

Only the standard library: the pytest plugin checks its options against these names before anything heavy loads.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

#: What stands for every kind where kinds are chosen by name.
ALL = "all"


@dataclass(frozen=True)
class Kind:
    """A kind of finding: its code, the Ingo rule it breaks, and where Ingo (or the emulator) says so."""

    code: str
    rule: str
    reference: str
    #: About the client's own pace, which only a rate limit judges: a test suite that turned the emulator's rate
    #: limit off does not hold it against its tests unless it asks to (the pytest plugin's --ingopay-count-pace).
    pace: bool = False


KINDS = {kind.code: kind for kind in (
    Kind("double_payout_risk",
         "participant_unique_id1 is the idempotency key of a push: a retry after an unknown outcome must reuse it, "
         "and Ingo answers 101 (done) or 104 (in progress) without paying again",
         "https://developer.ingo.money/en/ingopay-api/idempotency"),
    Kind("retry_before_retry_after",
         "after a 429, wait the Retry-After seconds before sending again (Ingo does not document its throttled "
         "answer: Retry-After is what Kong's rate-limiting plugin sends, which the emulator follows)",
         "https://developer-payments.ingomoney.com/en/ingopay-api/overview"),
    Kind("over_rate_limit",
         "stay at no more than five requests a second per client",
         "https://developer-payments.ingomoney.com/en/ingopay-api/overview", pace=True),
    Kind("push_to_ofac_suspended",
         "a recipient whose OFAC screening is suspended (1106) is under review: wait for cleared before paying "
         "again",
         "https://developer-payments.ingomoney.com/en/ingopay-api/webhook-events/summaries"),
    Kind("push_to_ofac_failed",
         "a recipient whose OFAC screening failed (1108) must not be paid",
         "https://developer-payments.ingomoney.com/en/ingopay-api/webhook-events/summaries"),
    Kind("webhook_never_acknowledged",
         "a webhook receiver answers 2xx within 10 seconds (ack first, process later), or Ingo retries every event",
         "https://developers.ingopayments.com/docs/hub/webhooks"),
    Kind("webhook_ack_too_slow",
         "a webhook receiver answers 2xx within 10 seconds (ack first, process later), or Ingo retries every event",
         "https://developers.ingopayments.com/docs/hub/webhooks"),
    Kind("raw_account_with_token",
         "send either customer_account_token or the raw account fields, never both (raw account data is sent "
         "once, to tokenize)",
         "https://developers.ingopayments.com/docs/ingopay/verify/card"),
)}


class UnknownKind(ValueError):
    """A name that is no kind of finding: the message names it, the closest choice and every choice."""

    def __init__(self, name: str, choices: Sequence[str]) -> None:
        close = difflib.get_close_matches(name, choices, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        super().__init__(f"{name[:60]!r} is not a kind of finding{hint} (known: {', '.join(choices)})")
        self.name = name


def kinds(names: str) -> frozenset[str]:
    """The kinds ``names`` names (codes separated by commas); UnknownKind for the first name that is no kind."""
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    for name in wanted:
        if name not in KINDS:
            raise UnknownKind(name, list(KINDS))
    return frozenset(wanted)


def named(names: str) -> frozenset[str] | None:
    """The kinds ``names`` names, or None for ``all`` (or no name at all); UnknownKind for the first name that is
    neither a kind nor ``all``."""
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    for name in wanted:
        if name != ALL and name not in KINDS:
            raise UnknownKind(name, [*KINDS, ALL])
    return None if not wanted or ALL in wanted else frozenset(wanted)


@dataclass(frozen=True)
class Selection:
    """Which kinds of finding count against a test: those named (None: every kind), less those ignored; a pace
    kind counts under "every kind" only where a rate limit judges pace, or when ``pace`` asks for it anyway."""

    named: frozenset[str] | None = None
    ignored: frozenset[str] = frozenset()
    pace: bool = False

    def counts(self, code: str, *, rate_limited: bool) -> bool:
        """Whether a finding of kind ``code`` counts, on an emulator whose rate limit is on or off."""
        if code in self.ignored:
            return False
        if self.named is not None:
            return code in self.named
        kind = KINDS.get(code)
        return kind is None or not kind.pace or rate_limited or self.pace
