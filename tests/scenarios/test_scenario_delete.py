"""DELETE /_emulator/scenarios/{name}, over raw HTTP: a scenario added at run time goes (with its activations), one
the scenario files or the bundled set define is refused with a 409 that says why and what to do instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulator.settings import Settings
from emulator.testing import EmulatorServer
from tests.support.outside import Client, admin, call

BROKE = """
version: 1
scenarios:
  - name: broke-{n}
    active: false
    rules:
      - {{name: no-funds, match: {{endpoint: process}}, respond: {{status: 851}}}}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    running = EmulatorServer(Settings(rate_limit=0)).start()
    yield running
    running.stop()


def upload(url: str, text: str) -> list[str]:
    status, _, answer = call(url, "POST", "/_emulator/scenarios?name=run-time.yaml", text.encode(),
                             headers={"Content-Type": "application/yaml"})
    assert status == 201, answer
    return list(answer["added"])


def listed(url: str) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in admin(url, "GET", "/_emulator/scenarios")[1]["scenarios"]}


def test_an_uploaded_scenario_is_deleted_with_its_activations(server: EmulatorServer) -> None:
    client = Client.minted(server.url)
    token = client.token()
    [name] = upload(server.url, BROKE.format(n=1))
    assert listed(server.url)[name]["deletable"] is True
    assert admin(server.url, "POST", f"/_emulator/scenarios/{name}/activate",
                 {"participant_id": client.participant_id})[0] == 200
    assert client.push(token, 5.0, "before-delete")[2]["status"] == 851

    assert admin(server.url, "DELETE", f"/_emulator/scenarios/{name}") == (200, {"deleted": name})
    assert name not in listed(server.url)
    assert client.push(token, 5.0, "after-delete")[2]["status"] == 100  # the tenant is scripted no more
    status, answer = admin(server.url, "DELETE", f"/_emulator/scenarios/{name}")
    assert status == 404 and answer["message"] == f"no scenario is named {name!r}"


def test_a_bundled_scenario_is_refused_with_a_409_that_says_what_to_do(server: EmulatorServer) -> None:
    assert listed(server.url)["magic-values"]["deletable"] is False
    status, answer = admin(server.url, "DELETE", "/_emulator/scenarios/magic-values")
    assert status == 409
    assert "every reset and reload loads it again" in answer["message"]
    assert "POST /_emulator/scenarios/magic-values/deactivate" in answer["message"]
    assert listed(server.url)["magic-values"]["active"] is True


def test_deleting_one_scenario_leaves_the_others(server: EmulatorServer) -> None:
    kept, gone = upload(server.url, BROKE.format(n=2))[0], upload(server.url, BROKE.format(n=3))[0]
    assert admin(server.url, "DELETE", f"/_emulator/scenarios/{gone}")[0] == 200
    names = listed(server.url)
    assert kept in names and gone not in names and "magic-values" in names


@pytest.mark.slow
def test_the_pytest_marker_deletes_what_it_added_on_a_local_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marker='''
import json, urllib.request
import pytest

def names(emulator):
    with urllib.request.urlopen(emulator.url + "/_emulator/scenarios") as response:
        return [s["name"] for s in json.load(response)["scenarios"]]

@pytest.mark.ingopay_scenario("""
version: 1
scenarios:
  - name: for-this-test
    rules:
      - {name: no-funds, match: {endpoint: process}, respond: {status: 851}}
""")
def test_marked(ingopay_emulator):
    assert "for-this-test" in names(ingopay_emulator)

def test_after(ingopay_emulator_server):  # the session's emulator, not reset for this test
    assert "for-this-test" not in names(ingopay_emulator_server)
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)
