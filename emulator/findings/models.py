"""What a finding is, the kinds there are (with the Ingo rule each breaks), and where they are kept."""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from time import time as wall_clock
from typing import Any

from typing_extensions import TypedDict

LOG = logging.getLogger("ingopay_emulator.findings")
#: Findings kept (the oldest go first).
KEPT = 1_000
#: Requests or deliveries named by one finding, at most.
NAMED = 20


@dataclass(frozen=True)
class Kind:
    """A kind of finding: its code, the Ingo rule it breaks, and where Ingo (or the emulator) says so."""

    code: str
    rule: str
    reference: str


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
         "https://developer-payments.ingomoney.com/en/ingopay-api/overview"),
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


class FindingJson(TypedDict):
    """A finding as the admin API shows it."""

    id: str
    code: str
    participant_id: int | None
    username: str | None
    message: str
    rule: str
    reference: str
    requests: list[str]
    deliveries: list[str]
    occurrences: int
    time: float
    wall_time: float | None


@dataclass
class Finding:
    """One thing a client did that would lose money against Ingo: which kind, a sentence, what was involved."""

    id: str
    code: str
    participant_id: int | None
    username: str | None
    message: str
    time: float
    requests: list[str] = field(default_factory=list)  # request ids, as the journal shows them
    deliveries: list[str] = field(default_factory=list)
    occurrences: int = 1
    wall_time: float | None = None  # the machine's time when first found (``time`` is the emulator clock's)

    def as_json(self) -> FindingJson:
        kind = KINDS[self.code]
        return {"id": self.id, "code": self.code, "participant_id": self.participant_id, "username": self.username,
                "message": self.message, "rule": kind.rule, "reference": kind.reference,
                "requests": list(self.requests), "deliveries": list(self.deliveries),
                "occurrences": self.occurrences, "time": self.time, "wall_time": self.wall_time}

    def again(self, *, request: str | None = None, delivery: str | None = None) -> None:
        """The same mistake once more: counted, and what was involved named while there is room."""
        self.occurrences += 1
        if request is not None and request not in self.requests and len(self.requests) < NAMED:
            self.requests.append(request)
        if delivery is not None and delivery not in self.deliveries and len(self.deliveries) < NAMED:
            self.deliveries.append(delivery)


class Findings:
    """The last ``size`` findings, oldest first; each new one is logged as a warning and told to the ``listeners``;
    ``evicted`` counts those that left to make room."""

    def __init__(self, size: int = KEPT) -> None:
        self._found: deque[Finding] = deque(maxlen=size)
        self.size = size
        self.evicted = 0
        self._numbers = itertools.count(1)
        self.listeners: list[Callable[[Finding], Any]] = []

    def __len__(self) -> int:
        return len(self._found)

    def add(self, code: str, message: str, *, participant_id: int | None, username: str | None, time: float,
            requests: Iterable[str] = (), deliveries: Iterable[str] = ()) -> Finding:
        assert code in KINDS, code
        finding = Finding(f"fnd_{next(self._numbers):06d}", code, participant_id, username, message, time,
                          list(requests)[:NAMED], list(deliveries)[:NAMED], wall_time=wall_clock())
        if len(self._found) == self.size:
            self.evicted += 1
        self._found.append(finding)
        LOG.warning("finding %s (participant %s): %s", code, participant_id, message)
        for listener in self.listeners:
            listener(finding)
        return finding

    def listing(self, *, participant_id: int | None = None, code: str | None = None) -> list[Finding]:
        """Findings newest first, of one participant and one code when given."""
        return [f for f in reversed(self._found)
                if (participant_id is None or f.participant_id == participant_id)
                and (code is None or f.code == code)]

    def clear(self, participant_id: int | None = None) -> None:
        if participant_id is None:
            self.evicted = 0
        kept = [] if participant_id is None else [f for f in self._found if f.participant_id != participant_id]
        self._found.clear()
        self._found.extend(kept)

    def export(self) -> list[dict[str, Any]]:
        """Every finding, oldest first (for a snapshot)."""
        return [dict(f.as_json()) for f in self._found]

    def restore(self, items: Iterable[dict[str, Any]]) -> None:
        restored = [Finding(item["id"], item["code"], item.get("participant_id"), item.get("username"),
                            item["message"], item["time"], list(item.get("requests", ())),
                            list(item.get("deliveries", ())), item.get("occurrences", 1), item.get("wall_time"))
                    for item in items if item.get("code") in KINDS]
        self._found.clear()
        self._found.extend(restored)
        highest = max((int(f.id.rsplit("_", 1)[1]) for f in restored if f.id.rsplit("_", 1)[-1].isdigit()),
                      default=0)
        self._numbers = itertools.count(highest + 1)
