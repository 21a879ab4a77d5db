"""The scenario engine through the real app, with user scenario files: matching, sequences, overrides, control."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.support.app import NOW, Signed, runtime_for, serve
from tests.support.bodies import ACH, CARD, v11
from tests.support.paths import ROOT

PROCESS = "/gateway/process"
DEBIT = "/gateway/v12/debit/process"
VERIFY = "/gateway/verify"
MAGIC_851_CARD = "4000000085100008"  # bundled trigger: Declined - Insufficient funds at process


@pytest.fixture
def make(aiohttp_client, clock, tmp_path):
    """Build an emulator with the given scenario file(s) written to tmp_path."""
    counter = iter(range(1000))

    async def build(*documents: str, **options) -> Signed:
        paths = []
        for document in documents:
            path = tmp_path / f"user-{next(counter)}.yaml"
            path.write_text(textwrap.dedent(document), encoding="utf-8")
            paths.append(path)
        return await serve(aiohttp_client, runtime_for(clock, scenarios=tuple(paths), **options))

    return build


async def verify(emulator: Signed, fields: dict, participant_id: int = 12345, headers=None) -> dict:
    status, body, _ = await emulator.post(VERIFY, v11(participant_id=participant_id, **fields),
                                          extra_headers=headers)
    assert status == 200, body
    return body


async def tokenize(emulator: Signed, fields: dict = CARD, participant_id: int = 12345) -> str:
    body = await verify(emulator, fields, participant_id)
    assert body["status"] == 100, body
    return body["data"]["customer_account_token"]


async def pay(emulator: Signed, token: str, puid1: str, *, amount: float = 10.5, account_type: str = "CA",
              participant_id: int = 12345, headers=None, expect_http: int = 200) -> dict:
    status, body, _ = await emulator.post(PROCESS, v11(participant_id=participant_id, account_type=account_type,
                                                       amount=amount, customer_account_token=token,
                                                       source_of_funds=4, participant_unique_id1=puid1),
                                          extra_headers=headers)
    assert status == expect_http, body
    return body


async def pull(emulator: Signed, token: str, puid1: str, account_type: str = "CA", amount: str = "20.00") -> dict:
    status, body, _ = await emulator.post(DEBIT, {
        "request": {"participant_id": "12345", "timestamp": str(NOW)},
        "transaction": {"account_type": account_type, "transaction_amount": {"currency_code": "USD", "amount": amount},
                        "participant_unique_ids": {"participant_unique_id1": puid1, "participant_unique_id2": ""},
                        "customer_account_token": token, "source_of_funds": 4}})
    assert status == 200, body
    return body


async def admin(emulator: Signed, method: str, path: str, **kwargs):
    """Call the admin API as a test script would: a POST says what it sends (YAML for an upload, else JSON)."""
    if method == "POST" and "json" not in kwargs:
        upload = path.split("?", 1)[0] == "/_emulator/scenarios"
        kwargs.setdefault("headers", {"Content-Type": "application/yaml" if upload else "application/json"})
    response = await emulator.client.request(method, path, **kwargs)
    text = await response.text()
    return response.status, (json.loads(text) if text else None)


async def last_journal(emulator: Signed, path: str = PROCESS) -> dict:
    status, body = await admin(emulator, "GET", f"/_emulator/requests?path={path}&limit=1")
    assert status == 200
    return body["requests"][0]


# -- sequences and counters --------------------------------------------------------------------------------------

SEQUENCE = """\
    scenarios:
      - name: flaky
        rules:
          - name: decline-twice
            match: {endpoint: process, nth: [1, 2]}
            respond: {status: 851}
