"""Which findings fail a test under the pytest plugin: --ingopay-fail-on-findings=KIND,... (or all, or the flag
alone), --ingopay-ignore-finding KIND, and the client's own pace, which counts only where the emulator's rate limit
judges it (the plugin turns it off) unless --ingopay-count-pace or the kind's own name asks for it."""

from __future__ import annotations

import pytest

from emulator.findings.kinds import KINDS, Selection, UnknownKind, kinds, named
from emulator.settings import Settings
from emulator.testing import EmulatorServer

CARD = '''
from concurrent.futures import ThreadPoolExecutor

CARD = {"account_type": "CA", "participant_unique_id1": "c-1", "account": "4111111111111111",
        "recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
        "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}

def eight_verifies_at_once(client):
    """Eight verifies sent together: they arrive within one second, more than Ingo's five a second."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: client.post("/gateway/verify", client.base(**CARD)).status, range(8)))
'''

#: A fast test (its pace breaks Ingo's five a second, which the plugin's emulator does not enforce) and a careless
#: one (a second push under a new participant_unique_id1 after an unknown outcome: a double payout against Ingo).
SUITE = CARD + '''
def test_fast(ingopay_tenant):
    assert eight_verifies_at_once(ingopay_tenant.client()) == [200] * 8
    assert [f["code"] for f in ingopay_tenant.findings()] == ["over_rate_limit"]

def test_careless(ingopay_tenant):
    client = ingopay_tenant.client()
    answer = client.post("/gateway/verify", client.base(**CARD))
    card = answer["data"]["customer_account_token"]
    for puid1 in ("order-1", "order-2"):  # .02: a stand-in answer (102), the outcome unknown
        paid = client.post("/gateway/process", client.base(account_type="CA", amount=4.02, source_of_funds=1,
                                                           customer_account_token=card, participant_unique_id1=puid1))
        assert paid["status"] == 102
'''


def run(pytester, *options):
    pytester.makepyfile(test_money=SUITE)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rA", *options)


def outcome(result, test: str) -> str:
    """PASSED or FAILED: how ``test`` ended, by pytest's short summary."""
    for line in result.stdout.lines:
        if line.startswith(("PASSED", "FAILED")) and f"::{test}" in line:
            return line.split()[0]
    raise AssertionError(f"{test} is not in the summary:\n{result.stdout.str()}")


@pytest.mark.slow
def test_the_flag_alone_counts_every_kind_but_the_clients_own_pace_while_the_rate_limit_is_off(pytester):
    result = run(pytester, "--ingopay-fail-on-findings")
    assert outcome(result, "test_fast") == "PASSED"  # 8 verifies in one second: a finding, not counted
    assert outcome(result, "test_careless") == "FAILED"
    result.stdout.fnmatch_lines(["*double_payout_risk*order-2*"])
    result = run(pytester, "--ingopay-fail-on-findings=all")
    assert (outcome(result, "test_fast"), outcome(result, "test_careless")) == ("PASSED", "FAILED")


@pytest.mark.slow
def test_a_kind_named_counts_and_the_failure_names_it(pytester):
    result = run(pytester, "--ingopay-fail-on-findings=over_rate_limit")
    assert outcome(result, "test_fast") == "FAILED"
    result.stdout.fnmatch_lines(["*1 money-safety finding(s) in this test's traffic:*",
                                 "*over_rate_limit (participant *): * sent * requests within one second*",
                                 "*rule: stay at no more than five requests a second per client*"])
    assert outcome(result, "test_careless") == "PASSED"  # double_payout_risk was not chosen


@pytest.mark.slow
def test_count_pace_counts_the_pace_and_an_ignored_kind_never_fails(pytester):
    result = run(pytester, "--ingopay-fail-on-findings", "--ingopay-count-pace",
                 "--ingopay-ignore-finding", "double_payout_risk")
    assert outcome(result, "test_fast") == "FAILED"
    result.stdout.fnmatch_lines(["*over_rate_limit (participant *)*"])
    assert outcome(result, "test_careless") == "PASSED"


@pytest.mark.slow
def test_on_a_shared_emulator_the_pace_counts_when_its_rate_limit_is_on(pytester):
    pytester.makepyfile(test_pace=CARD + '''
def test_fast(ingopay_tenant):
    statuses = eight_verifies_at_once(ingopay_tenant.client())
    assert "over_rate_limit" in [f["code"] for f in ingopay_tenant.findings()], statuses
''')
    for rate_limit, expected in ((5, "failed"), (0, "passed")):
        shared = EmulatorServer(Settings(rate_limit=rate_limit)).start()
        try:
            result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--ingopay-url", shared.url,
                                                   "--ingopay-fail-on-findings")
        finally:
            shared.stop()
        result.assert_outcomes(**{expected: 1})


def test_an_unknown_kind_is_a_usage_error_naming_it_the_closest_kind_and_every_kind(pytester):
    pytester.makepyfile(test_none="def test_none():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ingopay-fail-on-findings=over_rate_limt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ingopay-fail-on-findings: 'over_rate_limt' is not a kind of finding; did you "
                                 "mean over_rate_limit? (known: double_payout_risk, *, all)*"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ingopay-ignore-finding", "double_payout")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ingopay-ignore-finding: 'double_payout' is not a kind of finding; did you mean "
                                 "double_payout_risk?*"])


def test_a_test_path_taken_for_the_flags_value_says_how_to_write_it(pytester):
    path = pytester.makepyfile(test_none="def test_none():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ingopay-fail-on-findings", path.name)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*'{path.name}' is not a kind of finding*write --ingopay-fail-on-findings=all, "
                                 "or put the flag after the paths*"])


def test_which_kinds_count():
    assert named("all") is None and named("") is None and named("all,over_rate_limit") is None
    assert named(" over_rate_limit , double_payout_risk") == frozenset({"over_rate_limit", "double_payout_risk"})
    assert kinds("webhook_ack_too_slow,raw_account_with_token") == {"webhook_ack_too_slow", "raw_account_with_token"}
    with pytest.raises(UnknownKind, match="'all' is not a kind of finding"):
        kinds("all")  # ignoring every kind is not a choice: leave --ingopay-fail-on-findings out
    every = Selection()
    assert [code for code in KINDS if not every.counts(code, rate_limited=False)] == ["over_rate_limit"]
    assert all(every.counts(code, rate_limited=True) for code in KINDS)
    assert Selection(pace=True).counts("over_rate_limit", rate_limited=False)
    assert Selection(frozenset({"over_rate_limit"})).counts("over_rate_limit", rate_limited=False)
    assert not Selection(frozenset({"over_rate_limit"})).counts("double_payout_risk", rate_limited=True)
    assert not Selection(ignored=frozenset({"double_payout_risk"})).counts("double_payout_risk", rate_limited=True)
    assert Selection().counts("a_kind_of_a_newer_emulator", rate_limited=False)
