"""Ingo's own examples, verbatim, answer as Ingo's pages show.

Each example request of tests/data/ingo_examples.json (copied from Ingo's pages) is sent to a real emulator on its
default settings, with only its body timestamp made current, signed by a signer written from Ingo's authentication
page (hashlib and hmac, not the project's). The answer must have the documented envelope and fields, with the
documented values, except values that are expected to differ (ids, tokens, times, dates) and the few places where
Ingo's pages contradict themselves (each named below, and in docs/contract.md).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.ingo_examples import EXAMPLES, now_dated, send
from tests.support.sockets import free_port

#: Values that differ by nature: only their JSON type is compared.
VARYING = {"customer_account_token", "request_timestamp", "time", "duration", "transaction_id", "check_number",
           "estimated_posting_date", "session_identifier", "authorized_url", "authorized_url_expiration_utc",
           "risk_session_token", "risk_assessment_token",
           "timestamp"}  # the v12 echo of the request's timestamp, which the test made current
#: Where Ingo's examples contradict each other or are not reproducible, per example: field -> why.
CONTRADICTED: dict[str, dict[str, str]] = {
    "BillPay verify": {"payee_city": "the biller search example gives biller 123457's city as Anytown",
                       "payee_zip": "the biller search example gives biller 123457's zip as 00000"},
    "PayPal verify": {"last_4": "the last four of the wallet's id, which the emulator makes up"},
    "retail verify": {"last_4": "the example's card number is masked to its BIN (411111XXXXXXXXXX)",
                      "estimated_posting_time": "the retail process example says within 5 minutes"},
    "risk session": {"timestamp": "the example echoes a request.timestamp other than the one it sent"},
    "session create": {"participant_unique_id1": "the example answers with another id than it sent"},
}
#: The emulator always reports how long it took; three of Ingo's examples print no "time".
ALWAYS_ADDED = {"time"}
DATE = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")


def compare(documented: Any, answered: Any, where: str, contradicted: dict[str, str]) -> list[str]:
    """Every difference that matters between Ingo's documented answer and the emulator's."""
    key = where.rsplit(".", 1)[-1]
    if key in contradicted:
        return []
    if isinstance(documented, dict):
        if not isinstance(answered, dict):
            return [f"{where}: an object is documented, the emulator answered {answered!r}"]
        problems = [f"{where}.{k}: documented, missing" for k in documented if k not in answered]
        extra = set(answered) - set(documented) - (ALWAYS_ADDED if where == "answer" else set())
        problems += [f"{where}.{k}: answered, not documented" for k in sorted(extra)]
        for name in documented:
            if name in answered:
                problems += compare(documented[name], answered[name], f"{where}.{name}", contradicted)
        return problems
    if isinstance(documented, list):
        if not isinstance(answered, list) or len(answered) != len(documented):
            return [f"{where}: {len(documented)} items documented, answered {answered!r}"]
        return [p for i, (d, a) in enumerate(zip(documented, answered, strict=True))  # lengths checked above
                for p in compare(d, a, f"{where}[{i}]", contradicted)]
    if type(documented) is not type(answered):
        return [f"{where}: documented {documented!r}, answered {answered!r} (another JSON type)"]
    if key in VARYING:
        return []
    if isinstance(documented, str) and DATE.search(documented):
        documented, answered = DATE.sub("<date>", documented), DATE.sub("<date>", answered)
    return [] if documented == answered else [f"{where}: documented {documented!r}, answered {answered!r}"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    """A real emulator on its default settings."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and "ready on" in process.stdout.readline()
    yield f"http://127.0.0.1:{port}"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=15)


def reset(base: str) -> None:
    request = urllib.request.Request(base + "/_emulator/reset", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=15).close()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_ingos_example_answers_as_its_page_shows(emulator, name):
    example = EXAMPLES[name]
    reset(emulator)  # each example on a fresh emulator: several of Ingo's examples share ids
    status, answer = send(emulator, example["path"], now_dated(example))
    assert status == 200, (example["page"], answer)
    problems = compare(example["response"], answer, "answer", CONTRADICTED.get(name, {}))
    assert not problems, f"{example['page']}\n" + "\n".join(problems)


def test_every_example_request_is_sent_verbatim_but_for_its_timestamp():
    """The data file holds Ingo's examples as printed: only now_dated changes them, and only the timestamp."""
    for example in EXAMPLES.values():
        original, sent = example["request"], now_dated(example)
        changed = {k for k in set(original) | set(sent) if original.get(k) != sent.get(k)}
        assert changed <= {"timestamp", "request"}, (example["name"], changed)
        if "request" in changed:
            assert {k for k in original["request"] if original["request"][k] != sent["request"][k]} == {"timestamp"}
