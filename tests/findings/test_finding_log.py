"""A client that keeps doing the same risky thing gets one warning line, then a count every few seconds, not a line a
request; every finding is still kept and listed."""

from __future__ import annotations

import logging

import pytest

from emulator.findings.models import FindingLog, Findings


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="ingopay_emulator.findings")
    return caplog


def told(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ingopay_emulator.findings"]


def test_the_first_of_a_kind_is_told_then_a_count_once_the_interval_has_passed(lines):
    now = [100.0]
    findings = Findings()
    findings.log = FindingLog(interval=10, now=lambda: now[0])
    for n in range(1000):
        findings.add("double_payout_risk", f"push {n}", participant_id=7, username="u", time=0)
    assert told(lines) == ["finding double_payout_risk (participant 7): push 0"]
    assert len(findings.listing(participant_id=7)) == 1000  # each one kept all the same
    now[0] = 110.5
    findings.add("double_payout_risk", "push 1000", participant_id=7, username="u", time=0)
    assert told(lines)[1] == ("finding double_payout_risk (participant 7): push 1000 (and 999 more of this kind for "
                              "this participant in the last 10 s, not logged: GET /_emulator/findings lists them)")


def test_another_kind_or_participant_is_told_on_its_own(lines):
    findings = Findings()
    findings.log = FindingLog(interval=10, now=lambda: 0.0)
    findings.add("double_payout_risk", "a", participant_id=7, username="u", time=0)
    findings.add("double_payout_risk", "b", participant_id=8, username="u", time=0)
    findings.add("raw_account_with_token", "c", participant_id=7, username="u", time=0)
    findings.add("double_payout_risk", "d", participant_id=7, username="u", time=0)
    assert [line.rsplit(": ", 1)[1] for line in told(lines)] == ["a", "b", "c"]


def test_a_reset_tells_the_next_one_afresh(lines):
    findings = Findings()
    findings.log = FindingLog(interval=10, now=lambda: 0.0)
    findings.add("double_payout_risk", "a", participant_id=7, username="u", time=0)
    findings.reset(7)
    findings.add("double_payout_risk", "b", participant_id=7, username="u", time=0)
    assert [line.rsplit(": ", 1)[1] for line in told(lines)] == ["a", "b"]
