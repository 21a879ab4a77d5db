"""The rules a rehearsal judges scenarios by: each reads what the participant's traffic shows and answers passed,
failed (only on evidence, with the fact a developer acts on) or not run (its trigger has not happened yet, or what
is still missing). Money-unsafe behaviour is judged on the findings' own rules (``emulator.findings.watch``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from emulator.core.journal import Entry
from emulator.findings.watch import OFAC_CLEARED, OFAC_FAILED, OFAC_SUSPENDED
from emulator.readiness import evidence, traffic
from emulator.readiness.evidence import EvidenceJson
from emulator.readiness.traffic import Traffic
from emulator.store import Record
from emulator.webhooks.delivery import DUPLICATE
from emulator.webhooks.delivery import FORGED_SIGNATURE as FORGED

Status = Literal["passed", "failed", "not_run"]
#: The judge of a scenario a person judges (a Guided one): never run by the emulator.
MANUAL = "manual"
#: Ingo's wait before an idempotent retry: "a minimum of 3-4 seconds" (the idempotency page); the lower bound.
RETRY_SPACING = 3.0
#: Slack on a measured wait (the client measures from when it read the answer).
SLACK = 0.05
#: A resend of a declined payment (same token and amount, a new participant_unique_id1) this soon after the decline
#: is taken for an automatic retry (the emulator's choice, docs/contract.md).
RETRY_WINDOW = 60.0
#: Ingo's card issuer declines (the hub's error families: "don't auto-retry").
ISSUER_DECLINES = range(851, 868)
#: A webhook receiver answers within this many seconds (the hub's webhooks page).
ACK_WITHIN = 10.0
#: Answers that settle a push for the client.
SETTLED = frozenset({100, 101})
#: Topics of a payment's final status, and of a returned payment.
PAYMENT_STATUS = "gateway.transaction.recipient.payment.status."
RETURNED = ("gateway.transaction.recipient.payment.status.returned",
            "gateway.transaction.recipient.status.payment.check.returned")
TOKENIZED = "plugin.transaction.account.tokenization.success"
#: The endpoints that name an account by its token.
REUSERS = ("verify", "process", "debit")


@dataclass
class Verdict:
    """A scenario's status and what it rests on; ``fact`` says what broke the rule, ``next`` what is still
    needed."""

    status: Status
    evidence: list[EvidenceJson] = field(default_factory=list)
    fact: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class Judge:
    """A rule: Ingo's words for it (what a failure breaks), and the check over a rehearsal's traffic."""

    rule: str
    check: Callable[[Traffic], Verdict]


def _failed(found: list[tuple[str, list[EvidenceJson]]]) -> Verdict:
    """Failed on the first fact, with the evidence of every failure."""
    return Verdict("failed", [item for _, items in found for item in items], found[0][0])


def _ids(entries: list[Entry]) -> str:
    return ", ".join(entry.request_id for entry in entries)


# -- tokens ---------------------------------------------------------------------------------------------------------

def verify_tokenization(seen: Traffic) -> Verdict:
    done = [e for e in seen.verifies if e.ingo_status == 100 and traffic.issued_token(e)]
    if not done:
        return Verdict("not_run")
    return Verdict("passed", [evidence.request(e, "verify answered 100 with a customer_account_token")
                              for e in done])


def issued_tokens(seen: Traffic) -> dict[str, EvidenceJson]:
    """Each token the rehearsal saw issued (by a verify, or an iFrame session's tokenization), with its evidence."""
    issued: dict[str, EvidenceJson] = {}
    for entry in seen.verifies:
        token = traffic.issued_token(entry)
        if token and entry.outcome == "approved":
            issued.setdefault(token, evidence.request(entry, "verify issued this customer_account_token"))
    for record in seen.topic(TOKENIZED):
        token = traffic.event(record).get("customer_account_token")
        if isinstance(token, str):
            issued.setdefault(token, evidence.delivery(record, "the iFrame tokenized this account"))
    return issued


def token_reuse(seen: Traffic) -> Verdict:
    raw = seen.found("raw_account_with_token")
    if raw:
        return _failed([(f.message, [evidence.finding(f)]) for f in raw])
    issued = issued_tokens(seen)
    for entry in seen.entries:
        first = issued.get(traffic.token_sent(entry) or "")
        if first is not None and first.get("journal_id", 0) < entry.id and entry.endpoint in REUSERS:
            return Verdict("passed", [first, evidence.request(
                entry, f"a later {entry.endpoint} named the account by its customer_account_token alone")])
    return Verdict("not_run", list(issued.values())[:1],
                   next="send a verify or a process with the customer_account_token instead of the account data"
                   if issued else None)


def process_with_token(seen: Traffic) -> Verdict:
    paid = [e for e in seen.pushes if traffic.token_sent(e) and e.ingo_status == 100]
    if not paid:
        return Verdict("not_run")
    return Verdict("passed", [evidence.request(e, "a push with a customer_account_token answered 100") for e in paid])


# -- pushes whose outcome is unknown -------------------------------------------------------------------------------

def _second_payments(seen: Traffic, *, after_pending: bool) -> list[tuple[str, list[EvidenceJson]]]:
    """The findings of a second push under a new participant_unique_id1 while the first's outcome was unknown:
    those whose first push answered 102 (``after_pending``), or the others."""
    found = []
    for finding in seen.found("double_payout_risk"):
        first = seen.entry(finding.requests[0]) if finding.requests else None
        if (first is not None and first.ingo_status == 102) == after_pending:
            found.append((finding.message, [evidence.finding(finding)]
                          + [evidence.request(e, "named by the finding") for e in
                             filter(None, map(seen.entry, finding.requests))]))
    return found


def idempotent_retry(seen: Traffic) -> Verdict:
    failures = _second_payments(seen, after_pending=False)
    if failures:
        return _failed(failures)
    unknown = [e for e in seen.pushes if traffic.ambiguous(e) and e.ingo_status not in (102, 103, 104)]
    resolved: list[EvidenceJson] = []
    waiting = []
    for push in unknown:
        key = traffic.puid1(push)
        retries = [e for e in seen.later(seen.pushes, push) if traffic.puid1(e) == key and e.ingo_status in SETTLED
                   and 200 <= e.http_status < 300]
        if retries:
            retry = retries[0]
            shown = ("answered 101 with the first attempt's transaction" if retry.ingo_status == 101
                     else "answered 100: the first attempt had not been paid")
            resolved += [evidence.request(push, "a push whose outcome the client could not know"),
                         evidence.request(retry, f"re-sent with the same participant_unique_id1, {shown}")]
        else:
            waiting.append(push)
    if resolved:
        return Verdict("passed", resolved)
    if waiting:
        return Verdict("not_run", [evidence.request(e, "outcome unknown to the client") for e in waiting],
                       next=f"re-send the push of request {waiting[0].request_id} with the same "
                            f"participant_unique_id1 {traffic.puid1(waiting[0])!r}, no sooner than 3 s later")
    return Verdict("not_run")


def _final_webhooks(seen: Traffic, push: Entry) -> list[Record]:
    """The deliveries of a push's final status (gateway...payment.status.*), matched by transaction or id."""
    transaction, key = traffic.transaction_id(push), traffic.puid1(push)
    return [record for record in seen.real if str(record.get("topic", "")).startswith(PAYMENT_STATUS)
            and record.get("topic") not in RETURNED
            and ((transaction is not None and str(traffic.event(record).get("transaction_id")) == transaction)
                 or (key is not None and traffic.ancillary(record).get("participant_unique_id1") == key))]


def pending_is_success(seen: Traffic) -> Verdict:
    failures = _second_payments(seen, after_pending=True)
    pending = [e for e in seen.pushes if e.ingo_status == 102]
    done: list[EvidenceJson] = []
    for push in pending:
        for record in _final_webhooks(seen, push):
            if traffic.given_up(record):
                failures.append((f"the final webhook {record.get('topic')} of the pending push {push.request_id} "
                                 "was never acknowledged", [evidence.request(push, "answered 102"),
                                                            evidence.delivery(record, "never acknowledged")]))
            elif traffic.acknowledged(record) is not None and not done:
                done = [evidence.request(push, "answered 102 (pending): a success, not paid again"),
                        evidence.delivery(record, "the final webhook, acknowledged")]
    if failures:
        return _failed(failures)
    if done:
        return Verdict("passed", done)
    if pending:
        return Verdict("not_run", [evidence.request(e, "answered 102 (pending)") for e in pending],
                       next="advance the emulator clock (POST /_emulator/clock {\"advance\": 60}) so that the final "
                            "webhook of the pending push is sent, and acknowledge it")
    return Verdict("not_run")


def retry_spacing(seen: Traffic) -> Verdict:
    last: dict[str, Entry] = {}
    spaced: list[EvidenceJson] = []
    failures = []
    for push in seen.pushes:
        key = traffic.puid1(push)
        if key is None:
            continue
        previous = last.get(key)
        last[key] = push
        if previous is None or not traffic.ambiguous(previous):
            continue
        start, end = traffic.ended(previous), traffic.arrived(push)
        if start is None or end is None:
            continue
        gap = end - start
        items = [evidence.request(previous, "outcome unknown to the client"),
                 evidence.request(push, f"re-sent {gap:.2f} s after the previous attempt ended")]
        if gap < RETRY_SPACING - SLACK:
            failures.append((f"request {push.request_id} re-sent participant_unique_id1 {key!r} {gap:.2f} s after "
                             f"request {previous.request_id} ended; wait at least {RETRY_SPACING:g} s", items))
        else:
            spaced += items
    if failures:
        return _failed(failures)
    return Verdict("passed", spaced) if spaced else Verdict("not_run")


def no_retry_on_decline(seen: Traffic) -> Verdict:
    declined = [e for e in seen.pushes if e.ingo_status in ISSUER_DECLINES]
    failures = []
    for decline in declined:
        key, token, amount, end = traffic.puid1(decline), traffic.token_sent(decline), traffic.cents(decline), \
            decline.wall_time
        for push in seen.later(seen.pushes, decline):
            same_id = key is not None and traffic.puid1(push) == key
            arrived = traffic.arrived(push)
            soon = end is not None and arrived is not None and arrived - end <= RETRY_WINDOW
            same_payment = token is not None and traffic.token_sent(push) == token and traffic.cents(push) == amount
            if same_id or (same_payment and soon):
                how = "the same participant_unique_id1" if same_id else "a new participant_unique_id1"
                failures.append((f"request {push.request_id} sent the payment that request {decline.request_id} "
                                 f"had declined ({decline.ingo_status}) again, under {how}",
                                 [evidence.request(decline, f"declined by the issuer ({decline.ingo_status})"),
                                  evidence.request(push, "the same payment, sent again")]))
                break
    if failures:
        return _failed(failures)
    if not declined:
        return Verdict("not_run")
    return Verdict("passed", [evidence.request(e, f"declined by the issuer ({e.ingo_status}), not sent again")
                              for e in declined])


def rate_limit_respected(seen: Traffic) -> Verdict:
    findings = seen.found("over_rate_limit", "retry_before_retry_after")
    if findings:
        return _failed([(f.message, [evidence.finding(f)]) for f in findings])
    throttled = [e for e in seen.entries if e.http_status == 429]
    for refused in throttled:
        wait = refused.extra.get("retry_after")
        start = refused.wall_time
        if not isinstance(wait, (int, float)) or start is None:
            continue
        after = [e for e in seen.later(seen.entries, refused) if e.username == refused.username]
        if after:
            return Verdict("passed", [evidence.request(refused, f"429 with Retry-After {wait}"),
                                      evidence.request(after[0], "the next request, after the Retry-After")])
    if throttled:
        return Verdict("not_run", [evidence.request(throttled[0], "429")],
                       next="send again once the 429's Retry-After has passed")
    return Verdict("not_run")


# -- webhooks -----------------------------------------------------------------------------------------------------

def webhook_acknowledged(seen: Traffic) -> Verdict:
    failures = []
    acknowledged: list[EvidenceJson] = []
    for record in seen.real:
        for attempt in traffic.attempts(record):
            status, error = attempt.get("http_status"), str(attempt.get("error") or "")
            slow = error.startswith(traffic.TIMED_OUT) or (attempt.get("latency_ms") or 0) > ACK_WITHIN * 1000
            if slow or (status is not None and not attempt.get("ok")):
                what = f"took more than {ACK_WITHIN:g} s" if slow else f"answered HTTP {status}"
                failures.append((f"the receiver {what} to delivery {record.get('id')} of {record.get('topic')} "
                                 f"(attempt {attempt.get('attempt')})", [evidence.delivery(record, what)]))
                break
        else:
            if traffic.given_up(record):
                failures.append((f"delivery {record.get('id')} of {record.get('topic')} was never acknowledged",
                                 [evidence.delivery(record, "never acknowledged")]))
            elif traffic.acknowledged(record) is not None:
                acknowledged.append(evidence.delivery(record, "acknowledged with a 2xx"))
    if failures:
        return _failed(failures)
    return Verdict("passed", acknowledged) if acknowledged else Verdict("not_run")


def _probe_verdict(seen: Traffic, kind: str, *, wanted_ok: bool, fault: str, praise: str) -> Verdict:
    probes = seen.probes(kind)
    answered = [record for record in probes if traffic.answered(record) is not None
                or str((traffic.attempts(record) or [{}])[-1].get("error") or "").startswith(traffic.TIMED_OUT)]
    failures = []
    for record in answered:
        attempt = traffic.answered(record) or traffic.attempts(record)[-1]
        if bool(attempt.get("ok")) != wanted_ok:
            got = f"HTTP {attempt.get('http_status')}" if attempt.get("http_status") is not None \
                else str(attempt.get("error"))
            failures.append((f"the receiver answered {got} to {fault} (probe delivery {record.get('id')})",
                             [evidence.delivery(record, fault)]))
    if failures:
        return _failed(failures)
    if answered:
        return Verdict("passed", [evidence.delivery(record, praise) for record in answered])
    if probes:
        return Verdict("not_run", [evidence.delivery(record, "not answered") for record in probes],
                       next="the probe reached no receiver (see its attempt's error); the emulator sends another "
                            "after the next acknowledged delivery")
    return Verdict("not_run")


def webhook_signature_verified(seen: Traffic) -> Verdict:
    return _probe_verdict(seen, FORGED, wanted_ok=False, fault="a delivery whose X-Ingo-Signature is wrong",
                          praise="a delivery with a wrong X-Ingo-Signature, refused")


def webhook_duplicate_acknowledged(seen: Traffic) -> Verdict:
    return _probe_verdict(seen, DUPLICATE, wanted_ok=True,
                          fault="a second delivery of an event it had acknowledged (same metadata.id)",
                          praise="a second delivery of an acknowledged metadata.id, acknowledged")


def _ofac(seen: Traffic, outcome: str, pushed_code: str) -> Verdict:
    """An OFAC review of one token: suspended, then ``outcome`` (cleared or failure), both acknowledged in order,
    and no push to the token while the review held it (the findings' rule ``pushed_code``)."""
    by_token: dict[str, dict[str, Record]] = {}
    for record in seen.topic(OFAC_SUSPENDED, OFAC_CLEARED, OFAC_FAILED):
        token = traffic.event(record).get("customer_account_token")
        if isinstance(token, str):
            by_token.setdefault(token, {}).setdefault(str(record.get("topic")), record)
    reviews = {token: topics for token, topics in by_token.items()
               if OFAC_SUSPENDED in topics and (outcome in topics or len(topics) == 1)}
    failures = []
    pushed = [f for f in seen.found(pushed_code)
              if any(traffic.token_sent(e) in reviews for e in filter(None, map(seen.entry, f.requests)))]
    for finding in pushed:
        failures.append((finding.message, [evidence.finding(finding)]))
    done: list[EvidenceJson] = []
    for token, topics in reviews.items():
        held, ended = topics[OFAC_SUSPENDED], topics.get(outcome)
        for record in filter(None, (held, ended)):
            if traffic.given_up(record):
                failures.append((f"delivery {record.get('id')} of {record.get('topic')} was never acknowledged",
                                 [evidence.delivery(record, "never acknowledged")]))
        if ended is None or done:
            continue
        first, second = traffic.acknowledged(held), traffic.acknowledged(ended)
        if first is None or second is None:
            continue
        items = [evidence.delivery(held, "suspended, acknowledged"),
                 evidence.delivery(ended, f"{outcome}, acknowledged")]
        if (first.get("wall_time") or 0) > (second.get("wall_time") or 0):
            failures.append((f"the OFAC review of token {token} was acknowledged out of order ({outcome} before "
                             "suspended)", items))
        else:
            done = items
    if failures:
        return _failed(failures)
    if done:
        return Verdict("passed", done)
    if reviews:
        return Verdict("not_run", [evidence.delivery(t[OFAC_SUSPENDED], "suspended") for t in reviews.values()],
                       next=f"advance the emulator clock one hour (POST /_emulator/clock {{\"advance\": 3600}}) for "
                            f"the review's {outcome} webhook, and acknowledge it")
    return Verdict("not_run")


def ofac_suspended_cleared(seen: Traffic) -> Verdict:
    return _ofac(seen, OFAC_CLEARED, "push_to_ofac_suspended")


def ofac_suspended_failed(seen: Traffic) -> Verdict:
    return _ofac(seen, OFAC_FAILED, "push_to_ofac_failed")


def _delivered(seen: Traffic, topics: tuple[str, ...], praise: str) -> tuple[list[EvidenceJson], list[
        tuple[str, list[EvidenceJson]]]]:
    """The acknowledged deliveries of ``topics`` and the failures of those never acknowledged."""
    done, failures = [], []
    for record in seen.topic(*topics):
        if traffic.given_up(record):
            failures.append((f"delivery {record.get('id')} of {record.get('topic')} was never acknowledged",
                             [evidence.delivery(record, "never acknowledged")]))
        elif traffic.acknowledged(record) is not None:
            done.append(evidence.delivery(record, praise))
    return done, failures


def payment_returned(seen: Traffic) -> Verdict:
    done, failures = _delivered(seen, RETURNED, "a returned payment, acknowledged")
    if failures:
        return _failed(failures)
    return Verdict("passed", done) if done else Verdict("not_run")


def iframe_tokenization(seen: Traffic) -> Verdict:
    done, failures = _delivered(seen, (TOKENIZED,), "the iFrame's tokenization webhook, acknowledged")
    if failures:
        return _failed(failures)
    for record in seen.topic(TOKENIZED):
        token = traffic.event(record).get("customer_account_token")
        paid = [e for e in seen.pushes if token and traffic.token_sent(e) == token and e.ingo_status in (100, 102, 103)]
        if paid and traffic.acknowledged(record) is not None:
            return Verdict("passed", [evidence.delivery(record, "tokenized in the iFrame, acknowledged"),
                                      evidence.request(paid[0], "the iFrame's token, paid out")])
    if done:
        return Verdict("not_run", done, next="pay out the token the iFrame session issued (POST /gateway/process with "
                                             "its customer_account_token)")
    return Verdict("not_run")


#: Every rule, by the name a plan's scenario uses (its ``judge``, or its id).
JUDGES: dict[str, Judge] = {
    "verify-tokenization": Judge("a verify of a valid account answers 100 with a customer_account_token",
                                 verify_tokenization),
    "token-reuse": Judge("after a verify, name the account by its customer_account_token alone; raw account data "
                         "travels once, to tokenize", token_reuse),
    "process-with-token": Judge("a push names the account by the customer_account_token of a verify",
                                process_with_token),
    "idempotent-retry": Judge("after a push whose outcome is unknown, retry with the same participant_unique_id1 "
                              "(Ingo answers 101 without paying again), never under a new one", idempotent_retry),
    "pending-is-success": Judge("treat 102 (pending issuer response) as a success: never pay the payout again, and "
                                "take its final status from the webhook", pending_is_success),
    "retry-spacing": Judge("throttle idempotent retries to at least 3-4 seconds after the previous attempt ended",
                           retry_spacing),
    "no-retry-on-decline": Judge("never retry a card issuer decline (851-867) automatically: send the recipient to "
                                 "the issuer", no_retry_on_decline),
    "rate-limit-respected": Judge("stay at five requests a second or fewer, and after a 429 wait the Retry-After",
                                  rate_limit_respected),
    "webhook-acknowledged": Judge("answer every webhook delivery with a 2xx within 10 seconds (acknowledge first, "
                                  "process later)", webhook_acknowledged),
    "webhook-signature-verified": Judge("verify X-Ingo-Signature on every delivery and refuse one that does not "
                                        "verify", webhook_signature_verified),
    "webhook-duplicate-acknowledged": Judge("a delivery may come more than once: deduplicate on metadata.id and "
                                            "acknowledge the repeat with a 2xx", webhook_duplicate_acknowledged),
    "ofac-suspended-cleared": Judge("while a recipient's OFAC review is suspended (1106) do not pay it; acknowledge "
                                    "suspended, then cleared (1107), in order", ofac_suspended_cleared),
    "ofac-suspended-failed": Judge("a recipient whose OFAC review failed (1108) must not be paid; acknowledge "
                                   "suspended, then failure, in order", ofac_suspended_failed),
    "payment-returned": Judge("acknowledge the returned-payment webhook (1114) and reverse the payout on your side",
                              payment_returned),
    "iframe-tokenization": Judge("an iFrame session tokenizes the account, its tokenization webhook is acknowledged, "
                                 "and the token is paid out with POST /gateway/process", iframe_tokenization),
}
