"""The command line: serve (the default), healthcheck, sign, check, schema, triggers.

Heavy modules (aiohttp, pydantic, the app) are imported by the commands that need them, so that
``healthcheck`` (run every few seconds by Docker) and ``sign`` start fast.
"""

from __future__ import annotations

import argparse
import logging
import asyncio
import json
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

from typing import TYPE_CHECKING, Any, Coroutine

from emulator import __version__
from emulator.credentials import DEFAULT_SECRET, DEFAULT_USERNAME
from emulator.settings import OPTIONS, Settings, SettingsError, add_arguments, from_sources

if TYPE_CHECKING:
    from aiohttp import web


#: Messages of the running server go through the log, so --log-format json keeps stderr all JSON.
LOG = logging.getLogger("ingopay_emulator")

COMMANDS = ("serve", "healthcheck", "sign", "check", "schema", "triggers")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingopay-emulator", description="A local, offline emulator of Ingo Payments' IngoPay API.")
    parser.add_argument("--version", action="version", version=f"ingopay-emulator {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the emulator (the default command)")
    add_arguments(serve)

    health = commands.add_parser(
        "healthcheck", help="exit 0 if the configured emulator answers its health check",
        description="Exit 0 when the emulator answers GET /_emulator/health with 200, 1 otherwise. With no flags it "
                    "probes the emulator the same INGOPAY_EMULATOR_* variables configure: their host, port and "
                    "TLS. Over https it verifies the certificate against --cafile, else the emulator's own "
                    "--tls-cert (INGOPAY_EMULATOR_TLS_CERT), else the CA that --tls made in "
                    "INGOPAY_EMULATOR_DATA_DIR/tls, else the system's CAs; so --tls without a data folder (its CA "
                    "lies in a temporary folder) needs --cafile or --insecure. A given CA or certificate is checked "
                    "as the issuer, not against the host name probed.")
    health.add_argument("--host", default=None,
                        help="address of the emulator (default: INGOPAY_EMULATOR_HOST, else 127.0.0.1; "
                             "0.0.0.0 and :: are probed on 127.0.0.1)")
    health.add_argument("--port", type=int, default=None,
                        help="port of the emulator (default: INGOPAY_EMULATOR_PORT, else 8080)")
    health.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                        help="seconds to wait for the answer (default 3)")
    health.add_argument("--scheme", default=None, choices=("http", "https"),
                        help="http or https (default: https when INGOPAY_EMULATOR_TLS is true or "
                             "INGOPAY_EMULATOR_TLS_CERT is set, else http)")
    health.add_argument("--cafile", type=Path, default=None, metavar="FILE",
                        help="verify the emulator's certificate against this CA certificate (PEM), e.g. the one "
                             "serve --tls printed")
    health.add_argument("--insecure", action="store_true",
                        help="do not verify the emulator's certificate")

    sign = commands.add_parser("sign", help="print the headers (or a curl command) that sign a request")
    sign.add_argument("url", help="full URL, e.g. http://127.0.0.1:8080/gateway/verify")
    sign.add_argument("-X", "--method", default="POST")
    body = sign.add_mutually_exclusive_group()
    body.add_argument("-d", "--data", help="request body (JSON text), sent byte for byte")
    body.add_argument("--data-file", type=Path, help="file holding the request body ('-' for stdin)")
    sign.add_argument("--username", default=DEFAULT_USERNAME)
    sign.add_argument("--secret", default=DEFAULT_SECRET)
    sign.add_argument("--algorithm", default="hmac-sha512", choices=("hmac-sha512", "hmac-sha256",
                                                                     "hmac-sha384", "hmac-sha1"))
    sign.add_argument("--headers", help="signed headers in order (default: request-line x-date content-type "
                                        "content-sha512 content-length)")
    sign.add_argument("--curl", action="store_true", help="print a ready curl command instead of headers")
    sign.add_argument("--json", action="store_true", help="print the headers as a JSON object")

    check = commands.add_parser("check", help="validate scenario files; print file:line:column for each problem")
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="scenario files or folders")

    commands.add_parser("schema", help="print the JSON Schema of the scenario format")

    listing = commands.add_parser("triggers", help="list the triggers of the loaded scenarios (magic values)")
    listing.add_argument("--scenarios", action="append", type=Path, default=None, metavar="PATH",
                         help="also load these files or folders [env INGOPAY_EMULATOR_SCENARIOS]")
    listing.add_argument("--no-default-scenarios", dest="default_scenarios", action="store_const", const=False,
                         default=None, help="leave out the bundled magic values")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument("--markdown", action="store_true", help="print the README's magic-values table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "serve")
    args = build_parser().parse_args(args_list)
    if args.command == "healthcheck":
        return healthcheck(args)
    if args.command == "sign":
        return sign_command(args)
    from emulator.credentials import CredentialsError
    from emulator.scenarios.loader import ScenarioError
    from emulator.webhooks.endpoints import EndpointError

    try:
        if args.command == "check":
            return check_command(args)
        if args.command == "schema":
            return schema_command()
        if args.command == "triggers":
            return triggers_command(args)
        return serve(from_sources(args))
    except (SettingsError, CredentialsError, EndpointError) as exc:
        print(f"ingopay-emulator: {exc}", file=sys.stderr)
        return 2
    except ScenarioError as exc:
        print(f"ingopay-emulator: invalid scenario files, not starting:\n{exc}", file=sys.stderr)
        return 2


def serve(settings: Settings) -> int:
    """Run until SIGINT or SIGTERM; print one line once ready."""
    from emulator import logs
    from emulator.app import build_runtime, create_app

    logs.configure(settings.log_format, quiet=settings.quiet)
    runtime = build_runtime(settings)
    app = create_app(runtime=runtime)
    tune_garbage_collector()
    return run_loop(_serve(app, settings))


def run_loop(main: "Coroutine[Any, Any, int]") -> int:
    """asyncio.run, on uvloop when it is installed (pip install 'ingopay-emulator[fast]')."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def tune_garbage_collector() -> None:
    """Stored records are plain data without cycles, yet each full collection walks all of them: move what
    start-up made out of the collector's sight and collect the young generation less often."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    release_free_memory()


def release_free_memory() -> None:
    """Hand the memory start-up used and freed (parsing the bundled scenarios) back to the system (glibc)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:
        pass


async def _serve(app: "web.Application", settings: Settings) -> int:
    from aiohttp import web

    from emulator import tls

    context, ca_file = None, None
    if settings.tls_cert is not None and settings.tls_key is not None:
        context = tls.server_context(settings.tls_cert, settings.tls_key)
    elif settings.tls:
        made = tls.make_certificates(tls.certificate_directory(settings.data_dir))
        context, ca_file = tls.server_context(made.cert, made.key), made.ca
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True, ssl_context=context)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        LOG.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc.strerror)
        return 1
    port = runner.addresses[0][1] if runner.addresses else settings.port
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    scheme = "https" if context is not None else "http"
    print(f"ingopay-emulator {__version__} ready on {scheme}://{shown_host}:{port}", flush=True)
    if ca_file is not None:
        LOG.info("TLS certificate made for this run; trust its CA: %s", ca_file)
    if settings.host not in ("127.0.0.1", "::1", "localhost") and settings.admin_token is None:
        LOG.warning("the admin API (/_emulator) is open to anyone who can reach %s; set --admin-token to protect it",
                    settings.host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    LOG.info("stopping")
    await runner.cleanup()
    return 0


def healthcheck(args: argparse.Namespace) -> int:
    """Exit 0 when the configured server answers GET /_emulator/health with 200, 1 otherwise."""
    import os

    from emulator import probe

    try:
        scheme = probe.scheme(args.scheme, os.environ)
        url = probe.url(args.host, args.port, scheme, os.environ)
        trusted = probe.trust(args.cafile, args.insecure, os.environ) if scheme == "https" else probe.Trust(None, "")
    except probe.ProbeError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    healthy, line = probe.probe(url, args.timeout, trusted)
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


def sign_command(args: argparse.Namespace) -> int:
    from emulator.client import curl_command, encode_body, sign

    if args.data_file is not None:
        raw = sys.stdin.buffer.read() if str(args.data_file) == "-" else args.data_file.read_bytes()
    else:
        raw = encode_body(args.data)
    order = args.headers.split() if args.headers else None
    headers = sign(args.method, args.url, raw, username=args.username, secret=args.secret,
                   algorithm=args.algorithm, headers=order)
    if args.curl:
        print(curl_command(args.method, args.url, headers, raw))
    elif args.json:
        print(json.dumps(headers, indent=2))
    else:
        for name, value in headers.items():
            print(f"{name}: {value}")
    return 0


def check_command(args: argparse.Namespace) -> int:
    """Validate scenario files: exit 0 and say so, or print every problem and exit 1."""
    from emulator.scenarios.loader import ScenarioError, load_paths

    try:
        loaded = load_paths(args.paths)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1
    rules = sum(len(item.scenario.rules) for item in loaded)
    print(f"ok: {len(loaded)} scenario{'s' if len(loaded) != 1 else ''}, {rules} rule{'s' if rules != 1 else ''}")
    return 0


def schema_command() -> int:
    from emulator.scenarios.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def triggers_command(args: argparse.Namespace) -> int:
    from emulator.scenarios import magic, triggers
    from emulator.scenarios.catalog import load_configured
    from emulator.scenarios.engine import Engine

    if args.markdown:
        print(magic.markdown_table())
        return 0
    settings = from_sources(args)
    engine = Engine(load_configured(settings))
    rows = triggers.rows(engine)
    print(json.dumps(rows, indent=2) if args.json else triggers.text_table(rows))
    return 0


__all__ = ["main", "OPTIONS"]
