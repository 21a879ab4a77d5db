"""The benchmark: one command, a few minutes, loopback only, a Markdown report.

    python bench/run.py                 # installs what is missing, measures, writes docs/benchmarks.md

Options: --duration S (seconds per throughput run, default 10), --runs N (default 3), --out FILE,
--no-install (fail instead of installing), --no-peers (skip WireMock, Prism, mountebank, pytest-httpserver),
--no-soak (skip the memory soak of bench/soak.py --memory, a few minutes).

Everything runs in one go so that ratios come from the same conditions: the throughput targets are measured in
interleaved rounds (emulator, bare handler, peers, then again), and each ratio is taken within a round.
Raw results also go to bench/out/results.json (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import itertools
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    HOST,
    PARTICIPANT,
    ROOT,
    OpenLoop,
    Sample,
    Server,
    card_token,
    emulator_command,
    free_port,
    health_raw,
    percentile,
    process_body,
    request,
    rss_mb,
    signed_raw,
)
from plugin_cost import measure as plugin_import_cost  # noqa: E402
from plugin_cost import row as plugin_import_row  # noqa: E402

BENCH = ROOT / "bench"
PEERS_DIR = BENCH / ".peers"
OUT_DIR = BENCH / "out"
NPM_PACKAGES = ("wiremock", "@stoplight/prism-cli", "mountebank")
APT_PACKAGES = ("wrk", "default-jre-headless")
MEMORY_REQUESTS = 200_000
WRK_CONNECTIONS = 50
WRK_THREADS = 1
#: Pairs of verify + process in each round-trip run; seconds and samples per second of the profile.
ROUNDTRIP_PAIRS = 300
PROFILE_SECONDS = 15.0
PROFILE_RATE = 200
WARMUP = 3  # seconds of wrk on each target before the measured rounds (the JVM needs it most)
#: Waits opened in the waits phase (the figure of the issue that found them costly), by a participant the signed
#: requests never come from, and the rate of signed process requests measured meanwhile.
WAITS = 2000
WAITS_PARTICIPANT = 99999
WAITS_RATE = 200

#: The static answer every peer serves for POST /gateway/process: a v11 process success, as the emulator shapes it.
STUB = {"status": 100, "client_message": "Success",
        "data": {"estimated_posting_time": "Payment will post within 30 minutes",
                 "estimated_posting_date": "2026-11-16", "transaction_id": 100000001,
                 "request_timestamp": 1794841200, "customer_account_token": "0b7a1f7e-8b3c-4c3e-9d3a-2f1e6c5d4b3a",
                 "participant_unique_id1": "payment-1", "participant_unique_id2": ""},
        "time": "0.0012"}
STUB_TEXT = json.dumps(STUB, separators=(",", ":"))


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- installing what is missing ------------------------------------------------------------------------------

def run_quiet(command: list[str], timeout: float, cwd: Path | None = None) -> tuple[bool, str]:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return done.returncode == 0, (done.stdout + done.stderr)[-2000:]


#: Python packages the benchmark itself runs, beyond the project (a virtual environment holding only the project
#: lacks them): the distribution, and the part of the benchmark that needs it.
PIP_TOOLS = (("pytest", "the pytest plugin's round trip (bench/roundtrip.py)"),
             ("py-spy", "the cost table (bench/profile.py)"))


def ensure_pip_tools(install: bool) -> dict[str, str]:
    """Install the PIP_TOOLS missing from the Python the benchmark runs with (the one it starts the emulator and
    pytest with); {part: the one line saying what to install} for those it could not."""
    missing = []
    for name, _ in PIP_TOOLS:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing and install:
        log(f"{sys.executable} -m pip install {' '.join(missing)}")
        ok, out = run_quiet([sys.executable, "-m", "pip", "install", "-q", *missing], 600)
        if ok:
            importlib.invalidate_caches()
            return {}
        log("pip install failed: " + (out.strip().splitlines() or [""])[-1])
    return {needs: f"not measured: install {name} into the Python that runs the benchmark "
                   f"({sys.executable} -m pip install {name})"
            for name, needs in PIP_TOOLS if name in missing}


def ensure_tools(install: bool, peers: bool) -> dict[str, str]:
    """Install wrk, a JRE, the Python tools, the npm peers and pytest-httpserver when missing; return
    {thing: problem}."""
    problems: dict[str, str] = ensure_pip_tools(install)
    missing_apt = [p for p, probe in (("wrk", "wrk"), ("default-jre-headless", "java")) if not shutil.which(probe)]
    if not peers and "default-jre-headless" in missing_apt:
        missing_apt.remove("default-jre-headless")
    if missing_apt and install:
        log(f"apt-get install -y {' '.join(missing_apt)}")
        lock = ["-o", "DPkg::Lock::Timeout=300"]
        ok, out = run_quiet(["apt-get", *lock, "install", "-y", "-q", *missing_apt], 900)
        if not ok:
            run_quiet(["apt-get", *lock, "update", "-q"], 600)
            ok, out = run_quiet(["apt-get", *lock, "install", "-y", "-q", *missing_apt], 900)
        if not ok:
            for package in missing_apt:
                problems[package] = "apt-get install failed: " + out.strip().splitlines()[-1] if out.strip() else ""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is required (apt-get install -y wrk)")
    if not shutil.which("java"):
        problems.setdefault("WireMock", "no Java runtime (apt-get install -y default-jre-headless failed or skipped)")
    if not peers:
        return problems
    have_npm = all((PEERS_DIR / "node_modules" / name / "package.json").exists() for name in NPM_PACKAGES)
    if not have_npm and install:
        if not shutil.which("npm"):
            for name in ("WireMock", "Prism", "mountebank"):
                problems.setdefault(name, "npm is not installed")
        else:
            log(f"npm install {' '.join(NPM_PACKAGES)} into {PEERS_DIR.relative_to(ROOT)}")
            PEERS_DIR.mkdir(parents=True, exist_ok=True)
            package_json = PEERS_DIR / "package.json"
            if not package_json.exists():
                package_json.write_text('{"private": true}\n')
            for name in NPM_PACKAGES:  # one at a time, so one failure does not hide the others
                if (PEERS_DIR / "node_modules" / name / "package.json").exists():
                    continue
                ok, out = run_quiet(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", name],
                                    600, cwd=PEERS_DIR)
                if not ok:
                    problems[name] = "npm install failed: " + (out.strip().splitlines() or [""])[-1]
    try:
        importlib.metadata.version("pytest-httpserver")
    except importlib.metadata.PackageNotFoundError:
        if install:
            log("pip install pytest-httpserver")
            ok, out = run_quiet([sys.executable, "-m", "pip", "install", "-q", "pytest-httpserver"], 600)
            if not ok:
                problems["pytest-httpserver"] = "pip install failed: " + (out.strip().splitlines() or [""])[-1]
    return problems


# -- versions and machine ------------------------------------------------------------------------------

def npm_version(name: str) -> str | None:
    try:
        return json.loads((PEERS_DIR / "node_modules" / name / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def command_output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20)
        return (done.stdout + done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine_info() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    os_release = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    pretty = re.search(r'PRETTY_NAME="([^"]*)"', os_release)
    java = command_output(["java", "-version"]).splitlines() if shutil.which("java") else []
    wrk = command_output(["wrk", "-v"]).splitlines()
    return {
        "cores": os.cpu_count(), "cpu": model.group(1).strip() if model else platform.processor(),
        "memory_gib": round(total_kb / 1024 / 1024, 1), "kernel": platform.release(),
        "os": pretty.group(1) if pretty else platform.platform(),
        "python": platform.python_version(), "aiohttp": dist_version("aiohttp"),
        "pydantic": dist_version("pydantic"), "emulator": dist_version("ingopay-emulator") or _emulator_version(),
        "wrk": wrk[0] if wrk else None, "java": java[0] if java else None,
        "node": command_output(["node", "--version"]) if shutil.which("node") else None,
        "wiremock": npm_version("wiremock"), "prism": npm_version("@stoplight/prism-cli"),
        "mountebank": npm_version("mountebank"), "pytest-httpserver": dist_version("pytest-httpserver"),
        "uvloop": dist_version("uvloop"), "orjson": dist_version("orjson"),
    }


def _emulator_version() -> str:
    from emulator import __version__
    return __version__


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- peers ---------------------------------------------------------------------------------------------------

def peer_servers(workdir: Path) -> tuple[list[Server], dict[str, str]]:
    """The peers, configured to serve STUB for POST /gateway/process; {name: problem} for those that cannot."""
    servers: list[Server] = []
    problems: dict[str, str] = {}
    modules = PEERS_DIR / "node_modules"

    jars = sorted((modules / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if not shutil.which("java"):
        problems["WireMock"] = "no Java runtime"
    elif not jars:
        problems["WireMock"] = "npm package wiremock (standalone jar) is not installed"
    else:
        root = workdir / "wiremock"
        (root / "mappings").mkdir(parents=True)
        (root / "__files").mkdir()
        (root / "mappings" / "process.json").write_text(json.dumps({
            "request": {"method": "POST", "url": "/gateway/process"},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": STUB_TEXT}}))
        port = free_port()
        # A bounded request journal, like the emulator's (WireMock's default journal grows without limit).
        servers.append(Server("WireMock", ["java", "-jar", str(jars[-1]), "--port", str(port), "--bind-address", HOST,
                                           "--root-dir", str(root), "--disable-banner",
                                           "--max-request-journal-entries", "1000"],
                              port, "/gateway/process", cwd=workdir, log=workdir / "wiremock.log"))

    prism = modules / ".bin" / "prism"
    if not prism.exists():
        problems["Prism"] = "npm package @stoplight/prism-cli is not installed"
    else:
        spec = workdir / "openapi.json"
        spec.write_text(json.dumps({
            "openapi": "3.0.3", "info": {"title": "IngoPay process stub", "version": "1"},
            "paths": {"/gateway/process": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "process success",
                                      "content": {"application/json": {"example": STUB}}}}}}}}))
        port = free_port()
        servers.append(Server("Prism", [str(prism), "mock", "-h", HOST, "-p", str(port), "-v", "error", str(spec)],
                              port, "/gateway/process", cwd=workdir, log=workdir / "prism.log"))

    mb = modules / ".bin" / "mb"
    if not mb.exists():
        problems["mountebank"] = "npm package mountebank is not installed"
    else:
        port, admin = free_port(), free_port()
        config = workdir / "imposters.json"
        config.write_text(json.dumps({"imposters": [{
            "protocol": "http", "port": port, "host": HOST, "recordRequests": False,
            "stubs": [{"predicates": [{"equals": {"method": "POST", "path": "/gateway/process"}}],
                       "responses": [{"is": {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                                             "body": STUB_TEXT}}]}]}]}))
        servers.append(Server("mountebank", [str(mb), "start", "--host", HOST, "--port", str(admin), "--configfile",
                                             str(config), "--noParse", "--nologfile", "--loglevel", "warn",
                                             "--pidfile", str(workdir / "mb.pid")],
                              port, "/gateway/process", cwd=workdir, log=workdir / "mountebank.log"))

    if dist_version("pytest-httpserver") is None:
        problems["pytest-httpserver"] = "pip package pytest-httpserver is not installed"
    else:
        port = free_port()
        script = workdir / "httpserver_stub.py"
        script.write_text(
            "import logging, sys, threading\n"
            "from pytest_httpserver import HTTPServer\n"
            "logging.getLogger('werkzeug').setLevel(logging.WARNING)\n"
            f"server = HTTPServer(host={HOST!r}, port=int(sys.argv[1]))\n"
            "server.expect_request('/gateway/process', method='POST').respond_with_data(\n"
            f"    {STUB_TEXT!r}, content_type='application/json')\n"
            "server.start()\n"
            "threading.Event().wait()\n")
        servers.append(Server("pytest-httpserver", [sys.executable, str(script), str(port)], port, "/gateway/process",
                              cwd=workdir, log=workdir / "httpserver.log"))
    return servers, problems


def wait_peer(server: Server) -> float:
    body = b'{"participant_unique_id1":"ready"}'
    ready = server.wait_ready(timeout=60, interval=0.05, method="POST", body=body,
                              headers={"Content-Type": "application/json"})
    status, text = request(server.port, "POST", "/gateway/process", body, {"Content-Type": "application/json"})
    if status != 200 or json.loads(text).get("status") != 100:
        raise RuntimeError(f"answered HTTP {status}: {text[:200]!r}")
    return ready


# -- wrk -------------------------------------------------------------------------------------------------------

def write_pool(path: Path, requests: list[bytes]) -> Path:
    with open(path, "wb") as out:
        for raw in requests:
            out.write(raw)
            out.write(b"\0")
    return path


def wrk(port: int, pool: Path, duration: float) -> dict[str, Any]:
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{max(1, round(duration))}s", "--timeout", "5s",
               "-s", str(BENCH / "pool.lua"), f"http://{HOST}:{port}/"]
    env = dict(os.environ, BENCH_REQUESTS=str(pool), BENCH_THREADS=str(WRK_THREADS))
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=duration + 120)
    match = re.search(r"BENCH_RESULT (\{.*\})", done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    return result


# -- the emulator's signed process pool ------------------------------------------------------------------------

@dataclass
class ProcessPool:
    """Unique signed process requests for one emulator instance (each participant_unique_id1 used once)."""

    port: int
    token: str
    prefix: str
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def sign(self, count: int) -> list[bytes]:
        now = time.time()
        return [signed_raw("/gateway/process", process_body(self.token, f"{self.prefix}-{next(self.counter)}", now),
                           now=now) for _ in range(count)]


def precheck(port: int, requests: list[bytes], count: int = 3) -> list[str]:
    """Send the first few requests of a pool by hand: each must be HTTP 200 with Ingo status 100."""
    problems = []
    for raw in requests[:count]:
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ")
        headers = dict(line.split(": ", 1) for line in lines[1:] if not line.startswith("Host:"))
        status, text = request(port, method, path, body, headers)
        document = json.loads(text) if text else {}
        if status != 200 or document.get("status") != 100:
            problems.append(f"HTTP {status} status {document.get('status')}: {text[:200]!r}")
    del requests[:count]
    return problems


def journal_sample(port: int, limit: int = 500) -> Counter:
    """Ingo statuses of the newest process requests in the emulator's journal (a sample of the wrk run)."""
    status, text = request(port, "GET", f"/_emulator/requests?path=/gateway/process&limit={limit}")
    if status != 200:
        return Counter({f"journal HTTP {status}": 1})
    return Counter(str(e.get("ingo_status")) for e in json.loads(text)["requests"])


