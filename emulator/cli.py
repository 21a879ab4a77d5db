"""The command line: serve (the default), healthcheck, sign, check, schema, triggers, proxy, scenarios, drift.

Heavy modules (aiohttp, pydantic, the app) are imported by the commands that need them, so that
``healthcheck`` (run every few seconds by Docker) and ``sign`` start fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import __version__
from emulator.auth.kong_signing import HASHES
from emulator.core.configuration import ConfigurationError
from emulator.core.credentials import DEFAULT_SECRET, DEFAULT_USERNAME
from emulator.proxy.exchange import UPSTREAM_MAX_BYTES
from emulator.settings import OPTIONS, Settings, add_arguments, from_sources, unknown_variables

if TYPE_CHECKING:
    from aiohttp import web


#: Messages of the running server go through the log, so --log-format json keeps stderr all JSON.
LOG = logging.getLogger("ingopay_emulator")

COMMANDS = ("serve", "healthcheck", "sign", "check", "schema", "triggers", "proxy", "scenarios", "drift")


class _HelpWithServe(argparse.Action):
    """``ingopay-emulator --help``: the commands, then the options of serve (the default command)."""

    def __init__(self, option_strings: Sequence[str], dest: str, serve: argparse.ArgumentParser | None = None,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)
        self.serve = serve

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        text = parser.format_help()
        if self.serve is not None:
            text += f"\nserve (the default command):\n{self.serve.format_help()}"
        parser._print_message(text, sys.stdout)  # as argparse prints help: a closed stdout is no error
        parser.exit()


class _DefaultsFormatter(argparse.HelpFormatter):
    """Help lines that end with the default, when there is one worth saying (never "(default None)")."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings \
                and "%(default)" not in text:
            text += " (default %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingopay-emulator", add_help=False,
        description="A local, offline emulator of Ingo Payments' IngoPay API. Without a command it serves "
                    "(ingopay-emulator [serve] [OPTIONS]); each command has its own --help.")
    help_action = parser.add_argument("-h", "--help", action=_HelpWithServe,
                                      help="show this help, with the options of serve, and exit")
    parser.add_argument("--version", action="version", version=f"ingopay-emulator {__version__}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the emulator (the default command)",
                                usage="ingopay-emulator [serve] [OPTIONS]",
                                description="Run the emulator until SIGINT or SIGTERM. Every option has an "
                                            "environment variable; flags win over variables.")
    add_arguments(serve)
    help_action.serve = serve  # type: ignore[attr-defined]

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

    sign = commands.add_parser("sign", help="print the headers (or a curl command) that sign a request",
                               formatter_class=_DefaultsFormatter,
                               description="Sign a request as Ingo requires (Kong hmac-auth, hmac-sha512) and "
                                           "print its headers, a JSON object of them, or a ready curl command.")
    sign.add_argument("url", metavar="URL", help="full URL, e.g. http://127.0.0.1:8080/gateway/verify")
    sign.add_argument("-X", "--method", default="POST", help="HTTP method")
    body = sign.add_mutually_exclusive_group()
    body.add_argument("-d", "--data", metavar="BODY", help="request body (JSON text), signed and sent byte for byte")
    body.add_argument("--data-file", type=Path, metavar="FILE",
                      help="file holding the request body ('-' for stdin)")
    sign.add_argument("--username", default=DEFAULT_USERNAME,
                      help="credential username")
    sign.add_argument("--secret", default=DEFAULT_SECRET,
                      help="credential secret")
    sign.add_argument("--algorithm", default="hmac-sha512", choices=sorted(HASHES, reverse=True),
                      help="HMAC algorithm (Ingo requires hmac-sha512; hmac-sha256 is its legacy one)")
    sign.add_argument("--headers", metavar="LIST",
                      help="signed headers in order, separated by spaces (default: request-line x-date "
                           "content-type content-sha512 content-length)")
    sign.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'",
                      help="another header to send, not signed unless named in --headers (repeatable), e.g. "
                           "'X-Emulator-Scenario: none'")
    sign.add_argument("--curl", action="store_true", help="print a ready curl command instead of headers")
    sign.add_argument("--json", action="store_true", help="print the headers as a JSON object")

    check = commands.add_parser("check", help="validate scenario files; print file:line:column for each problem")
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="scenario files or folders")

    commands.add_parser("schema", help="print the JSON Schema of the scenario format")

    listing = commands.add_parser("triggers", help="list the triggers of the loaded scenarios (magic values)",
                                  formatter_class=_DefaultsFormatter,
                                  description="List what each loaded scenario rule answers and what triggers "
                                              "it (the bundled magic values and your files).")
    listing.add_argument("--scenarios", action="append", type=Path, default=None, metavar="PATH",
                         help="also load these files or folders [env INGOPAY_EMULATOR_SCENARIOS]")
    listing.add_argument("--no-default-scenarios", dest="default_scenarios", action="store_const", const=False,
                         default=None, help="leave out the bundled magic values")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument("--markdown", action="store_true", help="print the README's magic-values table")
    add_conformance_commands(commands)
    return parser


