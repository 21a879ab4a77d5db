"""The rules of tokens and payments: tokenize, reuse the token, pay with it, retry an ambiguous push with the same
participant_unique_id1 and no sooner than Ingo's 3 s, treat 102 as a success, never retry an issuer decline, honour
the rate limit. Money-unsafe behaviour is judged on the findings' own rules (``emulator.findings.watch``)."""

from __future__ import annotations

from emulator.core.journal import Entry
from emulator.readiness import evidence, traffic
from emulator.readiness.evidence import EvidenceJson
from emulator.readiness.traffic import PAYMENT_STATUS, RETURNED, TOKENIZED, Traffic
from emulator.readiness.verdict import Verdict, failed, judged
from emulator.store import Record

#: Ingo's wait before an idempotent retry: "a minimum of 3-4 seconds" (the idempotency page); the lower bound.
RETRY_SPACING = 3.0
#: Slack on a measured wait (the client measures from when it read the answer).
SLACK = 0.05
#: A resend of a declined payment (same token and amount, a new participant_unique_id1) this soon after the decline
#: is taken for an automatic retry (the emulator's choice, docs/contract.md).
RETRY_WINDOW = 60.0
#: Ingo's card issuer declines (the hub's error families: "don't auto-retry").
ISSUER_DECLINES = range(851, 868)
#: Answers that settle a push for the client.
SETTLED = frozenset({100, 101})
#: The endpoints that name an account by its token.
REUSERS = ("verify", "process", "debit")


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
        return failed([(f.message, [evidence.finding(f)]) for f in raw])
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
        return failed(failures)
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
    return judged(failures, done, [evidence.request(e, "answered 102 (pending)") for e in pending],
                  next="advance the emulator clock (POST /_emulator/clock {\"advance\": 60}) so that the final "
                       "webhook of the pending push is sent, and acknowledge it")


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
    return judged(failures, spaced)


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
        return failed(failures)
    if not declined:
        return Verdict("not_run")
    return Verdict("passed", [evidence.request(e, f"declined by the issuer ({e.ingo_status}), not sent again")
                              for e in declined])


def rate_limit_respected(seen: Traffic) -> Verdict:
    findings = seen.found("over_rate_limit", "retry_before_retry_after")
    if findings:
        return failed([(f.message, [evidence.finding(f)]) for f in findings])
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
