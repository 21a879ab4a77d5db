"""The one run loop of the servers (serve, proxy): the event loop, listening, the ready line, the stop signals and
a graceful stop."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from emulator.core.configuration import ConfigurationError
from emulator.settings import Settings, named, unknown_variables

if TYPE_CHECKING:
    from aiohttp import web

#: Messages of the running server go through the log, so --log-format json keeps stderr all JSON.
LOG = logging.getLogger("ingopay_emulator")

#: How a server stops once SIGINT or SIGTERM came: given its runners (started first, first), the exit status.
Stop = Callable[[list["web.AppRunner"]], Awaitable[int]]


def start_logging(settings: Settings) -> None:
    """Log as the settings ask, and warn about each INGOPAY_EMULATOR_* variable that is no setting (a typo)."""
    from emulator.core import logs

    logs.configure(settings.log_format, quiet=settings.quiet)
    for warning in unknown_variables():
        LOG.warning(warning)


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    """asyncio.run, on uvloop when it is installed (pip install 'ingopay-emulator[fast]')."""
    runner: Callable[[Coroutine[Any, Any, int]], int]
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run  # run outside the except clause: a failure in the loop is not chained to this one
    else:
        runner = uvloop.run
    return int(runner(main))


async def serve_until_signal(app: web.Application, settings: Settings, ready: Callable[[int], None], *,
                             stop: Stop | None = None, alongside: Sequence[web.AppRunner] = (),
                             **serving: Any) -> int:
    """Serve ``app`` on the configured address, call ``ready`` with the port once it listens, and ``stop`` it on
    SIGINT or SIGTERM (by default: say so and clean up). A ConfigurationError (exit 2) when the address cannot be
    had, naming the setting that changes it.

    ``alongside``: servers already started for it (the proxy's local emulator), stopped after it. ``serving``: more
    of :func:`emulator.web.serving.serve`'s options (TLS, the grace of requests under way)."""
    from emulator.web.serving import bound_port, serve

    runners = list(alongside)
    try:
        runners.append(await serve(app, host=settings.host, port=settings.port,
                                   header_timeout=settings.header_timeout, max_body_size=settings.max_body_size,
                                   **serving))
    except OSError as exc:
        await clean_up(runners)
        raise ConfigurationError(cannot_listen(settings.host, settings.port, exc)) from None
    stopping = asyncio.Event()
    on_stop_signals(stopping.set)  # before the ready line: whoever reads it may stop the server at once
    ready(bound_port(runners[-1]))
    await stopping.wait()
    return await (stop or stop_gracefully)(runners)


def cannot_listen(host: str, port: int, exc: OSError) -> str:
    """Why a server cannot listen on ``host:port``, and the setting that fixes it, in one sentence."""
    where = f"port {port} on {host}"
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {host!r}: no such host name ({exc.strerror}); choose another with {named('host')}"
    if exc.errno == errno.EADDRINUSE:
        return (f"{where} is already in use (another emulator? `ss -ltnp` shows what holds it); choose another with "
                f"{named('port')}, or 0 for any free port")
    if exc.errno == errno.EACCES:
        return (f"{where} needs privileges this process does not have (ports below 1024 usually do); choose a port "
                f"above 1023 with {named('port')}")
    if exc.errno == errno.EADDRNOTAVAIL:
        return (f"cannot listen on {host}: it is no address of this machine; choose another with {named('host')} "
                "(127.0.0.1 for this machine only, 0.0.0.0 for every interface)")
    return f"cannot listen on {where}: {exc.strerror or exc}; check {named('host')} and {named('port')}"


def on_stop_signals(callback: Callable[[], None]) -> None:
    """Call ``callback`` on SIGINT and SIGTERM (instead of what they did before)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, callback)


async def stop_gracefully(runners: list[web.AppRunner]) -> int:
    """Say that the server stops, and stop it (each runner within its own grace)."""
    LOG.info("stopping")
    await clean_up(runners)
    return 0


async def clean_up(runners: Sequence[web.AppRunner]) -> None:
    """Stop the servers, the last started first."""
    for runner in reversed(runners):
        await runner.cleanup()


def listening_url(scheme: str, host: str, port: int) -> str:
    """Where a server listens, as a URL (an IPv6 address in brackets)."""
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def announce(line: str) -> None:
    """Print the ready line; a closed stdout (``ingopay-emulator | head -1``) does not stop the server."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        discard_stdout()


def discard_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush does not fail on the closed pipe too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
