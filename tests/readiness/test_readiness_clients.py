"""A readiness rehearsal judges the right thing: against a real emulator process, a payout application written
without the project's code (tests/readiness_clients.py: its own signer, receiver and verifier) passes every scenario
of the bundled plan, and each copy of it seeded with one defect fails exactly the scenario of its defect, nothing
else; the evidence pack the command writes names the defect."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.outside import admin
from tests.support.paths import ROOT
from tests.support.processes import CLEAN_ENV, live_emulator
from tests.support.readiness_clients import DEFECTS, OFAC_CLEARED_CARD, OFAC_FAILED_CARD, RETURNED_CARD, PayoutApp

#: The scenario docs/readiness.md gives for the ambiguous outcomes, uploaded as a user would copy it.
TRIGGERS = re.search(r"<!-- snippet: readiness-triggers -->\n```yaml\n(.*?)```",
                     (ROOT / "docs" / "readiness.md").read_text(encoding="utf-8"), re.S).group(1)  # type: ignore[union-attr]
#: The scenario each seeded defect breaks.
BROKEN = {"pays_again_after_pending": "pending-is-success", "retries_decline": "no-retry-on-decline",
          "accepts_forged_webhook": "webhook-signature-verified", "new_id_after_ambiguous": "idempotent-retry",
          "ignores_429": "rate-limit-respected"}
#: Scenarios a defect keeps from running at all: a client that never retries with the same id has no retry to space.
UNRUN = {"new_id_after_ambiguous": {"retry-spacing"}}
#: The final webhooks the journey waits for once the clock has moved (the 102's, both OFAC reviews', the return).
FINAL_TOPICS = ("gateway.transaction.recipient.payment.status.success",
                "gateway.transaction.recipient.verification.ofac.status.cleared",
                "gateway.transaction.recipient.verification.ofac.status.failure",
                "gateway.transaction.recipient.payment.status.returned")



def wait_for_probes(url: str, participant: int, timeout: float = 30.0) -> None:
    """Until both probe deliveries to the app's receiver got an answer (the deliveries listing shows them)."""
    deadline = time.monotonic() + timeout
    while True:
        status, listed = admin(url, "GET", f"/_emulator/webhooks?participant_id={participant}")
        assert status == 200, listed
        answered = {d["probe"] for d in listed["deliveries"] if d.get("probe") and d["attempts"]}
        if answered == {"duplicate", "forged_signature"}:
            return
        assert time.monotonic() < deadline, f"probes answered: {answered}"
        time.sleep(0.1)


def statuses(report: dict) -> dict[str, str]:
    return {scenario["id"]: scenario["status"] for scenario in report["scenarios"]}


@pytest.mark.slow
def test_a_correct_client_passes_every_scenario_and_each_defect_fails_exactly_its_own(tmp_path):
    with live_emulator("--quiet") as url:  # rate limited as Ingo is (5 a second)
        status, answer = admin(url, "POST", "/_emulator/scenarios?name=readiness-triggers", TRIGGERS.encode(),
                               headers={"Content-Type": "application/yaml"})
        assert status == 201, answer
        apps = [PayoutApp(url, defect) for defect in (None, *DEFECTS)]
        try:
            for app in apps:
                status, started = admin(url, "POST", "/_emulator/readiness", {"participant_id": app.participant_id})
                assert status == 201 and set(statuses(started).values()) == {"not_run"}, started
            with ThreadPoolExecutor(len(apps)) as pool:
                list(pool.map(PayoutApp.run, apps))
            # the clock steps a suite makes: the 102's final webhook (60 s), the OFAC reviews (1 h), the return (2 d)
            status, moved = admin(url, "POST", "/_emulator/clock", {"advance": 172800})
            assert status == 200, moved
            for app in apps:
                for topic in FINAL_TOPICS:
                    status, seen = admin(url, "POST", "/_emulator/webhooks/wait", {
                        "match": {"participant_id": app.participant_id, "topic": topic, "status": "delivered"},
                        "timeout": 20})
                    assert status == 200, seen
                wait_for_probes(url, app.participant_id)
            reports = {app.defect: admin(url, "GET", f"/_emulator/readiness?participant_id={app.participant_id}")[1]
                       for app in apps}

            correct = reports[None]
            assert statuses(correct) == dict.fromkeys(statuses(correct), "passed"), \
                [(s["id"], s["why"] or s["next"]) for s in correct["scenarios"] if s["status"] != "passed"]
            assert correct["findings"] == []
            for defect, scenario in BROKEN.items():
                found = statuses(reports[defect])
                failed = {name for name, status in found.items() if status == "failed"}
                assert failed == {scenario}, (defect, [(s["id"], s["why"]) for s in reports[defect]["scenarios"]
                                                       if s["status"] == "failed"])
                unrun = {name for name, status in found.items() if status == "not_run"}
                assert unrun == UNRUN.get(defect, set()), (defect, unrun)
                [judged] = [s for s in reports[defect]["scenarios"] if s["id"] == scenario]
                assert judged["why"] and judged["source"] in judged["why"] and judged["evidence"], judged

            evidence_is_complete(correct)
            the_command_writes_a_pack_that_names_the_defect(url, apps[DEFECTS.index("retries_decline") + 1],
                                                            tmp_path)
        finally:
            for app in apps:
                app.stop()


def evidence_is_complete(report: dict) -> None:
    """Request ids, transaction ids, webhook event ids and attempts, with both clocks; probes recognisable."""
    scenarios = {s["id"]: s for s in report["scenarios"]}
    retried = scenarios["idempotent-retry"]["evidence"]
    assert any(item.get("ingo_status") == 101 and item.get("transaction_id") for item in retried), retried
    for item in retried:
        assert item["kind"] == "request" and item["request_id"] and isinstance(item["journal_id"], int)
        assert item["time"] and item["wall_time"]
    [delivery, *_] = scenarios["ofac-suspended-cleared"]["evidence"]
    assert delivery["event_id"].startswith("sb01-") and delivery["attempts"][0]["http_status"] == 200
    assert delivery["attempts"][0]["wall_time"] and delivery["attempts"][0]["time"]
    assert {p["probe"] for p in report["probes"]} == {"duplicate", "forged_signature"}
    forged = scenarios["webhook-signature-verified"]["evidence"][0]
    assert forged["probe"] == "forged_signature" and forged["attempts"][0]["http_status"] == 401
    assert "Pending (102)" in report["coverage"]["summary"]


def the_command_writes_a_pack_that_names_the_defect(url: str, app: PayoutApp, tmp_path: Path) -> None:
    output = tmp_path / "pack.md"
    done = subprocess.run([sys.executable, "-m", "emulator", "readiness", "--url", url, "--participant-id",
                           str(app.participant_id), "--output", str(output)], capture_output=True, text=True,
                          env=CLEAN_ENV, timeout=60)
    assert done.returncode == 0, done.stderr
    pack = output.read_text(encoding="utf-8")
    assert "| `no-retry-on-decline` | self-service | FAILED |" in pack
    assert "Why it failed: request" in pack and "https://developers.ingopayments.com/docs/hub/errors" in pack
    evidence = [line for line in pack.splitlines() if line.startswith(("  - ", "- `"))]  # evidence and findings
    cards = ("4111111111111111", OFAC_CLEARED_CARD, OFAC_FAILED_CARD, RETURNED_CARD)
    assert len(evidence) > 10 and not any(card in line for line in evidence for card in cards)
