"""The smaller trips of a newcomer's first hour (issue 26): each answered with what went wrong and how to fix it,
tried as the newcomer meets it (the command in a subprocess, real HTTP)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

EMULATOR = [sys.executable, "-m", "emulator"]
#: Variables of this test process must not leak into the emulators it starts.
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("INGOPAY_EMULATOR_")}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user types it; it is expected to end by itself (a refusal)."""
    return subprocess.run([*EMULATOR, *args], capture_output=True, text=True, timeout=60,
                          env={**CLEAN_ENV, **(env or {})})


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The last line of a command that refused: exit 2, nothing on stdout, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


# -- a mistyped flag names the flag it most likely meant --------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["--rate-limt", "0"], "unrecognized arguments: --rate-limt 0; did you mean --rate-limit?"),
    (["serve", "--webhook-ulr=http://127.0.0.1:9/hook"], "did you mean --webhook-url?"),
    (["--rate-limt", "0", "--prot", "8081"], "did you mean --rate-limit (for --rate-limt), --port (for --prot)?"),
    (["healtcheck"], "unrecognized arguments: healtcheck; did you mean the command healthcheck?"),
    (["healthcheck", "--scheem", "https"], "did you mean --scheme?"),
    (["--zzzz"], "unrecognized arguments: --zzzz (`ingopay-emulator serve --help` lists the options)"),
])
def test_a_mistyped_flag_is_refused_naming_the_flag_it_most_likely_meant(args, expected):
    last = refusal(run(*args))
    assert expected in last, last


# -- a port in use names the port and the fix -------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["--log-format", "json"], ["proxy", "--upstream", "http://127.0.0.1:9"]])
def test_a_port_in_use_is_refused_naming_the_port_and_the_setting_that_changes_it(command):
    with socket.socket() as holder:  # what a second emulator, or anything else, holding the port looks like
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        last = refusal(run(*command, "--host", "127.0.0.1", "--port", str(port)))
    message = json.loads(last)["message"] if "json" in command else last
    assert message.endswith(f"port {port} on 127.0.0.1 is already in use (another emulator? `ss -ltnp` shows what "
                            "holds it); choose another with --port (INGOPAY_EMULATOR_PORT), or 0 for any free port"), \
        message


def test_an_address_that_is_not_this_machines_names_the_host_setting():
    last = refusal(run("--host", "192.0.2.1", "--port", "0"))  # TEST-NET-1: never an address of this machine
    assert "cannot listen on 192.0.2.1: it is no address of this machine; choose another with --host " \
           "(INGOPAY_EMULATOR_HOST)" in last, last
