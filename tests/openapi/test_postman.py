"""The Postman collection in docs/: generated from the OpenAPI document, and signed by its own pre-request script
so that newman (Postman's runtime and sandbox) gets Ingo's success answers from a live emulator started as the
README says (the rate limit on): the run paces itself, its admin story deletes what it creates, and the requests
that reset are sent only on their own."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from emulator.app import ROUTES
from emulator.auth.kong_signing import DEFAULT_SIGNED_HEADERS, authorization_header
from emulator.client import sign
from emulator.core.credentials import DEFAULT_PARTICIPANT_ID
from emulator.openapi import document as openapi
from emulator.openapi import postman, postman_admin
from emulator.webhooks import verify_signature
from tests.support.bodies import CARD
from tests.support.paths import ROOT
from tests.support.reference_vector import REF_BODY, REF_DATE, REF_DIGEST, REF_SECRET, REF_SIGNATURE, REF_TIMESTAMP
from tests.support.sockets import free_port

COLLECTION = ROOT / "docs" / "ingopay-emulator.postman_collection.json"
REGENERATE = "regenerate it: scripts/regenerate"
NEWMAN = ROOT / "tests" / "js" / "node_modules" / ".bin" / "newman"

Newman = Callable[..., tuple[subprocess.CompletedProcess[str], dict[str, Any]]]


def collection() -> dict[str, Any]:
    """The committed collection."""
    return json.loads(COLLECTION.read_text(encoding="utf-8"))


def requests(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every request item of a collection, folders flattened, in run order."""
    for item in items:
        yield from requests(item["item"]) if "item" in item else [item]


def missing_tools() -> str | None:
    """Why newman cannot run here, in one line (None: it can)."""
    if shutil.which("node") is None:
        return "node is not on PATH: install Node.js, then run `npm ci --prefix tests/js`"
    if not NEWMAN.exists():
        return "newman is not installed: run `npm ci --prefix tests/js`"
    return None


def test_the_committed_collection_is_the_generators_output() -> None:
    assert COLLECTION.read_text(encoding="utf-8") == postman.render(openapi.build_document(ROUTES)), \
        f"{COLLECTION.name} is stale; {REGENERATE}"


def test_every_example_of_every_signed_operation_is_a_request_with_time_and_tokens_as_variables() -> None:
    document = openapi.build_document(ROUTES)
    examples = [(method, path, example["value"]) for method, path, operation in postman.operations(document)
                if postman.is_signed(operation)
                for example in operation["requestBody"]["content"]["application/json"]["examples"].values()]
    built = postman.build_collection(document)
    signed = [item for folder in built["item"] if folder["name"] not in postman.ADMIN_FOLDERS
              for item in requests(folder["item"])]
    assert [(i["request"]["method"], "/" + "/".join(i["request"]["url"]["path"])) for i in signed] == \
        [(method, path) for method, path, _ in examples]
    for item, (_method, _path, example) in zip(signed, examples, strict=True):  # the same length: asserted above
        raw, dated = item["request"]["body"]["raw"], str(openapi.EXAMPLE_TIMESTAMP)
        assert ("{{$timestamp}}" in raw, dated in raw) == (dated in json.dumps(example), False), item["name"]
        assert openapi.EXAMPLE_TOKEN not in raw, item["name"]
    assert [v["key"] for v in built["variable"]][:4] == ["baseUrl", "username", "secret", "participantId"]
    assert built["variable"][0]["value"] == document["servers"][0]["url"]


def test_the_lockfile_pins_newman_without_resolved_urls() -> None:
    lock = json.loads((ROOT / "tests" / "js" / "package-lock.json").read_text(encoding="utf-8"))
    assert [name for name, package in lock["packages"].items() if "resolved" in package] == []
    assert lock["packages"][""]["devDependencies"]["newman"][0].isdigit(), "newman is pinned to a version"