# -- the benchmark -----------------------------------------------------------------------------------------------

@dataclass
class Target:
    name: str
    port: int
    kind: str  # "process", "bare-process", "health", "bare-health", "peer"
    server: Server
    runs: list[dict[str, Any]] = field(default_factory=list)
    warmup: dict[str, Any] | None = None


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="ingopay-bench-"))
        self.servers: list[Server] = []
        self.results: dict[str, Any] = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                        "settings": {"duration": args.duration, "runs": args.runs,
                                                     "latency_duration": args.latency_duration,
                                                     "memory_requests": args.memory_requests,
                                                     "connections": WRK_CONNECTIONS, "threads": WRK_THREADS}}
        self.problems: dict[str, str] = {}
        self.process_requests = 0  # requests the throughput emulator (process) has served
        self.memory_series: list[tuple[int, float]] = []

    def server(self, server: Server) -> Server:
        self.servers.append(server)
        return server.start()

    def stop_all(self) -> None:
        for server in reversed(self.servers):
            server.stop()

    # one pool file for the bare handler and the peers (they ignore uniqueness), fresh pools for the emulator
    def run(self) -> None:
        t0 = time.perf_counter()
        self.results["load_before"] = load_average()
        self.problems.update(ensure_tools(not self.args.no_install, not self.args.no_peers))
        self.results["install_s"] = round(time.perf_counter() - t0, 1)
        self.results["machine"] = machine_info()
        t1 = time.perf_counter()
        try:
            self.measure()
        finally:
            self.stop_all()
        self.results["load_after"] = load_average()
        self.results["measure_s"] = round(time.perf_counter() - t1, 1)
        self.results["problems"] = self.problems
        OUT_DIR.mkdir(exist_ok=True)
        (OUT_DIR / "results.json").write_text(json.dumps(self.results, indent=2, default=str))
        report = render(self.results)
        out = Path(self.args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report)
        log(f"wrote {out} and {OUT_DIR / 'results.json'} in {time.perf_counter() - t0:.0f} s")

    def measure(self) -> None:
        args = self.args
        # Peers start first (the JVM and node take a few seconds) while the emulator's own phases run.
        peers: list[Server] = []
        if not args.no_peers:
            peers, problems = peer_servers(self.work)
            for name, problem in problems.items():
                self.problems.setdefault(name, problem)
            for peer in peers:
                self.server(peer)
        peer_status: dict[str, dict[str, Any]] = {}
        for peer in list(peers):
            try:
                ready = wait_peer(peer)
                peer_status[peer.name] = {"started": True, "ready_s": round(ready, 2)}
            except Exception as exc:  # noqa: BLE001 - reported, not dropped
                peer_status[peer.name] = {"started": False, "problem": str(exc)[:300]}
                self.problems[peer.name] = f"did not start: {str(exc)[:300]}"
                peer.stop()
                peers.remove(peer)
        self.results["peers"] = peer_status

        # Bytecode compiled first, as an installed package has it (pip compiles at install; an editable install
        # under PYTHONDONTWRITEBYTECODE would compile every module at every start), for both sides of the ratio.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "emulator"), str(BENCH)], check=False)
        self.results["cold_start"] = self.cold_start()

        proc_port, health_port, bare_port = free_port(), free_port(), free_port()
        emu_proc = self.server(Server("emulator (process)", emulator_command(proc_port), proc_port,
                                      log=self.work / "emulator-process.log"))
        emu_health = self.server(Server("emulator (health)", emulator_command(health_port), health_port,
                                        log=self.work / "emulator-health.log"))
        bare = self.server(Server("bare aiohttp", [sys.executable, str(BENCH / "bare.py"), str(bare_port)],
                                  bare_port, log=self.work / "bare.log"))
        for server in (emu_proc, emu_health, bare):
            server.wait_ready()
        self.results["rss_fresh_process_instance_mb"] = round(rss_mb(emu_proc.pid), 1)
        token = card_token(proc_port)
        self.process_requests += 1
        pool = ProcessPool(proc_port, token, "bench")

        targets = [
            Target("emulator: signed POST /gateway/process", proc_port, "process", emu_proc),
            Target("bare aiohttp: POST /gateway/process (SHA-512 + HMAC + JSON)", bare_port, "bare-process", bare),
            Target("emulator: GET /_emulator/health", health_port, "health", emu_health),
            Target("bare aiohttp: GET /_emulator/health", bare_port, "bare-health", bare),
        ]
        targets += [Target(f"{peer.name}: static stub POST /gateway/process", peer.port, "peer", peer)
                    for peer in peers]

        health_pool = write_pool(self.work / "health.pool", [health_raw()])
        shared_pool = self.work / "shared.pool"
        estimate = 5000.0
        log(f"throughput: {len(targets)} targets x {args.runs} runs of {args.duration} s, interleaved")
        for round_no in range(args.runs + 1):  # round 0 is the warm-up (2 s each, not reported)
            duration = WARMUP if round_no == 0 else args.duration
            for target in targets:
                if target.kind == "process":
                    requests = pool.sign(int(max(20000, estimate * duration * 1.6)))
                    bad = precheck(proc_port, requests)
                    self.process_requests += 3
                    if bad:
                        raise RuntimeError(f"signed process requests are not answered with status 100: {bad}")
                    write_pool(shared_pool, requests)
                    result = wrk(proc_port, shared_pool, duration)
                    result["pool"] = len(requests)
                    result["wrapped"] = result["requests"] > len(requests)
                    result["journal_sample"] = dict(journal_sample(proc_port))
                    self.process_requests += result["requests"]
                    self.memory_series.append((self.process_requests, round(rss_mb(emu_proc.pid), 1)))
                    estimate = max(estimate, result["rps"])
                elif target.kind in ("health", "bare-health"):
                    result = wrk(target.port, health_pool, duration)
                else:
                    result = wrk(target.port, shared_pool, duration)
                result["rss_mb"] = round(rss_mb(target.server.pid), 1) if target.server.alive() else None
                if round_no == 0:
                    target.warmup = result
                else:
                    result["round"] = round_no
                    target.runs.append(result)
                    log(f"round {round_no} {target.name}: {result['rps']:,.0f} req/s, errors {result['errors']}")
                if not target.server.alive():
                    raise RuntimeError(f"{target.name} died during the run")
        self.results["throughput"] = [{"name": t.name, "kind": t.kind, "runs": t.runs, "warmup": t.warmup}
                                      for t in targets]
        self.results["health_instance_rss_mb"] = round(rss_mb(emu_health.pid), 1)
        self.results["health_instance_requests"] = sum(r["requests"] for t in targets if t.kind == "health"
                                                       for r in [*t.runs, t.warmup] if r)
        for peer in peers:
            peer.stop()  # the remaining phases measure latency: idle peers would only add noise

        self.results["latency"] = self.latency(proc_port, bare_port, pool)
        self.results["memory"] = self.memory(emu_proc, pool, estimate)
        self.results["webhooks"] = webhook_figures(proc_port)
        for server in (emu_proc, emu_health, bare):
            server.stop()  # the last phases start their own servers: idle ones would only add noise
        self.results["waits"] = self.waits()
        self.results["roundtrip"] = self.roundtrip()
        self.results["plugin_import"] = plugin_import_cost()
        self.results["profile"] = self.profile()
        if not args.no_soak:
            self.results["soak"] = self.soak()

    def soak(self) -> dict[str, Any] | None:
        """RSS after the memory soak (bench/soak.py --memory): unique-card verifies, then pushes with webhooks."""
        from soak import run_memory_soak

        try:
            found = run_memory_soak()
        except (RuntimeError, OSError) as failure:
            self.problems["soak"] = f"the memory soak did not finish: {str(failure)[:300]}"
            return None
        log(f"memory soak: {found['rss_mb']['after deliveries']} MB after {found['verifies']:,} verifies and "
            f"{found['pushes']:,} pushes with webhooks")
        return found

    def roundtrip(self) -> dict[str, Any] | None:
        """A pytest test's signed verify + process pair through the plugin's client, against the same pair through
        a bare aiohttp client to the bare handler (bench/roundtrip.py); the median of the runs."""
        from roundtrip import measure

        if PIP_TOOLS[0][1] in self.problems:  # no pytest: said once, in one line
            return None
        runs = [measure(ROUNDTRIP_PAIRS) for _ in range(self.args.runs)]
        log("round trip per pair: plugin " + ", ".join(f"{r['plugin_us_per_pair']:.0f}" for r in runs)
            + " µs; bare " + ", ".join(f"{r['bare_us_per_pair']:.0f}" for r in runs) + " µs")
        return {"pairs": ROUNDTRIP_PAIRS, "runs": runs}

    def profile(self) -> dict[str, Any] | None:
        """The cost of each stage of one signed process request: py-spy over a wrk run of a fresh emulator."""
        from profile import record

        try:
            found = record("process", PROFILE_SECONDS, PROFILE_RATE)
        except (RuntimeError, OSError, subprocess.SubprocessError) as failure:
            self.problems["py-spy"] = f"the profile was not taken: {str(failure)[:300]}"
            return None
        log(f"profile: {found['rps']:,.0f} req/s under py-spy; "
            f"{sum(us for _, us, _ in found['stages']):.0f} µs of the server's time per request")
        return {"rps": found["rps"], "seconds": PROFILE_SECONDS, "rate": PROFILE_RATE,
                "stages": [{"stage": name, "us": round(us, 1), "share": round(share, 4)}
                           for name, us, share in found["stages"]]}

    def cold_start(self) -> dict[str, Any]:
        """Spawn ``python -m emulator`` and, in turn, the bare aiohttp app that imports the same third-party
        libraries (``bench/bare.py --same-imports``); poll each one's health endpoint every 2 ms; 5 rounds. Also the
        emulator's idle RSS one second after it answered."""
        times, bare_times, idle = [], [], []
        for _ in range(5):
            port = free_port()
            server = Server("cold", emulator_command(port), port, log=self.work / "cold.log")
            server.start()
            try:
                times.append(server.wait_ready(timeout=30))
                time.sleep(1.0)
                idle.append(rss_mb(server.pid))
            finally:
                server.stop()
            port = free_port()
            bare = Server("cold bare", [sys.executable, str(BENCH / "bare.py"), str(port), "--same-imports"], port,
                          log=self.work / "cold-bare.log")
            bare.start()
            try:
                bare_times.append(bare.wait_ready(timeout=30))
            finally:
                bare.stop()
        log(f"cold start: {', '.join(f'{t * 1000:.0f} ms' for t in times)}; bare with the same imports: "
            f"{', '.join(f'{t * 1000:.0f} ms' for t in bare_times)}; idle RSS {', '.join(f'{m:.1f}' for m in idle)} MB")
        return {"seconds": times, "bare_seconds": bare_times, "idle_rss_mb": idle}

    def latency(self, proc_port: int, bare_port: int, pool: ProcessPool) -> list[dict[str, Any]]:
        """Open-loop latency of signed process at fixed rates (and the bare handler as the floor)."""
        out = []
        plan = [("emulator", proc_port, 100), ("emulator", proc_port, 1000), ("bare aiohttp", bare_port, 1000)]
        for name, port, rate in plan:
            runs = []
            for _ in range(self.args.runs):
                runs.append(self.open_loop(port, pool, rate, counted=port == proc_port))
            log(f"latency {name} at {rate} req/s: p99 " + ", ".join(f"{r['p99_ms']:.2f}" for r in runs if r["p99_ms"])
                + " ms")
            out.append({"name": name, "rate": rate, "runs": runs})
        return out

    def open_loop(self, port: int, pool: ProcessPool, rate: int, counted: bool = True) -> dict[str, Any]:
        """One open-loop run of unique signed process requests at ``rate`` for --latency-duration seconds."""
        requests = pool.sign(int(rate * self.args.latency_duration) + 10)
        self.process_requests += len(requests) if counted else 0
        samples: list[Sample] = []
        stream = (("process", raw) for raw in requests)
        client = OpenLoop(port, rate)
        asyncio.run(client.run(stream, self.args.latency_duration, samples))
        ok = [s for s in samples if s.error is None and s.status == 200 and json.loads(s.body).get("status") == 100]
        latencies = [s.latency * 1000 for s in ok]
        return {"requests": len(samples), "ok": len(ok), "errors": len(samples) - len(ok),
                "connections": client.opened,
                "lag_p99_ms": percentile([s.lag * 1000 for s in samples], 99) if samples else None,
                "p50_ms": percentile(latencies, 50) if latencies else None,
                "p99_ms": percentile(latencies, 99) if latencies else None,
                "max_ms": max(latencies) if latencies else None}

    def waits(self) -> dict[str, Any]:
        """Open-loop latency of signed process on a fresh emulator with no wait open, with WAITS waits of another
        participant open (their clients stay), and after WAITS clients that opened waits went away without a word
        (how long the emulator took to let every one of them go, too)."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        needed = 2 * WAITS + 500  # the server (which inherits the limit) and this process hold one end each
        if soft != resource.RLIM_INFINITY and soft < needed:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard) if hard != resource.RLIM_INFINITY
                                                        else needed, hard))
        port = free_port()
        server = self.server(Server("emulator (waits)", emulator_command(port), port,
                                    log=self.work / "emulator-waits.log"))
        server.wait_ready()
        pool = ProcessPool(port, card_token(port), "waits")
        body = json.dumps({"match": {"participant_id": WAITS_PARTICIPANT, "endpoint": "process"},
                           "timeout": 300}).encode()
        wait_request = (f"POST /_emulator/requests/wait HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body

        def open_count() -> int:
            status, text = request(port, "GET", f"/_emulator/waits?participant_id={WAITS_PARTICIPANT}&limit=1")
            if status != 200:
                raise RuntimeError(f"GET /_emulator/waits answered {status}: {text[:200]!r}")
            return int(json.loads(text)["count"])

        def until(check: Any, what: str, timeout: float = 120.0) -> float:
            started = time.perf_counter()
            while not check():
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"waits phase: {what} not seen within {timeout:.0f} s")
                time.sleep(0.05)
            return time.perf_counter() - started

        out: dict[str, Any] = {"waits": WAITS, "rate": WAITS_RATE, "phases": []}
        sockets: list[socket.socket] = []
        try:
            out["phases"].append({"name": "no wait open", "runs": [self.open_loop(port, pool, WAITS_RATE, False)
                                                                   for _ in range(self.args.runs)]})
            for _ in range(WAITS):
                connection = socket.create_connection((HOST, port))
                connection.sendall(wait_request)
                sockets.append(connection)
            until(lambda: open_count() == WAITS, f"{WAITS} open waits")
            out["phases"].append({"name": f"{WAITS:,} waits of another participant open",
                                  "runs": [self.open_loop(port, pool, WAITS_RATE, False)
                                           for _ in range(self.args.runs)]})
            for connection in sockets:  # gone without a word: a reset, as a killed test run's connections go
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
            sockets.clear()
            out["let_go_s"] = round(until(lambda: open_count() == 0, "the abandoned waits let go"), 3)
            out["phases"].append({"name": f"after {WAITS:,} clients with open waits went away",
                                  "runs": [self.open_loop(port, pool, WAITS_RATE, False)
                                           for _ in range(self.args.runs)]})
        finally:
            for connection in sockets:
                connection.close()
            server.stop()
        for phase in out["phases"]:
            log(f"waits: {phase['name']}: p50 " + ", ".join(f"{r['p50_ms']:.2f}" for r in phase["runs"]
                                                            if r["p50_ms"]) + " ms")
        log(f"waits: {WAITS:,} abandoned waits let go within {out.get('let_go_s')} s")
        return out

    def memory(self, server: Server, pool: ProcessPool, rate: float) -> dict[str, Any]:
        """Top the throughput instance up to at least MEMORY_REQUESTS signed process requests, then read VmRSS."""
        pool_file = self.work / "memory.pool"
        target = self.args.memory_requests
        while self.process_requests < target:
            remaining = target - self.process_requests
            duration = min(60.0, remaining / max(rate, 500.0) * 1.1 + 0.5)
            requests = pool.sign(int(remaining * 1.5) + 1000)
            write_pool(pool_file, requests)
            result = wrk(server.port, pool_file, duration)
            self.process_requests += result["requests"]
            rate = result["rps"]
            self.memory_series.append((self.process_requests, round(rss_mb(server.pid), 1)))
        after = rss_mb(server.pid)
        log(f"memory: {after:.1f} MB after {self.process_requests:,} requests")
        return {"requests": self.process_requests, "rss_mb": round(after, 1), "series": self.memory_series,
                "journal_sample": dict(journal_sample(server.port))}


# -- webhooks: a hook to fill in once /_emulator/webhooks exists -------------------------------------------------

def webhooks_available(port: int) -> bool:
    """True once the emulator has an admin webhooks endpoint (GET /_emulator/webhooks answers something else
    than 404)."""
    try:
        status, _ = request(port, "GET", "/_emulator/webhooks")
    except OSError:
        return False
    return status != 404


class Receiver:
    """A loopback webhook receiver in a background thread: counts deliveries, answers 200 or a chosen failure."""

    def __init__(self) -> None:
        import asyncio
        import threading

        from aiohttp import web

        self.count = 0
        self.status = 200
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        app = web.Application()

        async def hook(request: web.Request) -> web.Response:
            await request.read()
            self.count += 1
            return web.Response(status=self.status, text="ok")

        app.router.add_post("/hook", hook)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, HOST, self.port).start())
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hook"

    def stop(self) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def admin(port: int, method: str, path: str, document: Any = None, timeout: float = 300.0) -> Any:
    body = json.dumps(document).encode() if document is not None else None
    status, text = request(port, method, path, body, {"Content-Type": "application/json"} if body else None,
                           timeout=timeout)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: HTTP {status} {text[:200]!r}")
    return json.loads(text) if text else None


def measure_webhooks(port: int, events: int = 1000, runs: int = 3) -> dict[str, Any] | None:
    """Webhook deliveries per second to a loopback receiver, and the time to fast-forward a full retry schedule.

    Deliveries: the receiver refuses (503) while ``events`` events are emitted, so every first attempt fails and
    waits for its retry; then it accepts, and the clock is advanced past the first retry: the advance returns when
    all ``events`` retries were delivered, and deliveries/s is events / (time of that call).
    Fast-forward: the receiver always answers 500 to 100 events; advancing the clock through the whole default
    schedule (12 retries over about 1.3 days) runs all 1,300 attempts, and the call's duration is reported."""
    receiver = Receiver()
    endpoint = admin(port, "POST", "/_emulator/webhooks/endpoints", {"url": receiver.url})
    delivered, fast_forward = [], []
    try:
        for _ in range(runs):
            receiver.status, receiver.count = 503, 0
            for number in range(events):
                admin(port, "POST", "/_emulator/events",
                      {"topic": "gateway.transaction.recipient.payment.status.returned",
                       "participant_id": PARTICIPANT, "event": {"n": str(number)}})
            deadline = time.monotonic() + 120
            while receiver.count < events and time.monotonic() < deadline:
                time.sleep(0.05)  # first attempts (refused) finish in the background
            receiver.status, receiver.count = 200, 0
            started = time.perf_counter()
            admin(port, "POST", "/_emulator/clock", {"advance": 31})
            elapsed = time.perf_counter() - started
            if receiver.count < events:
                raise RuntimeError(f"only {receiver.count} of {events} retries were delivered")
            delivered.append(events / elapsed)

            receiver.status = 500
            for number in range(100):
                admin(port, "POST", "/_emulator/events",
                      {"topic": "gateway.transaction.recipient.payment.status.returned",
                       "participant_id": PARTICIPANT, "event": {"n": str(number)}})
            admin(port, "POST", "/_emulator/clock", {"advance": 0})
            started = time.perf_counter()
            admin(port, "POST", "/_emulator/clock", {"advance": 200_000})
            fast_forward.append(time.perf_counter() - started)
            failed = admin(port, "GET", "/_emulator/webhooks?status=failed")["count"]
            if failed < 100:
                raise RuntimeError(f"only {failed} deliveries exhausted their schedule")
            admin(port, "POST", "/_emulator/reset", {"participant_id": PARTICIPANT})
    finally:
        admin(port, "DELETE", f"/_emulator/webhooks/endpoints/{endpoint['id']}")
        receiver.stop()
    return {"deliveries_per_s": delivered, "fast_forward_s": fast_forward, "events": events,
            "fast_forward_attempts": 100 * 13}


