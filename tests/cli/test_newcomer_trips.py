"""The smaller trips of a newcomer's first hour (issue 26): each answered with what went wrong and how to fix it,
tried as the newcomer meets it (the command in a subprocess, real HTTP)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.outside import CARD_VERIFY, Client, admin, call
from tests.support.sockets import free_port

EMULATOR = [sys.executable, "-m", "emulator"]
#: Variables of this test process must not leak into the emulators it starts.
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("INGOPAY_EMULATOR_")}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user types it; it is expected to end by itself (a refusal)."""
    return subprocess.run([*EMULATOR, *args], capture_output=True, text=True, timeout=60,
                          env={**CLEAN_ENV, **(env or {})})


@dataclass
class Running:
    """An emulator process serving on 127.0.0.1: its base URL, its ready line and the process."""

    url: str
    ready: str
    process: subprocess.Popen[str]


@contextlib.contextmanager
def serving(*args: str, scheme: str = "http", env: dict[str, str] | None = None) -> Iterator[Running]:
    """``python -m emulator ARGS`` on 127.0.0.1 and a free port, stopped (SIGTERM) when the block ends."""
    port = free_port()
    process = subprocess.Popen([*EMULATOR, "--host", "127.0.0.1", "--port", str(port), "--quiet", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**CLEAN_ENV, **(env or {})})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "ready on" in line, (line, process.poll())
        yield Running(f"{scheme}://127.0.0.1:{port}", line, process)
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=15)


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


# -- a URL that is not one is said in words, never as a regular expression --------------------------------------

@pytest.mark.parametrize("args, env, expected", [
    (["--webhook-url", "not-a-url"], {},
     "argument --webhook-url: 'not-a-url' has no scheme: it must begin with http:// or https://"),
    (["--webhook-url", "localhost:9000/hook"], {}, "'localhost:9000/hook' has no scheme"),
    (["--webhook-url", "ftp://127.0.0.1/hook"], {},
     "'ftp://127.0.0.1/hook' has the scheme ftp://, which is not supported: use http:// or https://"),
    (["--webhook-url", "http:///hook"], {}, "'http:///hook' has no host after http://"),
    (["--webhook-url", "https:/127.0.0.1/hook"], {}, "needs // after the scheme's colon"),
    (["--public-url", "emulator.test"], {}, "argument --public-url: 'emulator.test' has no scheme"),
    ([], {"INGOPAY_EMULATOR_WEBHOOK_URL": "http://127.0.0.1:9/a not-a-url"},
     "INGOPAY_EMULATOR_WEBHOOK_URL='http://127.0.0.1:9/a not-a-url' is not valid: 'not-a-url' has no scheme"),
    ([], {"INGOPAY_EMULATOR_PUBLIC_URL": "ftp://emulator.test"}, "'ftp://emulator.test' has the scheme ftp://"),
    (["proxy", "--upstream", "payapi-sandbox.ingo.money"], {},
     "--upstream 'payapi-sandbox.ingo.money' has no scheme: it must begin with http:// or https://"),
    (["readiness", "--url", "127.0.0.1:8080", "--participant-id", "1"], {}, "--url '127.0.0.1:8080' has no scheme"),
])
def test_a_url_setting_that_is_no_url_says_what_is_wrong_in_words(args, env, expected):
    last = refusal(run(*args, "--port", "0", env=env) if args[:1] != ["readiness"] else run(*args))
    assert expected in last, last
    assert "^" not in last and "expected form" not in last, last


def test_a_webhook_password_is_masked_in_the_refusal():
    last = refusal(run("--webhook-url", "ftp://user:hunter2@127.0.0.1/hook"))
    assert "hunter2" not in last and "has the scheme ftp://" in last, last