def add_conformance_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """proxy, scenarios from-recording and drift: record Ingo's sandbox, replay it, report the drift."""
    proxy = commands.add_parser(
        "proxy", help="forward to Ingo's sandbox: record, compare with the emulator, relay webhooks",
        formatter_class=_DefaultsFormatter, usage="ingopay-emulator proxy --upstream URL [OPTIONS]",
        description="Listen like the emulator and forward each request byte for byte to --upstream, returning its "
                    "answer unchanged; clients sign with their real credential, the proxy needs no secret. It logs "
                    "what it can check without the secret (header grammar, X-Date skew, Content-sha512, "
                    "Content-Length) and forwards all the same, holds each client to --rate-limit per second with "
                    "the emulator's 429, and answers Kong's 502/504 when the upstream fails. The emulator's options "
                    "below set where it listens, the rate limit and skew, and the local emulator of --compare.")
    proxy.add_argument("--upstream", required=True, metavar="URL",
                       help="where to forward, e.g. https://payapi-sandbox.ingo.money")
    proxy.add_argument("--record", type=Path, metavar="DIR",
                       help="write each exchange (and relayed webhook) to DIR as a masked JSON file")
    proxy.add_argument("--compare", action="store_true",
                       help="let a local emulator answer each request too and write a drift report (--report)")
    proxy.add_argument("--report", type=Path, default=Path("drift-report.json"), metavar="FILE",
                       help="the drift report of --compare (JSON; the Markdown goes next to it as .md)")
    proxy.add_argument("--webhook-relay", metavar="URL",
                       help="forward the webhooks the upstream posts to /_proxy/webhooks to this local receiver")
    proxy.add_argument("--upstream-timeout", type=float, default=60.0, metavar="SECONDS",
                       help="seconds the upstream has to answer (504 after)")
    proxy.add_argument("--upstream-cafile", type=Path, metavar="FILE",
                       help="also trust this CA (PEM) for an https upstream")
    proxy.add_argument("--upstream-max-bytes", type=int, default=UPSTREAM_MAX_BYTES, metavar="BYTES",
                       help="largest answer body taken from the upstream (502 above, the rest never read)")
    add_arguments(proxy)

    scenarios = commands.add_parser("scenarios", help="make scenario files (from-recording)",
                                    description="Make scenario files.")
    making = scenarios.add_subparsers(dest="scenarios_command", metavar="COMMAND", required=True)
    recording = making.add_parser(
        "from-recording", help="a scenario file that replays a recording offline",
        formatter_class=_DefaultsFormatter,
        description="Turn a folder that proxy --record wrote into a scenario file whose rules answer each endpoint "
                    "as the upstream did, matching on what the requests with the same answer had in common.")
    recording.add_argument("directory", type=Path, metavar="DIR", help="the folder proxy --record wrote")
    recording.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the file here (default stdout)")
    recording.add_argument("--name", default="recorded", help="the scenario's name")

    drift = commands.add_parser("drift", help="summarise a drift report of proxy --compare",
                                description="Summarise a drift report (the JSON file proxy --compare wrote): exit "
                                            "0 when it lists no difference, 1 when it does.")
    drift.add_argument("report", type=Path, metavar="REPORT", help="the report's JSON file")
    drift.add_argument("--json", action="store_true", help="print every difference as JSON")


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; a reader that stops early (``ingopay-emulator triggers | head``) ends it quietly."""
    try:
        code = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return BROKEN_PIPE
    return code


#: The exit status of a Unix tool whose reader went away (128 + SIGPIPE).
BROKEN_PIPE = 141


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush does not fail on the closed pipe too."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _run(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "serve")
    args = build_parser().parse_args(args_list)
    if args.command == "healthcheck":
        return healthcheck(args)
    if args.command == "sign":
        return sign_command(args)
    from emulator.scenarios.loader import ScenarioError

    try:
        if args.command == "check":
            return check_command(args)
        if args.command == "schema":
            return schema_command()
        if args.command == "triggers":
            return triggers_command(args)
        if args.command == "scenarios":
            return from_recording_command(args)
        if args.command == "drift":
            return drift_command(args)
        if args.command == "proxy":
            return proxy_command(args, from_sources(args))
        return serve_command(from_sources(args))
    except ConfigurationError as exc:
        return refuse_to_start(str(exc), _requested_log_format(args))
    except ScenarioError as exc:
        return refuse_to_start("invalid scenario files, not starting:", _requested_log_format(args),
                               [str(problem) for problem in exc.problems])


def _requested_log_format(args: argparse.Namespace) -> str:
    """The log format asked for, even when other settings are wrong (so a refusal is written in it)."""
    import os

    given = getattr(args, "log_format", None) or os.environ.get("INGOPAY_EMULATOR_LOG_FORMAT", "text")
    return "json" if given.strip() == "json" else "text"


def refuse_to_start(message: str, log_format: str, problems: list[str] | None = None) -> int:
    """Say on stderr why the emulator does not start (one line, or one JSON object) and exit 2."""
    if log_format == "json":
        document: dict[str, Any] = {"level": "error", "logger": "ingopay_emulator", "message": message}
        if problems:
            document["problems"] = problems
        print(json.dumps(document), file=sys.stderr)
    else:
        print(f"ingopay-emulator: {message}" + "".join(f"\n{p}" for p in problems or ()), file=sys.stderr)
    return 2


def serve_command(settings: Settings) -> int:
    """Run until SIGINT or SIGTERM; print one line once ready."""
    from emulator.app import build_runtime, create_app
    from emulator.core import logs

    logs.configure(settings.log_format, quiet=settings.quiet)
    for warning in unknown_variables():
        LOG.warning(warning)
    runtime = build_runtime(settings)
    app = create_app(runtime=runtime)
    tune_garbage_collector()
    return run_loop(serve_until_stopped(app, settings))


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    """asyncio.run, on uvloop when it is installed (pip install 'ingopay-emulator[fast]')."""
    try:
        import uvloop
    except ImportError:
        uvloop = None  # and run outside the except clause: a failure in the loop is not chained to this one
    return int(asyncio.run(main) if uvloop is None else uvloop.run(main))


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


#: Seconds the requests under way get to finish once SIGINT or SIGTERM arrives, after webhook attempts under way got
#: their own half second; aiohttp then cancels what is left and waits as long again. The emulator is gone within
#: 2 s, well inside the 10 s docker stop allows.
REQUESTS_GRACE = 0.5


async def serve_until_stopped(app: web.Application, settings: Settings) -> int:
    """Serve on the configured address until SIGINT or SIGTERM (1 when the address cannot be had)."""
    from emulator.core import tls
    from emulator.web.hosts import is_loopback
    from emulator.web.serving import bound_port, serve

    context, ca_file = None, None
    if settings.tls_cert is not None and settings.tls_key is not None:
        context = tls.server_context(settings.tls_cert, settings.tls_key)
    elif settings.tls:
        made = tls.make_certificates(tls.certificate_directory(settings.data_dir))
        context, ca_file = tls.server_context(made.cert, made.key), made.ca
    try:
        runner = await serve(app, host=settings.host, port=settings.port, header_timeout=settings.header_timeout,
                             max_body_size=settings.max_body_size, ssl_context=context,
                             shutdown_timeout=REQUESTS_GRACE)
    except OSError as exc:
        LOG.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc.strerror)
        return 1
    # before the ready line: whoever reads it may stop the emulator at once
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    port = bound_port(runner)
    scheme = "https" if context is not None else "http"
    announce_ready(settings, scheme, port)
    if ca_file is not None:
        LOG.info("TLS certificate made for this run; trust its CA: %s", ca_file)
    if not is_loopback(settings.host) and settings.admin_token is None:
        LOG.warning("the admin API (/_emulator) is open to anyone who can reach %s, and its signing oracle is off; "
                    "set --admin-token to protect the one and turn on the other", settings.host)
    await stop.wait()
    LOG.info("stopping")
    await runner.cleanup()
    return 0


def ready_line(settings: Settings, scheme: str, port: int) -> str:
    """The one line that says the emulator is ready: where it listens, and where a person opens it."""
    listening, inspector, demo = ready_urls(settings, scheme, port)
    message = (f"ingopay-emulator {__version__} ready on {listening} "
               f"(inspector {inspector}, iFrame demo {demo})")
    from emulator.core import logs

    return logs.ready_line(message, settings.log_format, url=listening, inspector=inspector, demo=demo)


def ready_urls(settings: Settings, scheme: str, port: int) -> tuple[str, str, str]:
    """Where the emulator listens, and its inspector and demo pages where a browser reaches them."""
    listening = f"{scheme}://{_url_host(settings.host)}:{port}"
    if settings.public_url:
        browse = settings.public_url.rstrip("/")
    elif settings.host in ("0.0.0.0", "::", ""):
        browse = f"{scheme}://localhost:{port}"  # a wildcard address is where it listens, not where to browse
    else:
        browse = listening
    return listening, f"{browse}/_emulator/ui", f"{browse}/plugin/demo"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def announce_ready(settings: Settings, scheme: str, port: int) -> None:
    """Print the ready line; a closed stdout (``ingopay-emulator | head -1``) does not stop the server."""
    try:
        print(ready_line(settings, scheme, port), flush=True)
    except BrokenPipeError:
        _discard_stdout()


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
    from emulator.auth.client import curl_command, encode_body, sign

    if args.data_file is not None:
        raw = sys.stdin.buffer.read() if str(args.data_file) == "-" else args.data_file.read_bytes()
    else:
        raw = encode_body(args.data)
    order = args.headers.split() if args.headers else None
    extra: dict[str, str] = {}
    for header in args.header:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            print(f"sign: --header {header!r} is not 'NAME: VALUE'", file=sys.stderr)
            return 2
        extra[name.strip()] = value.strip()
    headers = {**extra, **sign(args.method, args.url, raw, username=args.username, secret=args.secret,
                               algorithm=args.algorithm, headers=order)}
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
    from emulator.app import scenario_sources
    from emulator.scenarios import magic, triggers
    from emulator.scenarios.engine import Engine

    if args.markdown:
        print(magic.markdown_table())
        return 0
    engine = Engine(scenario_sources(from_sources(args)).load())
    rows = triggers.rows(engine)
    print(json.dumps(rows, indent=2) if args.json else triggers.text_table(rows))
    return 0


def proxy_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the proxy (and the local emulator of --compare) until SIGINT or SIGTERM."""
    from emulator.core import logs
    from emulator.proxy.app import ProxyOptions, build_proxy

    options = ProxyOptions(upstream=args.upstream, record=args.record, compare=args.compare, report=args.report,
                           webhook_relay=args.webhook_relay, upstream_timeout=args.upstream_timeout,
                           upstream_cafile=args.upstream_cafile, upstream_max_bytes=args.upstream_max_bytes)
    logs.configure(settings.log_format, quiet=settings.quiet)
    for warning in unknown_variables():
        LOG.warning(warning)
    app = build_proxy(settings, options)  # a bad option is refused before anything listens
    return run_loop(_proxy_until_stopped(app, settings, options))


