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

Readiness (docs/readiness.md): ``--ingopay-readiness`` starts a rehearsal of Ingo's testing plan for the session's
participant (the default credential's; override the ``ingopay_readiness_participant`` fixture, as a shared emulator
needs); ``--ingopay-readiness-report FILE`` writes the evidence pack at the end (``.md``, ``.html`` or ``.json``);
``--ingopay-require-readiness=ID,ID`` (or ``all``) fails the session when one of those scenarios did not pass.

Markers: ``@pytest.mark.ingopay_scenario("file.yaml" or inline YAML)`` loads scenarios for one test and deletes
them after it (for a test with ``ingopay_tenant``, and always on a shared emulator, active for the test's tenant
only, each loaded as ``<name>-for-<participant_id>``, the name its rules' labels show);
``@pytest.mark.ingopay_fail_on_findings`` (or ``--ingopay-fail-on-findings`` for every test) fails a test whose
traffic produced findings, printing them.

Findings (docs/testing.md, *Which findings fail a test*): ``--ingopay-fail-on-findings=KIND,...`` counts those kinds,
``all`` (or the flag alone) every kind but the client's own pace while the emulator's rate limit is off (unless
``--ingopay-count-pace``); ``--ingopay-ignore-finding KIND`` never counts one.

Loading the plugin imports only the standard library: each fixture imports the emulator when it first runs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Loading the plugin costs (next to) nothing: pytest loads it in every run of an environment where it is installed,
# and most runs never use it. The hooks and options need only the standard library; the emulator (aiohttp,
# pydantic, the app) is imported by the fixture that first needs it.
if TYPE_CHECKING:
    from emulator.core.limits import Limits
    from emulator.findings.kinds import Selection
    from emulator.settings import Settings
    from emulator.testing import EmulatorServer, RemoteEmulator, SignedClient, Tenant

    #: The emulator a test gets: one this session started, or one it reaches over HTTP.
    Emulator = EmulatorServer | RemoteEmulator

#: What the plugin changes from the emulator's own defaults: tests send bursts, so the rate limit is off.
PLUGIN_DEFAULTS: dict[str, Any] = {"rate_limit": 0}
#: The environment variable that names a shared emulator (as --ingopay-url does).
URL_VARIABLE = "INGOPAY_URL"
#: Where the participants a test acted for are kept, for the findings check.
PARTICIPANTS = pytest.StashKey[set[int]]()
#: Which kinds of finding count against a test (see pytest_configure), and whether the emulator's rate limit is on.
SELECTION = pytest.StashKey["Selection"]()
RATE_LIMITED = pytest.StashKey[bool]()
#: What the session's readiness rehearsal came to: the summary lines, and the required scenarios that did not pass.
READINESS = pytest.StashKey[tuple[list[str], list[str]]]()
#: The report format a file's suffix asks for.
REPORT_FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


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
    group.addoption("--ingopay-fail-on-findings", metavar="KINDS", nargs="?", const="all", default=None,
                    help="fail every test whose traffic produced money-safety findings of these kinds (codes "
                         "separated by commas; all, or the flag alone: every kind, except the client's own pace "
                         "while the emulator's rate limit is off)")
    group.addoption("--ingopay-ignore-finding", metavar="KIND", action="append", default=[],
                    help="never fail a test for findings of this kind (repeatable)")
    group.addoption("--ingopay-count-pace", action="store_true",
                    help="count the client's own pace (over_rate_limit) against tests even while the emulator's "
                         "rate limit is off, as the plugin's defaults have it")
    group.addoption("--ingopay-readiness", action="store_true",
                    help="rehearse Ingo's testing plan on the session's traffic (docs/readiness.md)")
    group.addoption("--ingopay-readiness-report", metavar="FILE", default=None,
                    help="write the readiness report here at the end of the session (.md, .html or .json); implies "
                         "--ingopay-readiness")
    group.addoption("--ingopay-require-readiness", metavar="IDS", default=None,
                    help="fail the session unless these scenarios of the plan passed (ids separated by commas, or "
                         "all); implies --ingopay-readiness")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ingopay_scenario(source): load a scenario file or inline YAML for this "
                                       "test (for ingopay_tenant: active for that tenant only)")
    config.addinivalue_line("markers", "ingopay_fail_on_findings: fail this test if its traffic produced "
                                       "money-safety findings")
    chosen, ignored = config.getoption("--ingopay-fail-on-findings"), config.getoption("--ingopay-ignore-finding")
    if chosen is not None or ignored or config.getoption("--ingopay-count-pace"):
        config.stash[SELECTION] = _selection(chosen, ignored, config.getoption("--ingopay-count-pace"))


