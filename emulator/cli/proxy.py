"""``ingopay-emulator proxy``: forward to Ingo's sandbox, record, compare with a local emulator, relay webhooks."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from emulator import __version__
from emulator.cli.command import Command
from emulator.cli.running import (
    LOG,
    announce,
    clean_up,
    listening_url,
    on_stop_signals,
    run_loop,
    serve_until_signal,
    start_logging,
)
from emulator.proxy.exchange import UPSTREAM_MAX_BYTES
from emulator.settings import Settings, add_arguments, from_sources

if TYPE_CHECKING:
    from aiohttp import web

    from emulator.proxy.app import ProxyOptions


def arguments(parser: argparse.ArgumentParser) -> None:
    """The proxy's own flags, then the emulator's settings (where it listens, rate limit, skew, the twin)."""
    parser.add_argument("--upstream", required=True, metavar="URL",
                        help="where to forward, e.g. https://payapi-sandbox.ingo.money")
    parser.add_argument("--record", type=Path, metavar="DIR",
                        help="write each exchange (and relayed webhook) to DIR as a masked JSON file")
    parser.add_argument("--compare", action="store_true",
                        help="let a local emulator answer each request too and write a drift report (--report)")
    parser.add_argument("--report", type=Path, default=Path("drift-report.json"), metavar="FILE",
                        help="the drift report of --compare (JSON; the Markdown goes next to it as .md)")
    parser.add_argument("--webhook-relay", metavar="URL",
                        help="forward the webhooks the upstream posts to /_proxy/webhooks to this local receiver")
    parser.add_argument("--upstream-timeout", type=float, default=60.0, metavar="SECONDS",
                        help="seconds the upstream has to answer (504 after)")
    parser.add_argument("--upstream-cafile", type=Path, metavar="FILE",
                        help="also trust this CA (PEM) for an https upstream")
    parser.add_argument("--upstream-max-bytes", type=int, default=UPSTREAM_MAX_BYTES, metavar="BYTES",
                        help="largest answer body taken from the upstream (502 above, the rest never read)")
    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the proxy (and the local emulator of --compare) until SIGINT or SIGTERM."""
    settings = from_sources(args)
    from emulator.proxy.app import ProxyOptions, build_proxy

    options = ProxyOptions(upstream=args.upstream, record=args.record, compare=args.compare, report=args.report,
                           webhook_relay=args.webhook_relay, upstream_timeout=args.upstream_timeout,
                           upstream_cafile=args.upstream_cafile, upstream_max_bytes=args.upstream_max_bytes)
    start_logging(settings)
    app = build_proxy(settings, options)  # a bad option is refused before anything listens
    return run_loop(proxy_until_stopped(app, settings, options))


async def proxy_until_stopped(app: web.Application, settings: Settings, options: ProxyOptions) -> int:
    """Serve the proxy until SIGINT or SIGTERM (a ConfigurationError when the address cannot be had), the local
    emulator of --compare alongside it."""
    from emulator.core import logs
    from emulator.core.masking import masked_url
    from emulator.proxy.app import attach_twin, start_twin

    alongside = []
    if options.compare:
        twin_runner, twin_url, twin = await start_twin(settings)
        alongside.append(twin_runner)
        attach_twin(app, twin, twin_url)

    def ready(port: int) -> None:
        listening = listening_url("http", settings.host, port)
        extras = [f"recording to {options.record}"] if options.record else []
        extras += [f"drift report {options.report}"] if options.compare else []
        if options.webhook_relay:
            extras += [f"webhooks at {listening}/_proxy/webhooks to {masked_url(options.webhook_relay)}"]
        upstream = masked_url(options.upstream)
        message = (f"ingopay-emulator {__version__} proxy ready on {listening}, forwarding to {upstream}"
                   + "".join(f"; {extra}" for extra in extras))
        announce(logs.ready_line(message, settings.log_format, url=listening, upstream=upstream))

    async def stop(runners: list[web.AppRunner]) -> int:
        return await stop_proxy(app, runners, options)

    return await serve_until_signal(app, settings, ready, stop=stop, alongside=alongside)


async def stop_proxy(app: web.Application, runners: list[web.AppRunner], options: ProxyOptions) -> int:
    """Stop the proxy: say when it waits for requests in flight to the upstream, and stop at once (the report
    written as it stands) on a second SIGINT or SIGTERM."""
    from emulator.proxy.server import PROXY

    proxy = app[PROXY]
    hurry = asyncio.Event()
    on_stop_signals(hurry.set)
    if proxy.in_flight:
        LOG.info("stopping: waiting for %d request%s in flight to the upstream (up to --upstream-timeout %g s); "
                 "Ctrl-C again to stop at once", proxy.in_flight, "s" if proxy.in_flight != 1 else "",
                 options.upstream_timeout)
    else:
        LOG.info("stopping")
    stopping = asyncio.ensure_future(clean_up(runners))
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


COMMAND = Command(
    "proxy", "forward to Ingo's sandbox: record, compare with the emulator, relay webhooks", arguments, run,
    defaults_in_help=True, usage="ingopay-emulator proxy --upstream URL [OPTIONS]",
    description="Listen like the emulator and forward each request byte for byte to --upstream, returning its answer "
                "unchanged; clients sign with their real credential, the proxy needs no secret. It logs what it can "
                "check without the secret (header grammar, X-Date skew, Content-sha512, Content-Length) and forwards "
                "all the same, holds each client to --rate-limit per second with the emulator's 429, and answers "
                "Kong's 502/504 when the upstream fails. The emulator's options below set where it listens, the rate "
                "limit and skew, and the local emulator of --compare.", reads_settings=True)
