"""The time a pytest test spends on one signed verify + process round trip: through the pytest plugin's client
against the emulator the plugin starts, and through a bare aiohttp client to the bare handler (bench/bare.py).

    python bench/roundtrip.py [--pairs 300]

Prints one JSON object: microseconds per pair for each, measured inside the test (the fixture's set-up and the
emulator's start are not counted; the plugin's first pair is a warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

PLUGIN_TEST = '''
import json, os, time

CARD = {"account_type": "CA", "account": "4111111111111111", "expiration_date": "3012",
        "recipient_first_name": "Ada", "recipient_last_name": "Lovelace", "recipient_address1": "1 Main St",
        "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}


def test_round_trips(ingopay_client):
    client, pairs = ingopay_client, int(os.environ["ROUNDTRIP_PAIRS"])

    def pair(n):
        verified = client.post("/gateway/verify", client.base(**CARD, participant_unique_id1=f"v-{n}"))
        token = verified.body["data"]["customer_account_token"]
        paid = client.post("/gateway/process", client.base(account_type="CA", amount=1.0, source_of_funds=1,
                                                           customer_account_token=token,
                                                           participant_unique_id1=f"p-{n}"))
        assert verified.status == 200 and paid.body["status"] == 100, paid.body

    pair("warm-up")
    started = time.perf_counter()
    for n in range(pairs):
        pair(n)
    elapsed = time.perf_counter() - started
    with open(os.environ["ROUNDTRIP_OUT"], "w") as out:
        json.dump({"us_per_pair": elapsed / pairs * 1e6}, out)
'''


def through_the_plugin(pairs: int) -> float:
    """Microseconds per pair inside a pytest test that uses the plugin's ``ingopay_client``."""
    with tempfile.TemporaryDirectory(prefix="ingopay-roundtrip-") as work:
        test = Path(work) / "test_roundtrip.py"
        test.write_text(PLUGIN_TEST)
        out = Path(work) / "result.json"
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                              cwd=work, capture_output=True, text=True, timeout=600,
                              env={**__import__("os").environ, "ROUNDTRIP_PAIRS": str(pairs),
                                   "ROUNDTRIP_OUT": str(out)})
        if done.returncode != 0:
            raise RuntimeError(f"the plugin's round-trip test failed: {done.stdout[-800:]} {done.stderr[-400:]}")
        return float(json.loads(out.read_text())["us_per_pair"])


async def _bare_pairs(port: int, pairs: int) -> float:
    import aiohttp
    from common import process_body, verify_body

    from emulator.client import encode_body, sign

    async def post(session: aiohttp.ClientSession, path: str, document: dict[str, Any]) -> Any:
        raw = encode_body(document)
        async with session.post(f"http://127.0.0.1:{port}{path}", data=raw, headers=sign("POST", path, raw)) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async with aiohttp.ClientSession() as session:
        await post(session, "/gateway/verify", verify_body("warm-up"))
        started = time.perf_counter()
        for n in range(pairs):
            await post(session, "/gateway/verify", verify_body(f"v-{n}"))
            await post(session, "/gateway/process", process_body("token", f"p-{n}"))
        return (time.perf_counter() - started) / pairs * 1e6


def through_bare_aiohttp(pairs: int) -> float:
    """Microseconds per pair through an aiohttp client (keep-alive) to the bare handler."""
    from common import Server, free_port

    port = free_port()
    server = Server("bare aiohttp", [sys.executable, str(BENCH / "bare.py"), str(port)], port).start()
    try:
        server.wait_ready()
        return asyncio.run(_bare_pairs(port, pairs))
    finally:
        server.stop()


def measure(pairs: int) -> dict[str, float]:
    plugin, bare = through_the_plugin(pairs), through_bare_aiohttp(pairs)
    return {"pairs": pairs, "plugin_us_per_pair": round(plugin, 1), "bare_us_per_pair": round(bare, 1),
            "ratio": round(plugin / bare, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=300)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.pairs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