def _selection(chosen: str | None, ignored: list[str], pace: bool) -> Selection:
    """The kinds of finding that count, from the options; a usage error naming an unknown kind."""
    from emulator.findings.kinds import ALL, Selection, UnknownKind, kinds, named

    try:
        never = kinds(",".join(ignored))
    except UnknownKind as unknown:
        raise pytest.UsageError(f"--ingopay-ignore-finding: {unknown}") from None
    try:
        return Selection(named(chosen or ALL), never, pace)
    except UnknownKind as unknown:
        path = "/" in unknown.name or unknown.name.endswith(".py") or Path(unknown.name).exists()
        hint = (" (a test path right after the flag is read as its value: write --ingopay-fail-on-findings=all, or "
                "put the flag after the paths)" if path else "")
        raise pytest.UsageError(f"--ingopay-fail-on-findings: {unknown}{hint}") from None


@pytest.fixture(scope="session")
def ingopay_emulator_options() -> dict[str, Any]:
    """Settings to change for the emulator (override in conftest.py), e.g. {"seed": 7}."""
    return {}


@pytest.fixture(scope="session")
def ingopay_emulator_settings(ingopay_emulator_options: dict[str, Any]) -> Settings:
    """The emulator's settings: the plugin's defaults (rate limiting off) with ``ingopay_emulator_options``."""
    from emulator.settings import Settings

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
def ingopay_readiness_participant() -> int | None:
    """The participant --ingopay-readiness rehearses (override in conftest.py); None: the default credential's of
    the emulator this session starts."""
    return None


@pytest.fixture(scope="session")
def ingopay_emulator_server(request: pytest.FixtureRequest, ingopay_emulator_settings: Settings) -> Iterator[Emulator]:
    from emulator.testing import EmulatorServer, RemoteEmulator

    url = request.config.getoption("--ingopay-url")
    emulator: Emulator
    if url:
        emulator = RemoteEmulator(url, request.config.getoption("--ingopay-admin-token"),
                                  receiver_host=request.config.getoption("--ingopay-receiver-host")).wait_until_ready()
    else:
        emulator = EmulatorServer(ingopay_emulator_settings).start()
    participant = _start_readiness(request, emulator)
    yield emulator
    if participant is not None:
        _end_readiness(request.config, emulator, participant)
    emulator.stop()


def _readiness_asked(config: pytest.Config) -> bool:
    return bool(config.getoption("--ingopay-readiness") or config.getoption("--ingopay-readiness-report")
                or config.getoption("--ingopay-require-readiness"))


def _start_readiness(request: pytest.FixtureRequest, emulator: Emulator) -> int | None:
    """Start the session's rehearsal when asked; the participant rehearsed."""
    if not _readiness_asked(request.config):
        return None
    from emulator.testing import EmulatorServer

    participant: int | None = request.getfixturevalue("ingopay_readiness_participant")
    if participant is None:
        if not isinstance(emulator, EmulatorServer):
            raise pytest.UsageError("--ingopay-readiness on a shared emulator (--ingopay-url) rehearses one "
                                    "participant: name it with an ingopay_readiness_participant fixture in conftest.py")
        participant = emulator.credential.participant_id
    emulator.admin.start_readiness(participant)
    return participant


def _end_readiness(config: pytest.Config, emulator: Emulator, participant: int) -> None:
    """Write the report when asked, and note which required scenarios did not pass."""
    report = emulator.admin.readiness(participant)
    summary = report["summary"]
    lines = [f"ingopay readiness of participant {participant} ({report['plan']['name']}): {summary['passed']} passed, "
             f"{summary['failed']} failed, {summary['not_run']} not run"]
    target = config.getoption("--ingopay-readiness-report")
    if target:
        path = Path(target)
        shape = REPORT_FORMATS.get(path.suffix.lower(), "md")
        path.write_text(emulator.admin.readiness_report(participant, shape), encoding="utf-8")
        lines.append(f"readiness report written to {path}")
    scenarios = {scenario["id"]: scenario for scenario in report["scenarios"]}
    wanted = config.getoption("--ingopay-require-readiness")
    missed: list[str] = []
    if wanted:
        ids = list(scenarios) if wanted.strip() == "all" else [i.strip() for i in wanted.split(",") if i.strip()]
        for identifier in ids:
            scenario = scenarios.get(identifier)
            if scenario is None:
                missed.append(f"{identifier}: no scenario of the plan has this id (the plan's: {', '.join(scenarios)})")
            elif scenario["status"] != "passed":
                missed.append(f"{identifier}: {scenario['status'].replace('_', ' ')}: "
                              f"{scenario['why'] or scenario['next']}")
    config.stash[READINESS] = (lines, missed)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A session whose required readiness scenarios did not pass fails."""
    _, missed = session.config.stash.get(READINESS, ([], []))
    if missed and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Say what the readiness rehearsal came to, and why a required scenario did not pass."""
    lines, missed = config.stash.get(READINESS, ([], []))
    if not lines:
        return
    terminalreporter.section("ingopay readiness")
    for line in lines:
        terminalreporter.line(line)
    if missed:
        terminalreporter.line(f"{len(missed)} required readiness scenario(s) did not pass:", red=True)
        for line in missed:
            terminalreporter.line(f"  {line}", red=True)


