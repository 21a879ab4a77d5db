"""Patterns users write (scenario rules, waits) cannot freeze the emulator: they run on RE2, in time linear in the
text, so ``^(a+)+$`` against ``aaaaaaaaaaaaaaaaaaaaaaaaaaa!`` (seconds of backtracking in Python's ``re``, doubling
with each ``a``) answers at once while the health check keeps answering; what only a backtracking engine could run
(a backreference, lookaround) is refused where it is written, naming the scenario and the rule, or the field.

Against a real emulator process, over raw HTTP as a suite in any language would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.core.patterns import MAX_TEXT
from tests.support.outside import Client, admin, call
from tests.support.paths import ROOT
from tests.support.sockets import free_port
from tests.support.waiting import eventually
from tests.support.waits import Later

pytestmark = pytest.mark.slow

HOSTILE = "^(a+)+$"
#: The issue's 27 a's and a '!': about 12 s of backtracking in Python's re on the machine the issue was found on.
HOSTILE_ID = "aaaaaaaaaaaaaaaaaaaaaaaaaaa!"
#: 99 a's and a '!': a backtracking engine would not finish in a lifetime; RE2 does not notice the difference.
LONGER_ID = "a" * 99 + "!"
#: Per call: generous, a bound against a hang and not a timing claim.
CALL_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m emulator`` on 127.0.0.1 and a free port: its own process, its own event loop."""
    port = free_port()
    log = tmp_path_factory.mktemp("patterns") / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port),
                                    "--rate-limit", "0", "--quiet"], stdout=subprocess.PIPE, stderr=stderr,
                                   text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                   cwd=ROOT)
        try:
            line = process.stdout.readline() if process.stdout else ""
            assert "ready on" in line, f"the emulator did not start: {line!r} {log.read_text()!r}"
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            if process.stdout:
                process.stdout.close()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


class Health(threading.Thread):
    """Asks /_emulator/health again and again until stopped; keeps each answer's status (None: no answer within
    CALL_TIMEOUT)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.answers: list[int | None] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                status, _ = admin(self.url, "GET", "/_emulator/health", timeout=CALL_TIMEOUT)
            except OSError:
                status = None
            self.answers.append(status)

    def __enter__(self) -> Health:
        self.start()
        asyncio.run(eventually(lambda: self.answers, "a first health answer"))
        return self

    def answered_again(self) -> None:
        """Return once health has answered after this call (the emulator went on serving meanwhile)."""
        seen = len(self.answers)
        asyncio.run(eventually(lambda: len(self.answers) > seen, "health answering"))

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.join(CALL_TIMEOUT + 5)
        assert self.answers and all(status == 200 for status in self.answers), self.answers


def upload(url: str, document: str) -> tuple[int, Any]:
    status, _, answer = call(url, "POST", "/_emulator/scenarios", document.encode(),
                             headers={"Content-Type": "application/yaml"}, timeout=CALL_TIMEOUT)
    return status, answer


def open_waits(url: str, participant_id: int) -> int:
    status, answer = admin(url, "GET", f"/_emulator/waits?participant_id={participant_id}", timeout=CALL_TIMEOUT)
    assert status == 200, answer
    return int(answer["count"])


def test_a_rule_with_a_catastrophic_pattern_answers_at_once_and_health_keeps_answering(url: str) -> None:
    client = Client.minted(url)
    name = f"hostile-ids-{client.participant_id}"
    status, answer = upload(url, f"""
scenarios:
  - name: {name}
    active: false
    rules:
      - name: all-a
        match: {{endpoint: process, participant_unique_id1: {{regex: '{HOSTILE}'}}}}
        respond: {{status: 851}}
