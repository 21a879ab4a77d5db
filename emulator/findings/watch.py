"""Watching each participant's traffic for the mistakes that lose money: told of every journal entry, webhook event
and delivery change, it records findings and never changes an answer."""

from __future__ import annotations

import itertools
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from emulator.core.clock import Clock
from emulator.core.journal import Entry
from emulator.core.stateful import Stateful
from emulator.findings.models import Finding, Findings
from emulator.gateway.schemas import RAW_FIELDS
from emulator.store import Record
from emulator.webhooks.events import Event

#: Answers after which a push's outcome is unknown to the client: a connection closed without an answer (444), a
#: client that gave up (499), a server error, Ingo's stand-in (102) and "in progress" (104).
AMBIGUOUS_INGO_STATUSES = frozenset({102, 104})
#: The endpoint that pays out.
PUSH = "process"
#: The topics of an OFAC review, and what each means for the recipient.
OFAC_SUSPENDED = "gateway.transaction.recipient.verification.ofac.status.suspended"
OFAC_CLEARED = "gateway.transaction.recipient.verification.ofac.status.cleared"
OFAC_FAILED = "gateway.transaction.recipient.verification.ofac.status.failure"
OFAC_TOPICS = frozenset({OFAC_SUSPENDED, OFAC_CLEARED, OFAC_FAILED})
#: Amounts beyond this are no payment a client means (and are refused): never compared.
MOST_AMOUNT = 1e12
#: Pushes whose outcome is unknown, OFAC reviews under way and receivers found failing, each kept per watcher at most
#: (the oldest forgotten first).
REMEMBERED = 10_000
#: Seconds of calm after which a client that goes over the rate again makes a new finding.
CALM = 10.0
#: Slack on a Retry-After wait (the client measures from when it read the 429).
SLACK = 0.05
#: Errors of a delivery attempt that say nothing about the receiver.
NOT_THE_RECEIVER = ("the endpoint was removed", "the emulator is not running")


def ambiguous(http_status: int, ingo_status: int | None, *, client_gone: bool = False) -> bool:
    """Whether a client cannot tell from this answer if the push was paid: no answer reached it, a server error
    (the HTTP status, or Ingo's retryable 5xx family in the body, whichever --error-http-status shows), a stand-in
    or "in progress"."""
    return client_gone or http_status in (444, 499) or http_status >= 500 or ingo_status in AMBIGUOUS_INGO_STATUSES \
        or (ingo_status is not None and 500 <= ingo_status < 600)


def unclear(entry: Entry) -> bool:
    """Whether the client that sent ``entry`` cannot tell from what it got if its push was paid."""
    return ambiguous(entry.http_status, entry.ingo_status, client_gone=bool(entry.extra.get("client_gone")))


@dataclass(frozen=True)
class Push:
    """A push whose outcome the client does not know yet."""

    participant_id: int
    token: str
    cents: int
    puid1: str
    request_id: str
    started: float = 0.0  # when it was carried out (the watcher's time), for a push still in flight


def push_of(participant_id: int | None, body: Any, request_id: str) -> Push | None:
    """The push a process request body asks for, if it names a token, an amount and a participant_unique_id1."""
    if participant_id is None or not isinstance(body, Mapping):
        return None
    token, amount, puid1 = body.get("customer_account_token"), body.get("amount"), body.get("participant_unique_id1")
    if not isinstance(token, str) or not isinstance(puid1, str) or isinstance(amount, bool) \
            or not isinstance(amount, (int, float)) or not math.isfinite(amount) or abs(amount) > MOST_AMOUNT:
        return None
    return Push(participant_id, token, round(amount * 100), puid1, request_id)


