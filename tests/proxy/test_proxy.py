"""Proxy mode against a planted upstream (an emulator with another credential and scenarios that differ on purpose):
forwarding unchanged, recording masked, replaying offline, reporting exactly the planted drift, Kong's errors, the
rate limit and the webhook relay. Real sockets, 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from emulator.core.masking import mask
from emulator.proxy.app import ProxyOptions
from emulator.proxy.drift import compare, read_report
from emulator.proxy.recording import read_recording
from emulator.settings import Settings
from emulator.testing import EmulatorServer, WebhookReceiver
from emulator.webhooks.signature import verify_signature
from tests.support.outside import CARD_VERIFY, Client, call
from tests.support.proxy import (
    UPSTREAM,
    CannedUpstream,
    ProxyServer,
    SilentUpstream,
    closed_port,
    planted_upstream,
    raw_request,
)
from tests.support.sockets import free_port

CARD = CARD_VERIFY["account"]
CVV = "987"
RELAXED = Settings(rate_limit=100)


def conversation(client: Client) -> list[tuple[int, Any]]:
    """The requests a test sends, through the proxy and again to the replaying emulator: their answers."""
    answers: list[tuple[int, Any]] = []

    def keep(result: tuple[int, dict[str, str], Any]) -> Any:
        answers.append((result[0], result[2]))
        return result[2]

    verified = keep(client.post("/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": "verify-1"}))
    token = verified["data"]["customer_account_token"]
    keep(client.post("/gateway/verify", {**CARD_VERIFY, "recipient_last_name": "Hopper",
                                         "participant_unique_id1": "verify-2"}))
    for puid in ("push-plain", "push-extra", "push-type", "push-http", "push-plain"):
        keep(client.push(token, 25.5, puid))
    body = json.dumps({"participant_id": client.participant_id, "timestamp": int(time.time()), "version": 11,
                       **CARD_VERIFY, "cvv": CVV, "participant_unique_id1": "verify-3"}).encode()
    keep(call(client.url, "POST", "/gateway/verify", body, headers=client.headers("/gateway/verify", body)))
    signed = client.headers("/gateway/verify", body)
    keep(call(client.url, "POST", "/gateway/verify", body.replace(b"verify-3", b"verify-4"), headers=signed))
    return answers


@pytest.fixture
def upstream(tmp_path: Path) -> Any:
    server = planted_upstream(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def run(upstream: EmulatorServer, tmp_path: Path) -> Any:
    """The planted conversation through a recording, comparing proxy: its answers, recording and report."""
    options = ProxyOptions(upstream=upstream.url, record=tmp_path / "recording", compare=True,
                           report=tmp_path / "drift.json")
    proxy = ProxyServer(options, RELAXED).start()
    try:
        client = Client(proxy.url, UPSTREAM.username, UPSTREAM.secret, UPSTREAM.participant_id)
        yield {"proxy": proxy, "answers": conversation(client), "options": options}
    finally:
        proxy.stop()


def test_an_answer_through_the_proxy_is_the_upstreams_byte_for_byte(upstream: EmulatorServer, tmp_path: Path):
    proxy = ProxyServer(ProxyOptions(upstream=upstream.url), RELAXED).start()
    try:
        direct = urllib.request.urlopen(upstream.url + "/openapi.json?x=1", timeout=30)
        through = urllib.request.urlopen(proxy.url + "/openapi.json?x=1", timeout=30)
        assert through.status == direct.status and through.read() == direct.read()
        assert through.headers["Content-Type"] == direct.headers["Content-Type"]
        fields = {**CARD_VERIFY, "participant_unique_id1": "same"}
        at_upstream = Client(upstream.url, UPSTREAM.username, UPSTREAM.secret, 12345).post("/gateway/verify", fields)
        via_proxy = Client(proxy.url, UPSTREAM.username, UPSTREAM.secret, 12345).post("/gateway/verify", fields)
        assert via_proxy[0] == at_upstream[0] == 200
        assert {**via_proxy[2], "time": None} == {**at_upstream[2], "time": None}
        assert set(via_proxy[1]) == set(at_upstream[1])  # the upstream's own headers, passed on
        journal = upstream.admin.wait_for_request({"path": "/gateway/verify"}, count=2)
        assert {entry["username"] for entry in journal} == {UPSTREAM.username}
    finally:
        proxy.stop()


def test_the_recording_keeps_no_card_number_cvv_signature_or_secret(run: dict[str, Any], tmp_path: Path):
    run["proxy"].stop()
    files = sorted((tmp_path / "recording").glob("*.json"))
    assert len(files) == len(run["answers"]) == 9
    text = "\n".join(path.read_text() for path in files)
    assert CARD not in text and CARD[-4:] in text
    assert f'"{CVV}"' not in text and UPSTREAM.secret not in text
    first = json.loads(files[0].read_text())
    authorization = dict(first["request"]["headers"])["Authorization"]
    assert authorization.startswith(f'hmac username="{UPSTREAM.username}", algorithm="hmac-sha512", headers="')
    assert authorization.endswith('signature="[redacted]"')
    assert first["request"]["body"]["json"]["account"] == "************1111"
    assert first["answer"]["body"]["json"]["data"]["customer_account_token"]  # tokens are kept
    report = (tmp_path / "drift.json").read_text() + (tmp_path / "drift.md").read_text()
    assert CARD not in report and UPSTREAM.secret not in report


@pytest.mark.slow
def test_the_drift_report_lists_exactly_the_planted_differences(run: dict[str, Any], tmp_path: Path):
    run["proxy"].stop()  # the report is written about once a second, and in full when the proxy stops
    report = read_report(tmp_path / "drift.json")
    found = sorted((d["sequence"], d["kind"], d["field"], json.dumps(d["upstream"]), json.dumps(d["emulator"]))
                   for entry in report["entries"] for d in [{**x, "sequence": entry["sequence"]}
                                                             for x in entry["differences"]])
    assert found == [
        (2, "message", "client_message", '"Success - Verified"', '"Success"'),
        (4, "missing", "data.ledger_reference", '"string"', "null"),
        (5, "type", "data.transaction_id", '"string"', '"integer"'),
        (6, "http_status", "", "202", "200"),
    ]
    assert report["exchanges"] == 9
    assert [e["upstream_status"] for e in report["entries"]][-1] == 401  # a bad digest: both refuse it alike
    summary = subprocess.run([sys.executable, "-m", "emulator", "drift", str(tmp_path / "drift.json")],
                             capture_output=True, text=True, timeout=60)
    assert summary.returncode == 1 and "4 differences" in summary.stdout, summary.stderr
    assert "missing 1" in summary.stdout and "http_status 1" in summary.stdout


def test_the_proxy_logs_what_it_checked_without_the_secret(run: dict[str, Any], caplog: pytest.LogCaptureFixture):
    documents = [r.document for r in read_recording(run["options"].record)]
    assert [d["checks"] for d in documents][:-1] == [[]] * 8
    assert documents[-1]["checks"][0]["code"] == "body_digest_mismatch"


@pytest.mark.slow
def test_a_recording_replays_offline_with_the_same_answers(run: dict[str, Any], tmp_path: Path):
    scenario = tmp_path / "replay.yaml"
    made = subprocess.run([sys.executable, "-m", "emulator", "scenarios", "from-recording",
                           str(run["options"].record), "-o", str(scenario)], capture_output=True, text=True,
                          timeout=60)
    assert made.returncode == 0, made.stderr
    checked = subprocess.run([sys.executable, "-m", "emulator", "check", str(scenario)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout
    replaying = EmulatorServer(Settings(scenarios=(scenario,), diagnosis=False, rate_limit=0)).start()
    try:
        credential = replaying.credential
        replayed = conversation(Client(replaying.url, credential.username, credential.secret,
                                       credential.participant_id))
    finally:
        replaying.stop()
    recorded = [r.document["answer"] for r in read_recording(run["options"].record)]
    for number, ((status, document), answer) in enumerate(zip(replayed, recorded, strict=True), start=1):
        differences = compare(answer["status"], answer["body"].get("json"), status, mask(document))
        assert differences == [], f"exchange {number}"


def test_upstream_failures_answer_as_kong_and_are_reported(tmp_path: Path):
    silent = SilentUpstream()
    try:
        for upstream, status, message, kind in (
                (f"http://127.0.0.1:{closed_port()}", 502, "An invalid response was received from the upstream server",
                 "refused"),
                (silent.url, 504, "The upstream server is timing out", "timeout")):
            report = tmp_path / f"{kind}.json"
            proxy = ProxyServer(ProxyOptions(upstream=upstream, compare=True, report=report,
                                             record=tmp_path / kind, upstream_timeout=0.5)).start()
            try:
                client = Client(proxy.url, UPSTREAM.username, UPSTREAM.secret, 12345)
                answer = client.post("/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": kind})
            finally:
                proxy.stop()
            assert answer[0] == status and answer[2] == {"message": message}
            (entry,) = read_report(report)["entries"]
            assert entry["differences"][0]["kind"] == "upstream_error"
            assert entry["differences"][0]["upstream"].startswith(kind)
            (recorded,) = read_recording(tmp_path / kind)
            assert recorded.document["upstream_error"]["status"] == status
    finally:
        silent.stop()


def test_the_sixth_request_within_a_second_gets_the_emulators_429(upstream: EmulatorServer):
    proxy = ProxyServer(ProxyOptions(upstream=upstream.url)).start()
    try:
        client = Client(proxy.url, UPSTREAM.username, UPSTREAM.secret, 12345)
        started = time.monotonic()
        statuses: list[int] = []
        while len(statuses) < 6:
            last = client.post("/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": f"r{len(statuses)}"})
            statuses.append(last[0])
        if time.monotonic() - started >= 1:
            pytest.skip("six requests took over a second on this machine")
        assert statuses == [200] * 5 + [429]
        assert last[2]["message"] == "API rate limit exceeded" and last[1]["Retry-After"]
        assert len(upstream.admin.wait_for_request({"path": "/gateway/verify"}, count=5)) == 5
    finally:
        proxy.stop()


def test_the_relay_forwards_the_upstreams_webhooks_and_records_the_real_signature(upstream: EmulatorServer,
                                                                                    tmp_path: Path):
    receiver = WebhookReceiver()
    proxy = ProxyServer(ProxyOptions(upstream=upstream.url, record=tmp_path / "hooks",
                                     webhook_relay=receiver.url)).start()
    try:
        tenant = upstream.tenant(webhook_url=proxy.url + "/_proxy/webhooks")
        upstream.admin.upload_scenarios("""