def webhook_figures(port: int) -> dict[str, Any]:
    if not webhooks_available(port):
        return {"measured": False, "reason": "not measured: webhooks not implemented yet"}
    figures = measure_webhooks(port)
    if figures is None:
        return {"measured": False, "reason": "not measured: /_emulator/webhooks exists, but bench/run.py "
                                             "measure_webhooks() is not written yet"}
    return {"measured": True, **figures}


# -- the report ----------------------------------------------------------------------------------------------------

def spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def fmt_spread(values: list[float], fmt: str = "{:,.0f}", unit: str = "") -> str:
    if not values:
        return "n/a"
    low, mid, high = spread(values)
    return f"{fmt.format(low)} / **{fmt.format(mid)}** / {fmt.format(high)}{unit}"


def per_round_ratios(throughput: list[dict[str, Any]], kind_a: str, name_b: str) -> list[float]:
    a = next((t for t in throughput if t["kind"] == kind_a), None)
    b = next((t for t in throughput if t["kind"] == name_b or t["name"].startswith(name_b)), None)
    if not a or not b or not a["runs"] or not b["runs"]:
        return []
    # every target is measured once per round, so both lists have one run per round
    return [ra["rps"] / rb["rps"] for ra, rb in zip(a["runs"], b["runs"], strict=True) if rb["rps"]]