def test_a_webhooks_file_and_the_admin_api_say_the_same_words(tmp_path):
    endpoints = tmp_path / "hooks.yaml"
    endpoints.write_text("- url: 127.0.0.1:9000/hook\n")
    last = refusal(run("--webhooks-config", str(endpoints), "--port", "0"))
    assert last.endswith("entry 1: url: '127.0.0.1:9000/hook' has no scheme: it must begin with http:// or https://"), \
        last
    with serving() as emulator:
        status, refused = admin(emulator.url, "POST", "/_emulator/webhooks/endpoints", {"url": "ftp://127.0.0.1/h"})
        assert status == 400, refused
        assert refused["message"] == ("url: 'ftp://127.0.0.1/h' has the scheme ftp://, which is not supported: use "
                                      "http:// or https://"), refused
        status, refused = admin(emulator.url, "POST", "/_emulator/credentials", {"webhook_url": "not-a-url"})
        assert status == 400 and "webhook_url: 'not-a-url' has no scheme" in refused["message"], refused


# -- one word for a delivery the receiver acknowledged: succeeded -----------------------------------------------

class Acknowledges(BaseHTTPRequestHandler):
    """A webhook receiver that answers 200 to everything."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    """The URL of a receiver on 127.0.0.1 that acknowledges every delivery."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Acknowledges)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Running]:
    """The emulator as the README starts it (Ingo's rate limit of 5 a second per credential included)."""
    with serving() as running:
        yield running


def test_a_delivery_the_receiver_acknowledged_is_succeeded_and_delivered_is_read_as_it_with_a_hint(
        emulator, receiver):
    client = Client.minted(emulator.url, webhook_url=receiver)
    status, _, paid = client.push(client.token(), 25.0, f"trip-{uuid.uuid4().hex[:12]}")
    assert status == 200 and paid["status"] == 100, paid
    wanted = {"participant_id": client.participant_id, "transaction_id": paid["data"]["transaction_id"]}
    status, seen = admin(emulator.url, "POST", "/_emulator/webhooks/wait",
                         {"match": {**wanted, "status": "succeeded"}, "timeout": 30})
    assert status == 200 and seen["matched"] == 1 and "hint" not in seen, seen
    assert seen["deliveries"][0]["status"] == "succeeded"

    status, seen = admin(emulator.url, "POST", "/_emulator/webhooks/wait",
                         {"match": {**wanted, "status": "delivered"}, "timeout": 30})
    assert status == 200 and seen["matched"] == 1, seen
    assert seen["hint"] == ("status 'delivered' is read as 'succeeded', the word each delivery's status uses "
                            "(pending, delivering, succeeded, failed): write 'succeeded'"), seen

    listed = f"/_emulator/webhooks?participant_id={client.participant_id}&status="
    status, by_api_word = admin(emulator.url, "GET", listed + "succeeded")
    assert status == 200 and by_api_word["count"] == 1 and "hint" not in by_api_word, by_api_word
    status, by_other_word = admin(emulator.url, "GET", listed + "delivered")
    assert status == 200 and by_other_word["deliveries"] == by_api_word["deliveries"], by_other_word
    assert "write 'succeeded'" in by_other_word["hint"], by_other_word
    status, refused = admin(emulator.url, "GET", listed + "arrived")
    assert status == 400 and "succeeded" in refused["message"], refused


# -- a 429 explains itself as a 401 does ------------------------------------------------------------------------

def verify_until_refused(client: Client, most: int = 60) -> tuple[int, dict[str, str], dict[str, object]]:
    """Verify cards back to back, as a client that does not pace itself, until one is refused (at most ``most``)."""
    for number in range(most):
        status, headers, answer = client.post("/gateway/verify",
                                              {**CARD_VERIFY, "participant_unique_id1": f"v{number}"})
        if status == 429:
            return status, headers, answer
        assert status == 200, answer
    raise AssertionError(f"{most} verifies in a row were never refused")


