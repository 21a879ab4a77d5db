"""Health checks while a large snapshot is restored: how long the emulator takes to restore an archive of about
``--mb`` megabytes (real tokens, each its own), and how long each health check waited meanwhile.

    python bench/restore.py [--mb 60] [--data-dir DIR]

Prints one JSON object: the archive's size, the restore's seconds, and the health checks answered during it with
their median, 99th percentile and worst latency in milliseconds (the issue's target: every one within 100 ms).
The machine's load shows in these numbers: compare with the same run on main, on the same machine.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import threading
import time
from typing import Any

from common import HOST, Server, emulator_command, free_port, percentile, request, signed_post, verify_body


def archive_of(port: int, size: int) -> bytes:
    """The emulator's own snapshot after one verify, grown to about ``size`` bytes with copies of its token."""
    status, _ = signed_post(port, "/gateway/verify", verify_body())
    assert status == 200
    status, raw = request(port, "GET", "/_emulator/snapshot")
    assert status == 200
    archive = json.loads(raw)
    [template] = archive["store"]["records"]["token"]
    each = len(json.dumps(template)) + 2
    tokens = []
    for number in range(size // each):
        item = copy.deepcopy(template)
        item["key"] = item["record"]["token"] = f"token-{number:08d}"
        item["record"]["created"] = 1_700_000_000.0 + number
        tokens.append(item)
    archive["store"]["records"].update(token=tokens, token_fingerprint=[])
    return json.dumps(archive).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=60.0, help="archive size in megabytes (default 60)")
    parser.add_argument("--data-dir", help="restore into a durable store in this (new) folder")
    options = parser.parse_args()
    port = free_port()
    extra = ("--data-dir", options.data_dir) if options.data_dir else ()
    server = Server("emulator", emulator_command(port, *extra), port).start()
    try:
        server.wait_ready()
        raw = archive_of(port, int(options.mb * 1_000_000))
        latencies: list[float] = []
        done = threading.Event()
        result: dict[str, Any] = {}

        def restore() -> None:
            started = time.perf_counter()
            connection = http.client.HTTPConnection(HOST, port, timeout=600)
            connection.request("POST", "/_emulator/snapshot", raw, {"Content-Type": "application/json"})
            response = connection.getresponse()
            result.update(status=response.status, seconds=round(time.perf_counter() - started, 2))
            response.read()
            connection.close()
            done.set()

        worker = threading.Thread(target=restore)
        worker.start()
        while not done.is_set():  # every check sent while the restore runs counts, however late its answer
            started = time.perf_counter()
            status, _ = request(port, "GET", "/_emulator/health", timeout=30)
            assert status == 200
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
        worker.join()
        print(json.dumps({"archive_mb": round(len(raw) / 1e6, 1), "restore": result,
                          "health_checks": len(latencies),
                          "health_ms": {"median": round(percentile(latencies, 50), 1),
                                        "p99": round(percentile(latencies, 99), 1),
                                        "worst": round(max(latencies), 1)} if latencies else None}))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
