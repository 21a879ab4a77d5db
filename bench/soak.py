"""Soak: a mixed workload against one emulator for N minutes, reporting errors, latency and memory over time.

    python bench/soak.py [MINUTES]        # default 2 minutes at 200 requests a second

Not part of CI. Loopback only and bounded: it starts its own ``python -m emulator --rate-limit 0 --quiet`` on a
free 127.0.0.1 port (or uses ``--port`` of one you started), sends an open-loop mix of signed verify, process,
debit and session-create requests plus health checks at a fixed rate, prints one line per interval (requests,
failures, p50 / p99 / max latency, RSS of the server) and a summary per endpoint, and stops by itself.
A failure is a transport error, an HTTP status other than 200, or an Ingo status other than success.
Exit status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    OpenLoop,
    Sample,
    Server,
    card_token,
    debit_body,
    emulator_command,
    free_port,
    health_raw,
    percentile,
    process_body,
    rss_mb,
    session_body,
    signed_raw,
    verify_body,
)

#: The mix: endpoint kind and its weight.
MIX = {"verify": 15, "process": 35, "debit": 20, "session": 15, "health": 15}


def workload(token: str, seed: int) -> Iterator[tuple[str, bytes]]:
    """Signed requests, each signed just before it is due (so the soak can run longer than the skew window)."""
    rng = random.Random(seed)
    kinds, weights = zip(*MIX.items(), strict=True)  # (kind, weight) pairs
    counter = itertools.count(1)
    health = health_raw()
    while True:
        kind = rng.choices(kinds, weights)[0]
        n = next(counter)
        if kind == "verify":
            yield kind, signed_raw("/gateway/verify", verify_body(f"soak-customer-{n % 50}"))
        elif kind == "process":
            yield kind, signed_raw("/gateway/process", process_body(token, f"soak-process-{n}"))
        elif kind == "debit":
            yield kind, signed_raw("/gateway/v12/debit/process", debit_body(token, f"soak-debit-{n}"))
        elif kind == "session":
            yield kind, signed_raw("/api/v1/sessions/point-in-time/plugin", session_body(f"soak-session-{n}"))
        else:
            yield kind, health


def failure(sample: Sample) -> str | None:
    """Why a sample failed, or None when it is a success."""
    if sample.error:
        return sample.error
    if sample.status != 200:
        return f"HTTP {sample.status}: {sample.body[:160]!r}"
    try:
        document: Any = json.loads(sample.body)
    except ValueError:
        return f"not JSON: {sample.body[:160]!r}"
    if sample.kind == "health":
        ok = document.get("status") == "ok"
    elif sample.kind == "debit":
        ok = str((document.get("response") or {}).get("status")) == "100"
    else:
        ok = document.get("status") == 100
    return None if ok else f"Ingo status not success: {sample.body[:200]!r}"


def line(label: str, samples: list[Sample], failures: int, rss: float | None) -> str:
    latencies = [s.latency * 1000 for s in samples]
    if not latencies:
        return f"{label:>8} {0:>8} {failures:>8}"
    return (f"{label:>8} {len(samples):>8} {failures:>8} {percentile(latencies, 50):>8.2f} "
            f"{percentile(latencies, 99):>8.2f} {max(latencies):>8.2f}" + (f" {rss:>8.1f}" if rss is not None else ""))


async def soak(port: int, pid: int | None, minutes: float, rate: float, interval: float, seed: int) -> int:
    token = card_token(port)
    samples: list[Sample] = []
    client = OpenLoop(port, rate, timeout=10.0)
    duration = minutes * 60
    print(f"soak: {minutes:g} min at {rate:g} req/s on 127.0.0.1:{port}, mix "
          + ", ".join(f"{k} {v} %" for k, v in MIX.items()), flush=True)
    print(f"{'t (s)':>8} {'requests':>8} {'failures':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'RSS MB':>8}")
    rss_series: list[tuple[float, float]] = []
    if pid is not None:
        rss_series.append((0.0, rss_mb(pid)))
        print(f"{0:>8} {'':>8} {'':>8} {'':>8} {'':>8} {'':>8} {rss_series[-1][1]:>8.1f}", flush=True)
    reasons: Counter = Counter()

    async def reporter() -> None:
        seen = 0
        started = time.perf_counter()
        while True:
            await asyncio.sleep(interval)
            window = samples[seen:]
            seen += len(window)
            failed = [f for f in map(failure, window) if f]
            reasons.update(failed)
            rss = rss_mb(pid) if pid is not None else None
            elapsed = time.perf_counter() - started
            if rss is not None:
                rss_series.append((elapsed, rss))
            print(line(f"{elapsed:.0f}", window, len(failed), rss), flush=True)

    task = asyncio.get_running_loop().create_task(reporter())
    try:
        await client.run(workload(token, seed), duration, samples)
    finally:
        task.cancel()
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    all_failures = [f for f in map(failure, samples) if f]
    print("\nper endpoint (whole run):")
    print(f"{'endpoint':>8} {'requests':>8} {'failures':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind in MIX:
        group = by_kind.get(kind, [])
        print(line(kind, group, sum(1 for s in group if failure(s)), None))
    print(line("all", samples, len(all_failures), None))
    if rss_series:
        values = [r for _, r in rss_series]
        print(f"\nRSS: start {values[0]:.1f} MB, end {values[-1]:.1f} MB, max {max(values):.1f} MB")
    if all_failures:
        print("\nfailures (most common first):")
        for reason, count in Counter(all_failures).most_common(5):
            print(f"  {count} x {reason}")
    expected = int(duration * rate)
    print(f"\n{len(samples):,} requests sent of {expected:,} scheduled; {len(all_failures)} failed")
    return 1 if all_failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("minutes", nargs="?", type=float, default=2.0, help="how long to run (default 2)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests a second, all kinds (default 200)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between report lines (default 10)")
    parser.add_argument("--port", type=int, help="use an emulator already listening on 127.0.0.1:PORT "
                                                  "(started with --rate-limit 0; RSS is then not reported)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 0 < args.minutes <= 24 * 60:
        parser.error("minutes must be between 0 and 1440")
    if args.port:
        return asyncio.run(soak(args.port, None, args.minutes, args.rate, args.interval, args.seed))
    port = free_port()
    logfile = Path(tempfile.gettempdir()) / f"ingopay-soak-{port}.log"
    server = Server("emulator", emulator_command(port), port, log=logfile).start()
    try:
        server.wait_ready()
        code = asyncio.run(soak(port, server.pid, args.minutes, args.rate, args.interval, args.seed))
        if not server.alive():
            print(f"the emulator exited during the soak (log: {logfile})")
            return 1
        return code
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
