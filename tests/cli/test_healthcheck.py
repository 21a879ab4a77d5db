"""`ingopay-emulator healthcheck` as Docker runs it: configured by the serve command's variables alone, over https
when the emulator serves TLS, trusting only the emulator's own CA; and its probes kept out of the INFO log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.core.logs import access_level
from emulator.core.tls import make_certificates
from tests.support.sockets import free_port

pytestmark = pytest.mark.slow

PREFIX = "INGOPAY_EMULATOR_"


class Emulator:
    """A real emulator process on 127.0.0.1 and a free port, started with ``args``."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(self.port), *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=environment())
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        if "ready on" not in ready:
            self.process.kill()
            raise AssertionError(f"not ready: {ready!r} {self.process.communicate()[1]}")

    def stop(self) -> str:
        """Stop it with SIGTERM (as docker stop does) and return all it logged."""
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=10)
        assert self.process.returncode == 0, stderr
        return stderr


def environment(**variables: str) -> dict[str, str]:
    """This process's environment without INGOPAY_EMULATOR_* variables, plus ``variables`` (without the prefix)."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith(PREFIX)}
    return {**kept, **{PREFIX + name: value for name, value in variables.items()}}


def healthcheck(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "emulator", "healthcheck", *args], capture_output=True, text=True,
                          timeout=30, env=environment(**variables))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def tls_emulator(data_dir: Path) -> Iterator[Emulator]:
    emulator = Emulator("--tls", "--data-dir", str(data_dir), "--quiet")
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def plain_emulator() -> Iterator[Emulator]:
    emulator = Emulator("--quiet")
    yield emulator
    emulator.stop()


def test_with_tls_on_it_probes_https_and_trusts_the_ca_the_emulator_made_in_its_data_dir(tls_emulator, data_dir):
    done = healthcheck(PORT=str(tls_emulator.port), TLS="true", DATA_DIR=str(data_dir))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"healthy: https://127.0.0.1:{tls_emulator.port}/_emulator/health"


def test_it_refuses_a_certificate_another_ca_made(tls_emulator, tmp_path):
    make_certificates(tmp_path / "tls")  # another emulator's CA, where the probe looks for it
    done = healthcheck(PORT=str(tls_emulator.port), TLS="true", DATA_DIR=str(tmp_path))
    assert done.returncode == 1
    assert "certificate verify failed" in done.stderr
    assert f"trusting the emulator's CA {tmp_path / 'tls' / 'ca.pem'}" in done.stderr


def test_without_the_ca_it_trusts_the_system_cas_and_says_what_to_give(tls_emulator, data_dir):
    port = str(tls_emulator.port)
    refused = healthcheck(PORT=port, TLS="true")
    assert refused.returncode == 1
    assert "certificate verify failed" in refused.stderr and "--cafile" in refused.stderr
    given = healthcheck("--cafile", str(data_dir / "tls" / "ca.pem"), PORT=port, TLS="true")
    assert given.returncode == 0, given.stderr
    unverified = healthcheck("--insecure", PORT=port, TLS="1")
    assert unverified.returncode == 0, unverified.stderr


def test_the_users_own_certificate_is_trusted_as_itself(tmp_path):
    own = make_certificates(tmp_path / "own", ("emulator.example",))  # not a name the probe connects to
    emulator = Emulator("--tls-cert", str(own.cert), "--tls-key", str(own.key), "--quiet")
    try:
        done = healthcheck(PORT=str(emulator.port), TLS_CERT=str(own.cert), TLS_KEY=str(own.key))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("healthy: https://")
    finally:
        emulator.stop()


def test_scheme_overrides_the_tls_variable(plain_emulator, tls_emulator):
    assert healthcheck("--scheme", "http", PORT=str(plain_emulator.port), TLS="true").returncode == 0
    over_http = healthcheck("--scheme", "http", PORT=str(tls_emulator.port), TLS="true")
    assert over_http.returncode == 1 and over_http.stderr.startswith("unhealthy: http://")


def test_without_tls_it_probes_http(plain_emulator):
    done = healthcheck(PORT=str(plain_emulator.port))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("healthy: http://127.0.0.1:")


def test_a_bad_variable_is_an_unhealthy_sentence_not_a_traceback():
    done = healthcheck(PORT="eighty", TLS="true")
    assert done.returncode == 1
    assert done.stderr.strip() == ("unhealthy: INGOPAY_EMULATOR_PORT='eighty' is not valid: expected a whole number, "
                                   "got 'eighty'")  # serve's words for the same variable
    done = healthcheck(TLS="maybe")
    assert done.returncode == 1 and "INGOPAY_EMULATOR_TLS='maybe'" in done.stderr


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_health_probes_stay_out_of_the_info_access_log_while_other_requests_are_in_it(log_format):
    emulator = Emulator("--log-format", log_format)
    base = f"http://127.0.0.1:{emulator.port}"
    try:
        assert healthcheck(PORT=str(emulator.port)).returncode == 0
        with urllib.request.urlopen(base + "/_emulator/health") as response:
            assert response.status == 200
        with urllib.request.urlopen(base + "/_emulator/clock") as response:
            assert response.status == 200
    finally:
        logged = emulator.stop()
    lines = [line for line in logged.splitlines() if line.strip()]
    if log_format == "json":
        lines = [f"{doc['level'].upper()} {doc.get('method')} {doc.get('path')}" for doc in map(json.loads, lines)]
    assert any("INFO GET /_emulator/clock" in line for line in lines), lines
    assert not any("/_emulator/health" in line for line in lines), lines


def test_a_failing_health_probe_is_still_logged_at_info():
    assert access_level("GET", "/_emulator/health", 200) < access_level("GET", "/_emulator/health", 503)
    assert access_level("GET", "/_emulator/health", 503) == access_level("GET", "/_emulator/clock", 200)
