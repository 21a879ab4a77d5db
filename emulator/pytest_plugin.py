"""pytest fixtures for testing code that talks to Ingo: an emulator per test session (or one shared by every
worker), a fresh tenant per test, waits instead of sleeps, and findings that fail a test.

Installed with the package and registered as a ``pytest11`` entry point, so the fixtures are there
with no configuration:

``ingopay_emulator``
    The emulator, freshly reset for each test (:class:`emulator.testing.EmulatorServer`; with ``--ingopay-url`` a
    :class:`emulator.testing.RemoteEmulator`, never reset: use tenants): ``.url``, ``.wait_for_request(match)``,
    ``.wait_for_webhook(match)``, ``.findings()``, ``.tenant()``, ``.advance(seconds)`` (the emulator clock, or in
    a test that uses ``ingopay_tenant`` that tenant's own clock); locally also ``.credential``, ``.client()``,
    ``.webhooks(topic)`` and ``.runtime``.
``ingopay_tenant``
    A tenant of its own for one test (removed after it): ``.username``, ``.secret``, ``.participant_id``,
    ``.client()``, waits and findings that see only its participant, and ``.advance(seconds)`` that moves its own
    clock (other tenants' follow-ups and retries stay where they are). Safe under pytest-xdist.
``ingopay_client``
    A signed client: the default credential's, or with ``--ingopay-url`` a fresh tenant's.
``ingopay_emulator_options``
    Session-scoped dict of settings to change (``{"seed": 7}``), merged onto the plugin's defaults (rate
    limiting off); ``ingopay_emulator_settings`` is the resulting :class:`emulator.settings.Settings`.

Markers: ``@pytest.mark.ingopay_scenario("file.yaml" or inline YAML)`` loads scenarios for one test and deletes
them after it (for a test with ``ingopay_tenant``, and always on a shared emulator, active for the test's tenant
only, each loaded as ``<name>-for-<participant_id>``, the name its rules' labels show);
``@pytest.mark.ingopay_fail_on_findings`` (or ``--ingopay-fail-on-findings`` for every test) fails a test whose
traffic produced findings, printing them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.settings import Settings
from emulator.testing import EmulatorServer, RemoteEmulator, SignedClient, Tenant

#: What the plugin changes from the emulator's own defaults: tests send bursts, so the rate limit is off.
PLUGIN_DEFAULTS: dict[str, Any] = {"rate_limit": 0}
#: The environment variable that names a shared emulator (as --ingopay-url does).
URL_VARIABLE = "INGOPAY_URL"
#: Where the participants a test acted for are kept, for the findings check.
PARTICIPANTS = pytest.StashKey[set[int]]()
#: The emulator a test gets: one this session started, or one it reaches over HTTP.
Emulator = EmulatorServer | RemoteEmulator


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ingopay", "ingopay-emulator")
    group.addoption("--ingopay-url", default=os.environ.get(URL_VARIABLE),
                    help=f"use the emulator running at this URL (shared by pytest-xdist workers) instead of "
                         f"starting one; also ${URL_VARIABLE}")
    group.addoption("--ingopay-admin-token", default=os.environ.get("INGOPAY_ADMIN_TOKEN"),
                    help="the admin token of that emulator, if it has one; also $INGOPAY_ADMIN_TOKEN")
    group.addoption("--ingopay-receiver-host", default=os.environ.get("INGOPAY_RECEIVER_HOST"),
                    help="with --ingopay-url: the name the emulator reaches this machine by, for the tenants' "
                         "webhooks (host.docker.internal for an emulator in a container); also "
                         "$INGOPAY_RECEIVER_HOST")
    group.addoption("--ingopay-fail-on-findings", action="store_true",
                    help="fail every test whose traffic produced money-safety findings")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ingopay_scenario(source): load a scenario file or inline YAML for this "
                                       "test (for ingopay_tenant: active for that tenant only)")
    config.addinivalue_line("markers", "ingopay_fail_on_findings: fail this test if its traffic produced "
                                       "money-safety findings")


@pytest.fixture(scope="session")
def ingopay_emulator_options() -> dict[str, Any]:
    """Settings to change for the emulator (override in conftest.py), e.g. {"seed": 7}."""
    return {}


@pytest.fixture(scope="session")
def ingopay_emulator_settings(ingopay_emulator_options: dict[str, Any]) -> Settings:
    """The emulator's settings: the plugin's defaults (rate limiting off) with ``ingopay_emulator_options``."""
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(ingopay_emulator_options) - known)
    if unknown:
        raise pytest.UsageError(f"ingopay_emulator_options: {', '.join(unknown)} is not a setting; settings are "
                                f"{', '.join(sorted(known))}")
    try:
        return Settings(**{**PLUGIN_DEFAULTS, **ingopay_emulator_options})
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"ingopay_emulator_options: {exc}") from None


@pytest.fixture(scope="session")
def ingopay_emulator_server(request: pytest.FixtureRequest, ingopay_emulator_settings: Settings) -> Iterator[Emulator]:
    url = request.config.getoption("--ingopay-url")
    if url:
        remote = RemoteEmulator(url, request.config.getoption("--ingopay-admin-token"),
                                receiver_host=request.config.getoption("--ingopay-receiver-host")).wait_until_ready()
        yield remote
        remote.stop()
        return
    server = EmulatorServer(ingopay_emulator_settings).start()
    yield server
    server.stop()


@pytest.fixture
def ingopay_emulator(request: pytest.FixtureRequest,
                     ingopay_emulator_server: Emulator) -> Iterator[Emulator]:
    """The emulator, reset before each test when this session started it (a shared one is left alone)."""
    if isinstance(ingopay_emulator_server, EmulatorServer):
        ingopay_emulator_server.reset()
        request.node.stash.setdefault(PARTICIPANTS, set()).add(ingopay_emulator_server.credential.participant_id)
    yield ingopay_emulator_server


@pytest.fixture
def ingopay_tenant(request: pytest.FixtureRequest,
                   ingopay_emulator: Emulator) -> Iterator[Tenant]:
    """A fresh tenant for this test: its own credential and participant, removed (with its state and its clock)
    afterwards. While the test runs, ``ingopay_emulator.advance`` moves this tenant's clock only."""
    tenant = ingopay_emulator.tenant()
    request.node.stash.setdefault(PARTICIPANTS, set()).add(tenant.participant_id)
    ingopay_emulator.tenant_in_use = tenant
    try:
        yield tenant
    finally:
        ingopay_emulator.tenant_in_use = None
        tenant.remove()