async def _proxy_until_stopped(app: web.Application, settings: Settings, options: Any) -> int:
    from emulator.proxy.app import attach_twin, start_twin
    from emulator.web.serving import bound_port, serve

    runners = []
    if options.compare:
        twin_runner, twin_url, twin = await start_twin(settings)
        runners.append(twin_runner)
        attach_twin(app, twin, twin_url)
    try:
        runners.append(await serve(app, host=settings.host, port=settings.port,
                                   header_timeout=settings.header_timeout, max_body_size=settings.max_body_size))
    except OSError as exc:
        LOG.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc.strerror)
        for runner in runners:
            await runner.cleanup()
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    from emulator.core import logs

    listening = f"http://{_url_host(settings.host)}:{bound_port(runners[-1])}"
    extras = [f"recording to {options.record}"] if options.record else []
    extras += [f"drift report {options.report}"] if options.compare else []
    extras += [f"webhooks at {listening}/_proxy/webhooks to {options.webhook_relay}"] if options.webhook_relay else []
    message = (f"ingopay-emulator {__version__} proxy ready on {listening}, forwarding to {options.upstream}"
               + "".join(f"; {extra}" for extra in extras))
    try:
        print(logs.ready_line(message, settings.log_format, url=listening, upstream=options.upstream), flush=True)
    except BrokenPipeError:
        _discard_stdout()
    await stop.wait()
    return await _stop_proxy(app, runners, options)


