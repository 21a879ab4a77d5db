"""The pytest plugin, as a user meets it: the documented example runs in a fresh pytest process."""

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "test_payout.py"


def test_the_documented_example_passes_with_the_installed_plugin(pytester):
    pytester.makepyfile(test_payout=EXAMPLE.read_text(encoding="utf-8"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)


def test_state_is_reset_between_tests_and_settings_can_be_overridden(pytester):
    pytester.makeconftest('''
import pytest
from emulator.settings import Settings

@pytest.fixture(scope="session")
def ingopay_emulator_settings():
    return Settings(rate_limit=0, seed=7)
''')
    pytester.makepyfile(test_reset='''
CARD = {"account_type": "CA", "participant_unique_id1": "c-1", "account": "4111111111111111",
        "recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
        "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}

def test_first(ingopay_client, ingopay_emulator):
    assert ingopay_emulator.settings.seed == 7
    answer = ingopay_client.post("/gateway/verify", ingopay_client.base(**CARD))
    assert answer.status == 200 and answer["status"] == 100

def test_second_sees_an_empty_journal(ingopay_emulator):
    import json, urllib.request
    with urllib.request.urlopen(ingopay_emulator.url + "/_emulator/requests") as response:
        assert json.load(response)["count"] == 0
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


def test_the_plugins_client_signs_with_real_time_so_an_advance_does_not_lock_it_out(pytester):
    pytester.makepyfile(test_advance='''
import time

CARD = {"account_type": "CA", "participant_unique_id1": "c-1", "account": "4111111111111111",
        "recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
        "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}

def test_two_days_later(ingopay_client, ingopay_emulator):
    ingopay_emulator.advance(172800)
    body = ingopay_client.base(**CARD)
    assert abs(body["timestamp"] - time.time()) < 5  # the client's own (real) time, not the emulator's
    answer = ingopay_client.post("/gateway/verify", body)
    assert answer.status == 200 and answer["status"] == 100, answer.body
    assert answer["data"]["request_timestamp"] >= time.time() + 172800 - 5
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


CARD_SOURCE = '''
CARD = {"account_type": "CA", "participant_unique_id1": "c-1", "account": "4111111111111111",
        "recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
        "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}

def token(client):
    answer = client.post("/gateway/verify", client.base(**CARD))
    assert answer.status == 200 and answer["status"] == 100, answer.body
    return answer["data"]["customer_account_token"]

def push(client, token, amount, puid1):
    return client.post("/gateway/process", client.base(account_type="CA", amount=amount, source_of_funds=1,
                                                       customer_account_token=token, participant_unique_id1=puid1))
'''


def test_one_option_changed_keeps_the_plugins_other_defaults(pytester):
    pytester.makeconftest('''
import pytest

@pytest.fixture(scope="session")
def ingopay_emulator_options():
    return {"seed": 7}
''')
    pytester.makepyfile(test_options=CARD_SOURCE + '''
def test_seed_applies_and_rate_limiting_stays_off(ingopay_emulator, ingopay_client):
    assert ingopay_emulator.settings.seed == 7
    answers = [ingopay_client.post("/gateway/verify", ingopay_client.base(**CARD)).status for _ in range(12)]
    assert answers == [200] * 12  # more than 5 a second, and never a 429
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_an_unknown_option_names_the_settings(pytester):
    pytester.makeconftest('''
import pytest

@pytest.fixture(scope="session")
def ingopay_emulator_options():
    return {"rate_limt": 3}
''')
    pytester.makepyfile(test_options='def test_x(ingopay_emulator):\n    pass\n')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.stdout.fnmatch_lines(["*ingopay_emulator_options: rate_limt is not a setting*"])
    assert result.ret != 0


def test_a_tenant_waits_for_its_own_requests_and_webhooks(pytester):
    pytester.makepyfile(test_tenant=CARD_SOURCE + '''
import pytest
from emulator.testing import WaitNotMet

def test_waits(ingopay_tenant, ingopay_emulator):
    client = ingopay_tenant.client()
    paid = push(client, token(client), 10.06, "order-1")  # .06: an OFAC suspension webhook at once
    assert paid["status"] == 100
    (entry,) = ingopay_tenant.wait_for_request({"endpoint": "process", "amount": 10.06})
    assert entry["participant_id"] == ingopay_tenant.participant_id
    (delivery,) = ingopay_tenant.wait_for_webhook({"transaction_id": paid["data"]["transaction_id"],
                                                   "event_status": 1106, "status": "delivered"})
    assert delivery["payload"]["data"]["ancillary"]["participant_unique_id1"] == "order-1"
    with pytest.raises(WaitNotMet, match="amount: expected 99.0, got 10.06"):
        ingopay_tenant.wait_for_request({"endpoint": "process", "amount": 99.0}, timeout=0.2)
    assert ingopay_tenant.findings() == []
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_a_scenario_marker_scripts_one_tenant_and_no_one_else(pytester):
    pytester.makepyfile(test_marker=CARD_SOURCE + '''
import pytest

DECLINE = """
version: 1
scenarios:
  - name: broke
    rules:
      - name: no-funds
        match: {endpoint: process}
        respond: {status: 851}
"""

@pytest.mark.ingopay_scenario(DECLINE)
def test_declined_for_this_tenant_only(ingopay_tenant, ingopay_emulator):
    mine = ingopay_tenant.client()
    assert push(mine, token(mine), 5.0, "p-1")["status"] == 851
    other = ingopay_emulator.tenant().client()
    assert push(other, token(other), 5.0, "p-1")["status"] == 100

def test_the_next_test_is_not_declined(ingopay_tenant):
    client = ingopay_tenant.client()
    assert push(client, token(client), 5.0, "p-1")["status"] == 100
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


FINDINGS_SUITE = CARD_SOURCE + '''
import pytest

def test_careful(ingopay_tenant):
    client = ingopay_tenant.client()
    card = token(client)
    assert push(client, card, 4.02, "order-1")["status"] == 102  # .02: a stand-in, outcome unknown
    assert push(client, card, 4.02, "order-1")["status"] == 101  # the same id again: safe

def test_careless(ingopay_tenant):
    client = ingopay_tenant.client()
    card = token(client)
    assert push(client, card, 4.02, "order-1")["status"] == 102
    assert push(client, card, 4.02, "order-2")["status"] == 102  # a new id: a second payment
'''


def test_fail_on_findings_fails_only_the_test_that_would_lose_money_and_prints_why(pytester):
    pytester.makepyfile(test_money=FINDINGS_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--ingopay-fail-on-findings")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_careless*", "*1 money-safety finding(s)*",
                                 "*double_payout_risk*order-2*", "*rule: participant_unique_id1 is the idempotency*"])
    assert "test_careful FAILED" not in result.stdout.str()


def test_without_the_option_findings_fail_only_tests_with_the_marker(pytester):
    pytester.makepyfile(test_money=FINDINGS_SUITE.replace("def test_careless",
                                                          "@pytest.mark.ingopay_fail_on_findings\ndef test_careless"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, failed=1)
    pytester.makepyfile(test_money=FINDINGS_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


PARALLEL_SUITE = CARD_SOURCE + '''
import os
import pytest

@pytest.mark.parametrize("n", range(32))
def test_each_worker_has_a_world_of_its_own(ingopay_tenant, n):
    client = ingopay_tenant.client()
    card = token(client)
    paid = push(client, card, 10.06, "order-1")  # the same participant_unique_id1 in every test
    assert paid["status"] == 100, paid.body  # never 101: no other test's payment is seen
    entries = ingopay_tenant.wait_for_request({"endpoint": ["verify", "process"]}, count=2)
    assert {e["participant_id"] for e in entries} == {ingopay_tenant.participant_id}
    ingopay_tenant.wait_for_webhook({"transaction_id": paid["data"]["transaction_id"], "status": "delivered"})
    assert ingopay_tenant.findings() == []
    with open(os.environ["WORKERS_SEEN"], "a") as seen:
        seen.write(os.environ.get("PYTEST_XDIST_WORKER", "none") + "\\n")
'''


def test_eight_xdist_workers_share_one_emulator_through_tenants(pytester, tmp_path, monkeypatch):
    from emulator.settings import Settings
    from emulator.testing import EmulatorServer

    shared = EmulatorServer(Settings(rate_limit=0)).start()
    try:
        seen = tmp_path / "workers"
        monkeypatch.setenv("WORKERS_SEEN", str(seen))
        pytester.makepyfile(test_parallel=PARALLEL_SUITE)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-n", "8", "--ingopay-url", shared.url)
        result.assert_outcomes(passed=32)
        assert len(set(seen.read_text().split())) == 8
        assert shared.runtime is not None
        # every tenant was removed after its test, and its participant's requests with it
        assert not list(shared.runtime.services.tenants)
        assert shared.runtime.journal.entries() == []
    finally:
        shared.stop()


def test_on_a_shared_emulator_a_scenario_marker_scripts_only_the_tests_tenant(pytester):
    from emulator.settings import Settings
    from emulator.testing import EmulatorServer

    shared = EmulatorServer(Settings(rate_limit=0)).start()
    try:
        pytester.makepyfile(test_marker=CARD_SOURCE + '''
import pytest

@pytest.mark.ingopay_scenario("""
version: 1
scenarios:
  - name: broke
    rules:
      - {name: no-funds, match: {endpoint: process}, respond: {status: 851}}
""")
def test_declined_through_the_plugins_client_only(ingopay_client, ingopay_emulator):
    assert push(ingopay_client, token(ingopay_client), 5.0, "p-1")["status"] == 851
    other = ingopay_emulator.tenant().client()  # another worker's tenant, say
    assert push(other, token(other), 5.0, "p-1")["status"] == 100
''')
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--ingopay-url", shared.url)
        result.assert_outcomes(passed=1)
        assert shared.runtime is not None
        assert shared.runtime.services.engine.active == ["magic-values"]  # loaded for the tenant, not for everyone
        # and deleted after the test: a long-running shared emulator does not pile up per-test scenarios
        assert list(shared.runtime.services.engine.scenarios) == ["magic-values"]
    finally:
        shared.stop()


TENANT_CLOCK_SUITE = CARD_SOURCE + '''
RETURNED = "gateway.transaction.recipient.payment.status.returned"

def pay_to_be_returned(client):
    card = client.post("/gateway/verify", client.base(**dict(CARD, account="4000000111400000")))
    assert card["status"] == 100, card.body
    paid = push(client, card["data"]["customer_account_token"], 12.5, "order-1")
    assert paid["status"] == 100, paid.body

def test_advance_moves_only_the_tests_tenant(ingopay_tenant, ingopay_emulator):
    other = ingopay_emulator.tenant()  # another worker's tenant, say
    for tenant in (ingopay_tenant, other):
        pay_to_be_returned(tenant.client())
    ingopay_emulator.advance(2 * 86400)  # the test's tenant's clock, not everyone's
    ingopay_tenant.wait_for_webhook({"topic": RETURNED})
    assert ingopay_tenant.clock()["own_clock"] and ingopay_tenant.clock()["pending"] == []
    assert [RETURNED in job["label"] for job in other.clock()["pending"]] == [True]  # the other's still waits
    assert other.advance(2 * 86400) >= 1
    other.wait_for_webhook({"topic": RETURNED})
    other.remove()
'''


def test_the_plugins_advance_moves_the_tests_tenant_clock_only(pytester):
    from emulator.settings import Settings
    from emulator.testing import EmulatorServer

    pytester.makepyfile(test_clock=TENANT_CLOCK_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")  # an emulator of the session's own
    result.assert_outcomes(passed=1)
    shared = EmulatorServer(Settings(rate_limit=0)).start()
    try:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--ingopay-url", shared.url)
        result.assert_outcomes(passed=1)
        assert shared.runtime is not None
        assert shared.runtime.clock.owners == 0  # each tenant's clock went with its tenant
    finally:
        shared.stop()
