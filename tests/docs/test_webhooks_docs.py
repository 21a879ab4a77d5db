"""docs/webhooks.md tells the truth: its verification snippets (JavaScript run with node, Python with only the
standard library) accept a delivery the emulator signed and refuse tampered ones; its topics table is complete."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil

import pytest

from emulator.webhooks.endpoints import load_config
from emulator.webhooks.events import Event, build_envelope
from emulator.webhooks.topics import TOPICS
from tests.support.app import NOW
from tests.support.paths import ROOT
from tests.support.webhook_receiver import DEFAULT_SECRET, Receiver, advance, emit, start_emulator, start_receiver

DOC = ROOT / "docs" / "webhooks.md"

SECRET = "whsec-docs-ß-check"  # a non-ASCII secret: the snippets must key the HMAC with its UTF-8 bytes

# Runs the extracted function on each case given in CASES (JSON: [[body_base64, header, secret, now], ...]).
JS_HARNESS = """
const cases = JSON.parse(process.env.CASES);
const results = cases.map(([body, header, secret, now]) =>
  verifyIngoSignature(Buffer.from(body, "base64"), header, secret, 300, now));
// A string body (express.text, or a body already decoded) verifies too.
results.push(verifyIngoSignature(Buffer.from(cases[0][0], "base64").toString("utf8"), cases[0][1], cases[0][2],
                                 300, cases[0][3]));
process.stdout.write(JSON.stringify(results));
"""


def snippet(name: str, language: str) -> str:
    """The code block between <!-- NAME:start --> and <!-- NAME:end --> in docs/webhooks.md."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {name}:start -->\s*```{language}\n(.*?)```\s*<!-- {name}:end -->", text, re.S)
    assert found, f"docs/webhooks.md has no {language} block between the {name} markers"
    return found.group(1)


async def signed_delivery(aiohttp_client, aiohttp_server, clock):
    """A real delivery: the raw bytes and X-Ingo-Signature a receiver got from the emulator."""
    receiver = Receiver()
    url = await start_receiver(aiohttp_server, receiver)
    emu = await start_emulator(aiohttp_client, clock, webhook_secret=SECRET)
    await emu.client.post("/_emulator/webhooks/endpoints", json={"url": url})
    await emit(emu, "gateway.transaction.recipient.payment.status.check.paid",
               ancillary={"participant_unique_id1": "José-1"},
               event={"check_number": "0600001017", "check_amount": "20.78", "memo": "über € ✓"})
    await advance(emu, 0)
    [received] = receiver.received
    assert received.t == NOW
    return received.raw, received.signature


def cases(raw: bytes, header: str) -> tuple[list[list], list[bool]]:
    """Each case and whether a correct verifier accepts it."""
    tampered = raw.replace(b"20.78", b"20.79")
    assert tampered != raw
    forged = header.replace(f"t={NOW}", f"t={NOW + 10}")
    table = [
        (raw, header, SECRET, NOW, True),
        (raw, header, SECRET, NOW + 299, True),
        (tampered, header, SECRET, NOW, False),
        (raw, header, "whsec-docs-ss-check", NOW, False),
        (raw, header, DEFAULT_SECRET, NOW, False),
        (raw, header, SECRET, NOW + 301, False),
        (raw, header, SECRET, NOW - 301, False),
        (raw, forged, SECRET, NOW + 10, False),
        (raw, "", SECRET, NOW, False),
        (raw, header.split(",")[1], SECRET, NOW, False),  # v1= without t=
    ]
    return [[base64.b64encode(b).decode(), h, s, n] for b, h, s, n, _ in table], [e for *_, e in table]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_the_javascript_snippet_verifies_a_real_delivery(aiohttp_client, aiohttp_server, clock, tmp_path):
    raw, header = await signed_delivery(aiohttp_client, aiohttp_server, clock)
    script = tmp_path / "verify.js"
    script.write_text(snippet("verify-js", "javascript") + JS_HARNESS, encoding="utf-8")
    given, expected = cases(raw, header)
    node = shutil.which("node")
    assert node is not None
    process = await asyncio.create_subprocess_exec(
        node, str(script), env={**os.environ, "CASES": json.dumps(given)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert json.loads(out) == expected + [True]


async def test_the_standard_library_python_snippet_verifies_a_real_delivery(aiohttp_client, aiohttp_server, clock):
    raw, header = await signed_delivery(aiohttp_client, aiohttp_server, clock)
    namespace: dict = {}
    exec(compile(snippet("verify-python", "python"), "docs/webhooks.md", "exec"), namespace)
    verify = namespace["verify_ingo_signature"]
    given, expected = cases(raw, header)
    assert [verify(base64.b64decode(b), h, s, now=n) for b, h, s, n in given] == expected
    assert verify(raw, header, SECRET, tolerance=0, now=NOW + 10**6)


def test_the_topics_table_lists_every_topic_with_its_version_and_status():
    text = DOC.read_text(encoding="utf-8")
    rows = {m.group(1): (m.group(2), m.group(3))
            for m in re.finditer(r"^\| `([a-z_.]+)` \| (\d+) \| (\d+) ", text, re.M)}
    assert rows == {t.name: (t.version, str(t.status)) for t in TOPICS.values()}


def test_the_config_file_example_loads_and_filters_as_described(tmp_path):
    [block] = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    path = tmp_path / "webhooks.yaml"
    path.write_text(block, encoding="utf-8")
    ofac, checks = load_config(path, DEFAULT_SECRET)
    assert (ofac.url, ofac.secret, ofac.topics, ofac.participant_id) == (
        "http://127.0.0.1:9000/ofac", "whsec-ofac-receiver", ("gateway.*.ofac.status.*",), None)
    assert (checks.secret, checks.participant_id) == (DEFAULT_SECRET, 12345)

    def event(topic: str, participant_id: int = 12345) -> Event:
        envelope = build_envelope(topic, event_id="sb01-x", timestamp=NOW, ancillary={}, event={})
        return Event(envelope, participant_id, "test", NOW, 1)

    wanted = {name for name in TOPICS if ofac.wants(event(name))}
    assert wanted == {"gateway.transaction.recipient.verification.ofac.status.suspended",
                      "gateway.transaction.recipient.verification.ofac.status.cleared",
                      "gateway.transaction.recipient.verification.ofac.status.failure"}
    assert {name for name in TOPICS if checks.wants(event(name))} == {
        "gateway.transaction.recipient.payment.status.check.issued",
        "gateway.transaction.recipient.payment.status.check.paid",
        "gateway.transaction.recipient.payment.status.check.stopped",
        "gateway.transaction.recipient.status.payment.check.returned",
        "gateway.transaction.recipient.payment.status.returned"}
    assert not checks.wants(event("gateway.transaction.recipient.payment.status.check.paid", 54321))