def fastest_peer_ratios(throughput: list[dict[str, Any]]) -> list[float]:
    """The signed pipeline against the fastest peer of each round (the peers' runs of one round are adjacent)."""
    process = next((t for t in throughput if t["kind"] == "process"), None)
    peers = [t for t in throughput if t["kind"] == "peer" and len(t["runs"]) == len(process["runs"] if process else [])]
    if not process or not peers:
        return []
    return [run["rps"] / best for index, run in enumerate(process["runs"])
            if (best := max(peer["runs"][index]["rps"] for peer in peers))]


def verdict(measured: float | None, target: float, higher_is_better: bool, unit: str, fmt: str = "{:.2f}") -> str:
    if measured is None:
        return "not measured"
    met = measured >= target if higher_is_better else measured < target
    if met:
        return "met"
    gap = (target - measured) if higher_is_better else (measured - target)
    share = gap / target * 100
    return f"**missed** by {fmt.format(gap)}{unit} ({share:.0f} % of the target)"


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    s = r["settings"]
    lines: list[str] = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add("Generated by `python bench/run.py` (see [performance.md](performance.md)); do not edit by hand.")
    add(f"Run started {r['started']}; measuring took {r['measure_s']:.0f} s (installing {r['install_s']:.0f} s). "
        f"Load average before: {r['load_before']}, after: {r['load_after']} (other work on the machine shows here; "
        f"the numbers of a noisy machine move by 15 % or more, ratios less, since each ratio compares runs of "
        f"the same round).")
    add("")
    add("Each figure is **min / median / max** over the repeated runs.")
    add("")
    add("## Machine and versions")
    add("")
    add("| | |")
    add("|---|---|")
    for label, key in [("CPU", "cpu"), ("cores", "cores"), ("memory", "memory_gib"), ("OS", "os"),
                       ("kernel", "kernel"), ("Python", "python"), ("aiohttp", "aiohttp"), ("pydantic", "pydantic"),
                       ("ingopay-emulator", "emulator"), ("uvloop", "uvloop"), ("orjson", "orjson"),
                       ("wrk", "wrk"), ("Java", "java"), ("Node.js", "node"), ("WireMock (npm wiremock)", "wiremock"),
                       ("Prism (@stoplight/prism-cli)", "prism"), ("mountebank", "mountebank"),
                       ("pytest-httpserver", "pytest-httpserver")]:
        value = m.get(key)
        if key == "memory_gib" and value is not None:
            value = f"{value} GiB"
        add(f"| {label} | {value if value is not None else 'not installed'} |")
    add("")
    if r["problems"]:
        add("Problems (a peer listed here is missing from the tables below for this reason):")
        add("")
        for name, problem in r["problems"].items():
            add(f"- **{name}**: {problem}")
        add("")

    throughput = r.get("throughput", [])
    add("## Throughput")
    add("")
    add(f"`wrk -t{s['threads']} -c{s['connections']} -d{s['duration']:g}s`, {s['runs']} interleaved rounds after a "
        f"{WARMUP} s warm-up of each target; one wrk thread leaves the second core to the server. The signed "
        "process requests are signed in Python just before each run, each with its own `participant_unique_id1` "
        "(so none is answered from the idempotency record), and a Lua script cycles through them; the first three "
        "of every batch are sent by hand first and must answer Ingo status 100, and the emulator's journal is "
        "sampled after each run. "
        "The bare handler and the peers get the same signed requests (they ignore the signature or, for the bare "
        "handler, check it). Peers serve one static process-success JSON for `POST /gateway/process`: "
        "no authentication, no validation, no state.")
    add("")
    add("| target | req/s | wrk latency p50 (ms) | wrk latency p99 (ms) | errors | RSS after (MB) |")
    add("|---|---|---|---|---|---|")
    for t in throughput:
        runs = t["runs"]
        add(f"| {t['name']} | {fmt_spread([x['rps'] for x in runs])} | "
            f"{fmt_spread([x['p50_us'] / 1000 for x in runs], '{:.1f}')} | "
            f"{fmt_spread([x['p99_us'] / 1000 for x in runs], '{:.1f}')} | {sum(x['errors'] for x in runs)} | "
            f"{runs[-1]['rss_mb'] if runs else 'n/a'} |")
    for name, problem in r["problems"].items():
        if name in ("WireMock", "Prism", "mountebank", "pytest-httpserver", "wiremock", "@stoplight/prism-cli"):
            add(f"| {name}: static stub | not measured: {problem} | | | | |")
    add("")
    process = next((t for t in throughput if t["kind"] == "process"), None)
    if process:
        statuses: Counter = Counter()
        for run in process["runs"]:
            statuses.update(run.get("journal_sample", {}))
        wrapped = any(run.get("wrapped") for run in process["runs"])
        warning = (" — WARNING: a run used more requests than its pool, so some were idempotent replays"
                   if wrapped else "")
        add(f"Ingo statuses in the journal samples of the emulator's process runs: "
            f"{', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}"
            f"{warning}.")
        add("")
    add("wrk's latencies are closed-loop at full load (50 connections queueing); see *Latency* for fixed rates.")
    add("")

    add("## Targets")
    add("")
    pipeline = per_round_ratios(throughput, "process", "bare-process")
    health = per_round_ratios(throughput, "health", "bare-health")
    fastest = fastest_peer_ratios(throughput)
    latency = r.get("latency", [])
    lat_1000 = next((x for x in latency if x["name"] == "emulator" and x["rate"] == 1000), None)
    p99_1000 = [x["p99_ms"] for x in lat_1000["runs"] if x["p99_ms"] is not None] if lat_1000 else []
    cold = r.get("cold_start", {})
    memory = r.get("memory", {})

    def med(v: list[float]) -> float | None:
        return statistics.median(v) if v else None

    add("Ratios are taken within each round (adjacent runs), then summarised; pass or miss is judged on the median.")
    add("")
    add("| target | measured (min / median / max) | result |")
    add("|---|---|---|")
    add(f"| signed pipeline >= 0.6 x bare handler (stretch 0.75) | {fmt_spread(pipeline, '{:.2f}')} | "
        f"{verdict(med(pipeline), 0.6, True, '')} |")
    add(f"| signed pipeline >= 1.2 x the fastest peer's static stub in the same round | "
        f"{fmt_spread(fastest, '{:.2f}') if fastest else 'n/a (no peer measured)'} | "
        f"{verdict(med(fastest), 1.2, True, '') if fastest else 'not measured'} |")
    add(f"| health >= 0.9 x bare handler | {fmt_spread(health, '{:.2f}')} | {verdict(med(health), 0.9, True, '')} |")
    add(f"| p99 at 1,000 req/s < 5 ms | {fmt_spread(p99_1000, '{:.2f}', ' ms')} | "
        f"{verdict(med(p99_1000), 5.0, False, ' ms')} |")
    cold_s = cold.get("seconds", [])
    bare_cold = cold.get("bare_seconds", [])
    cold_ratio = [a / b for a, b in zip(cold_s, bare_cold, strict=False) if b]
    add(f"| cold start <= 1.5 x a bare aiohttp app importing the same libraries | "
        f"{fmt_spread(cold_ratio, '{:.2f}')} ({fmt_spread(cold_s, '{:.3f}', ' s')} against "
        f"{fmt_spread(bare_cold, '{:.3f}', ' s')}) | {verdict(med(cold_ratio), 1.5, False, '')} |")
    idle = cold.get("idle_rss_mb", [])
    add(f"| memory idle < 60 MB | {fmt_spread(idle, '{:.1f}', ' MB')} | "
        f"{verdict(med(idle), 60, False, ' MB', '{:.1f}')} |")
    after = memory.get("rss_mb")
    add(f"| memory after {s.get('memory_requests', MEMORY_REQUESTS):,} requests < 80 MB | "
        f"{after} MB after {memory.get('requests', 0):,} signed process requests (one run) | "
        f"{verdict(after, 80, False, ' MB', '{:.1f}')} |")
    soaked = r.get("soak")
    if soaked:
        final = soaked["rss_mb"]["after deliveries"]
        add(f"| memory after the soak ({soaked['verifies']:,} unique-card verifies, {soaked['pushes']:,} pushes with "
            f"webhooks) < {soaked['target_mb']:g} MB | {final} MB ({soaked['failures']} failures; one run) | "
            f"{verdict(final, soaked['target_mb'], False, ' MB', '{:.1f}')} |")
    else:
        add(f"| memory after the soak < 150 MB | n/a ({r['problems'].get('soak', 'not run: --no-soak')}) | "
            "not measured |")
    roundtrip = r.get("roundtrip") or {}
    trips = roundtrip.get("runs", [])
    if trips:
        trip_ratio = [t["plugin_us_per_pair"] / t["bare_us_per_pair"] for t in trips if t["bare_us_per_pair"]]
        add(f"| a pytest test's verify + process through the plugin's client <= 1.5 x the same pair through a bare "
            f"aiohttp client to the bare handler | {fmt_spread(trip_ratio, '{:.2f}')} "
            f"({fmt_spread([t['plugin_us_per_pair'] / 1000 for t in trips], '{:.2f}', ' ms')} per pair, against "
            f"{fmt_spread([t['bare_us_per_pair'] / 1000 for t in trips], '{:.2f}', ' ms')}) | "
            f"{verdict(med(trip_ratio), 1.5, False, '')} |")
    else:
        missing = r["problems"].get(PIP_TOOLS[0][1], "not run")
        add(f"| a pytest test's verify + process through the plugin's client <= 1.5 x a bare aiohttp client | "
            f"n/a ({missing}) | not measured |")
    add(plugin_import_row(r.get("plugin_import"), verdict))
    add("")
    add("Why a target is missed, and the next step, is written up in *Analysis* below.")
    add("")

    profile = r.get("profile")
    add("## Cost per stage")
    add("")
    if profile:
        add(f"py-spy sampled a fresh emulator at {profile['rate']} Hz for {profile['seconds']:g} s while wrk sent it "
            f"unique signed process requests ({profile['rps']:,.0f} req/s under sampling). Each sample is charged to "
            "the innermost stage on its stack (`bench/profile.py` names the functions of each stage), except that "
            "everything done in the journal's drain after the answer is written (the log line, masking, the entry, "
            "findings, waits, the live view) is its own *deferred* row, off the request path but still the "
            "server's CPU; the time is the samples over the rate, divided by the requests answered meanwhile: the "
            "server's own time for one request, stage by stage. Sampling slows the server by a few per cent.")
        add("")
        add("| stage | µs per request | share |")
        add("|---|---|---|")
        for row in profile["stages"]:
            add(f"| {row['stage']} | {row['us']:.1f} | {row['share'] * 100:.1f} % |")
        add(f"| **total** | **{sum(x['us'] for x in profile['stages']):.1f}** | 100 % |")
    else:
        add(f"Not measured: {r['problems'].get('py-spy', 'py-spy was not available')}.")
    add("")

    add("## Latency at fixed rates")
    add("")
    add(f"Open loop, {s['latency_duration']:g} s per run, {s['runs']} runs per rate: request *i* is due at "
        "*start + i / rate* and is sent then, on an idle keep-alive connection or a new one, whatever the earlier "
        "requests are doing, so a server that stalls is charged for every request sent during the stall (no "
        "coordinated omission). Latency runs from the moment the client issues the request (connection set-up "
        "included) to the complete answer; the client's own lateness against the schedule (event-loop timer "
        "granularity, its share of the CPU) is measured apart as *client lag* and not charged to the server. "
        "Why not wrk: wrk2 is not in Debian, and wrk with a Lua `delay()` is closed-loop (each connection waits "
        "for its answer, so a stall delays the next requests and hides itself). At 100 and 1,000 req/s a small "
        "asyncio client (`bench/common.py`: raw HTTP/1.1 bytes, no HTTP library, requests signed before the run) "
        "needs a few per cent of one core, which is acceptable on 2 cores; the bare-handler row shows the floor "
        "of client plus loopback. The requests are unique signed process requests, and only answers with Ingo "
        "status 100 count as successes.")
    add("")
    add("| server | rate | p50 (ms) | p99 (ms) | max (ms) | failures | connections opened | client lag p99 (ms) |")
    add("|---|---|---|---|---|---|---|---|")
    for row in latency:
        runs = row["runs"]
        add(f"| {row['name']} | {row['rate']:,} req/s | "
            f"{fmt_spread([x['p50_ms'] for x in runs if x['p50_ms'] is not None], '{:.2f}')} | "
            f"{fmt_spread([x['p99_ms'] for x in runs if x['p99_ms'] is not None], '{:.2f}')} | "
            f"{fmt_spread([x['max_ms'] for x in runs if x['max_ms'] is not None], '{:.2f}')} | "
            f"{sum(x['errors'] for x in runs)} | {max(x.get('connections', 0) for x in runs)} | "
            f"{fmt_spread([x['lag_p99_ms'] for x in runs if x.get('lag_p99_ms') is not None], '{:.2f}')} |")
    add("")

    add("## Cold start and memory")
    add("")
    add("Cold start: `python -m emulator --rate-limit 0 --quiet --port P` spawned, `GET /_emulator/health` polled "
        "every 2 ms until it answers 200; 5 times, each followed by the same for `bench/bare.py --same-imports` (a "
        "bare aiohttp app that also imports pydantic and PyYAML, the third-party libraries the emulator has loaded "
        "when it first answers). Both run from compiled bytecode, as an installed package does. Idle memory: VmRSS "
        "of each emulator process one second after it became healthy.")
    add("")
    add("| | min / median / max |")
    add("|---|---|")
    add(f"| cold start to a healthy answer | {fmt_spread(cold_s, '{:.3f}', ' s')} |")
    add(f"| the bare app with the same imports | {fmt_spread(cold.get('bare_seconds', []), '{:.3f}', ' s')} |")
    add(f"| RSS idle | {fmt_spread(idle, '{:.1f}', ' MB')} |")
    add("")
    add(f"Memory under load: VmRSS of the emulator instance that served every throughput and latency run of signed "
        f"process requests (each with a unique `participant_unique_id1`, so each one stores a transaction), read "
        f"after each run and topped up to at least {s.get('memory_requests', MEMORY_REQUESTS):,} requests:")
    add("")
    add("| requests served | RSS (MB) |")
    add("|---|---|")
    for count, rss in memory.get("series", []):
        add(f"| {count:,} | {rss} |")
    add("")
    if "health_instance_rss_mb" in r:
        add(f"For comparison, the instance that only served `GET /_emulator/health` "
            f"({r['health_instance_requests']:,} requests, nothing stored) ended at {r['health_instance_rss_mb']} MB.")
        add("")

    waits = r.get("waits")
    if waits:
        add("## Open and abandoned waits")
        add("")
        add(f"A fresh emulator; open-loop signed process requests at {waits['rate']:,} req/s (as under *Latency*), "
            f"first with no wait open, then with {waits['waits']:,} `POST /_emulator/requests/wait` calls of another "
            f"participant open on as many connections (their clients stay), then after those clients reset their "
            f"connections without a word. The emulator let the {waits['waits']:,} abandoned waits go within "
            f"{waits.get('let_go_s')} s (`GET /_emulator/waits` polled every 50 ms).")
        add("")
        add("| open waits | p50 (ms) | p99 (ms) | max (ms) | failures |")
        add("|---|---|---|---|---|")
        for phase in waits["phases"]:
            runs = phase["runs"]
            add(f"| {phase['name']} | "
                f"{fmt_spread([x['p50_ms'] for x in runs if x['p50_ms'] is not None], '{:.2f}')} | "
                f"{fmt_spread([x['p99_ms'] for x in runs if x['p99_ms'] is not None], '{:.2f}')} | "
                f"{fmt_spread([x['max_ms'] for x in runs if x['max_ms'] is not None], '{:.2f}')} | "
                f"{sum(x['errors'] for x in runs)} |")
        add("")

    if soaked:
        rss = soaked["rss_mb"]
        add(f"The memory soak (`python bench/soak.py --memory`): a fresh emulator with a webhook endpoint on a "
            f"loopback receiver that answers 200 and a rule that makes each push emit an event; "
            f"{soaked['verifies']:,} signed verifies of cards never seen before, then {soaked['pushes']:,} signed "
            f"pushes, each with its own `participant_unique_id1` (waiting while more than {soaked['backlog']:,} "
            f"webhooks were on their way; at most {soaked['most_behind']:,} were), until every webhook was delivered "
            f"({soaked['delivered']:,}). VmRSS: "
            + ", ".join(f"{stage} {value} MB" for stage, value in rss.items())
            + ". The caps that hold it (docs/contract.md, *What the emulator keeps in memory*), as "
              "`GET /_emulator/state` reported them at the end:")
        add("")
        add("| kind | cap | kept | evicted |")
        add("|---|---|---|---|")
        memory_used = soaked.get("memory", {})
        rows = {**memory_used.get("records", {}),
                **{name: memory_used[name] for name in ("events", "journal", "findings") if name in memory_used}}
        for kind, usage in rows.items():
            add(f"| {kind} | {usage['cap']:,} | {usage['kept']:,} | {usage['evicted']:,} |")
        add("")

    add("## Webhooks")
    add("")
    hooks = r.get("webhooks", {})
    if hooks.get("measured"):
        add("| | min / median / max |")
        add("|---|---|")
        add(f"| deliveries per second to a loopback receiver | {fmt_spread(hooks.get('deliveries_per_s', []))} |")
        add(f"| fast-forward of a full retry schedule (100 failing events, {hooks.get('fast_forward_attempts')} "
            f"attempts) | {fmt_spread(hooks.get('fast_forward_s', []), '{:.3f}', ' s')} |")
    else:
        add(f"- Webhook deliveries per second to a loopback receiver: {hooks.get('reason')}.")
        add(f"- Time to fast-forward a full retry schedule: {hooks.get('reason')}.")
    add("")

    add("## Peers")
    add("")
    add("| peer | how it runs here | status |")
    add("|---|---|---|")
    how = {"WireMock": "`java -jar node_modules/wiremock/build/wiremock-standalone-*.jar` with one mapping file, "
                       "request journal capped at 1,000 entries",
           "Prism": "`prism mock` of a one-path OpenAPI 3 file with a static example, log level error",
           "mountebank": "`mb start --configfile` with one http imposter, no log file, `recordRequests: false`",
           "pytest-httpserver": "`HTTPServer.expect_request(...).respond_with_data(...)` in a script"}
    for name, text in how.items():
        status = r.get("peers", {}).get(name)
        if status and status.get("started"):
            state = f"measured (ready {status['ready_s']} s after spawn)"
        else:
            state = "not measured: " + (r["problems"].get(name) or (status or {}).get("problem") or "skipped")
        add(f"| {name} | {text} | {state} |")
    add("")
    analysis = BENCH / "analysis.md"
    if analysis.exists():
        add(analysis.read_text().rstrip())
        add("")
    add("## Raw runs")
    add("")
    add("Requests per second of every run, in order (round 1, 2, ...); all raw data is in `bench/out/results.json` "
        "after a run.")
    add("")
    for t in throughput:
        add(f"- {t['name']}: " + ", ".join(f"{x['rps']:,.0f}" for x in t["runs"]))
    add("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per throughput run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="repeated runs of each figure (default 3)")
    parser.add_argument("--latency-duration", type=float, default=5.0, help="seconds per latency run (default 5)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"), help="the Markdown report")
    parser.add_argument("--memory-requests", type=int, default=MEMORY_REQUESTS,
                        help=f"requests before the second memory reading (default {MEMORY_REQUESTS:,})")
    parser.add_argument("--no-install", action="store_true", help="do not install missing tools")
    parser.add_argument("--no-peers", action="store_true", help="skip the peer mock servers")
    parser.add_argument("--no-soak", action="store_true", help="skip the memory soak (bench/soak.py --memory)")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the report from bench/out/results.json (after editing bench/analysis.md)")
    args = parser.parse_args(argv)
    if args.render_only:
        Path(args.out).write_text(render(json.loads((OUT_DIR / "results.json").read_text())))
        return 0
    bench = Bench(args)
    try:
        bench.run()
    except KeyboardInterrupt:
        bench.stop_all()
        return 130
    finally:
        shutil.rmtree(bench.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