@pytest.fixture
def ingopay_client(request: pytest.FixtureRequest, ingopay_emulator: Emulator) -> SignedClient:
    """A client that signs requests: the default credential's, or on a shared emulator a fresh tenant's."""
    if isinstance(ingopay_emulator, EmulatorServer):
        return ingopay_emulator.client()
    tenant: Tenant = request.getfixturevalue("ingopay_tenant")
    return tenant.client()


@pytest.fixture(autouse=True)
def _ingopay_scenarios(request: pytest.FixtureRequest) -> Iterator[None]:
    """Load the scenarios of the test's ingopay_scenario markers, and take them away after it."""
    markers = list(request.node.iter_markers("ingopay_scenario"))
    if not markers:
        yield
        return
    emulator: Emulator = request.getfixturevalue("ingopay_emulator")
    # on a shared emulator a scenario for everyone would script other workers' tests: it is the test's tenant's
    shared = isinstance(emulator, RemoteEmulator)
    tenant: Tenant | None = (request.getfixturevalue("ingopay_tenant")
                             if shared or "ingopay_tenant" in request.fixturenames else None)
    admin = emulator.admin
    loaded: list[str] = []
    try:
        for marker in reversed(markers):  # the marker nearest the test is consulted first
            if len(marker.args) != 1 or not isinstance(marker.args[0], (str, os.PathLike)):
                raise pytest.UsageError("ingopay_scenario takes one argument: a scenario file or inline YAML")
            text, name = _scenario_source(os.fspath(marker.args[0]), request.path)
            if tenant is None:
                loaded += admin.upload_scenarios(text, name=name)
                continue
            for scenario in admin.upload_scenarios(_for_one_participant(text, tenant.participant_id, name),
                                                   name=name):
                loaded.append(scenario)
                admin.activate(scenario, tenant.participant_id)
        yield
    finally:
        # what the test added is deleted, so a long-running shared emulator does not pile up per-test scenarios
        for scenario in loaded:
            admin.delete_scenario(scenario)


def _scenario_source(source: str, test_file: Path) -> tuple[str, str]:
    """The YAML text of a marker's argument and the name problems are reported under."""
    if "\n" in source or ":" in source and not source.endswith((".yaml", ".yml")):
        return source, f"{test_file.name} (inline)"
    for candidate in (test_file.parent / source, Path(source)):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8"), str(candidate)
    raise pytest.UsageError(f"ingopay_scenario: no file {source!r} next to {test_file.name} or in {Path.cwd()}")


def _for_one_participant(text: str, participant_id: int, source: str) -> str:
    """The document with each scenario renamed for one participant and inactive for everyone else."""
    document = yaml.safe_load(text)
    scenarios = document.get("scenarios") if isinstance(document, dict) else None
    if not isinstance(scenarios, list):
        raise pytest.UsageError(f"ingopay_scenario: {source}: expected a document with a 'scenarios' list")
    for scenario in scenarios:
        if isinstance(scenario, dict) and isinstance(scenario.get("name"), str):
            scenario["name"] = f"{scenario['name']}-for-{participant_id}"
            scenario["active"] = False
    return yaml.safe_dump(document, sort_keys=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Fail a test that passed but whose traffic produced findings, when asked to."""
    result = yield
    asked = item.config.getoption("--ingopay-fail-on-findings") or item.get_closest_marker("ingopay_fail_on_findings")
    participants = item.stash.get(PARTICIPANTS, set())
    server = getattr(item, "funcargs", {}).get("ingopay_emulator")
    if asked and participants and server is not None:
        found = [f for participant in sorted(participants) for f in server.findings(participant)]
        if found:
            lines = [f"{len(found)} money-safety finding(s) in this test's traffic:"]
            lines += [f"  {f['code']} (participant {f['participant_id']}): {f['message']}\n"
                      f"    rule: {f['rule']} ({f['reference']})" for f in reversed(found)]
            pytest.fail("\n".join(lines), pytrace=False)
    return result
