"""The rules of webhooks: every delivery acknowledged within 10 s, a forged one refused and a repeated one
acknowledged (the probes), an OFAC review waited out, a returned payment taken in, an iFrame token paid out."""

from __future__ import annotations

from emulator.findings.watch import OFAC_CLEARED, OFAC_FAILED, OFAC_SUSPENDED
from emulator.readiness import evidence, traffic
from emulator.readiness.evidence import EvidenceJson
from emulator.readiness.traffic import RETURNED, TOKENIZED, Traffic
from emulator.readiness.verdict import Verdict, failed, judged
from emulator.store import Record
from emulator.webhooks.delivery import DUPLICATE
from emulator.webhooks.delivery import FORGED_SIGNATURE as FORGED

#: A webhook receiver answers within this many seconds (the hub's webhooks page).
ACK_WITHIN = 10.0


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
    return judged(failures, acknowledged)


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
    return judged(failures, [evidence.delivery(record, praise) for record in answered],
                  [evidence.delivery(record, "not answered") for record in probes],
                  next="the probe reached no receiver (see its attempt's error); the emulator sends another after "
                       "the next acknowledged delivery")


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
    return judged(failures, done, [evidence.delivery(t[OFAC_SUSPENDED], "suspended") for t in reviews.values()],
                  next=f"advance the emulator clock one hour (POST /_emulator/clock {{\"advance\": 3600}}) for the "
                       f"review's {outcome} webhook, and acknowledge it")


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
    return judged(failures, done)


def iframe_tokenization(seen: Traffic) -> Verdict:
    done, failures = _delivered(seen, (TOKENIZED,), "the iFrame's tokenization webhook, acknowledged")
    if failures:
        return failed(failures)
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