async def _stop_proxy(app: web.Application, runners: list[web.AppRunner], options: Any) -> int:
    """Stop the proxy: say when it waits for requests in flight to the upstream, and stop at once (the report
    written as it stands) on a second SIGINT or SIGTERM."""
    from emulator.proxy.server import PROXY

    proxy = app[PROXY]
    hurry = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, hurry.set)
    if proxy.in_flight:
        LOG.info("stopping: waiting for %d request%s in flight to the upstream (up to --upstream-timeout %g s); "
                 "Ctrl-C again to stop at once", proxy.in_flight, "s" if proxy.in_flight != 1 else "",
                 options.upstream_timeout)
    else:
        LOG.info("stopping")

    async def cleanup() -> None:
        for runner in reversed(runners):
            await runner.cleanup()

    stopping = asyncio.ensure_future(cleanup())
    hurried = asyncio.ensure_future(hurry.wait())
    await asyncio.wait({stopping, hurried}, return_when=asyncio.FIRST_COMPLETED)
    hurried.cancel()
    if stopping.done():
        stopping.result()
        return 0
    LOG.warning("stopping at once: %d request%s to the upstream left unanswered", proxy.in_flight,
                "s" if proxy.in_flight != 1 else "")
    stopping.cancel()
    if proxy.report is not None:
        try:
            proxy.report.flush()
        except OSError as exc:
            LOG.error("cannot write the drift report %s: %s", proxy.report.path, exc.strerror or exc)
    return 130