class Watcher(Stateful[None]):
    """The rules findings come from, over what the emulator sees; the state they need is bounded.

    Its state (stateful part, no section): what it remembers of each participant, which a reset forgets and a
    restore rebuilds from the restored events (the outbox tells it of each)."""

    def __init__(self, findings: Findings, clock: Clock, *, requests_per_second: int,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.findings = findings
        self.clock = clock
        self.requests_per_second = requests_per_second
        self._now = now
        self._unknown: OrderedDict[str, Push] = OrderedDict()  # request id -> push whose outcome is unknown
        self._in_flight: OrderedDict[str, Push] = OrderedDict()
        self._retry_after: dict[str, tuple[float, str]] = {}  # username -> (not before, request id of the 429)
        self._arrivals: dict[str, deque[tuple[float, str]]] = {}
        self._over: dict[str, tuple[float, Finding]] = {}  # username -> (last time over, its finding)
        self._early: dict[str, tuple[float, Finding]] = {}  # username -> (last early retry, its finding)
        self._participant_of: dict[str, int | None] = {}  # username -> its participant, for a reset of one
        #: (participant, token) -> (topic, event id) of an OFAC review that suspended or failed it
        self._ofac: OrderedDict[tuple[int, str], tuple[str, str]] = OrderedDict()
        self._webhooks: OrderedDict[tuple[str, int | None, str], Finding] = OrderedDict()

    # -- what the emulator tells it ---------------------------------------------------------------------------

    def push_started(self, participant_id: int, body: Mapping[str, Any], request_id: str) -> None:
        """A push is being carried out: until it is answered, its outcome is unknown to the client."""
        push = push_of(participant_id, body, request_id)
        if push is not None:
            self._in_flight[request_id] = replace(push, started=self._now())
            while len(self._in_flight) > REMEMBERED:  # a request never journaled (its handler cancelled)
                self._in_flight.popitem(last=False)

    def on_entry(self, entry: Entry) -> None:
        """A request was answered and journaled (timed by when it was answered, when the entry says)."""
        self._in_flight.pop(entry.request_id, None)
        now = self._now() if entry.answered is None else entry.answered
        if entry.username is not None:
            self._participant_of[entry.username] = entry.participant_id
            arrived = now - entry.latency_ms / 1000
            self._pace(entry, arrived)
            self._retries(entry, arrived, now)
        if entry.endpoint in ("verify", PUSH):
            self._raw_with_token(entry)
        if entry.endpoint == PUSH:
            self._pushes(entry)

    def on_event(self, topic: str, participant_id: int, event: Mapping[str, Any], event_id: str) -> None:
        """A webhook event was emitted (an OFAC review starts, clears or fails)."""
        token = event.get("customer_account_token")
        if not isinstance(token, str):
            return
        if topic in (OFAC_SUSPENDED, OFAC_FAILED):
            self._ofac[(participant_id, token)] = (topic, event_id)
            _bounded(self._ofac)
        elif topic == OFAC_CLEARED:
            self._ofac.pop((participant_id, token), None)

    def on_emitted(self, event: Event) -> None:
        """The outbox's listener: an event was emitted (only an OFAC review's envelope is read)."""
        if event.topic in OFAC_TOPICS:
            self.on_event(event.topic, event.participant_id, event.envelope["data"]["event"], event.id)

    def on_delivery(self, record: Record) -> None:
        """A webhook delivery changed: an attempt came back, or the delivery gave up."""
        attempts = record.get("attempts") or []
        if not attempts or record.get("probe"):  # a readiness probe is refused on purpose, never a finding
            return
        last = attempts[-1]
        participant, endpoint = record.get("participant_id"), str(record.get("endpoint_id"))
        error = str(last.get("error") or "")
        if error.startswith("no complete response within"):
            self._webhook("webhook_ack_too_slow", record, participant, endpoint,
                          f"the webhook receiver at {record.get('url')} did not answer within the delivery timeout "
                          f"({error}), so the event is sent again: acknowledge first, then process")
        if record.get("status") == "failed" and not any(a.get("ok") for a in attempts) \
                and not any(str(a.get("error") or "").startswith(NOT_THE_RECEIVER) for a in attempts):
            self._webhook("webhook_never_acknowledged", record, participant, endpoint,
                          f"the webhook receiver at {record.get('url')} never acknowledged {record.get('topic')} in "
                          f"{len(attempts)} attempts (last: {error or 'HTTP ' + str(last.get('http_status'))}); "
                          "Ingo would keep retrying each event and the client would miss what happened")

    def reset(self, participant_id: int | None = None) -> None:
        self.forget(participant_id)

    def forget(self, participant_id: int | None = None) -> None:
        """Drop what is remembered of one participant, or of everyone (a reset)."""
        if participant_id is None:
            self._unknown.clear()
            self._in_flight.clear()
            self._retry_after.clear()
            self._arrivals.clear()
            self._over.clear()
            self._early.clear()
            self._participant_of.clear()
            self._ofac.clear()
            self._webhooks.clear()
            return
        for store in (self._unknown, self._in_flight):
            for key in [k for k, push in store.items() if push.participant_id == participant_id]:
                del store[key]
        for username in [u for u, p in self._participant_of.items() if p == participant_id]:
            for per_username in (self._retry_after, self._arrivals, self._over, self._early, self._participant_of):
                per_username.pop(username, None)
        for token in [k for k in self._ofac if k[0] == participant_id]:
            del self._ofac[token]
        for webhook in [k for k in self._webhooks if k[1] == participant_id]:
            del self._webhooks[webhook]

    # -- the rules -------------------------------------------------------------------------------------------

    def _add(self, code: str, message: str, entry: Entry, requests: list[str]) -> Finding:
        finding = self.findings.add(code, message, participant_id=entry.participant_id, username=entry.username,
                                    time=self.clock.now(entry.participant_id), requests=requests)
        entry.extra.setdefault("findings", []).append(finding.id)
        return finding

    def _pushes(self, entry: Entry) -> None:
        push = push_of(entry.participant_id, entry.request_body, entry.request_id)
        if push is None:
            return
        # a push answered for sure ends the doubt about every earlier attempt under its participant_unique_id1
        if not unclear(entry) and 200 <= entry.http_status < 300:
            for key in [k for k, p in self._unknown.items()
                        if p.participant_id == push.participant_id and p.puid1 == push.puid1]:
                del self._unknown[key]
        # of those in flight, a push that started after this one's answer (journaled a moment later) did not overlap
        answered = math.inf if entry.answered is None else entry.answered
        for earlier in itertools.chain(self._unknown.values(), self._in_flight.values()):
            if earlier.token == push.token and earlier.cents == push.cents and earlier.puid1 != push.puid1 \
                    and earlier.participant_id == push.participant_id and earlier.started <= answered:
                state = "is still unanswered" if earlier.request_id in self._in_flight else "got no clear answer"
                self._add("double_payout_risk",
                          f"a second push of {push.cents / 100:.2f} to token {push.token} came under a new "
                          f"participant_unique_id1 {push.puid1!r} while the first ({earlier.puid1!r}) {state}: "
                          f"against Ingo this can pay twice; retry with participant_unique_id1 {earlier.puid1!r}",
                          entry, [earlier.request_id, entry.request_id])
                break
        if unclear(entry):
            self._unknown[entry.request_id] = push
            while len(self._unknown) > REMEMBERED:
                self._unknown.popitem(last=False)
        ofac = self._ofac.get((push.participant_id, push.token))
        if ofac is not None:
            topic, event_id = ofac
            if topic == OFAC_SUSPENDED:
                self._add("push_to_ofac_suspended",
                          f"a push to token {push.token} came while its OFAC review is suspended (1106, event "
                          f"{event_id}): wait for ...ofac.status.cleared before paying this recipient",
                          entry, [entry.request_id])
            else:
                self._add("push_to_ofac_failed",
                          f"a push to token {push.token} came after its OFAC review failed (1108, event {event_id}): "
                          "this recipient must not be paid", entry, [entry.request_id])

    def _raw_with_token(self, entry: Entry) -> None:
        body = entry.request_body
        if not isinstance(body, Mapping) or body.get("customer_account_token") in (None, ""):
            return
        raw = sorted(name for name in RAW_FIELDS if body.get(name) not in (None, ""))
        if raw:
            self._add("raw_account_with_token",
                      f"a {entry.endpoint} sent raw account data ({', '.join(raw)}) together with "
                      "customer_account_token: send the token alone; raw account data travels once, to tokenize",
                      entry, [entry.request_id])

    def _pace(self, entry: Entry, arrived: float) -> None:
        assert entry.username is not None
        # the newest rps + 1 arrivals are all it takes to see more than rps within a second
        window = self._arrivals.get(entry.username)
        if window is None:
            window = self._arrivals[entry.username] = deque(maxlen=self.requests_per_second + 1)
        window.append((arrived, entry.request_id))
        while window and window[0][0] <= arrived - 1.0:
            window.popleft()
        if len(window) <= self.requests_per_second:
            return
        self._recurring(self._over, entry, arrived, "over_rate_limit",
                        f"{entry.username} sent {len(window)} requests within one second; Ingo allows "
                        f"{self.requests_per_second} a second per client and throttles the rest with 429",
                        [request for _, request in window])

    def _recurring(self, memory: dict[str, tuple[float, Finding]], entry: Entry, arrived: float, code: str,
                   message: str, requests: list[str]) -> None:
        """A new finding, or, when the same client made the same mistake less than CALM seconds ago, one more
        occurrence of that finding; ``memory`` keeps each username's last time and finding."""
        assert entry.username is not None
        previous = memory.get(entry.username)
        if previous is not None and arrived - previous[0] < CALM:
            previous[1].again(request=entry.request_id)
            memory[entry.username] = (arrived, previous[1])
        else:
            memory[entry.username] = (arrived, self._add(code, message, entry, requests))

    def _retries(self, entry: Entry, arrived: float, now: float) -> None:
        assert entry.username is not None
        waiting = self._retry_after.get(entry.username)
        if waiting is not None and entry.request_id != waiting[1]:
            not_before, refused = waiting
            if arrived < not_before - SLACK:
                del self._retry_after[entry.username]
                self._recurring(self._early, entry, arrived, "retry_before_retry_after",
                                f"{entry.username} sent again {not_before - arrived:.2f} s before the Retry-After of "
                                f"its 429 (request {refused}) had passed", [refused, entry.request_id])
            elif arrived >= not_before:
                del self._retry_after[entry.username]
        retry_after = entry.extra.get("retry_after")
        if entry.http_status == 429 and isinstance(retry_after, (int, float)):
            self._retry_after[entry.username] = (now + retry_after, entry.request_id)

    def _webhook(self, code: str, record: Record, participant: int | None, endpoint: str, message: str) -> None:
        key = (code, participant, endpoint)
        delivery = str(record.get("id"))
        known = self._webhooks.get(key)
        if known is not None:
            if delivery not in known.deliveries:
                known.again(delivery=delivery)
            return
        self._webhooks[key] = self.findings.add(code, message, participant_id=participant, username=None,
                                                time=self.clock.now(participant), deliveries=[delivery])
        _bounded(self._webhooks)


def _bounded(remembered: OrderedDict[Any, Any]) -> None:
    """Forget the oldest of ``remembered`` beyond REMEMBERED."""
    while len(remembered) > REMEMBERED:
        remembered.popitem(last=False)
