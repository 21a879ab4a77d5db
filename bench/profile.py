"""Profile the emulator's signed POST /gateway/process pipeline under wrk load with py-spy (sampling, no code change).

    python bench/profile.py [--duration 15] [--top 30] [--endpoint process|health]

Starts ``python -m emulator --rate-limit 0 --quiet`` on a free loopback port, signs unique process requests, runs
wrk against it while ``py-spy record`` samples the server, then prints the functions with the most samples: *self*
(time in the function's own code) and *total* (including what it calls). The collapsed stacks go to
bench/out/profile.txt (git-ignored). Installs py-spy if missing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Server, card_token, emulator_command, free_port, health_raw  # noqa: E402
from run import OUT_DIR, ProcessPool, write_pool, wrk  # noqa: E402


def ensure_py_spy() -> str:
    found = shutil.which("py-spy")
    if found:
        return found
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    candidate = Path(sys.executable).with_name("py-spy")
    return str(candidate) if candidate.exists() else "py-spy"


def frame_name(frame: str) -> str:
    # py-spy collapsed frames look like "function (path/to/file.py:123)"; keep function and short file, drop the line
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3", "/work/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


#: The stages of one signed request, in the order it meets them, each named by the functions that do its work (a
#: frame's "function (file)" as frame_name shows it). A sample is charged to the first stage found walking its stack
#: from the innermost frame out, so work a stage calls (the journal's listeners, say) goes where it is done.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("parse (HTTP request in)", ("RequestHandler.data_received", "HttpRequestParser", "_read_ready",
                                 "GuardedRequestHandler.data_received", "StreamReader.", "BaseRequest.__init__",
                                 "UrlDispatcher.resolve", "read_body (emulator/web/body.py)")),
    ("auth (hmac-sha512, digest, skew)", ("(emulator/auth/",)),
    ("rate limit", ("(emulator/web/ratelimit.py)",)),
    ("validation (JSON, pydantic)", ("parse_json", "json_object", "(json/decoder.py)", "loads (json/",
                                     "BaseModel.model_validate", "validate (emulator/gateway/",
                                     "(emulator/core/validation.py)")),
    ("scenario decision", ("(emulator/scenarios/", "carry_out (emulator/web/scripted.py)", "HeaderView")),
    ("domain and store", ("(emulator/gateway/", "(emulator/store/", "(emulator/core/ids.py)")),
    ("findings (on the request path)", ("(emulator/findings/",)),
    ("journal hand-over (references)", ("(emulator/core/journal.py)", "(emulator/core/masking.py)",
                                        "(emulator/web/journaling.py)", "(emulator/waits/",
                                        "(emulator/core/changes.py)", "entry_facts")),
    ("encoding (envelope, JSON out)", ("(emulator/web/replies.py)", "(emulator/web/envelopes.py)",
                                       "(json/encoder.py)", "dumps (json/", "Response.__init__")),
    ("write (HTTP answer out)", ("finish_response", "write_eof", "_SelectorSocketTransport.write",
                                 "StreamWriter", "_write_headers", "_prepare_headers", "Response._start")),
    ("middlewares (outcome, guard, pipeline)", ("(emulator/web/middlewares.py)", "(emulator/web/runtime.py)")),
)
#: The observer work done after the answer, in the journal's drain (the log line, masking, the entry, findings,
#: waits, rehearsals, the live view): a sample with the drain anywhere on its stack is charged here, whatever it
#: was doing inside it.
DEFERRED = ("deferred: journal drain after the answer (log line, masking, entry, findings, waits, live view)",
            ("Journal.settle (emulator/core/journal.py)",))
OTHER = "aiohttp and asyncio (the rest)"
#: Seconds py-spy records before wrk starts (so it stops that much before wrk ends).
LEAD = 0.5


def stage_of(frames: list[str]) -> str:
    name, markers = DEFERRED
    if any(marker in frame for frame in frames for marker in markers):
        return name
    for frame in reversed(frames):
        for stage, markers in STAGES:
            if any(marker in frame for marker in markers):
                return stage
    return OTHER


def cost_table(collapsed: Path, rate: int, requests: int) -> list[tuple[str, float, float]]:
    """(stage, microseconds per request, share of the busy samples) from py-spy's raw stacks: samples / rate is the
    time the server spent in a stage; divided by the requests it answered meanwhile."""
    counts: Counter = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if stack:
            counts[stage_of([frame_name(f) for f in stack.split(";") if f])] += int(count_text)
    busy = sum(counts.values()) or 1
    names = [stage for stage, _ in STAGES] + [DEFERRED[0], OTHER]
    return [(name, counts[name] / rate / max(requests, 1) * 1e6, counts[name] / busy) for name in names]


def render_cost_table(rows: list[tuple[str, float, float]]) -> str:
    lines = ["| stage | µs per request | share of busy time |", "|---|---|---|"]
    lines += [f"| {name} | {us:.1f} | {share * 100:.1f} % |" for name, us, share in rows]
    total = sum(us for _, us, _ in rows)
    lines.append(f"| **total** | **{total:.1f}** | 100 % |")
    return "\n".join(lines)


def summarise(collapsed: Path, top: int) -> str:
    self_counts: Counter = Counter()
    total_counts: Counter = Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";") if f]
        samples += count
        if frames:
            self_counts[frames[-1]] += count
        for name in set(frames):
            total_counts[name] += count
    lines = [f"{samples} samples", "", f"top {top} by self time:"]
    lines += [f"  {n / samples * 100:5.1f} %  {name}" for name, n in self_counts.most_common(top)]
    lines += ["", f"top {top} by total time (including callees):"]
    lines += [f"  {n / samples * 100:5.1f} %  {name}" for name, n in total_counts.most_common(top)]
    return "\n".join(lines)


def record(endpoint: str = "process", duration: float = 15.0, rate: int = 100) -> dict:
    """Run wrk against a fresh emulator while py-spy samples it; the throughput, the collapsed stacks' path and the
    cost per stage (process only)."""
    py_spy = ensure_py_spy()
    OUT_DIR.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ingopay-profile-"))
    port = free_port()
    server = Server("emulator", emulator_command(port), port, log=work / "emulator.log").start()
    try:
        server.wait_ready()
        if endpoint == "process":
            pool = ProcessPool(port, card_token(port), "profile")
            requests = pool.sign(int(8000 * duration))
        else:
            requests = [health_raw()]
        pool_file = write_pool(work / "profile.pool", requests)
        wrk(port, pool_file, 2)  # warm-up
        collapsed = OUT_DIR / "profile.txt"
        spy = ["record", "--pid", str(server.pid), "--rate", str(rate), "--duration", str(int(duration)),
               "--nonblocking"]
        recorder = subprocess.Popen([py_spy, *spy, "--format", "raw", "--output", str(collapsed)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        result: dict = {}
        runner = threading.Thread(target=lambda: result.update(wrk(port, pool_file, duration)))
        time.sleep(LEAD)
        runner.start()
        runner.join()
        _, err = recorder.communicate(timeout=60)
        if recorder.returncode != 0:
            raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
        sampled = result.get("rps", 0) * (duration - LEAD)  # py-spy stops LEAD s before wrk does
        return {"endpoint": endpoint, "rps": result.get("rps", 0), "rate": rate, "duration": duration,
                "collapsed": str(collapsed), "stages": cost_table(collapsed, rate, int(sampled))}
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--endpoint", choices=("process", "health"), default="process")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second (default 100)")
    args = parser.parse_args(argv)
    try:
        found = record(args.endpoint, args.duration, args.rate)
    except RuntimeError as failure:
        print(failure, file=sys.stderr)
        return 1
    collapsed = Path(found["collapsed"])
    print(f"{args.endpoint}: {found['rps']:,.0f} req/s under py-spy (sampling slows the server a little)")
    print(summarise(collapsed, args.top))
    print("\ncost per stage:")
    print(render_cost_table(found["stages"]))
    print(f"\ncollapsed stacks (for speedscope or flamegraph.pl): {collapsed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
