"""The pytest plugin costs nothing until used: pytest loads it in every run of an environment where the emulator is
installed, so loading it, registering its options and running a suite that never asks for its fixtures must not
import the emulator (aiohttp, pydantic, the app). What it costs in time is measured by bench/plugin_cost.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: What the plugin must not import before a fixture needs the emulator.
HEAVY = ("aiohttp", "pydantic", "yaml", "emulator.app", "emulator.testing", "emulator.settings")

#: A pytest run in a fresh interpreter that prints, at the end of the session, which of HEAVY were imported. Other
#: installed plugins are not loaded (pytest-aiohttp alone imports aiohttp), only this one, as pytest loads it.
PROBE = f"""
import json, sys
import pytest

class Probe:
    def pytest_sessionfinish(self):
        print("\\nHEAVY " + json.dumps([name for name in {HEAVY!r} if name in sys.modules]))

sys.exit(pytest.main(sys.argv[1:], plugins=[Probe()]))
"""


def heavy_imports(folder: Path, *options: str) -> tuple[list[str], str]:
    """Run pytest with the plugin on ``folder``'s tests; the heavy modules imported by the end, and the output."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    ran = subprocess.run([sys.executable, "-c", PROBE, "-p", "emulator.pytest_plugin", "-p", "no:cacheprovider",
                          "-q", "--rootdir", str(folder), *options, str(folder)],
                         cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in ran.stdout.splitlines() if line.startswith("HEAVY ")]
    assert ran.returncode == 0 and lines, ran.stdout + ran.stderr
    return json.loads(lines[-1].removeprefix("HEAVY ")), ran.stdout


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n", encoding="utf-8")
    return tmp_path


def test_a_suite_that_never_uses_the_plugin_imports_none_of_the_emulator(suite):
    loaded, output = heavy_imports(suite)
    assert loaded == []
    assert "1 passed" in output


def test_the_findings_options_are_checked_without_importing_the_emulator(suite):
    loaded, output = heavy_imports(suite, "--ingopay-fail-on-findings=double_payout_risk,over_rate_limit",
                                   "--ingopay-ignore-finding", "webhook_ack_too_slow", "--ingopay-count-pace")
    assert loaded == []
    assert "1 passed" in output


def test_the_emulator_is_imported_when_a_test_first_asks_for_it(suite):
    (suite / "test_uses.py").write_text("def test_uses(ingopay_emulator):\n    assert ingopay_emulator.url\n",
                                        encoding="utf-8")
    loaded, output = heavy_imports(suite)
    assert {"aiohttp", "pydantic", "emulator.app", "emulator.testing"} <= set(loaded)
    assert "2 passed" in output