"""


async def test_decline_twice_then_approve(make):
    emulator = await make(SEQUENCE)
    token = await tokenize(emulator)
    statuses = [(await pay(emulator, token, f"seq-{n}"))["status"] for n in range(4)]
    assert statuses == [851, 851, 100, 100]
    assert (await last_journal(emulator))["matched_rule"] == "none"


async def test_nth_counters_are_per_participant(make):
    emulator = await make(SEQUENCE)
    other = emulator.as_user("other")
    mine = await tokenize(emulator)
    theirs = await tokenize(other, participant_id=54321)
    assert (await pay(emulator, mine, "a-1"))["status"] == 851
    assert (await pay(emulator, mine, "a-2"))["status"] == 851
    assert (await pay(other, theirs, "b-1", participant_id=54321))["status"] == 851
    assert (await pay(emulator, mine, "a-3"))["status"] == 100
    assert (await pay(other, theirs, "b-2", participant_id=54321))["status"] == 851
    assert (await pay(other, theirs, "b-3", participant_id=54321))["status"] == 100


async def test_nth_ranges_and_every(make):
    emulator = await make("""\
        scenarios:
          - name: patterns
            rules:
              - name: every-third
                match: {endpoint: process, nth: {every: 3}}
                respond: {status: 500}
              - name: fourth-to-fifth
                match: {endpoint: process, nth: {from: 4, to: 5}}
                respond: {status: 503}
    """)
    token = await tokenize(emulator)
    statuses = [(await pay(emulator, token, f"p-{n}"))["status"] for n in range(1, 10)]
    # every-third counts all 9 matches (fires on 3, 6, 9); fourth-to-fifth is only reached, and so only
    # counted, when every-third passes: on requests 1, 2, 4, 5, 7, 8, so its 4th and 5th matches are 5 and 7
    assert statuses == [100, 100, 500, 100, 503, 500, 503, 100, 500]


async def test_first_matching_rule_wins_and_user_files_come_before_the_bundled_ones(make):
    emulator = await make("""\
        scenarios:
          - name: first-wins
            rules:
              - name: specific
                match: {endpoint: process, amount: 1.23}
                respond: {status: 852}
              - name: general
                match: {endpoint: process}
                respond: {status: 853}
              - name: never-reached
                match: {endpoint: process, amount: 1.23}
                respond: {status: 854}
    """)
    token = await tokenize(emulator)
    assert (await pay(emulator, token, "f-1", amount=1.23))["status"] == 852
    assert (await last_journal(emulator))["matched_rule"] == "first-wins/specific"
    assert (await pay(emulator, token, "f-2", amount=2.0))["status"] == 853
    assert (await last_journal(emulator))["matched_rule"] == "first-wins/general"
    magic = await tokenize(emulator, {**CARD, "account": MAGIC_851_CARD})
    assert (await pay(emulator, magic, "f-3", amount=2.51))["status"] == 853  # not magic .51 / card 851


async def test_no_match_falls_through_to_the_default(make):
    emulator = await make("""\
        scenarios:
          - name: only-big
            rules:
              - name: big
                match: {endpoint: process, amount: {min: 500}}
                respond: {status: 601}
    """)
    token = await tokenize(emulator)
    body = await pay(emulator, token, "n-1", amount=10.0)
    assert (body["status"], body["client_message"]) == (100, "Success")
    assert isinstance(body["data"]["transaction_id"], int)
    entry = await last_journal(emulator)
    assert entry["matched_rule"] == "none"
    assert (await pay(emulator, token, "n-2", amount=500.0))["status"] == 601
    assert (await last_journal(emulator))["matched_rule"] == "only-big/big"


# -- each kind of match ------------------------------------------------------------------------------------------

KINDS = """\
    scenarios:
      - name: kind-endpoint
        active: false
        rules:
          - {name: r, match: {endpoint: debit}, respond: {status: 852}}
      - name: kind-account-type
        active: false
        rules:
          - {name: r, match: {account_type: [AC, SD]}, respond: {status: 853}}
      - name: kind-account-exact
        active: false
        rules:
          - {name: r, match: {endpoint: process, account: "4111111111111111"}, respond: {status: 854}}
      - name: kind-account-prefix
        active: false
        rules:
          - {name: r, match: {endpoint: process, account: {prefix: "4242"}}, respond: {status: 855}}
      - name: kind-account-regex
        active: false
        rules:
          - {name: r, match: {endpoint: process, account: {regex: "^5[1-5][0-9]{14}$"}}, respond: {status: 856}}
      - name: kind-account-last4
        active: false
        rules:
          - {name: r, match: {endpoint: process, account: {last4: "4444"}}, respond: {status: 857}}
      - name: kind-amount-exact
        active: false
        rules:
          - {name: r, match: {endpoint: process, amount: 42.42}, respond: {status: 601}}
      - name: kind-amount-range
        active: false
        rules:
          - {name: r, match: {endpoint: process, amount: {min: 100, max: 200}}, respond: {status: 602}}
      - name: kind-amount-cents
        active: false
        rules:
          - {name: r, match: {endpoint: process, amount: {cents: [37, 38]}}, respond: {status: 603}}
      - name: kind-recipient
        active: false
        rules:
          - {name: r, match: {endpoint: process, recipient: {first_name: Zed, last_name: {prefix: smi}}},
             respond: {status: 604}}
      - name: kind-business
        active: false
        rules:
          - {name: r, match: {endpoint: verify, recipient: {business_name: {regex: "^acme"}}}, respond: {status: 700}}
      - name: kind-puid1
        active: false
        rules:
          - {name: r, match: {endpoint: process, participant_unique_id1: {regex: "^fail-[0-9]+$"}},
             respond: {status: 701}}
      - name: kind-header
        active: false
        rules:
          - {name: r, match: {endpoint: process, headers: {X-Test-Case: boom}}, respond: {status: 710}}
      - name: kind-funding
        active: false
        rules:
          - {name: r, match: {endpoint: process, funding_destination: ach}, respond: {status: 751}}
      - name: kind-nth
        active: false
        rules:
          - {name: r, match: {endpoint: process, nth: 2}, respond: {status: 859}}