def test_a_429_keeps_kongs_body_and_adds_a_diagnosis_with_the_limit_the_window_retry_after_and_the_setting(
        emulator):
    client = Client.minted(emulator.url)
    status, headers, answer = verify_until_refused(client)
    assert answer["message"] == "API rate limit exceeded" and set(answer) == {"message", "diagnosis"}, answer
    diagnosis = answer["diagnosis"]
    retry_after = int(headers["Retry-After"])
    assert diagnosis == {
        "code": "rate_limited",
        "detail": f"more than 5 requests in 1 s for this credential (Ingo allows 5 a second); retry after "
                  f"{retry_after} s, as Retry-After says, or change the emulator's limit with --rate-limit "
                  "(INGOPAY_EMULATOR_RATE_LIMIT) (0 turns it off)",
        "limit": 5, "window_seconds": 1.0, "retry_after": retry_after,
        "setting": "--rate-limit (INGOPAY_EMULATOR_RATE_LIMIT)"}, diagnosis
    status, journal = admin(emulator.url, "GET", f"/_emulator/requests?participant_id={client.participant_id}"
                                                  "&status=429")
    assert status == 200 and journal["requests"][0]["diagnosis"]["code"] == "rate_limited", journal


def test_a_429_asked_for_through_the_admin_api_says_so(emulator):
    client = Client.minted(emulator.url)
    status, steered = admin(emulator.url, "POST", "/_emulator/ratelimit",
                            {"username": client.username, "refuse_next": 1})
    assert status == 200, steered
    status, headers, answer = client.post("/gateway/verify", {**CARD_VERIFY, "participant_unique_id1": "forced"})
    assert status == 429 and answer["message"] == "API rate limit exceeded", answer
    assert answer["diagnosis"]["code"] == "rate_limit_forced", answer
    assert "POST /_emulator/ratelimit asked" in answer["diagnosis"]["detail"], answer
    assert answer["diagnosis"]["retry_after"] == int(headers["Retry-After"])


def test_no_diagnosis_leaves_kongs_bare_429():
    with serving("--no-diagnosis") as running:
        client = Client.minted(running.url)
        status, _, answer = verify_until_refused(client)
        assert answer == {"message": "API rate limit exceeded"}, answer


# -- a body changed after signing is said to be one, not a wrong secret -----------------------------------------

def signed_for(client: Client, path: str, signed_body: bytes, *, digest_of: bytes | None = None) -> dict[str, str]:
    """Headers a client builds with its own code (hashlib, hmac) for ``signed_body``: the Content-sha512 of
    ``digest_of`` (default the same body) and a signing string with ``signed_body``'s length."""
    x_date = formatdate(time.time(), usegmt=True)
    digest = base64.b64encode(hashlib.sha512(signed_body if digest_of is None else digest_of).digest()).decode()
    lines = [f"POST {path} HTTP/1.1", f"x-date: {x_date}", "content-type: application/json",
             f"content-sha512: {digest}", f"content-length: {len(signed_body)}"]
    signature = base64.b64encode(hmac.new(client.secret.encode(), "\n".join(lines).encode(),
                                          hashlib.sha512).digest()).decode()
    return {"X-Date": x_date, "Content-Type": "application/json", "Content-sha512": digest,
            "Authorization": f'hmac username="{client.username}", algorithm="hmac-sha512", '
                             'headers="request-line x-date content-type content-sha512 content-length", '
                             f'signature="{signature}"'}


def verify_document(client: Client) -> dict[str, object]:
    return {"participant_id": client.participant_id, "timestamp": int(time.time()), "version": 11,
            **CARD_VERIFY, "participant_unique_id1": "signed-once"}


