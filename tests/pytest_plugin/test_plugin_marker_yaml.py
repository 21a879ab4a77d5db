"""The ingopay_scenario marker reads a user's YAML as the emulator reads a scenario file: within the session's
scenario limits (scenario_max_bytes, scenario_max_depth, ...), with the emulator's bounded loader, and a problem
named with its place."""

from __future__ import annotations

import pytest

SUITE = '''
import pytest

@pytest.fixture(scope="session")
def ingopay_emulator_options():
    return {"scenario_max_bytes": 100_000, "scenario_max_depth": 8}

DEEP = """
version: 1
scenarios:
  - name: deep
    rules:
      - name: r
        match: {endpoint: process, body: {a: {b: {c: {d: {e: {f: {g: 1}}}}}}}}
        respond: {status: 851}
"""

@pytest.mark.ingopay_scenario(DEEP)
def test_too_deep_for_a_tenant(ingopay_tenant):
    pass

@pytest.mark.ingopay_scenario("big.yaml")
def test_a_file_over_the_limit(ingopay_emulator):
    pass
'''


@pytest.mark.slow
def test_the_markers_yaml_is_read_within_the_sessions_scenario_limits(pytester):
    pytester.makepyfile(test_marker=SUITE)
    big = "version: 1\nscenarios: []\n" + "#" * 120_000 + "\n"
    pytester.path.joinpath("big.yaml").write_text(big, encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rE")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines_random([
        "*ingopay_scenario: test_marker.py (inline):7:*: *nest more than 8 deep*",
        "*ingopay_scenario: *big.yaml is 120* bytes; a scenario file holds at most 100000 (the "
        "scenario_max_bytes setting)*"])
