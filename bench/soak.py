"""Soak: a mixed workload against one emulator for N minutes, reporting errors, latency and memory over time; or,
with ``--memory``, a fixed volume of stateful requests and the memory they leave behind.

    python bench/soak.py [MINUTES]        # default 2 minutes at 200 requests a second
    python bench/soak.py --memory         # 300,000 unique-card verifies, 100,000 pushes with webhooks: RSS after

Not part of CI. Loopback only and bounded: it starts its own ``python -m emulator --rate-limit 0 --quiet`` on a
free 127.0.0.1 port (or uses ``--port`` of one you started), sends an open-loop mix of signed verify, process,
debit and session-create requests plus health checks at a fixed rate, prints one line per interval (requests,
failures, p50 / p99 / max latency, RSS of the server) and a summary per endpoint, and stops by itself.
A failure is a transport error, an HTTP status other than 200, or an Ingo status other than success.
Exit status 1 if anything failed.

``--memory`` (a few minutes): the emulator is started with a webhook endpoint on a loopback receiver that answers 200
(each push paid emits its final-outcome webhook, ``--payment-webhooks on`` by default); it is sent ``--verifies``
signed verifies, each of a card number never seen before (each makes a token), then ``--pushes`` signed pushes, each
with its own ``participant_unique_id1`` (each stores a payment, an event and a delivery), as fast
as ``--concurrency`` keep-alive connections carry them, waiting only while more than ``--backlog`` webhooks are on
their way (a delivery not made yet is never let go, so a receiver that falls behind costs memory for as long as it is
behind; ``--backlog -1`` never waits). It waits until every webhook was delivered, then prints the server's RSS
(VmRSS) at each stage, the caps and evictions in the ``memory`` section of ``GET /_emulator/state``, and whether RSS
stayed under ``--target-mb`` (150 MB: issue 27's target). Exit status 1 if a request or a delivery failed, or the
target was missed. ``bench/run.py`` runs it (unless ``--no-soak``) and puts the figure in its report.
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
    HOST,
    OpenLoop,
    Sample,
    Server,
    _Conn,
    card_token,
    debit_body,
    emulator_command,
    free_port,
    health_raw,
    percentile,
    process_body,
    request,
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


# -- the memory soak: a fixed volume of stateful requests, then RSS ------------------------------------------------

#: The memory soak's volume and its target (issue 22 item 6; issue 27 item 4).
VERIFIES, PUSHES, TARGET_MB = 300_000, 100_000, 150.0
#: Webhooks on their way beyond which the soak's pushes wait for the receiver, as a client that waits on its webhooks
#: does: pending deliveries are never let go, so a backlog costs memory for as long as it lasts (see --backlog).
BACKLOG = 1_000
#: The soak's pushes' participant_unique_id1 prefix (each push emits its final-outcome webhook: the emulator's default).
HOOK_PREFIX = "soak-hook-"


def card_number(n: int) -> str:
    """The n-th card number of the soak: a Visa number that passes the Luhn check, never a magic value."""
    body = f"4111{n:011d}"
    total = 0
    for index, char in enumerate(reversed(body)):  # the check digit will stand right of these
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return body + str(-total % 10)


class Receiver(asyncio.Protocol):
    """A loopback webhook receiver: answers every request 200 at once (keep-alive) and counts them."""

    received = 0

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in bytes(self.buffer[:end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[:end + 4 + length]
            Receiver.received += 1
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")


def ingo_success(status: int, body: bytes) -> str | None:
    """Why a signed answer is not a success (HTTP 200 with Ingo status 100), or None."""
    if status != 200:
        return f"HTTP {status}: {body[:160]!r}"
    try:
        document = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:160]!r}"
    return None if document.get("status") == 100 else f"Ingo status {document.get('status')}: {body[:160]!r}"


async def drive(port: int, requests: Iterator[bytes], total: int, concurrency: int, label: str, pid: int,
                failures: Counter, backlog: int | None = None) -> int:
    """Send ``total`` requests over ``concurrency`` keep-alive connections, each sent when the last answered (and,
    with ``backlog``, while at most that many webhooks are on their way); print progress (rate, RSS, webhooks
    received) every tenth. Returns the most webhooks seen on their way."""
    loop = asyncio.get_running_loop()
    done = 0
    started = time.perf_counter()
    step = max(1, total // 10)
    most_behind = 0

    async def worker() -> None:
        nonlocal done, most_behind
        _, conn = await loop.create_connection(_Conn, HOST, port)
        try:
            while True:
                most_behind = max(most_behind, done - Receiver.received)
                if backlog is not None:
                    while done - Receiver.received > backlog:
                        await asyncio.sleep(0.005)  # the receiver is behind: as a client that waits on its webhooks
                raw = next(requests, None)  # one iterator shared by every worker: each request is sent once
                if raw is None:
                    return
                try:
                    why = ingo_success(*await conn.send(raw, 30.0))
                except Exception as exc:  # noqa: BLE001 - counted as a failure, the connection replaced
                    why = f"{type(exc).__name__}: {exc}"
                    assert conn.transport is not None
                    conn.transport.close()
                    _, conn = await loop.create_connection(_Conn, HOST, port)
                if why:
                    failures[f"{label}: {why}"] += 1
                done += 1
                if done % step == 0:
                    elapsed = time.perf_counter() - started
                    print(f"{label:>8} {done:>9,} {done / elapsed:>8,.0f} {elapsed:>8.0f} {rss_mb(pid):>8.1f} "
                          f"{Receiver.received:>10,}", flush=True)
        finally:
            assert conn.transport is not None
            conn.transport.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return most_behind


def memory_report(port: int) -> dict[str, Any]:
    """The memory section of GET /_emulator/state: caps, what is kept and what was evicted."""
    status, body = request(port, "GET", "/_emulator/state?limit=0", timeout=60.0)
    return json.loads(body).get("memory", {}) if status == 200 else {"error": f"HTTP {status}"}


async def memory_soak(port: int, receiver_server: asyncio.AbstractServer, pid: int, verifies: int, pushes: int,
                      concurrency: int, target: float, backlog: int | None) -> dict[str, Any]:
    """Verifies of new cards, then pushes that each emit a webhook, then wait for every delivery; RSS at each
    stage."""
    failures: Counter = Counter()
    rss = {"start": rss_mb(pid)}
    print(f"memory soak: {verifies:,} unique-card verifies, then {pushes:,} pushes with webhooks, "
          f"{concurrency} connections, on 127.0.0.1:{port}", flush=True)
    print(f"{'stage':>8} {'requests':>9} {'req/s':>8} {'t (s)':>8} {'RSS MB':>8} {'webhooks':>10}", flush=True)
    cards = (signed_raw("/gateway/verify", dict(verify_body(f"soak-card-{n}"), account=card_number(n)))
             for n in range(verifies))
    await drive(port, cards, verifies, concurrency, "verify", pid, failures)
    rss["after verifies"] = rss_mb(pid)
    token = card_token(port)
    payments = (signed_raw("/gateway/process", process_body(token, f"{HOOK_PREFIX}{n}")) for n in range(pushes))
    behind = await drive(port, payments, pushes, concurrency, "push", pid, failures, backlog)
    rss["after pushes"] = rss_mb(pid)
    deadline = time.monotonic() + 600
    while Receiver.received < pushes and time.monotonic() < deadline:
        await asyncio.sleep(0.5)  # deliveries still under way: the receiver counts them
    if Receiver.received < pushes:
        failures[f"webhooks: only {Receiver.received:,} of {pushes:,} delivered within 10 minutes"] += 1
    for state in ("pending", "delivering", "failed"):
        _, body = request(port, "GET", f"/_emulator/webhooks?status={state}", timeout=60.0)
        left = json.loads(body).get("count", 0)
        if left:
            failures[f"webhooks: {left:,} deliveries {state} at the end"] += 1
    rss["after deliveries"] = rss_mb(pid)
    receiver_server.close()
    memory = memory_report(port)
    print("\nRSS (MB): " + ", ".join(f"{stage} {value:.1f}" for stage, value in rss.items()))
    print(f"webhooks delivered to the receiver: {Receiver.received:,}; at most {behind:,} on their way "
          + (f"(pushes waited beyond {backlog:,})" if backlog is not None else "(pushes never waited)"))
    print(f"what the emulator keeps (GET /_emulator/state, memory; store: {memory.get('store')}):")
    print(f"{'kind':>18} {'cap':>8} {'kept':>8} {'evicted':>9}")
    shared = {name: memory[name] for name in ("events", "journal", "findings") if name in memory}
    for kind, usage in {**memory.get("records", {}), **shared}.items():
        print(f"{kind:>18} {usage['cap']:>8,} {usage['kept']:>8,} {usage['evicted']:>9,}")
    final = rss["after deliveries"]
    verdict = "met" if final < target else f"MISSED by {final - target:.1f} MB"
    print(f"\nRSS after {verifies:,} unique-card verifies and {pushes:,} pushes with webhooks: {final:.1f} MB "
          f"(target < {target:g} MB: {verdict})")
    if failures:
        print("\nfailures (most common first):")
        for reason, count in failures.most_common(5):
            print(f"  {count} x {reason}")
    return {"verifies": verifies, "pushes": pushes, "rss_mb": {k: round(v, 1) for k, v in rss.items()},
            "delivered": Receiver.received, "most_behind": behind, "backlog": backlog,
            "failures": sum(failures.values()), "target_mb": target,
            "memory": memory}


def run_memory_soak(verifies: int = VERIFIES, pushes: int = PUSHES, concurrency: int = 8,
                    target: float = TARGET_MB, backlog: int | None = BACKLOG) -> dict[str, Any]:
    """Start a receiver and an emulator wired to it, run the memory soak, stop both; the figures."""
    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        receiver = await loop.create_server(Receiver, HOST, 0)
        hook_port = receiver.sockets[0].getsockname()[1]
        workdir = Path(tempfile.mkdtemp(prefix="ingopay-soak-"))
        port = free_port()
        command = emulator_command(port, "--webhook-url", f"http://{HOST}:{hook_port}/hook")
        server = Server("emulator", command, port, log=workdir / "emulator.log").start()
        try:
            await loop.run_in_executor(None, server.wait_ready)
            result = await memory_soak(port, receiver, server.pid, verifies, pushes, concurrency, target, backlog)
            if not server.alive():
                raise RuntimeError(f"the emulator exited during the soak (log: {workdir / 'emulator.log'})")
            return result
        finally:
            server.stop()
            receiver.close()

    Receiver.received = 0
    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("minutes", nargs="?", type=float, default=2.0, help="how long to run (default 2)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests a second, all kinds (default 200)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between report lines (default 10)")
    parser.add_argument("--port", type=int, help="use an emulator already listening on 127.0.0.1:PORT "
                                                  "(started with --rate-limit 0; RSS is then not reported)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory", action="store_true",
                        help="the memory soak: unique-card verifies, then pushes with webhooks, and RSS after")
    parser.add_argument("--verifies", type=int, default=VERIFIES, help=f"with --memory (default {VERIFIES:,})")
    parser.add_argument("--pushes", type=int, default=PUSHES, help=f"with --memory (default {PUSHES:,})")
    parser.add_argument("--concurrency", type=int, default=8, help="with --memory: connections (default 8)")
    parser.add_argument("--target-mb", type=float, default=TARGET_MB,
                        help=f"with --memory: the RSS target (default {TARGET_MB:g})")
    parser.add_argument("--backlog", type=int, default=BACKLOG,
                        help=f"with --memory: pushes wait while more webhooks than this are on their way (default "
                             f"{BACKLOG:,}; -1: never, and every delivery the emulator has not made yet is kept)")
    args = parser.parse_args(argv)
    if args.memory:
        if args.verifies < 0 or args.pushes < 0 or args.concurrency < 1 or args.backlog < -1:
            parser.error("--verifies and --pushes must be 0 or more, --concurrency at least 1, --backlog -1 or more")
        result = run_memory_soak(args.verifies, args.pushes, args.concurrency, args.target_mb,
                                 None if args.backlog == -1 else args.backlog)
        return 1 if result["failures"] or result["rss_mb"]["after deliveries"] >= args.target_mb else 0
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
