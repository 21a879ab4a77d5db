"""docs/testing.md tells the truth: its example files are shown in full, the Node.js example passes against a live
emulator, the Java and Go examples are well formed where their compilers are, the Python Testcontainers example runs,
and its tables name every finding code and every key the waits accept."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import pytest_plugin
from emulator.admin import urls as admin_urls
from emulator.findings.models import KINDS
from emulator.waits.deliveries import DeliveryMatch
from emulator.waits.requests import RequestMatch
from tests.support.browser import in_ci
from tests.support.paths import ROOT
from tests.support.processes import CLEAN_ENV, live_emulator

DOC_PATH = ROOT / "docs" / "testing.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
EXAMPLES = ROOT / "docs" / "examples"
NODE_EXAMPLE = "docs/examples/node/ingopay.test.mjs"
JAVA_EXAMPLE = "docs/examples/java/IngopayEmulatorTest.java"
GO_EXAMPLE = "docs/examples/go/ingopay_test.go"
#: Variables of this test process must not leak into the emulators it starts.
#: The Java example's dependencies, absent here: javac may only miss these.
JAVA_DEPENDENCIES = ("org.junit.", "org.testcontainers")


def shown_examples() -> dict[str, str]:
    """Each ``<!-- example: PATH -->`` of the page and the code block after it."""
    return dict(re.findall(r"<!-- example: (\S+) -->\n```[a-z]+\n(.*?)```", DOC, flags=re.S))


def snippet(name: str) -> str:
    """The code block after ``<!-- snippet: NAME -->``."""
    found = re.findall(rf"<!-- snippet: {re.escape(name)} -->\n```python\n(.*?)```", DOC, flags=re.S)
    assert len(found) == 1, f"docs/testing.md has {len(found)} snippets named {name}"
    return found[0]


def section(title: str) -> str:
    """The text of the section headed ``### title``, up to the next heading."""
    return re.split(r"\n##+ ", DOC.split(f"\n### {title}\n", 1)[1], maxsplit=1)[0]


def table_keys(text: str) -> set[str]:
    """The backticked names of a table's first column (``| `a`, `b` | ...``)."""
    keys: set[str] = set()
    for cell in re.findall(r"^\| ([^|]+) \|", text, flags=re.M):
        keys |= set(re.findall(r"`([a-z_0-9]+)`", cell))
    return keys


def need(tool: str, why: str) -> str:
    """The path of ``tool``; if it is missing, say so in one line: under CI the test fails, else it is skipped."""
    found = shutil.which(tool)
    if found is None:
        reason = f"{tool} is not on PATH: {why}"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found



# -- the page shows the example files -----------------------------------------------------------------------------


def test_every_example_file_is_shown_in_full_and_only_those():
    files = sorted(str(p.relative_to(ROOT)) for p in EXAMPLES.rglob("*") if p.is_file())
    shown = shown_examples()
    assert sorted(shown) == files, "each file under docs/examples/ has one <!-- example: PATH --> block"
    for path, block in shown.items():
        assert block == (ROOT / path).read_text(encoding="utf-8"), f"docs/testing.md's copy of {path} differs"


def test_each_example_mints_a_tenant_scripts_a_decline_waits_for_a_webhook_and_checks_findings():
    for text in [*shown_examples().values(), snippet("python-plugin"), snippet("python-testcontainers")]:
        assert "ingopay_tenant" in text or "/_emulator/credentials" in text
        assert "851" in text and "decline-" in text
        assert "wait_for_webhook" in text or "/_emulator/webhooks/wait" in text
        assert "findings" in text and "succeeded" in text


# -- the tables --------------------------------------------------------------------------------------------------


def test_the_findings_table_lists_every_code():
    table = DOC.split("<!-- finding-codes:start -->", 1)[1].split("<!-- finding-codes:end -->", 1)[0]
    assert re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M) == list(KINDS)


def test_the_match_tables_list_every_key_the_waits_accept():
    assert table_keys(section("Waiting for requests")) == set(RequestMatch.model_fields) - {"nth"}
    assert table_keys(section("Waiting for webhooks")) == set(DeliveryMatch.model_fields)


