"""Hostile scenario files are refused at once: a 12 KB YAML document nested thousands of levels deep is refused
with its file, line and column by the depth limit (--scenario-max-depth) applied while it is parsed, whether it is
checked (`ingopay-emulator check`), loaded at start (--scenarios) or uploaded (POST /_emulator/scenarios).

It used to take seconds of CPU (the parser's look-ahead over thousands of open brackets): each test is bounded by a
timeout far above what a refusal takes now, never by a speed assertion."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from emulator.core import yamlpos
from emulator.scenarios.loader import ScenarioError, load_paths
from tests.support.app import runtime_for, serve

#: Each about 12 KB, nested thousands of levels deep, with where the 65th level opens (the default limit is 64).
HOSTILE = {
    "brackets": ("[" * 6000 + "]" * 6000, "1:65"),
    "unclosed": ("scenarios: " + "[" * 12000, "1:75"),
    "flow-mappings": ("scenarios: " + "{a: " * 3000 + "1" + "}" * 3000, "1:264"),
    "block-sequences": ("- " * 6000 + "x\n", "1:129"),
}
TOO_DEEP = "mappings and sequences nest more than 64 deep (--scenario-max-depth)"
#: Far above the few milliseconds a refusal takes; far below the seconds the parser's look-ahead took.
BOUND = 5.0


@pytest.fixture(params=sorted(HOSTILE))
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """A hostile file and the problem line it must get."""
    text, where = HOSTILE[request.param]
    path = tmp_path / f"{request.param}.yaml"
    path.write_text(text, encoding="utf-8")
    return path, f"{path}:{where}: {TOO_DEEP}"


def refused_within_bound(paths: list[Path]) -> list[str]:
    """The problems load_paths reports, given at most BOUND seconds."""
    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(ScenarioError) as refused:
            pool.submit(load_paths, paths).result(timeout=BOUND)
    return [str(problem) for problem in refused.value.problems]


def test_the_loader_refuses_a_deep_document_where_it_breaks_the_limit(hostile):
    path, line = hostile
    assert refused_within_bound([path]) == [line]


def test_without_libyaml_the_pure_python_parser_refuses_it_as_fast(hostile, monkeypatch):
    path, _ = hostile
    monkeypatch.setattr(yamlpos, "SafeLoader", yamlpos.BoundedSafeLoader)
    (problem,) = refused_within_bound([path])
    assert problem.startswith(f"{path}:1:") and problem.endswith(TOO_DEEP), problem


@pytest.mark.slow
def test_check_prints_the_file_line_and_column(hostile):
    path, line = hostile
    result = subprocess.run([sys.executable, "-m", "emulator", "check", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == line + "\n" and result.stderr == "1 problem found\n"


@pytest.mark.slow
def test_the_emulator_does_not_start_on_it_and_says_where(hostile):
    path, line = hostile
    result = subprocess.run([sys.executable, "-m", "emulator", "--port", "0", "--scenarios", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == "", (result.stdout, result.stderr)
    assert result.stderr == f"ingopay-emulator: invalid scenario files, not starting:\n{line}\n"


async def test_an_upload_is_a_400_that_says_where_and_health_answers_meanwhile(aiohttp_client, clock, hostile):
    path, _ = hostile
    emu = await serve(aiohttp_client, runtime_for(clock))
    upload = asyncio.ensure_future(emu.client.post("/_emulator/scenarios?name=deep.yaml", data=path.read_bytes(),
                                                   headers={"Content-Type": "application/yaml"}))
    health = await asyncio.wait_for(emu.client.get("/_emulator/health"), BOUND)
    assert health.status == 200
    answer = await asyncio.wait_for(upload, BOUND)
    document = await answer.json()
    assert answer.status == 400, document
    _, where = HOSTILE[path.stem]
    assert document["problems"] == [f"deep.yaml:{where}: {TOO_DEEP}"], document
    listed = await (await emu.client.get("/_emulator/scenarios")).json()
    assert "deep.yaml" not in str(listed)  # nothing of it was added


@pytest.mark.slow
def test_the_depth_limit_is_a_setting(tmp_path):
    path = tmp_path / "nested.yaml"  # six levels deep: the file, its list, a scenario, its rules, a rule, its match
    path.write_text("scenarios:\n  - name: s\n    rules:\n      - name: r\n        match: {endpoint: verify}\n"
                    "        respond: {status: 500}\n", encoding="utf-8")
    ok = subprocess.run([sys.executable, "-m", "emulator", "triggers", "--no-default-scenarios", "--scenarios",
                         str(path)], capture_output=True, text=True, timeout=60,
                        env={**os.environ, "INGOPAY_EMULATOR_SCENARIO_MAX_DEPTH": "6"})
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run([sys.executable, "-m", "emulator", "--port", "0", "--scenario-max-depth", "5",
                              "--no-default-scenarios", "--scenarios", str(path)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2, refused.stderr
    assert f"{path}:5:16: mappings and sequences nest more than 5 deep (--scenario-max-depth)" in refused.stderr


@pytest.mark.parametrize("value", ["0", "257"])
def test_a_depth_limit_out_of_range_is_refused_naming_the_setting(value):
    result = subprocess.run([sys.executable, "-m", "emulator", "--port", "0", "--scenario-max-depth", value],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    assert result.stderr.startswith("ingopay-emulator: --scenario-max-depth (INGOPAY_EMULATOR_SCENARIO_MAX_DEPTH) "
                                     "must be from 1 to 256"), result.stderr


@pytest.mark.slow
def test_tight_limits_hold_the_users_files_not_the_bundled_ones(tmp_path):
    """The limits are for what users send: the bundled magic values and readiness plan are the emulator's own and
    load whatever the limits, while the user's file in the same start is still held to them."""
    tight = ["--scenario-max-depth", "5", "--scenario-max-bytes", "400", "--scenario-max-nodes", "50"]
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", *tight],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    try:
        line = process.stdout.readline()
        assert "ready on" in line, line + process.stderr.read()
    finally:
        process.terminate()
        process.wait(timeout=30)
    path = tmp_path / "nested.yaml"
    path.write_text("scenarios:\n  - name: s\n    rules:\n      - name: r\n        match: {endpoint: verify}\n"
                    "        respond: {status: 500}\n", encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "emulator", "--port", "0", *tight, "--scenarios", str(path)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2, refused.stderr
    assert f"{path}:5:16: mappings and sequences nest more than 5 deep (--scenario-max-depth)" in refused.stderr
    assert "magic-values" not in refused.stderr, refused.stderr