def readme_start_command() -> list[str]:
    """The README's command that runs the emulator, as this test environment has it: the installed script of the
    virtual environment, with no flag (so the rate limit is Ingo's 5 a second)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    run = re.findall(r"```sh\n(.*?)```", setup, flags=re.S)[0].strip()
    started = run.split("&&")[-1].strip()
    assert started == ".venv/bin/ingopay-emulator", f"the README starts the emulator as {started!r}"
    return [str(Path(sys.executable).parent / "ingopay-emulator")]


@pytest.fixture
def live_url(tmp_path: Path) -> Iterator[str]:
    """A real emulator on 127.0.0.1 and a free port, started with the README's command (its own port aside)."""
    log = tmp_path / "emulator-stderr.log"
    port = free_port()
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen([*readme_start_command(), "--port", str(port)],
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert "ready on" in line, f"no ready line: {line!r} {log.read_text(encoding='utf-8')}"
            yield line.split("ready on ", 1)[1].split()[0]
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0


class Deliveries(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1: keeps each delivery's path, X-Ingo-Signature and raw body, answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        self.arrived = threading.Condition()
        super().__init__(("127.0.0.1", 0), _Keep)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/ingo"

    def wait_for(self, check: Callable[[list[tuple[str, str, bytes]]], bool], timeout: float = 10) -> bool:
        """Whether what arrived meets ``check`` within ``timeout`` seconds (woken by each delivery)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: check(self.received), timeout=timeout)


class _Keep(BaseHTTPRequestHandler):
    server: Deliveries

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.arrived:
            self.server.received.append((self.path, self.headers.get("X-Ingo-Signature", ""), raw))
            self.server.arrived.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Deliveries]:
    server = Deliveries()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def read(base: str, path: str) -> Any:
    """GET an admin path of the emulator at ``base``, as JSON."""
    with urllib.request.urlopen(base + path, timeout=10) as answer:
        return json.load(answer)


def need_tools() -> None:
    """Node and newman are here; if not, say so in one line: under CI=true the test fails, else it is skipped."""
    reason = missing_tools()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def newman(request: pytest.FixtureRequest, tmp_path: Path) -> Newman:
    """Run a collection (a path, or a collection as a dict) with newman against the live emulator."""

    def run(source: Path | dict[str, Any], *env: str, folder: str | None = None,
            ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        need_tools()
        live_url = request.getfixturevalue("live_url")
        if isinstance(source, dict):
            path = tmp_path / "collection.json"
            path.write_text(json.dumps(source), encoding="utf-8")
            source = path
        report = tmp_path / "report.json"
        variables = [f"--env-var=baseUrl={live_url}", *(f"--env-var={pair}" for pair in env)]
        command = [str(NEWMAN), "run", str(source), *variables, "--color", "off", "--timeout-request", "10000",
                   "--reporters", "cli,json", "--reporter-json-export", str(report),
                   *(["--folder", folder] if folder else [])]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert report.exists(), done.stdout + done.stderr
        return done, json.loads(report.read_text(encoding="utf-8"))["run"]

    return run


def header(execution: dict[str, Any], name: str) -> str | None:
    """The value of a header newman sent (names compared case-insensitively)."""
    return next((h["value"] for h in execution["request"]["header"] if h["key"].lower() == name.lower()), None)


@pytest.mark.slow
def test_newman_runs_the_whole_collection_green_against_the_readmes_emulator(newman: Newman, live_url: str,
                                                                             receiver: Deliveries) -> None:
    """The whole collection, as a user runs it, against the emulator the README starts (rate limit on): every
    request and every check passes, the signed ones are paced to Ingo's 5 a second (no 429, no finding), the admin
    story leaves nothing behind, and the requests sent only on their own are skipped (nothing was reset)."""
    done, run = newman(COLLECTION, f"webhookUrl={receiver.url}")
    items = list(requests(collection()["item"]))
    on_its_own = [step.name for step in postman_admin.ON_ITS_OWN]
    sent = [item for item in items if item["name"] not in on_its_own]
    signed = [item["name"] for item in items if not item["request"]["url"]["raw"].startswith("{{baseUrl}}/_emulator")]
    assert done.returncode == 0, done.stdout + done.stderr
    stats = run["stats"]
    assert (stats["requests"]["total"], stats["requests"]["failed"]) == (len(sent), 0), done.stdout
    assert (stats["assertions"]["total"], stats["assertions"]["failed"]) == (len(sent), 0), done.stdout
    assert stats["prerequestScripts"]["failed"] == stats["testScripts"]["failed"] == 0, done.stdout
    assert run["failures"] == [] and run.get("error") is None
    # the requests sent only on their own were skipped: never sent, so never an execution
    assert [e["item"]["name"] for e in run["executions"]] == [item["name"] for item in sent]
    for execution in run["executions"]:
        name, path = execution["item"]["name"], "/" + "/".join(execution["request"]["url"]["path"])
        if name not in signed:
            assert header(execution, "Authorization") is None, f"{name}: the admin API is sent unsigned"
            continue
        answer = json.loads(bytes(execution["response"]["stream"]["data"]))
        status = answer["response"]["status"] if "response" in answer else answer["status"]
        assert (execution["response"]["code"], str(status)) == (200, "100"), (name, answer)
        body = execution["request"]["body"]["raw"]
        assert "{{" not in body, name
        expected = sign("POST", path, body.encode("utf-8"), date=header(execution, "X-Date"))
        assert {key: header(execution, key) for key in expected} == expected, f"{name}: sent bytes are not signed"

    # Paced: each signed request was answered, none refused for its rate, none a finding (over 5 a second included).
    journal = read(live_url, f"/_emulator/requests?participant_id={DEFAULT_PARTICIPANT_ID}")["requests"]
    assert [entry["http_status"] for entry in journal] == [200] * len(signed), "not reset, and never throttled"
    assert read(live_url, "/_emulator/findings")["findings"] == []
    # Created, read, deleted: nothing of the story is left.
    assert [c["username"] for c in read(live_url, "/_emulator/credentials")["credentials"]] == ["test"]
    assert read(live_url, "/_emulator/webhooks/endpoints")["endpoints"] == []
    names = [s["name"] for s in read(live_url, "/_emulator/scenarios")["scenarios"]]
    assert "postman-decline" not in names and names
    assert read(live_url, "/_emulator/clock")["participant_clocks"] == 0
    # The event the story emitted reached the tenant's endpoint, signed with the secret the story gave it.
    assert receiver.wait_for(lambda got: any(
        path == "/ingo" and verify_signature(raw, signature, "whsec-postman-tenant")
        and json.loads(raw)["metadata"]["topic"] == postman_admin.EVENT_TOPIC for path, signature, raw in got)), \
        receiver.received


def test_the_requests_sent_on_their_own_run_when_their_folder_runs_alone(newman: Newman, live_url: str) -> None:
    """Run alone, the folder that resets does reset: the journal a signed request left is empty after it."""
    url = f"{live_url}/gateway/verify"
    body = json.dumps({**CARD, "participant_id": DEFAULT_PARTICIPANT_ID, "timestamp": int(time.time()),
                       "version": 11}).encode("utf-8")
    with urllib.request.urlopen(urllib.request.Request(url, body, sign("POST", url, body)), timeout=10) as answer:
        assert json.load(answer)["status"] == 100
    assert read(live_url, "/_emulator/requests")["requests"] != []
    done, run = newman(COLLECTION, folder=postman_admin.ON_ITS_OWN_FOLDER)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [e["item"]["name"] for e in run["executions"]] == [step.name for step in postman_admin.ON_ITS_OWN]
    assert run["stats"]["assertions"] == {"total": len(postman_admin.ON_ITS_OWN), "pending": 0, "failed": 0}
    assert read(live_url, "/_emulator/requests")["requests"] == []


@pytest.mark.slow
def test_the_pre_request_script_signs_the_reference_vector(newman: Newman) -> None:
    """Under Postman's sandbox, at the reference's X-Date, the script signs exactly as the reference does."""
    authorization = authorization_header("test", "hmac-sha512", DEFAULT_SIGNED_HEADERS, REF_SIGNATURE)
    known = copy.deepcopy(collection())
    script = known["event"][0]["script"]["exec"]
    assert script[0] == "{", "the script is one block"
    script[1:1] = ["const Date = ReferenceDate;"]  # the script's new Date() is the reference's instant
    script.insert(0, "const ReferenceDate = class extends Date { constructor(...given) { "
                     f"super(...(given.length ? given : [{REF_TIMESTAMP * 1000}])); }} }};")
    verify = next(requests(known["item"]))
    verify["request"]["body"]["raw"] = REF_BODY.decode()
    verify["event"] = [postman.event("test", [
        "pm.test('the reference headers', function () {",
        f"    pm.expect(pm.request.headers.get('X-Date')).to.equal({json.dumps(REF_DATE)});",
        f"    pm.expect(pm.request.headers.get('Content-sha512')).to.equal({json.dumps(REF_DIGEST)});",
        f"    pm.expect(pm.request.headers.get('Content-Length')).to.equal('{len(REF_BODY)}');",
        f"    pm.expect(pm.request.headers.get('Authorization')).to.equal({json.dumps(authorization)});",
        "});"])]
    known["item"] = [verify]
    done, run = newman(known, f"secret={REF_SECRET}")
    assert done.returncode == 0 and run["stats"]["assertions"] == {"total": 1, "pending": 0, "failed": 0}, \
        done.stdout + done.stderr


@pytest.mark.slow
def test_the_pre_request_script_signs_the_query_string_as_postman_sends_it(newman: Newman) -> None:
    with_query = copy.deepcopy(collection())
    verify = next(requests(with_query["item"]))
    query = "note=a b \"quoted\" 'single' <x>&name=Zoë&sent=%2Fkept"
    verify["request"]["url"] = f"{{{{baseUrl}}}}/gateway/verify?{query}"
    with_query["item"] = [verify]
    done, run = newman(with_query)
    assert done.returncode == 0 and run["stats"]["assertions"]["failed"] == 0, done.stdout + done.stderr
    sent = run["executions"][0]["request"]["url"]
    assert sent["query"], "the request carried its query string"