""")
    assert status == 201, answer
    status, answer = admin(url, "POST", f"/_emulator/scenarios/{name}/activate",
                           {"participant_id": client.participant_id})
    assert status == 200, answer
    token = client.token()
    with Health(url) as health:
        for hostile in (HOSTILE_ID, LONGER_ID):
            status, _, paid = client.push(token, 5.0, hostile, timeout=CALL_TIMEOUT)
            assert status == 200 and paid["status"] == 100, paid  # the rule does not match: paid as usual
            health.answered_again()
        status, _, declined = client.push(token, 5.0, "aaaa", timeout=CALL_TIMEOUT)
        assert declined["status"] == 851, declined  # the rule does match where it should


def test_a_wait_with_a_catastrophic_pattern_is_answered_and_health_keeps_answering(url: str) -> None:
    client = Client.minted(url)
    token = client.token()
    later = Later(url, {"match": {"participant_id": client.participant_id, "endpoint": "process",
                                  "participant_unique_id1": {"regex": HOSTILE}}, "timeout": 120})
    later.start()
    asyncio.run(eventually(lambda: open_waits(url, client.participant_id) == 1, "the wait open"))
    with Health(url) as health:
        for hostile in (HOSTILE_ID, LONGER_ID):  # each journal entry is offered to the wait: the pattern runs
            status, _, paid = client.push(token, 5.0, hostile, timeout=CALL_TIMEOUT)
            assert status == 200, paid
            health.answered_again()
        assert open_waits(url, client.participant_id) == 1  # neither matched
        client.push(token, 5.0, "aaaa", timeout=CALL_TIMEOUT)
        status, answer = later.result()
    assert status == 200, answer
    assert [e["request_body"]["participant_unique_id1"] for e in answer["requests"]] == ["aaaa"]


def test_a_rule_with_a_backreference_is_refused_naming_the_scenario_the_rule_and_the_position(url: str) -> None:
    status, answer = upload(url, """\
scenarios:
  - name: doubled
    rules:
      - name: same-id-twice
        match: {participant_unique_id1: {regex: '^(.+)-\\1$'}}
        respond: {status: 851}
""")
    assert status == 400, answer
    (problem,) = answer["problems"]
    assert problem.startswith("upload.yaml:5:49: scenario 'doubled', rule 'same-id-twice': 'regex': "), problem
    assert "uses a backreference (\\1) at position 6, which RE2 cannot run" in problem
    status, listing = admin(url, "GET", "/_emulator/scenarios")
    assert "doubled" not in {scenario["name"] for scenario in listing["scenarios"]}  # nothing of it was added


@pytest.mark.parametrize(("pattern", "named"), [
    ("^(.+)-\\1$", "uses a backreference (\\1) at position 6"),
    ("(?<=order-)[0-9]+", "uses a lookbehind ((?<=) at position 0"),
    ("[0-9", "invalid regular expression '[0-9': missing ]"),
])
def test_a_wait_with_a_pattern_re2_cannot_run_is_a_400_naming_the_field(url: str, pattern: str,
                                                                       named: str) -> None:
    status, answer = admin(url, "POST", "/_emulator/requests/wait",
                           {"match": {"participant_unique_id1": {"regex": pattern}}, "timeout": 0})
    assert status == 400, answer
    assert answer["message"].startswith("match.participant_unique_id1.regex: "), answer
    assert named in answer["message"]


def test_a_value_longer_than_the_cap_never_matches_a_pattern(url: str) -> None:
    client = Client.minted(url)
    path = "/gateway/verify"
    for note in ("a" * MAX_TEXT, "a" * (MAX_TEXT + 1)):
        body = (b'{"participant_id": %d, "timestamp": %d, "version": 11, "account_type": "CA", '
                b'"account": "4111111111111111", "expiration_date": "3012", "participant_unique_id1": "n-%d", '
                b'"recipient_first_name": "Ada", "recipient_last_name": "Lovelace", "recipient_address1": "1 Main St", '
                b'"recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}'
                % (client.participant_id, time.time(), len(note)))
        status, _, answer = call(url, "POST", path, body, headers={**client.headers(path, body), "X-Note": note},
                                 timeout=CALL_TIMEOUT)
        assert status == 200, answer
    status, answer = admin(url, "POST", "/_emulator/requests/wait", {
        "match": {"participant_id": client.participant_id, "headers": {"X-Note": {"regex": "^a+$"}}},
        "count": {"at_least": 2}, "timeout": 0})
    assert status == 409 and answer["matched"] == 1, answer
    assert answer["requests"][0]["request_body"]["participant_unique_id1"] == f"n-{MAX_TEXT}"
