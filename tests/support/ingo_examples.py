"""Ingo's own example requests (tests/data/ingo_examples.json, copied from Ingo's pages), dated now and sent as a
client written from Ingo's authentication page sends them (tests/support/outside.py, not the project's signer)."""

from __future__ import annotations

import copy
import json
import time
import urllib.error
import urllib.request
from typing import Any

from tests.support.outside import Client
from tests.support.paths import DATA

#: Each example of Ingo's pages by its name: its path, request and documented answer.
EXAMPLES: dict[str, dict[str, Any]] = {
    example["name"]: example
    for example in json.loads((DATA / "ingo_examples.json").read_text(encoding="utf-8"))["examples"]}
SECRET = "ingopay-emulator-secret"


def now_dated(example: dict[str, Any]) -> dict[str, Any]:
    """The example's request with its timestamp made current, and nothing else changed."""
    body: dict[str, Any] = copy.deepcopy(example["request"])
    if isinstance(body.get("request"), dict):  # v12
        body["request"]["timestamp"] = str(int(time.time()))
    elif "timestamp" in body:
        body["timestamp"] = int(time.time())
    return body


def send(base: str, path: str, document: dict[str, Any]) -> tuple[int, Any]:
    """POST as a careful client does: on a 429, wait as long as Retry-After says, then send again."""
    body = json.dumps(document).encode()
    client = Client(base, "test", SECRET, 12345)
    while True:
        request = urllib.request.Request(base + path, data=body, method="POST", headers=client.headers(path, body))
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as refused:
            if refused.code != 429:
                return refused.code, json.load(refused)
            time.sleep(float(refused.headers.get("Retry-After", "1")))
