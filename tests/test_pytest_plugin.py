"""The pytest plugin, as a user meets it: the documented example runs in a fresh pytest process."""

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "test_payout.py"


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
