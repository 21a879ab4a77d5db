"""The README and the docs pages its sections moved to, as a new user reads them: their commands run, their tables
match the code, their examples work."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emulator.admin import urls as admin_urls
from emulator.cli import commands_markdown
from emulator.core.credentials import parse_credentials
from emulator.scenarios.loader import load_text
from emulator.settings import markdown_table
from tests.support.paths import ROOT
from tests.support.sockets import free_port

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"


def page(name: str) -> str:
    """A page of docs/, as committed."""
    return (DOCS / name).read_text(encoding="utf-8")


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)




def start_server(*args: str) -> tuple[subprocess.Popen[str], str]:
    command = [str(Path(sys.executable).parent / "ingopay-emulator"), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    line = process.stdout.readline()
    if "ready on" not in line:
        process.kill()
        raise AssertionError(f"no ready line: {line!r} {process.stderr.read()}")
    return process, line.split("ready on ", 1)[1].split()[0]


def test_readme_opens_with_exactly_two_set_up_commands_and_ci_runs_the_test_one():
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = [b.strip() for b in blocks(setup, "sh")]
    assert len(commands) == 2
    run, test = commands
    assert run.endswith("ingopay-emulator") and "pip install ." in run
    assert test == "./scripts/test" and "pytest" in (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines(), ".ci/run must run exactly the README's test command"


@pytest.mark.slow
def test_the_installed_command_starts_with_bundled_defaults_and_prints_one_ready_line():
    port = free_port()
    process, url = start_server("--port", str(port))
    try:
        assert url == f"http://127.0.0.1:{port}"
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        triggers = subprocess.run([sys.executable, "-m", "emulator", "healthcheck", "--port", str(port)],
                                  capture_output=True, text=True, timeout=30)
        assert triggers.returncode == 0, triggers.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


@pytest.mark.slow
def test_quick_start_commands_work_against_a_running_emulator():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    script = blocks(quick, "sh")[0]
    port = free_port()
    process, _ = start_server("--port", str(port))
    try:
        runnable = (script.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
                    .replace(".venv/bin/ingopay-emulator", f"{sys.executable} -m emulator"))
        result = subprocess.run(["bash", "-c", runnable], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert answer["status"] == 100 and answer["data"]["last_4"] == "1111"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_configuration_table_lists_every_setting():
    section = page("configuration.md").split("<!-- configuration:start -->", 1)[1]
    section = section.split("<!-- configuration:end -->", 1)[0]
    assert section.strip() == markdown_table(), "run: .venv/bin/python scripts/regenerate"


def test_configuration_section_lists_the_flags_of_sign_healthcheck_and_triggers():
    section = page("commands.md").split("<!-- commands:start -->", 1)[1].split("<!-- commands:end -->", 1)[0]
    assert section.strip() == commands_markdown(), "run: .venv/bin/python scripts/regenerate"
    for command in ("sign", "healthcheck", "triggers"):
        assert f"`ingopay-emulator {command}`" in section


@pytest.mark.slow
def test_every_generated_file_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "regenerate"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_quick_start_python_snippet_runs_as_written():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    snippet = blocks(quick, "python")[0]
    port = free_port()
    process, _ = start_server("--port", str(port))
    try:
        runnable = snippet.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        assert runnable != snippet, "the snippet must name the emulator's default URL"
        result = subprocess.run([sys.executable, "-c", runnable], capture_output=True, text=True, timeout=60,
                                cwd=ROOT)
        assert result.returncode == 0, result.stderr
        status, token = result.stdout.split()
        assert status == "100" and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", token)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_admin_api_table_lists_every_admin_path():
    section = "\n".join(line for line in page("admin-api.md").splitlines() if line.startswith("| "))
    for path in (route.path for route in admin_urls.ROUTES):
        top = "/" + "/".join(path.strip("/").split("/")[:2])
        assert f"`{top}" in section, f"{path} is not in docs/admin-api.md's table"


@pytest.mark.parametrize("document", ["README.md", "docs/scenarios.md", "docs/configuration.md"])
def test_yaml_examples_are_valid(document):
    text = (ROOT / document).read_text(encoding="utf-8")
    found = blocks(text, "yaml")
    assert found
    for block in found:
        parsed = yaml.safe_load(block)
        if isinstance(parsed, dict) and "scenarios" in parsed:
            assert load_text(block, document)
        elif isinstance(parsed, dict) and "services" in parsed:  # the docker compose recipe
            service = parsed["services"]["ingopay"]
            assert service["healthcheck"]["test"] == ["CMD", "ingopay-emulator", "healthcheck"]
            # the test runner calls the admin API by the service's name, which must be allowed (DNS rebinding guard)
            assert service["environment"]["INGOPAY_EMULATOR_ALLOWED_HOSTS"] == "ingopay"
        else:
            assert parse_credentials(parsed, source=document)


@pytest.mark.slow
def test_readme_pytest_example_passes(pytester):
    example = blocks(README.split("### pytest", 1)[1], "python")[0]
    pytester.makepyfile(test_from_readme=example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