def test_a_client_that_signs_compact_json_and_sends_it_re_serialised_is_told_the_body_changed(emulator):
    client = Client.minted(emulator.url)
    document = verify_document(client)
    compact = json.dumps(document, separators=(",", ":")).encode()
    sent = json.dumps(document, indent=2).encode()  # what a framework's serialiser made of it, after signing
    status, _, answer = call(emulator.url, "POST", "/gateway/verify", sent,
                             headers=signed_for(client, "/gateway/verify", compact))
    assert status == 401 and answer["message"] == "HMAC signature does not match", answer  # Kong's, untouched
    diagnosis = answer["diagnosis"]
    assert diagnosis["code"] == "signature_mismatch"
    assert diagnosis["detail"] == (
        f"the body you sent is not the body you signed: the signature and Content-sha512 are of the same JSON "
        f"serialised compactly ({len(compact)} bytes), but {len(sent)} bytes were sent; serialise the JSON once, "
        "then digest, sign and send those same bytes"), diagnosis
    assert "secret" not in diagnosis["detail"]
    assert (diagnosis["body_length"], diagnosis["signed_body_length"]) == (len(sent), len(compact))
    assert f"content-length: {len(compact)}" in diagnosis["client_signing_string"]


def test_a_digest_of_the_sent_body_signed_with_the_compact_length_is_told_the_body_changed(emulator):
    client = Client.minted(emulator.url)
    document = verify_document(client)
    compact = json.dumps(document, separators=(",", ":")).encode()
    sent = json.dumps(document).encode()  # spaces after , and :
    status, _, answer = call(emulator.url, "POST", "/gateway/verify", sent,
                             headers=signed_for(client, "/gateway/verify", compact, digest_of=sent))
    assert status == 401, answer
    assert answer["diagnosis"]["detail"].startswith(
        "the body you sent is not the body you signed: the signature is of the same JSON serialised compactly"), answer


@pytest.mark.parametrize("same_length", [True, False])
def test_a_digest_of_another_body_is_told_the_body_changed(emulator, same_length):
    """The client signed one payment's body and sent another's: of the same length the signature holds and the
    digest is what differs; of another length the signature fails too, and the digest still says why."""
    client = Client.minted(emulator.url)
    document = verify_document(client)
    signed = json.dumps(document).encode()
    sent = json.dumps({**document, "recipient_city": "Augusta" if same_length else "Savannah"}).encode()
    assert (len(sent) == len(signed)) is same_length
    status, _, answer = call(emulator.url, "POST", "/gateway/verify", sent,
                             headers=signed_for(client, "/gateway/verify", signed))
    assert status == 401, answer
    detail = answer["diagnosis"]["detail"]
    assert detail.startswith("the body you sent is not the body you signed: ") and "secret" not in detail, detail
    assert "Content-sha512 is a SHA-512 digest of another body" in detail, detail
    assert answer["diagnosis"]["code"] == ("body_digest_mismatch" if same_length else "signature_mismatch")


def test_a_wrong_secret_is_still_told_to_check_the_secret(emulator):
    client = Client.minted(emulator.url)
    body = json.dumps(verify_document(client)).encode()
    wrong = Client(client.url, client.username, "not-the-secret", client.participant_id)
    status, _, answer = call(emulator.url, "POST", "/gateway/verify", body,
                             headers=signed_for(wrong, "/gateway/verify", body))
    assert status == 401 and "check the secret" in answer["diagnosis"]["detail"], answer


# -- --tls: the CA where the user can find it, on the ready line, and no folder left behind ---------------------

def trusted_ca(ready: str) -> Path:
    """The CA file the ready line names."""
    assert ", trust the CA " in ready, ready
    return Path(ready.rsplit(", trust the CA ", 1)[1].strip().removesuffix(")"))


def healthy_over_https(ca: Path, url: str) -> None:
    """A client that trusts ``ca`` only (the host name checked: 127.0.0.1 is in the certificate) reaches ``url``."""
    with urllib.request.urlopen(f"{url}/_emulator/health", timeout=10,
                                context=ssl.create_default_context(cafile=str(ca))) as answer:
        assert answer.status == 200


def test_tls_without_a_folder_names_its_ca_on_the_ready_line_and_removes_it_at_exit():
    with serving("--tls", scheme="https") as running:
        ca = trusted_ca(running.ready)
        assert ca.is_file() and ca.parent.name.startswith("ingopay-emulator-tls-")
        healthy_over_https(ca, running.url)
    assert running.process.returncode == 0
    assert not ca.parent.exists(), f"{ca.parent} was left behind"