def from_recording_command(args: argparse.Namespace) -> int:
    """Write the scenario file that replays a recording; a one-line error for a damaged recording."""
    from emulator.app import ROUTES
    from emulator.proxy.recorded_scenarios import from_recording
    from emulator.proxy.recording import RecordingError, read_recording
    from emulator.scenarios.loader import ScenarioError, load_text

    try:
        recorded = read_recording(args.directory)
    except RecordingError as exc:
        print(f"ingopay-emulator: {exc}", file=sys.stderr)
        return 2
    endpoints = {route.path: route.spec.endpoint for route in ROUTES if route.spec.endpoint}
    generated = from_recording(recorded, endpoints, name=args.name)
    try:
        load_text(generated.text, str(args.output or "<generated>"))
    except ScenarioError as exc:  # the generator's own mistake: say so rather than write a file check refuses
        print(f"ingopay-emulator: the generated scenario is not valid: {exc.problems[0]}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(generated.text)
    else:
        try:
            args.output.write_text(generated.text, encoding="utf-8")
        except OSError as exc:
            print(f"ingopay-emulator: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    print(f"{generated.rules} rule{'s' if generated.rules != 1 else ''} from {len(recorded)} recorded files"
          + (f"; {len(generated.skipped)} not replayed (listed in the file)" if generated.skipped else ""),
          file=sys.stderr)
    return 0


def drift_command(args: argparse.Namespace) -> int:
    """Summarise a drift report: 0 without differences, 1 with, 2 for a file that is no report."""
    from emulator.proxy.drift import ReportError, differences, read_report, summary

    try:
        document = read_report(args.report)
    except ReportError as exc:
        print(f"ingopay-emulator: {exc}", file=sys.stderr)
        return 2
    found = differences(document)
    print(json.dumps(found, indent=2, ensure_ascii=False) if args.json else summary(document))
    return 1 if found else 0


#: The commands whose flags the README's configuration section lists (serve's come from the settings table).
DOCUMENTED_COMMANDS = ("sign", "healthcheck", "triggers", "proxy")


def commands_markdown() -> str:
    """The README's tables of the flags of sign, healthcheck, triggers and proxy (its own flags; the settings it
    shares with serve are in the configuration table), from their parsers."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sections = []
    for name in DOCUMENTED_COMMANDS:
        command = subparsers.choices[name]
        lines = [f"`ingopay-emulator {name}`: {command.description or ''}".rstrip(), "",
                 "| flag | default | what it does |", "|---|---|---|"]
        for action in command._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS \
                    or action.dest in OPTION_NAMES:
                continue  # a setting: the configuration table lists it
            flag = ", ".join(action.option_strings) or (action.metavar or action.dest.upper())
            if action.nargs != 0 and action.option_strings:
                flag += " " + (action.metavar or (f"{{{','.join(action.choices)}}}" if action.choices
                                                  else action.dest.upper()))
            shown = "-" if action.default in (None, False, argparse.SUPPRESS) else str(action.default)
            lines.append(f"| `{flag}` | {shown} | {(action.help or '').replace('|', '/')} |")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


#: The settings' names: a command that takes them (proxy) documents only its own flags.
OPTION_NAMES = frozenset(option.name for option in OPTIONS)

__all__ = ["main", "OPTIONS"]