"""

MASTERCARD = "5555555555554444"
VISA_4242 = "4242424242424242"


@pytest.fixture
async def kinds(make):
    emulator = await make(KINDS)
    tokens = {"visa": await tokenize(emulator), "4242": await tokenize(emulator, {**CARD, "account": VISA_4242}),
              "mc": await tokenize(emulator, {**CARD, "account": MASTERCARD}),
              "ach": await tokenize(emulator, ACH)}
    return emulator, tokens


def pick(name: str) -> dict[str, str]:
    return {"X-Emulator-Scenario": name}


async def test_match_endpoint(kinds):
    emulator, tokens = kinds
    assert (await pay(emulator, tokens["visa"], "e-1", headers=pick("kind-endpoint")))["status"] == 100
    status, body, _ = await emulator.post(DEBIT, {
        "request": {"participant_id": "12345", "timestamp": str(NOW)},
        "transaction": {"account_type": "CA", "transaction_amount": {"currency_code": "USD", "amount": "20.00"},
                        "participant_unique_ids": {"participant_unique_id1": "e-2", "participant_unique_id2": ""},
                        "customer_account_token": tokens["visa"], "source_of_funds": 4}},
        extra_headers=pick("kind-endpoint"))
    assert (status, body["response"]["status"], body["response"]["message"]) == (200, "852", "Declined - Do not honor")


async def test_match_account_type(kinds):
    emulator, tokens = kinds
    assert (await pay(emulator, tokens["visa"], "t-1", headers=pick("kind-account-type")))["status"] == 100
    assert (await pay(emulator, tokens["ach"], "t-2", account_type="AC",
                      headers=pick("kind-account-type")))["status"] == 853
    assert (await pay(emulator, tokens["ach"], "t-3", account_type="SD",
                      headers=pick("kind-account-type")))["status"] == 853
    # at verify too: the raw account type of the request
    body = await verify(emulator, {**ACH, "account_type": "SD"}, headers=pick("kind-account-type"))
    assert body["status"] == 853


@pytest.mark.parametrize("scenario, hits, misses, status", [
    ("kind-account-exact", ["visa"], ["4242", "mc"], 854),
    ("kind-account-prefix", ["4242"], ["visa", "mc"], 855),
    ("kind-account-regex", ["mc"], ["visa", "4242"], 856),
    ("kind-account-last4", ["mc"], ["visa", "4242"], 857),
])
async def test_match_account(kinds, scenario, hits, misses, status):
    emulator, tokens = kinds
    for index, name in enumerate(hits):
        assert (await pay(emulator, tokens[name], f"h-{index}", headers=pick(scenario)))["status"] == status
    for index, name in enumerate(misses):
        assert (await pay(emulator, tokens[name], f"m-{index}", headers=pick(scenario)))["status"] == 100


@pytest.mark.parametrize("scenario, amounts", [
    ("kind-amount-exact", [(42.42, 601), (42.43, 100), (42.41, 100), (424.2, 100)]),
    ("kind-amount-range", [(99.99, 100), (100, 602), (150.5, 602), (200, 602), (200.01, 100)]),
    ("kind-amount-cents", [(1.37, 603), (7.38, 603), (1.39, 100), (37, 100), (0.37, 603)]),
])
async def test_match_amount(kinds, scenario, amounts):
    emulator, tokens = kinds
    for index, (amount, status) in enumerate(amounts):
        body = await pay(emulator, tokens["visa"], f"amt-{index}", amount=amount, headers=pick(scenario))
        assert body["status"] == status, (amount, body)


async def test_match_recipient_names_ignores_case(kinds):
    emulator, _ = kinds
    # three different cards, each with its own recipient
    matching = await tokenize(emulator, {**CARD, "account": "4000056655665556", "recipient_first_name": "ZED",
                                         "recipient_last_name": "sMITH"})
    wrong_last = await tokenize(emulator, {**CARD, "account": "4012888888881881", "recipient_first_name": "zed",
                                           "recipient_last_name": "Jones"})
    wrong_first = await tokenize(emulator, {**CARD, "account": "4111111111111111", "recipient_first_name": "Zedd",
                                            "recipient_last_name": "SMITHERS"})
    assert (await pay(emulator, matching, "r-1", headers=pick("kind-recipient")))["status"] == 604
    assert (await pay(emulator, wrong_last, "r-2", headers=pick("kind-recipient")))["status"] == 100
    assert (await pay(emulator, wrong_first, "r-3", headers=pick("kind-recipient")))["status"] == 100


async def test_match_business_name_regex_ignores_case(kinds):
    emulator, _ = kinds
    body = await verify(emulator, {**ACH, "recipient_business_name": "ACME Widgets"}, headers=pick("kind-business"))
    assert body["status"] == 700
    body = await verify(emulator, {**ACH, "recipient_business_name": "Not Acme"}, headers=pick("kind-business"))
    assert body["status"] == 100


async def test_match_participant_unique_id1(kinds):
    emulator, tokens = kinds
    assert (await pay(emulator, tokens["visa"], "fail-17", headers=pick("kind-puid1")))["status"] == 701
    assert (await pay(emulator, tokens["visa"], "fail-x", headers=pick("kind-puid1")))["status"] == 100
    assert (await pay(emulator, tokens["visa"], "ok-fail-1", headers=pick("kind-puid1")))["status"] == 100


async def test_match_request_header(kinds):
    emulator, tokens = kinds
    assert (await pay(emulator, tokens["visa"], "hd-1",
                      headers={**pick("kind-header"), "x-test-case": "boom"}))["status"] == 710
    assert (await pay(emulator, tokens["visa"], "hd-2",
                      headers={**pick("kind-header"), "X-Test-Case": "calm"}))["status"] == 100
    assert (await pay(emulator, tokens["visa"], "hd-3", headers=pick("kind-header")))["status"] == 100


async def test_match_funding_destination(kinds):
    emulator, tokens = kinds
    assert (await pay(emulator, tokens["ach"], "fd-1", account_type="AC",
                      headers=pick("kind-funding")))["status"] == 751
    assert (await pay(emulator, tokens["visa"], "fd-2", headers=pick("kind-funding")))["status"] == 100


async def test_match_nth_single(kinds):
    emulator, tokens = kinds
    statuses = [(await pay(emulator, tokens["visa"], f"nth-{n}", headers=pick("kind-nth")))["status"]
                for n in range(3)]
    assert statuses == [100, 859, 100]


async def test_inactive_scenarios_do_not_apply_without_the_header(kinds):
    emulator, tokens = kinds
    assert (await pay(emulator, tokens["visa"], "inactive-1", amount=150.0))["status"] == 100
    assert (await pay(emulator, tokens["mc"], "inactive-3"))["status"] == 100
    assert (await pay(emulator, tokens["ach"], "inactive-2", account_type="AC"))["status"] == 100


# -- what a rule answers -----------------------------------------------------------------------------------------

OVERRIDES = """\
    scenarios:
      - name: overrides
        rules:
          - name: decorate
            match: {endpoint: process, amount: {max: 50}}
            respond:
              data:
                echoed_amount: "{{request.amount}}"
                note: "paid {{request.amount}} to card ending {{token.last_4}}"
                payee: "{{faker.name}}"
                estimated_posting_time: "Payment will post whenever"
          - name: custom-decline
            match: {endpoint: process, amount: 66.6}
            respond: {status: 4242, message: "Emulator-only decline", data: {reason: "{{request.participant_unique_id1}}"}}
          - name: custom-success
            match: {endpoint: process, amount: 77.7}
            respond: {status: 120, message: "Custom soft success"}
          - name: http-status
            match: {endpoint: process, amount: 88.8}
            respond: {status: 851, http_status: 402}
          - name: http-status-on-success
            match: {endpoint: process, amount: 99.9}
            respond: {http_status: 202}