version: 1
scenarios:
  - name: announce
    rules:
      - name: verify-event
        match: {endpoint: verify, participant_unique_id1: hook}
        respond:
          events: [{after: 0, topic: plugin.transaction.account.tokenization.success}]
""")
        Client(upstream.url, tenant.username, tenant.secret, tenant.participant_id).post(
            "/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": "hook"})
        upstream.advance(1)
        deadline = time.monotonic() + 20
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.received, "the relay forwarded no webhook"
        (recorded,) = [r for r in read_recording(tmp_path / "hooks") if r.kind == "webhook"]
        signature = dict(recorded.document["headers"])["X-Ingo-Signature"]
        assert verify_signature(receiver.received[0], signature, upstream.settings.webhook_secret, tolerance=0)
        assert recorded.document["receiver"]["status"] == 200
    finally:
        proxy.stop()
        receiver.stop()


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "says"), [
    (["proxy", "--upstream", "ftp://x"], "--upstream 'ftp://x' has the scheme ftp://, which is not supported"),
    (["proxy", "--upstream", "http://127.0.0.1:1", "--record", "/proc/no-such/dir"], "cannot record into"),
    (["proxy", "--upstream", "http://127.0.0.1:1", "--upstream-max-bytes", "10"],
     "--upstream-max-bytes 10: must be at least 1024 bytes"),
    (["scenarios", "from-recording", "/no/such/folder"], "no such folder"),
    (["drift", "/no/such/report.json"], "no such file"),
])
def test_bad_input_is_one_line_naming_the_problem(argv: list[str], says: str):
    result = subprocess.run([sys.executable, "-m", "emulator", *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and says in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_damaged_recording_or_report_is_named(tmp_path: Path):
    (tmp_path / "0001-POST-gateway-verify.json").write_text("{not json")
    result = subprocess.run([sys.executable, "-m", "emulator", "scenarios", "from-recording", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "0001-POST-gateway-verify.json: not a readable JSON file" in result.stderr
    (tmp_path / "report.json").write_text(json.dumps({"format": 9}))
    result = subprocess.run([sys.executable, "-m", "emulator", "drift", str(tmp_path / "report.json")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "not a drift report" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_an_untrusted_https_upstream_is_a_502_and_a_trusted_one_answers(tmp_path: Path):
    port = free_port()
    upstream = subprocess.Popen([sys.executable, "-m", "emulator", "--tls", "--port", str(port), "--quiet",
                                 "--data-dir", str(tmp_path / "data"), "--credentials", str(credentials(tmp_path))],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert upstream.stdout is not None
    try:
        assert "ready on https://" in upstream.stdout.readline()
        ca = tmp_path / "data" / "tls" / "ca.pem"
        assert ca.is_file(), sorted(p.name for p in (tmp_path / "data" / "tls").iterdir())
        for cafile, status in ((None, 502), (ca, 200)):
            proxy = ProxyServer(ProxyOptions(upstream=f"https://127.0.0.1:{port}", upstream_cafile=cafile)).start()
            try:
                answer = Client(proxy.url, UPSTREAM.username, UPSTREAM.secret, 12345).post(
                    "/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": f"tls-{status}"})
            finally:
                proxy.stop()
            assert answer[0] == status, answer
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)


def credentials(tmp_path: Path) -> Path:
    path = tmp_path / "credentials.yaml"
    path.write_text(json.dumps([{"username": UPSTREAM.username, "secret": UPSTREAM.secret,
                                 "participant_id": UPSTREAM.participant_id}]))
    return path


def test_headers_that_are_not_utf8_reach_the_client_recorded_and_reported(tmp_path: Path):
    answer = json.dumps({"status": 100, "client_message": "Success", "data": {}}).encode()
    canned = CannedUpstream(200, [(b"Content-Type", b"application/json"), (b"X-Weird", b"caf\xe9\xff")], answer)
    options = ProxyOptions(upstream=canned.url, record=tmp_path / "rec", compare=True, report=tmp_path / "drift.json")
    proxy = ProxyServer(options, RELAXED).start()
    try:
        status, head, body = raw_request(proxy.url, b"POST /gateway/verify?who=Jos%E9 HTTP/1.1\r\n"
                                                    b"Content-Type: application/json\r\nX-Name: Jos\xe9",
                                         b'{"participant_unique_id1": "latin"}')
    finally:
        proxy.stop()
        canned.stop()
    assert status == 200 and body == answer and b"X-Weird: caf" in head
    assert b"X-Name: Jos" in canned.received[0]
    assert not list((tmp_path / "rec").glob("*.tmp"))
    (recorded,) = read_recording(tmp_path / "rec")
    assert ["X-Weird", "caf\xe9\xff"] in recorded.document["answer"]["headers"]  # latin-1: each byte one character
    assert ["X-Name", "Jos\xe9"] in recorded.document["request"]["headers"]
    assert read_report(tmp_path / "drift.json")["exchanges"] == 1


def test_a_failure_to_record_or_compare_is_logged_and_reported_never_the_clients(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    from emulator.proxy import recording, server

    def broken(*_: Any, **__: Any) -> Any:
        raise ValueError("a bug in the recorder")

    monkeypatch.setattr(recording.Recorder, "write", broken)
    monkeypatch.setattr(server, "compare", broken)
    answer = json.dumps({"status": 100, "client_message": "Success", "data": {}}).encode()
    canned = CannedUpstream(200, [(b"Content-Type", b"application/json")], answer)
    options = ProxyOptions(upstream=canned.url, record=tmp_path / "rec", compare=True, report=tmp_path / "drift.json")
    proxy = ProxyServer(options, RELAXED).start()
    try:
        status, _, body = raw_request(proxy.url, b"POST /gateway/verify HTTP/1.1\r\nContent-Type: application/json",
                                      b"{}")
    finally:
        proxy.stop()
        canned.stop()
    assert status == 200 and body == answer
    (entry,) = read_report(tmp_path / "drift.json")["entries"]
    assert "not compared" in entry["note"] and "a bug in the recorder" in entry["note"]
    logged = [r for r in caplog.records if "a bug in the recorder" in r.getMessage()]
    assert logged and all(r.exc_info is None for r in logged)


def test_a_webhook_arrives_at_exactly_the_relay_url_with_the_incoming_query_appended(tmp_path: Path):
    receiver = CannedUpstream(200, [(b"Content-Type", b"application/json")], b"{}")
    proxy = ProxyServer(ProxyOptions(upstream=f"http://127.0.0.1:{closed_port()}",
                                     webhook_relay=receiver.url + "/hooks/ingo?tenant=a")).start()
    try:
        status, _, _ = raw_request(proxy.url, b"POST /_proxy/webhooks?x=%41 HTTP/1.1\r\nContent-Type: application/json",
                                   b'{"topic": "t"}')
        plain, _, _ = raw_request(proxy.url, b"POST /_proxy/webhooks HTTP/1.1\r\nContent-Type: application/json",
                                  b'{"topic": "t"}')
    finally:
        proxy.stop()
        receiver.stop()
    assert status == plain == 200
    assert [r.split(b"\r\n", 1)[0] for r in receiver.received] == [b"POST /hooks/ingo?tenant=a&x=%41 HTTP/1.1",
                                                                  b"POST /hooks/ingo?tenant=a HTTP/1.1"]


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_answer_is_forwarded_untouched_and_compared_recorded_decompressed(tmp_path: Path,
                                                                                       encoding: str):
    import gzip
    import zlib

    document = {"message": "Not authorised", "request_id": "r-1", "account": "4111111111111111"}
    packed = (gzip.compress if encoding == "gzip" else zlib.compress)(json.dumps(document).encode())
    canned = CannedUpstream(401, [(b"Content-Type", b"application/json"), (b"Content-Encoding", encoding.encode())],
                            packed)
    options = ProxyOptions(upstream=canned.url, record=tmp_path / "rec", compare=True, report=tmp_path / "drift.json")
    proxy = ProxyServer(options, RELAXED).start()
    try:
        status, head, body = raw_request(proxy.url, b"POST /gateway/verify HTTP/1.1\r\nContent-Type: application/json",
                                         b"{}")
    finally:
        proxy.stop()
        canned.stop()
    assert status == 401 and body == packed and f"Content-Encoding: {encoding}".encode() in head
    (entry,) = read_report(tmp_path / "drift.json")["entries"]
    assert [(d["kind"], d["field"], d["upstream"]) for d in entry["differences"]] == [
        ("missing", "account", "string"), ("message", "message", "Not authorised")]
    (recorded,) = read_recording(tmp_path / "rec")
    kept = recorded.document["answer"]["body"]
    assert kept == {"json": {**document, "account": "************1111"}, "content_encoding": encoding}


def test_a_body_that_is_not_text_is_kept_as_base64(tmp_path: Path):
    import base64

    raw = b"\x89PNG\r\n\x1a\n\x00\xff\xfe"
    canned = CannedUpstream(200, [(b"Content-Type", b"image/png")], raw)
    proxy = ProxyServer(ProxyOptions(upstream=canned.url, record=tmp_path / "rec"), RELAXED).start()
    try:
        status, _, body = raw_request(proxy.url, b"GET /logo.png HTTP/1.1")
    finally:
        proxy.stop()
        canned.stop()
    assert status == 200 and body == raw
    (recorded,) = read_recording(tmp_path / "rec")
    assert recorded.document["answer"]["body"] == {"base64": base64.b64encode(raw).decode()}


def risk_conversation(client: Client) -> list[tuple[int, Any]]:
    """Verify a card, open a risk session, score a push with it: each answer."""
    answers = []
    status, _, verified = client.post("/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": "risk-1"})
    answers.append((status, verified))
    request = {"participant_id": str(client.participant_id), "timestamp": str(int(time.time()))}
    for path, body in (
            ("/risk/risksession/v2", lambda: {"request": request}),
            ("/risk/riskscore/v2", lambda: {"request": request, "transaction": {
                "account_type": "CA", "transaction_amount": {"currency_code": "USD", "amount": "15.00"},
                "customer_account_token": verified["data"]["customer_account_token"],
                "risk_session_token": answers[-1][1]["session"]["risk_session_token"]}})):
        raw = json.dumps(body()).encode()
        status, _, document = call(client.url, "POST", path, raw, headers=client.headers(path, raw))
        answers.append((status, document))
    return answers


@pytest.mark.slow
def test_risk_tokens_are_translated_for_compare_and_left_to_the_emulator_on_replay(upstream: EmulatorServer,
                                                                                   tmp_path: Path):
    options = ProxyOptions(upstream=upstream.url, record=tmp_path / "rec", compare=True, report=tmp_path / "d.json")
    proxy = ProxyServer(options, RELAXED).start()
    try:
        answers = risk_conversation(Client(proxy.url, UPSTREAM.username, UPSTREAM.secret, UPSTREAM.participant_id))
    finally:
        proxy.stop()
    assert answers[-1][1]["response"]["status"] == "100", answers
    report = read_report(tmp_path / "d.json")
    assert report["exchanges"] == 3 and [e["differences"] for e in report["entries"]] == [[], [], []]
    scenario = tmp_path / "replay.yaml"
    made = subprocess.run([sys.executable, "-m", "emulator", "scenarios", "from-recording", str(tmp_path / "rec"),
                           "-o", str(scenario)], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert "risk_session_token" not in scenario.read_text() and "risk_assessment_token" not in scenario.read_text()
    replaying = EmulatorServer(Settings(scenarios=(scenario,), diagnosis=False, rate_limit=0)).start()
    try:
        credential = replaying.credential
        replayed = risk_conversation(Client(replaying.url, credential.username, credential.secret,
                                            credential.participant_id))
    finally:
        replaying.stop()
    assert replayed[-1][1]["response"]["status"] == "100", replayed[-1]


@pytest.mark.slow
def test_a_replayed_rule_leaves_ids_echoes_and_dates_to_the_emulator(run: dict[str, Any], tmp_path: Path):
    scenario = tmp_path / "replay.yaml"
    made = subprocess.run([sys.executable, "-m", "emulator", "scenarios", "from-recording",
                           str(run["options"].record), "-o", str(scenario)], capture_output=True, text=True,
                          timeout=60)
    assert made.returncode == 0, made.stderr
    text = scenario.read_text()
    assert "request_timestamp" not in text and "posting_date: '{{response.issuers.0.credit_info" in text
    assert "T-9" in text  # a volatile value of another type than the endpoint's usual one is drift, replayed
    replaying = EmulatorServer(Settings(scenarios=(scenario,), diagnosis=False, rate_limit=0)).start()
    try:
        credential = replaying.credential
        client = Client(replaying.url, credential.username, credential.secret, credential.participant_id)
        verified = client.post("/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": "verify-1"})[2]["data"]
        # not in the recorded order: a frozen id would not be the one the idempotent replay answers
        pushes = [client.push(verified["customer_account_token"], 25.5, puid)[2]
                  for puid in ("push-extra", "push-plain", "push-plain")]
    finally:
        replaying.stop()
    assert all(issuer["credit_info"]["estimated_posting_date"] for issuer in verified["issuers"])
    other, first, again = (push["data"] for push in pushes)
    assert [push["status"] for push in pushes] == [100, 100, 101]
    assert first["transaction_id"] != other["transaction_id"] and again["transaction_id"] == first["transaction_id"]
    assert other["ledger_reference"] == "L-1"


def test_the_report_is_not_rewritten_after_each_exchange_yet_complete_when_the_proxy_stops(
        upstream: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from emulator.proxy.drift import Report

    writes = []
    original = Report._write

    def counted(self: Report) -> None:
        writes.append(len(self.entries))
        original(self)

    monkeypatch.setattr(Report, "_write", counted)
    proxy = ProxyServer(ProxyOptions(upstream=upstream.url, compare=True, report=tmp_path / "d.json"),
                        RELAXED).start()
    try:
        client = Client(proxy.url, UPSTREAM.username, UPSTREAM.secret, UPSTREAM.participant_id)
        for number in range(30):
            assert client.post("/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": f"n-{number}"})[0] == 200
    finally:
        proxy.stop()
    assert len(writes) < 15, writes  # once at start, about once a second, once at the end; not 30 times
    assert read_report(tmp_path / "d.json")["exchanges"] == 30
    assert "30 exchanges compared" in (tmp_path / "d.md").read_text()


@pytest.mark.slow
def test_the_report_is_complete_after_sigterm(upstream: EmulatorServer, tmp_path: Path):
    import signal

    port = free_port()
    report = tmp_path / "d.json"
    process = subprocess.Popen([sys.executable, "-m", "emulator", "proxy", "--upstream", upstream.url, "--compare",
                                "--report", str(report), "--port", str(port), "--rate-limit", "100", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    try:
        assert "proxy ready on" in process.stdout.readline()
        client = Client(f"http://127.0.0.1:{port}", UPSTREAM.username, UPSTREAM.secret, UPSTREAM.participant_id)
        for number in range(3):
            client.post("/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": f"t-{number}"})
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert read_report(report)["exchanges"] == 3


GOOD_ENTRY = {"sequence": 1, "method": "POST", "path": "/gateway/verify", "upstream_status": 200,
              "emulator_status": 200, "differences": [], "note": None}


@pytest.mark.parametrize(("change", "says"), [
    ({"entries": [{**GOOD_ENTRY, "differences": [{"x": 1}]}]}, "entries[0].differences[0].kind"),
    ({"entries": [{**GOOD_ENTRY, "differences": [5]}]}, "entries[0].differences[0]"),
    ({"entries": [{**GOOD_ENTRY, "differences": [{"kind": ["value"], "field": "a"}]}]},
     "entries[0].differences[0].kind"),
    ({"exchanges": "many"}, "exchanges"),
    ({"upstream": None}, "upstream"),
    ({"entries": [5]}, "entries[0]"),
])
def test_a_damaged_drift_report_is_one_line_naming_the_problem(tmp_path: Path, change: dict[str, Any], says: str):
    report = {"format": 1, "upstream": "http://127.0.0.1:1", "exchanges": 1, "ignored_fields": [],
              "entries": [GOOD_ENTRY], **change}
    (tmp_path / "report.json").write_text(json.dumps(report))
    result = subprocess.run([sys.executable, "-m", "emulator", "drift", str(tmp_path / "report.json")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "not a drift report" in result.stderr and says in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("upstream", ["http://alice:secret@127.0.0.1:1", "ftp://alice:secret@x",
                                      "http://alice:secret@127.0.0.1:1/?q=1"])
def test_an_upstream_with_a_password_is_refused_without_printing_it(upstream: str):
    result = subprocess.run([sys.executable, "-m", "emulator", "proxy", "--upstream", upstream, "--port", "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "secret" not in result.stderr + result.stdout and "alice" not in result.stderr + result.stdout
    assert "--upstream" in result.stderr


def recorded_exchange(sequence: int, body: Any, answer_body: Any, target: str = "/gateway/verify") -> dict[str, Any]:
    return {"format": 1, "kind": "exchange", "sequence": sequence, "checks": [],
            "request": {"method": "POST", "target": target, "headers": [], "body": body},
            "answer": {"status": 200, "headers": [], "body": answer_body}}


@pytest.mark.slow
@pytest.mark.parametrize(("request_body", "answer_body", "says"), [
    ("hello", {}, "request.body is not an object"),
    ({}, 5, "answer.body is not an object"),
])
def test_a_damaged_recorded_exchange_is_one_line_naming_the_file(tmp_path: Path, request_body: Any,
                                                                 answer_body: Any, says: str):
    (tmp_path / "0001-POST-gateway-verify.json").write_text(json.dumps(recorded_exchange(1, request_body,
                                                                                         answer_body)))
    result = subprocess.run([sys.executable, "-m", "emulator", "scenarios", "from-recording", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"0001-POST-gateway-verify.json: {says}" in result.stderr


@pytest.mark.slow
def test_an_answer_too_large_for_a_scenario_file_is_left_out_and_the_rest_converts(tmp_path: Path):
    def answer(**data: Any) -> dict[str, Any]:
        return {"json": {"status": 100, "client_message": "Success", "data": data}}

    (tmp_path / "0001-POST-gateway-verify.json").write_text(json.dumps(recorded_exchange(
        1, {"json": {"participant_unique_id1": "small"}}, answer(card_type="Debit"))))
    (tmp_path / "0002-POST-gateway-verify.json").write_text(json.dumps(recorded_exchange(
        2, {"json": {"participant_unique_id1": "huge"}}, answer(card_type="Debit", blob="x" * 2_000_000))))
    result = subprocess.run([sys.executable, "-m", "emulator", "scenarios", "from-recording", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "# not replayed: 0002-POST-gateway-verify.json" in result.stdout and "too large" in result.stdout
    assert "card_type: Debit" in result.stdout and "xxxx" not in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("timeout", ["nan", "inf", "-1", "0"])
def test_an_upstream_timeout_that_is_not_a_finite_positive_number_is_refused(timeout: str):
    result = subprocess.run([sys.executable, "-m", "emulator", "proxy", "--upstream", "http://127.0.0.1:1",
                             "--port", "0", "--upstream-timeout", timeout], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "--upstream-timeout" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_failure_inside_the_loop_is_not_chained_to_the_missing_uvloop():
    from emulator.cli import run_loop

    async def failing() -> int:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError) as raised:
        run_loop(failing())
    assert raised.value.__context__ is None and raised.value.__cause__ is None


@pytest.mark.slow
def test_ctrl_c_says_it_waits_for_requests_in_flight_and_a_second_stops_at_once(tmp_path: Path):
    import queue
    import signal
    import threading

    silent = SilentUpstream()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "proxy", "--upstream", silent.url, "--port",
                                str(port), "--upstream-timeout", "120", "--compare", "--report",
                                str(tmp_path / "d.json")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    stderr = process.stderr

    def follow() -> None:
        for line in stderr:
            lines.put(line)

    threading.Thread(target=follow, daemon=True).start()

    def logged(text: str) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if text in line:
                return line
        raise AssertionError(f"never logged {text!r}")

    try:
        assert "proxy ready on" in process.stdout.readline()
        client = Client(f"http://127.0.0.1:{port}", UPSTREAM.username, UPSTREAM.secret, 12345)

        def post() -> None:
            with contextlib.suppress(OSError):  # the proxy stops without an answer
                client.post("/gateway/verify", CARD_VERIFY, timeout=120)

        threading.Thread(target=post, daemon=True).start()
        deadline = time.monotonic() + 30
        while not silent._held and time.monotonic() < deadline:  # the request reached the upstream
            time.sleep(0.05)
        assert silent._held
        process.send_signal(signal.SIGINT)
        assert "waiting for 1 request in flight" in logged("stopping")
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130
        assert time.monotonic() - started < 20
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        silent.stop()
    assert read_report(tmp_path / "d.json")["exchanges"] == 0


def test_the_recording_masks_secrets_in_header_names_query_messages_and_signatures(tmp_path: Path):
    answer = json.dumps({"status": 200, "client_message": "Account 123456789012 is closed", "data": {
        "echo": 'hmac username="u", algorithm="hmac-sha512", headers="x-date", signature="c2VjcmV0c2ln"'}}).encode()
    canned = CannedUpstream(200, [(b"Content-Type", b"application/json")], answer)
    options = ProxyOptions(upstream=canned.url, record=tmp_path / "rec", compare=True, report=tmp_path / "d.json")
    proxy = ProxyServer(options, RELAXED).start()
    try:
        status, _, body = raw_request(proxy.url, b"POST /gateway/verify?cvv=737&account_number=123456789012&x=1 "
                                                 b"HTTP/1.1\r\nContent-Type: application/json\r\n"
                                                 b"X-Api-Secret: hunter2-top", b"{}")
    finally:
        proxy.stop()
        canned.stop()
    assert status == 200 and body == answer
    text = "\n".join(p.read_text() for p in (tmp_path / "rec").glob("*.json"))
    text += (tmp_path / "d.json").read_text() + (tmp_path / "d.md").read_text()
    for secret in ("hunter2-top", "737", "123456789012", "c2VjcmV0c2ln"):
        assert secret not in text, secret
    (recorded,) = read_recording(tmp_path / "rec")
    assert recorded.document["request"]["target"] == "/gateway/verify?cvv=%5Bremoved%5D&account_number=" \
                                                     "%2A%2A%2A%2A%2A%2A%2A%2A9012&x=1"
    assert recorded.document["answer"]["body"]["json"]["client_message"] == "Account ********9012 is closed"


def test_the_ready_line_masks_credentials_in_the_relay_url(upstream: EmulatorServer):
    port = free_port()
    relay = "http://127.0.0.1:9/hooks?token=relay-secret&tenant=a"
    process = subprocess.Popen([sys.executable, "-m", "emulator", "proxy", "--upstream", upstream.url,
                                "--webhook-relay", relay, "--port", str(port), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    try:
        line = process.stdout.readline()
        assert "proxy ready on" in line, line + process.stderr.read()
        assert "127.0.0.1:9/hooks?token=" in line and "tenant=a" in line, line
        for secret in ("relay-secret",):
            assert secret not in line, line
    finally:
        process.terminate()
        process.wait(timeout=30)