def test_the_admin_calls_table_names_real_routes():
    routes = {(route.method, route.path) for route in admin_urls.ROUTES}
    table = DOC.split("\n## The admin calls\n", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| ([A-Z, ]+) \| `([^`?]+)[^`]*` \|", table, flags=re.M)
    assert len(rows) >= 10
    for methods, path in rows:
        if path == "/_emulator/snapshot":
            continue  # docs/snapshots.md's
        for method in methods.split(", "):
            assert (method, path) in routes, f"{method} {path} is not an admin route"


# -- Node.js: run against a live emulator --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("token", [None, "docs-admin-token"], ids=["open", "admin-token"])
def test_the_node_example_passes_against_a_live_emulator(token, tmp_path):
    node = need("node", "install Node.js 18 or later (./scripts/test does it as root)")
    with live_emulator("--rate-limit", "0", "--quiet", *(["--admin-token", token] if token else [])) as url:
        env = {k: v for k, v in CLEAN_ENV.items() if k != "INGOPAY_ADMIN_TOKEN"} | {"INGOPAY_URL": url}
        if token:
            env["INGOPAY_ADMIN_TOKEN"] = token
        result = subprocess.run([node, "--test", NODE_EXAMPLE], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^# pass 1$", result.stdout, flags=re.M) and re.search(r"^# fail 0$", result.stdout,
                                                                             flags=re.M), result.stdout


# -- Java: javac, where only the dependencies may be missing -------------------------------------------------------


def javac_problems(source: Path, out: Path) -> list[str]:
    """The javac errors of ``source`` that are not just the absent Testcontainers and JUnit jars."""
    javac = shutil.which("javac")
    assert javac is not None
    result = subprocess.run([javac, "-J-Duser.language=en", "-J-Duser.country=US", "-encoding", "UTF-8",
                             "-Xmaxerrs", "10000", "-proc:none", "-d", str(out), str(source)],
                            capture_output=True, text=True, timeout=120)
    lines = source.read_text(encoding="utf-8").splitlines()
    imported = {m.group(2): m.group(1) for m in re.finditer(r"^import (?:static )?([\w.]+)\.(\w+);", "\n".join(lines),
                                                             flags=re.M)}
    missing = {name for name, package in imported.items() if package.startswith(JAVA_DEPENDENCIES)}
    problems = []
    for diagnostic in re.split(r"\n(?=\S+\.java:\d+: )", result.stderr.strip()):
        head = re.match(r"\S+\.java:(\d+): error: (.*)", diagnostic)
        if head is None:
            continue  # warnings, notes, the count of errors
        number, message = int(head.group(1)), head.group(2)
        package = re.fullmatch(r"package ([\w.]+) does not exist", message)
        symbol = re.search(r"symbol:\s+(?:class|variable|method|interface) (\w+)", diagnostic)
        if package and package.group(1).startswith(JAVA_DEPENDENCIES):
            continue
        if message == "static import only from classes and interfaces" \
                and lines[number - 1].startswith("import static " + JAVA_DEPENDENCIES[0]):
            continue
        if message == "cannot find symbol" and symbol and symbol.group(1) in missing:
            continue
        problems.append(diagnostic)
    if result.returncode != 0 and not problems and "error" not in result.stderr:
        problems.append(result.stderr or f"javac exited {result.returncode}")
    return problems


def need_javac() -> None:
    if shutil.which("javac") is None:
        pytest.skip("javac is not on PATH: the Java example is checked where a JDK is installed")


@pytest.mark.slow
def test_the_java_example_compiles_but_for_its_dependencies(tmp_path):
    need_javac()
    source = tmp_path / "src" / Path(JAVA_EXAMPLE).name
    source.parent.mkdir()
    shutil.copy(ROOT / JAVA_EXAMPLE, source)
    assert javac_problems(source, tmp_path / "out") == []


@pytest.mark.slow
@pytest.mark.parametrize("damage", [
    ("exchange.close();", "exchange.close()"),  # a syntax error
    ('String token = field(verified, "customer_account_token");', "int token = 1; token.length();"),  # a type error
    ("receiver.stop(0);", "receiver.stopNow(0);"),  # a method the JDK's HttpServer does not have
], ids=["syntax", "type", "jdk-symbol"])
def test_the_java_check_tells_a_real_error_from_a_missing_jar(damage, tmp_path):
    need_javac()
    text = (ROOT / JAVA_EXAMPLE).read_text(encoding="utf-8")
    assert damage[0] in text
    source = tmp_path / "src" / Path(JAVA_EXAMPLE).name
    source.parent.mkdir()
    source.write_text(text.replace(damage[0], damage[1], 1), encoding="utf-8")
    assert javac_problems(source, tmp_path / "out") != []


# -- Go: gofmt ---------------------------------------------------------------------------------------------------


def test_the_go_example_is_well_formed_go():
    gofmt = shutil.which("gofmt")
    if gofmt is None:
        pytest.skip("gofmt is not on PATH: the Go example is checked where Go is installed")
    result = subprocess.run([gofmt, "-e", "-l", str(ROOT / GO_EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout == "", f"{GO_EXAMPLE} is not gofmt-formatted: run gofmt -w {GO_EXAMPLE}"


# -- Python ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["python-plugin", "python-plugin-options", "python-testcontainers"])
def test_the_python_snippets_compile(name):
    compile(snippet(name), f"docs/testing.md ({name})", "exec")


#: A stand-in for Testcontainers' DockerContainer: the emulator as a process on 127.0.0.1, configured by the
#: container's environment, as the image is.
FAKE_TESTCONTAINERS = '''
import os, subprocess, sys, socket


class DockerContainer:
    def __init__(self, image, **kwargs):
        assert image == "ingopay-emulator:latest" and "extra_hosts" in kwargs, (image, kwargs)
        self.env = {}

    def with_exposed_ports(self, *ports):
        assert ports == (8080,), ports
        return self

    def with_env(self, key, value):
        self.env[key] = value
        return self

    def __enter__(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("INGOPAY_EMULATOR_")}
        env.update(self.env, INGOPAY_EMULATOR_HOST="127.0.0.1", INGOPAY_EMULATOR_PORT=str(self.port),
                   INGOPAY_EMULATOR_QUIET="true")
        self.process = subprocess.Popen([sys.executable, "-m", "emulator"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        return self  # not waiting: the example waits for /_emulator/health itself

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=15)

    def get_container_host_ip(self):
        return "127.0.0.1"

    def get_exposed_port(self, port):
        return self.port
'''


@pytest.mark.slow
def test_the_python_testcontainers_example_runs_against_a_live_emulator(tmp_path):
    code = snippet("python-testcontainers")
    local = code.replace('WEBHOOK_HOST = "host.docker.internal"', 'WEBHOOK_HOST = "127.0.0.1"')
    assert local != code, "the example names the host as the container sees it in WEBHOOK_HOST"
    fake = tmp_path / "fake" / "testcontainers" / "core"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text("", encoding="utf-8")
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "container.py").write_text(FAKE_TESTCONTAINERS, encoding="utf-8")
    (tmp_path / "test_with_container.py").write_text(local, encoding="utf-8")
    env = {**CLEAN_ENV, "PYTHONPATH": os.pathsep.join([str(tmp_path / "fake"), str(ROOT)])}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_with_container.py"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout, result.stdout


def test_the_plugin_table_names_what_the_plugin_has():
    table = section("Python: the pytest plugin")
    source = Path(pytest_plugin.__file__).read_text(encoding="utf-8")
    for flag in set(re.findall(r"`(--ingopay-[a-z-]+)", table)):
        assert f'addoption("{flag}"' in source, f"the plugin has no {flag}"
    for marker in set(re.findall(r"pytest\.mark\.(ingopay_\w+)", table)):
        assert f'"markers", "{marker}' in source, f"the plugin registers no marker {marker}"
    fixtures = re.findall(r"^\| `(ingopay_\w+)` \(fixture\)", table, flags=re.M)
    # the fixtures the README and the examples use are each described
    assert set(fixtures) >= {"ingopay_client", "ingopay_tenant", "ingopay_emulator", "ingopay_emulator_options"}
    for fixture in fixtures:
        assert callable(getattr(pytest_plugin, fixture, None)), f"the plugin has no fixture {fixture}"
    assert f"`{getattr(pytest_plugin, 'URL_VARIABLE', None)}`" in table, "the table names the plugin's URL variable"


@pytest.mark.slow
def test_the_pytest_plugin_example_passes_once_the_plugin_has_tenants(pytester):
    if not hasattr(pytest_plugin, "ingopay_tenant"):
        pytest.skip("the pytest plugin has no ingopay_tenant fixture yet: docs/testing.md documents the one coming")
    pytester.makeconftest(snippet("python-plugin-options"))
    pytester.makepyfile(test_payouts=snippet("python-plugin"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