"""  # noqa: E501 - custom-decline's respond is one YAML line of the file under test: wrapping it would change the file


async def test_data_overrides_with_templates(make):
    emulator = await make(OVERRIDES, seed=7)
    token = await tokenize(emulator)
    body = await pay(emulator, token, "o-1", amount=10.5)
    assert (body["status"], body["client_message"]) == (100, "Success")
    data = body["data"]
    assert data["echoed_amount"] == 10.5  # a value that is a whole template keeps the request's type
    assert data["note"] == "paid 10.5 to card ending 1111"
    assert data["estimated_posting_time"] == "Payment will post whenever"
    assert data["customer_account_token"] == token  # other fields are kept
    assert isinstance(data["payee"], str) and len(data["payee"].split()) >= 2


async def test_faker_values_are_reproducible_with_a_seed(make):
    names = []
    for seed in (7, 7, 8):
        emulator = await make(OVERRIDES, seed=seed)
        token = await tokenize(emulator)
        first = (await pay(emulator, token, "s-1"))["data"]["payee"]
        second = (await pay(emulator, token, "s-2"))["data"]["payee"]
        names.append((first, second))
    assert names[0] == names[1]
    assert names[0] != names[2]


async def test_explicit_status_and_message_not_in_the_catalogue(make):
    emulator = await make(OVERRIDES)
    token = await tokenize(emulator)
    body = await pay(emulator, token, "c-1", amount=66.6)
    assert (body["status"], body["client_message"]) == (4242, "Emulator-only decline")
    assert body["data"]["reason"] == "c-1"
    assert "transaction_id" not in body["data"]
    body = await pay(emulator, token, "c-2", amount=77.7)
    assert (body["status"], body["client_message"]) == (120, "Custom soft success")
    assert isinstance(body["data"]["transaction_id"], int)  # a success still pays


async def test_http_status_override(make):
    emulator = await make(OVERRIDES)
    token = await tokenize(emulator)
    body = await pay(emulator, token, "h-1", amount=88.8, expect_http=402)
    assert (body["status"], body["client_message"]) == (851, "Declined - Insufficient funds")
    body = await pay(emulator, token, "h-2", amount=99.9, expect_http=202)
    assert (body["status"], body["client_message"]) == (100, "Success")
    assert (await last_journal(emulator))["http_status"] == 202


# -- control at run time -----------------------------------------------------------------------------------------

SWITCHABLE = """\
    scenarios:
      - name: switchable
        active: false
        rules:
          - {name: decline, match: {endpoint: process}, respond: {status: 856}}