@pytest.fixture
def ingopay_emulator(request: pytest.FixtureRequest,
                     ingopay_emulator_server: Emulator) -> Iterator[Emulator]:
    """The emulator, reset before each test when this session started it (a shared one is left alone)."""
    from emulator.testing import EmulatorServer

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
    from emulator.testing import EmulatorServer

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
    from emulator.app import scenario_sources
    from emulator.testing import RemoteEmulator

    emulator: Emulator = request.getfixturevalue("ingopay_emulator")
    # the YAML limits of the session's settings (a shared emulator applies its own as well)
    limits = scenario_sources(request.getfixturevalue("ingopay_emulator_settings")).limits
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
            text, name = _scenario_source(os.fspath(marker.args[0]), request.path, limits)
            if tenant is None:
                loaded += admin.upload_scenarios(text, name=name)
                continue
            for scenario in admin.upload_scenarios(_for_one_participant(text, tenant.participant_id, name, limits),
                                                   name=name):
                loaded.append(scenario)
                admin.activate(scenario, tenant.participant_id)
        yield
    finally:
        # what the test added is deleted, so a long-running shared emulator does not pile up per-test scenarios
        for scenario in loaded:
            admin.delete_scenario(scenario)


def _scenario_source(source: str, test_file: Path, limits: Limits) -> tuple[str, str]:
    """The YAML text of a marker's argument (a file read only within ``limits``) and the name problems are reported
    under."""
    if "\n" in source or ":" in source and not source.endswith((".yaml", ".yml")):
        return source, f"{test_file.name} (inline)"
    for candidate in (test_file.parent / source, Path(source)):
        if candidate.is_file():
            size = candidate.stat().st_size
            if size > limits.max_bytes:
                raise pytest.UsageError(f"ingopay_scenario: {candidate} is {size} bytes; a scenario file holds at "
                                        f"most {limits.max_bytes} (the scenario_max_bytes setting)")
            return candidate.read_text(encoding="utf-8"), str(candidate)
    raise pytest.UsageError(f"ingopay_scenario: no file {source!r} next to {test_file.name} or in {Path.cwd()}")


def _for_one_participant(text: str, participant_id: int, source: str, limits: Limits) -> str:
    """The document (read by the emulator's bounded loader) with each scenario renamed for one participant and
    inactive for everyone else."""
    import yaml

    from emulator.core.yamlpos import YamlProblem, safe_load

    try:
        document = safe_load(text, source, limits)
    except YamlProblem as problem:
        raise pytest.UsageError(f"ingopay_scenario: {problem}") from None
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
    """Fail a test that passed but whose traffic produced findings of the kinds that count, when asked to."""
    result = yield
    config = item.config
    asked = config.getoption("--ingopay-fail-on-findings") is not None \
        or item.get_closest_marker("ingopay_fail_on_findings")
    participants = item.stash.get(PARTICIPANTS, set())
    server = getattr(item, "funcargs", {}).get("ingopay_emulator")
    if asked and participants and server is not None:
        found = [f for participant in sorted(participants) for f in server.findings(participant)]
        if found:
            if SELECTION not in config.stash:
                config.stash[SELECTION] = _selection(None, [], False)
            rate_limited = _rate_limited(config, server)
            found = [f for f in found if config.stash[SELECTION].counts(f["code"], rate_limited=rate_limited)]
        if found:
            lines = [f"{len(found)} money-safety finding(s) in this test's traffic:"]
            lines += [f"  {f['code']} (participant {f['participant_id']}): {f['message']}\n"
                      f"    rule: {f['rule']} ({f['reference']})" for f in reversed(found)]
            pytest.fail("\n".join(lines), pytrace=False)
    return result


def _rate_limited(config: pytest.Config, emulator: Emulator) -> bool:
    """Whether the session's emulator refuses a client over its rate limit (asked once of a shared one)."""
    if RATE_LIMITED not in config.stash:
        from emulator.testing import EmulatorServer

        if isinstance(emulator, EmulatorServer):
            config.stash[RATE_LIMITED] = emulator.settings.rate_limit > 0
        else:
            status, answer = emulator.admin.call("GET", "/_emulator/ratelimit")
            # an emulator that does not say is taken to judge pace, as one with its default settings does
            config.stash[RATE_LIMITED] = not (status == 200 and isinstance(answer, dict)
                                              and answer.get("enabled") is False)
    return config.stash[RATE_LIMITED]
