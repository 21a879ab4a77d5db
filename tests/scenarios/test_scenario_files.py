"""Invalid scenario files give exact `file:line:column: message` lines: in-process, from `check`, at start-up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from emulator.scenarios.loader import ScenarioError, load_paths
from tests.support.paths import ROOT

TOPICS = ("plugin.transaction.account.tokenization.success, plugin.transaction.recipient.verification.rvdm.success, "
          "plugin.transaction.recipient.verification.rvdm.failure, "
          "plugin.transaction.account.verification.ach.nav.failure, "
          "plugin.transaction.session.request.terminated, "
          "gateway.transaction.recipient.verification.ofac.status.suspended, "
          "gateway.transaction.recipient.verification.ofac.status.cleared, "
          "gateway.transaction.recipient.verification.ofac.status.failure, "
          "gateway.transaction.recipient.payment.status.returned, "
          "gateway.transaction.recipient.payment.status.check.issued, "
          "gateway.transaction.recipient.payment.status.check.paid, "
          "gateway.transaction.recipient.payment.status.check.stopped, "
          "gateway.transaction.recipient.status.payment.check.returned, "
          "gateway.transaction.recipient.payment.status.terminated, "
          "gateway.transaction.recipient.payment.status.success")

# name: (file text, expected problems as "line:column: message")
CASES = {
    "syntax": ("""\
        scenarios:
          - name: broken
            rules:
              - name: r
                match: {endpoint: process
                respond: {status: 851}
        """, ["6:16: YAML syntax error: expected ',' or '}', but got ':'"]),
    "tabs": ("scenarios:\n\t- name: tabbed\n",
             ["2:1: YAML syntax error: found character '\\t' that cannot start any token"]),
    "unknown-keys": ("""\
        scenarios:
          - name: unknown-keys
            colour: blue
            rules:
              - name: r
                match:
                  endpoint: process
                  card_number: "4111111111111111"
                respond:
                  status: 851
                  delay: 2
        """, [
        "3:5: unknown key 'colour' in scenario, expected one of: name, description, active, rules",
        "8:11: unknown key 'card_number' in match, expected one of: endpoint, account_type, account, amount, "
        "recipient, participant_unique_id1, headers, funding_destination, nth",
        "11:11: unknown key 'delay' in respond, expected one of: message, status, http_status, data, latency, "
        "fault, events",
    ]),
    "wrong-types": ("""\
        scenarios:
          - name: wrong-types
            active: "yes"
            rules:
              - name: r
                match:
                  amount: "ten"
                  nth: first
                  endpoint: [process, refund]
                respond:
                  status: "851"
                  http_status: 700
                  latency: {min: 2, max: 1}
                  fault: explode
        """, [
        "3:13: 'active' must be true or false, got 'yes'",
        "7:19: 'amount' must be a number or a mapping with exact, min, max, cents, got 'ten'",
        "8:16: 'nth' must be a number, a list of numbers, or a mapping with in, from, to, every, got 'first'",
        "9:31: 'endpoint' is 'refund', expected one of: 'verify', 'process', 'debit', 'biller_search', "
        "'search', 'risk_session', 'risk_score', 'session' or 'plugin'",
        "11:19: 'status' must be an integer, got '851'",
        "12:24: 'http_status' must be less than or equal to 599, got 700",
        "13:20: 'latency': max must not be less than min",
        "14:18: 'fault' is 'explode', expected one of: 'connection_reset', 'empty_reply', 'hang', 'http_502', "
        "'http_503' or 'http_504'",
    ]),
    "rules-not-a-list": ("""\
        scenarios:
          - name: flat
            rules: {name: r}
        """, ["3:12: 'rules' must be a list"]),
    "unknown-code": ("""\
        scenarios:
          - name: codes
            rules:
              - name: unknown-code
                respond: {status: 8510}
              - name: explicit-code-and-message-is-fine
                respond: {status: 8510, message: "Our own decline"}
        """, ["5:27: 'status': unknown Ingo status 8510, expected a code from the catalogue "
              "(ingopay-emulator triggers lists them), or give 'message' with it"]),
    "bad-regex": ("""\
        scenarios:
          - name: regex
            rules:
              - name: r
                match:
                  account: {regex: "^4[0-9"}
                  participant_unique_id1: {regex: "(unclosed"}
                respond: {status: 851}
        """, [
        "6:28: scenario 'regex', rule 'r': 'regex': invalid regular expression '^4[0-9': missing ] at position 2 "
        "('[0-9') (RE2 syntax, see docs/scenarios.md#patterns)",
        "7:43: scenario 'regex', rule 'r': 'regex': invalid regular expression '(unclosed': missing ) at position 0 "
        "('(unclosed') (RE2 syntax, see docs/scenarios.md#patterns)",
    ]),
    # patterns run on RE2 (linear time): what only a backtracking engine runs is refused where it is written
    "backtracking-regex": ("""\
        scenarios:
          - name: hostile
            rules:
              - name: same-twice
                match: {participant_unique_id1: {regex: '^(a+)-\\1$'}}
                respond: {status: 851}
              - name: not-followed
                match: {recipient: {last_name: {regex: 'Smith(?!son)'}}}
                respond: {status: 851}
        """, [
        "5:49: scenario 'hostile', rule 'same-twice': 'regex': '^(a+)-\\\\1$' uses a backreference (\\1) at "
        "position 6, which RE2 cannot run: patterns are RE2 syntax, matched in time linear in the text, so no "
        "backreferences, lookaround, atomic groups or possessive quantifiers (docs/scenarios.md#patterns)",
        "8:48: scenario 'hostile', rule 'not-followed': 'regex': 'Smith(?!son)' uses a negative lookahead ((?!) at "
        "position 5, which RE2 cannot run: patterns are RE2 syntax, matched in time linear in the text, so no "
        "backreferences, lookaround, atomic groups or possessive quantifiers (docs/scenarios.md#patterns)",
    ]),
    "unknown-topic": ("""\
        scenarios:
          - name: topic
            rules:
              - name: r
                respond:
                  status: 100
                  events:
                    - {after: 2d, topic: gateway.payment.returned, status: 1114}
                    - {after: soon, topic: gateway.transaction.recipient.payment.status.returned}
        """, [
        f"8:34: 'topic': unknown webhook topic 'gateway.payment.returned'; expected one of: {TOPICS}",
        "9:23: 'after': 'soon' is not a duration; expected seconds or a text such as 30s, 15m, 48h, 2d",
    ]),
    "not-a-mapping": ("""\
        - name: not-a-mapping
          rules: []
        """, ["1:1: expected a mapping with a 'scenarios' list at the top of the file"]),
    "empty": ("", ["1:1: expected a mapping with a 'scenarios' list at the top of the file"]),
    "names": ("""\
        version: 2
        scenarios:
          - name: "bad name!"
            rules:
              - name: same
                respond: {status: 851}
              - name: same
                respond: {}
              - match: {endpoint: process}
                respond: {status: 851}
        """, [
        "1:10: 'version' is 2, expected one of: 1",
        "3:11: 'name' does not match the expected form ^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$, got 'bad name!'",
        "7:15: two rules are named 'same'; rule names must be unique in a scenario",
        "9:9: rule is missing the required key 'name'",
    ]),
    "duplicate-key": ("""\
        scenarios:
          - name: dupkey
            rules:
              - name: r
                respond: {status: 851}
                respond: {status: 852}
        """, ["6:9: duplicate key 'respond'"]),
    "missing-rules": ("""\
        scenarios:
          - name: no-rules
            description: forgot them
        """, ["2:5: scenario is missing the required key 'rules'"]),
}

GOOD = """\
    # yaml-language-server: $schema=../docs/scenario.schema.json
    scenarios:
      - name: good
        rules:
          - name: decline-twice
            match: {endpoint: process, nth: [1, 2]}
            respond: {status: 851, latency: {min: 0.1, max: 0.2}}
          - name: returned
            match: {amount: {cents: 99}}
            respond:
              status: 100
              events: [{after: 2d, topic: gateway.transaction.recipient.payment.status.returned}]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def expected_lines(path: Path, problems: list[str]) -> list[str]:
    return [f"{path}:{problem}" for problem in problems]


@pytest.mark.parametrize("name", list(CASES))
def test_problem_lines(tmp_path, name):
    text, problems = CASES[name]
    path = write(tmp_path, name, text)
    with pytest.raises(ScenarioError) as caught:
        load_paths([path])
    assert [str(p) for p in caught.value.problems] == expected_lines(path, problems)


def test_duplicate_scenario_names_across_files(tmp_path):
    text = "scenarios:\n  - name: shared\n    rules:\n      - {name: r, respond: {status: 851}}\n"
    first, second = write(tmp_path, "a", text), write(tmp_path, "b", text)
    with pytest.raises(ScenarioError) as caught:
        load_paths([first, second])
    assert [str(p) for p in caught.value.problems] == [
        f"{second}:2:11: scenario 'shared' is also defined in {first}:2:11; names must be unique"]


def test_duplicate_scenario_names_in_one_file(tmp_path):
    path = write(tmp_path, "twice", "scenarios:\n  - name: twice\n    rules: []\n  - name: twice\n    rules: []\n")
    with pytest.raises(ScenarioError) as caught:
        load_paths([path])
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:4:11: scenario 'twice' is also defined in {path}:2:11; names must be unique"]


def test_a_missing_file(tmp_path):
    with pytest.raises(ScenarioError) as caught:
        load_paths([tmp_path / "nope.yaml"])
    assert [str(p) for p in caught.value.problems] == [f"{tmp_path / 'nope.yaml'}:1:1: no such file or folder"]


def test_a_good_file_loads(tmp_path):
    loaded = load_paths([write(tmp_path, "good", GOOD)])
    assert [(item.scenario.name, [r.name for r in item.scenario.rules]) for item in loaded] == [
        ("good", ["decline-twice", "returned"])]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emulator", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.slow
def test_check_command_prints_every_problem_and_exits_1(tmp_path):
    paths, lines = [], []
    for name, (text, problems) in CASES.items():
        path = write(tmp_path, name, text)
        paths.append(path)
        lines += expected_lines(path, problems)
    shared = "scenarios:\n  - name: shared\n    rules:\n      - {name: r, respond: {status: 851}}\n"
    first, second = write(tmp_path, "dup-1", shared), write(tmp_path, "dup-2", shared)
    lines.append(f"{second}:2:11: scenario 'shared' is also defined in {first}:2:11; names must be unique")
    result = run("check", *map(str, paths), str(first), str(second))
    assert result.returncode == 1
    assert result.stdout.splitlines() == lines
    assert result.stderr.strip() == f"{len(lines)} problems found"


@pytest.mark.slow
def test_check_command_accepts_a_good_file_and_a_folder(tmp_path):
    path = write(tmp_path, "good", GOOD)
    result = run("check", str(path))
    assert (result.returncode, result.stdout) == (0, "ok: 1 scenario, 2 rules\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    write(folder, "one", GOOD)
    write(folder, "two", GOOD.replace("name: good", "name: also-good"))
    result = run("check", str(folder))
    assert (result.returncode, result.stdout) == (0, "ok: 2 scenarios, 4 rules\n")


def test_the_bundled_scenarios_load_clean():
    loaded = load_paths([ROOT / "scenarios"])
    assert [item.scenario.name for item in loaded] == ["magic-values"]


@pytest.mark.slow
def test_server_refuses_to_start_on_an_invalid_file(tmp_path):
    text, problems = CASES["wrong-types"]
    path = write(tmp_path, "wrong-types", text)
    result = subprocess.run([sys.executable, "-m", "emulator", "--scenarios", str(path), "--port", "0",
                             "--host", "127.0.0.1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "ready on" not in result.stdout
    lines = result.stderr.splitlines()
    assert lines[0] == "ingopay-emulator: invalid scenario files, not starting:"
    assert lines[1:] == expected_lines(path, problems)