"""


async def test_activate_and_deactivate_for_everyone(make):
    emulator = await make(SWITCHABLE)
    other = emulator.as_user("other")
    mine, theirs = await tokenize(emulator), await tokenize(other, participant_id=54321)
    assert (await pay(emulator, mine, "g-1"))["status"] == 100
    status, body = await admin(emulator, "POST", "/_emulator/scenarios/switchable/activate")
    assert status == 200, body
    assert (await pay(emulator, mine, "g-2"))["status"] == 856
    assert (await pay(other, theirs, "g-3", participant_id=54321))["status"] == 856
    status, listing = await admin(emulator, "GET", "/_emulator/scenarios")
    entry = next(s for s in listing["scenarios"] if s["name"] == "switchable")
    assert entry["active"] is True
    status, body = await admin(emulator, "POST", "/_emulator/scenarios/switchable/deactivate")
    assert status == 200, body
    assert (await pay(emulator, mine, "g-4"))["status"] == 100
    assert (await pay(other, theirs, "g-5", participant_id=54321))["status"] == 100


async def test_activate_for_one_participant(make):
    emulator = await make(SWITCHABLE)
    other = emulator.as_user("other")
    mine, theirs = await tokenize(emulator), await tokenize(other, participant_id=54321)
    status, body = await admin(emulator, "POST", "/_emulator/scenarios/switchable/activate",
                               json={"participant_id": 54321})
    assert status == 200, body
    assert (await pay(emulator, mine, "p-1"))["status"] == 100
    assert (await pay(other, theirs, "p-2", participant_id=54321))["status"] == 856
    status, listing = await admin(emulator, "GET", "/_emulator/scenarios")
    entry = next(s for s in listing["scenarios"] if s["name"] == "switchable")
    assert (entry["active"], entry["active_for"]) == (False, [54321])
    status, body = await admin(emulator, "POST", "/_emulator/scenarios/switchable/deactivate",
                               json={"participant_id": 54321})
    assert status == 200, body
    assert (await pay(other, theirs, "p-3", participant_id=54321))["status"] == 100


async def test_activating_an_unknown_scenario_is_404(make):
    emulator = await make(SWITCHABLE)
    status, body = await admin(emulator, "POST", "/_emulator/scenarios/nope/activate")
    assert (status, body["message"]) == (404, "no scenario is named 'nope'")
    status, body = await admin(emulator, "POST", "/_emulator/scenarios/switchable/activate",
                               json={"participant_id": "54321"})
    assert status == 400


async def test_header_picks_a_scenario_for_one_request(make):
    emulator = await make(SWITCHABLE)
    token = await tokenize(emulator)
    assert (await pay(emulator, token, "x-1", headers=pick("switchable")))["status"] == 856
    assert (await last_journal(emulator))["matched_rule"] == "switchable/decline"
    assert (await pay(emulator, token, "x-2"))["status"] == 100


async def test_header_none_turns_scenarios_off_for_one_request(make):
    emulator = await make()
    magic = await tokenize(emulator, {**CARD, "account": MAGIC_851_CARD})
    body = await pay(emulator, magic, "none-1", headers={"X-Emulator-Scenario": "none"})
    assert body["status"] == 100
    assert (await last_journal(emulator))["matched_rule"] == "none"
    body = await pay(emulator, magic, "none-2")
    assert (body["status"], body["client_message"]) == (851, "Declined - Insufficient funds")
    assert (await last_journal(emulator))["matched_rule"] == "magic-values/card-851"


async def test_no_default_scenarios_makes_magic_values_approve(make):
    emulator = await make(default_scenarios=False)
    magic = await tokenize(emulator, {**CARD, "account": MAGIC_851_CARD})
    assert (await pay(emulator, magic, "d-1", amount=10.51))["status"] == 100
    status, body = await admin(emulator, "GET", "/_emulator/triggers")
    assert (status, body["count"]) == (200, 0)


async def test_reload_from_disk(make, tmp_path):
    emulator = await make(SWITCHABLE.replace("active: false", "active: true"))
    path = emulator.runtime.settings.scenarios[0]
    token = await tokenize(emulator)
    assert (await pay(emulator, token, "rl-1"))["status"] == 856
    path.write_text(textwrap.dedent("""\
        scenarios:
          - name: switchable
            rules:
              - {name: decline, match: {endpoint: process}, respond: {status: 857}}
    """), encoding="utf-8")
    status, body = await admin(emulator, "POST", "/_emulator/scenarios/reload")
    assert status == 200, body
    assert "switchable" in body["reloaded"] and "magic-values" in body["reloaded"]
    assert (await pay(emulator, token, "rl-2"))["status"] == 857

    path.write_text("scenarios:\n  - name: switchable\n    rules:\n      - {name: decline, respond: {status: 9999}}\n",
                    encoding="utf-8")
    status, body = await admin(emulator, "POST", "/_emulator/scenarios/reload")
    assert status == 400
    assert body["problems"] == [
        f"{path}:4:43: 'status': unknown Ingo status 9999, expected a code from the catalogue "
        "(ingopay-emulator triggers lists them), or give 'message' with it"]
    assert (await pay(emulator, token, "rl-3"))["status"] == 857  # the old rules are kept


async def test_upload_adds_scenarios(make):
    emulator = await make()
    token = await tokenize(emulator)
    document = ("scenarios:\n  - name: uploaded\n    rules:\n"
                "      - {name: r, match: {endpoint: process}, respond: {status: 858}}\n")
    status, body = await admin(emulator, "POST", "/_emulator/scenarios", data=document.encode(),
                               headers={"Content-Type": "application/yaml"})
    assert (status, body) == (201, {"added": ["uploaded"]})
    assert (await pay(emulator, token, "u-1"))["status"] == 858
    assert (await last_journal(emulator))["matched_rule"] == "uploaded/r"


async def test_upload_of_an_invalid_document_answers_400_with_positions(make):
    emulator = await make()
    document = ("scenarios:\n"
                "  - name: broken\n"
                "    rules:\n"
                "      - name: r\n"
                "        match: {amount: {cents: 120}, colour: red}\n"
                "        respond: {status: 851, latency: fast}\n")
    status, body = await admin(emulator, "POST", "/_emulator/scenarios?name=mine.yaml", data=document.encode())
    assert status == 400
    assert body["message"] == "invalid scenario document"
    assert body["problems"] == [
        "mine.yaml:5:33: 'cents' must be less than or equal to 99, got 120",
        "mine.yaml:5:39: unknown key 'colour' in match, expected one of: endpoint, account_type, account, amount, "
        "recipient, participant_unique_id1, headers, funding_destination, nth",
        "mine.yaml:6:41: 'latency' must be seconds (a number) or a mapping with min and max, got 'fast'",
    ]
    status, listing = await admin(emulator, "GET", "/_emulator/scenarios")
    assert "broken" not in [s["name"] for s in listing["scenarios"]]
    status, body = await admin(emulator, "POST", "/_emulator/scenarios", data=b"scenarios: [\n")
    assert status == 400
    assert body["problems"] == [
        "upload.yaml:2:1: YAML syntax error: expected the node content, but found '<stream end>'"]


# -- triggers and the journal ------------------------------------------------------------------------------------


async def test_triggers_endpoint_lists_bundled_and_user_triggers(make):
    emulator = await make(SWITCHABLE)
    status, body = await admin(emulator, "GET", "/_emulator/triggers")
    assert status == 200
    rows = {(r["scenario"], r["rule"]): r for r in body["triggers"]}
    assert body["count"] == len(body["triggers"])
    card = rows[("magic-values", "card-851")]
    assert (card["trigger"], card["endpoint"], card["status"], card["message"]) == (
        "account 4000000085100008 (CA)", "process, debit", 851, "Declined - Insufficient funds")
    assert (card["source"], card["page"]) == ("emulator", None)  # Ingo publishes the 851-867 family, not 851
    name = rows[("magic-values", "name-13723")]
    assert (name["trigger"], name["endpoint"], name["status"], name["message"]) == (
        "recipient last name Magic13723", "session", 13723, "Idempotency key mismatch")
    assert (name["source"], name["page"]) == (
        "ingo", "https://developers.ingopayments.com/docs/iframe/session/session-management")
    returned = rows[("magic-values", "card-1114")]
    assert (returned["status"], returned["source"]) == (100, "ingo")
    assert returned["events"] == [{"after_seconds": 172800.0, "after": "2d",
                                   "topic": "gateway.transaction.recipient.payment.status.returned", "status": 1114,
                                   "source": "ingo",
                                   "page": "https://developers.ingopayments.com/iframe-webhooks/websockets/check-returned",
                                   "topic_source": "ingo", "topic_page":
                                   "https://developer-payments.ingomoney.com/en/ingopay-api/webhook-events/request-examples"}]
    user = rows[("switchable", "decline")]
    assert (user["endpoint"], user["status"], user["message"]) == ("process", 856, "Declined - Account closed")
    assert (user["source"], user["page"]) == ("emulator", None)
    status, body = await admin(emulator, "GET", "/_emulator/triggers?scenario=switchable")
    assert [r["rule"] for r in body["triggers"]] == ["decline"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emulator", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.slow
def test_triggers_command_lists_triggers(tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text(textwrap.dedent(SWITCHABLE), encoding="utf-8")
    result = run_cli("triggers", "--scenarios", str(user))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TRIGGER", "ENDPOINT", "STATUS", "SOURCE", "MESSAGE"]
    card = next(line for line in lines if "4000000085100008" in line)
    assert card.split(None, 3)[:3] == ["account", "4000000085100008", "(CA)"]
    assert "process, debit" in card and " 851 " in card and card.endswith("Declined - Insufficient funds")
    assert " emulator's " in card  # an invented code says so
    avs = next(line for line in lines if "4000000075300006" in line)
    assert " 753     Ingo " in avs and avs.endswith("AVS Declined - Street address matches but the zip does not")
    assert not [line for line in lines if "+ events" in line]
    # each follow-up event on its own indented line under its rule: status, topic and delay
    at = lines.index(next(line for line in lines if "4000000111400000" in line))
    assert lines[at + 1] == "    + 1114 gateway.transaction.recipient.payment.status.returned after 2d (Ingo)"
    assert not lines[at + 2].startswith(" ")
    at = lines.index(next(line for line in lines if "4000000110700004" in line))
    assert lines[at + 1:at + 3] == [
        "    + 1106 gateway.transaction.recipient.verification.ofac.status.suspended after 0s (Ingo)",
        "    + 1107 gateway.transaction.recipient.verification.ofac.status.cleared after 1h (Ingo)"]
    assert any(line.split()[:4] == ["any", "request", "process", "856"] and line.endswith("Declined - Account closed")
               for line in lines)  # the user's rule
    assert any("amount cents .51" in line and line.rstrip().endswith("Declined - Insufficient funds")
               for line in lines)

    result = run_cli("triggers", "--no-default-scenarios", "--scenarios", str(user), "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["scenario"], r["rule"], r["status"], r["message"], r["source"], r["page"]) for r in rows] == [
        ("switchable", "decline", 856, "Declined - Account closed", "emulator", None)]


@pytest.mark.slow
def test_triggers_command_marks_a_rules_own_message_and_lists_its_events(tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text(textwrap.dedent("""\
        scenarios:
          - name: mine
            rules:
              - name: own
                match: {endpoint: process}
                respond:
                  status: 4711
                  message: Partner says no
                  events:
                    - {after: 90m, topic: gateway.transaction.recipient.payment.status.check.paid}
                    - {after: 1.5, topic: gateway.transaction.recipient.payment.status.returned, status: 851}
    """), encoding="utf-8")
    result = run_cli("triggers", "--no-default-scenarios", "--scenarios", str(user))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "any request  process   4711    scenario's  Partner says no",
        "    + 100 gateway.transaction.recipient.payment.status.check.paid after 90m (Ingo)",
        "    + 851 gateway.transaction.recipient.payment.status.returned after 1.5s (code: emulator's; topic: Ingo)"]
    result = run_cli("triggers", "--no-default-scenarios", "--scenarios", str(user), "--json")
    [row] = json.loads(result.stdout)
    assert (row["source"], row["page"]) == ("scenario", None)
    assert [(e["after_seconds"], e["after"], e["status"], e["source"]) for e in row["events"]] == [
        (5400.0, "90m", None, "ingo"), (1.5, "1.5s", 851, "emulator")]