@pytest.mark.parametrize("where", ["tls-dir", "data-dir"])
def test_tls_material_goes_to_the_folder_named_and_healthcheck_finds_it_by_the_same_settings(tmp_path, where):
    named_folder = tmp_path / "certificates"
    flag = ["--tls-dir", str(named_folder)] if where == "tls-dir" else ["--data-dir", str(tmp_path / "data")]
    folder = named_folder if where == "tls-dir" else tmp_path / "data" / "tls"
    variable = {"INGOPAY_EMULATOR_TLS_DIR": str(named_folder)} if where == "tls-dir" \
        else {"INGOPAY_EMULATOR_DATA_DIR": str(tmp_path / "data")}
    with serving("--tls", *flag, scheme="https") as running:
        ca = trusted_ca(running.ready)
        assert ca == folder / "ca.pem" and ca.is_file(), running.ready
        healthy_over_https(ca, running.url)
        port = running.url.rsplit(":", 1)[1]
        # the health check reads where serve listens and what it trusts from the same variables serve reads
        probed = run("healthcheck", "--scheme", "https", env={"INGOPAY_EMULATOR_PORT": port, **variable})
        assert probed.returncode == 0, probed.stderr
        assert probed.stdout.strip() == f"healthy: https://127.0.0.1:{port}/_emulator/health"
    assert ca.is_file(), "a folder the user named is kept"


def test_the_json_ready_line_carries_the_ca(tmp_path):
    with serving("--tls", "--tls-dir", str(tmp_path), "--log-format", "json", scheme="https") as running:
        ready = json.loads(running.ready)
        assert ready["ca"] == str(tmp_path / "ca.pem") and ready["url"] == running.url, ready


def test_a_tls_folder_that_cannot_be_written_is_refused_naming_the_setting(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    last = refusal(run("--tls", "--tls-dir", str(blocker / "tls"), "--port", "0"))
    assert f"cannot write the TLS certificate to {blocker / 'tls'}" in last, last
    assert "--tls-dir (INGOPAY_EMULATOR_TLS_DIR)" in last, last


def test_healthcheck_reads_the_port_variable_as_serve_does():
    last = run("healthcheck", env={"INGOPAY_EMULATOR_PORT": "0"})
    assert last.returncode == 1, last
    assert "--port (INGOPAY_EMULATOR_PORT) is 0 (any free port): give healthcheck --port" in last.stderr, last.stderr


# -- the inspector's list: a payment found by its amount and participant_unique_id1 -----------------------------

async def test_the_inspectors_list_shows_each_payments_amount_and_participant_unique_id1(emulator, chromium):
    from playwright.async_api import expect

    client = Client.minted(emulator.url)
    token = client.token(participant_unique_id1="customer-7")
    puid1 = f"payout-{uuid.uuid4().hex[:8]}"
    status, _, paid = client.push(token, 42.5, puid1)
    assert status == 200 and paid["status"] == 100, paid

    page = await chromium.new_page(viewport={"width": 1400, "height": 900})
    await page.goto(f"{emulator.url}/_emulator/ui?participant_id={client.participant_id}")
    await expect(page.locator("body[data-loaded=true]")).to_have_count(1)
    payout = page.locator("tr.request", has=page.locator("td.puid1", has_text=puid1))
    await expect(payout).to_have_count(1)  # found without opening a row
    await expect(payout.locator("td.amount")).to_have_text("42.50")
    await expect(payout).to_contain_text("POST /gateway/process")
    verified = page.locator("tr.request", has=page.locator("td.puid1", has_text="customer-7"))
    await expect(verified.locator("td.amount")).to_have_text("–")  # a verify moves no money
    await expect(page.get_by_role("columnheader", name="participant_unique_id1")).to_be_visible()
    html = await page.content()
    assert CARD_VERIFY["account"] not in html  # the masking rules hold in the new columns too
