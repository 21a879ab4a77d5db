"""``ingopay-emulator [serve]``, the default command: run the emulator until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import gc
from pathlib import Path
from typing import TYPE_CHECKING

from emulator import __version__
from emulator.cli.command import Command
from emulator.cli.running import LOG, announce, listening_url, run_loop, serve_until_signal, start_logging
from emulator.core.configuration import ConfigurationError
from emulator.settings import Settings, add_arguments, from_sources, named

if TYPE_CHECKING:
    import ssl

    from aiohttp import web

#: Seconds the requests under way get to finish once SIGINT or SIGTERM arrives, after webhook attempts under way got
#: their own half second; aiohttp then cancels what is left and waits as long again. The emulator is gone within
#: 2 s, well inside the 10 s docker stop allows.
REQUESTS_GRACE = 0.5


def run(args: argparse.Namespace) -> int:
    """Run until SIGINT or SIGTERM; print one line once ready."""
    settings = from_sources(args)
    # start-up makes objects that live as long as the process: collecting while it runs only costs time (one
    # collection follows, in tune_garbage_collector)
    gc.disable()
    try:
        from emulator.app import build_runtime, create_app

        start_logging(settings)
        runtime = build_runtime(settings)
        app = create_app(runtime=runtime)
    finally:
        gc.enable()
    tune_garbage_collector()
    return run_loop(serve_until_stopped(app, settings))


async def serve_until_stopped(app: web.Application, settings: Settings) -> int:
    """Serve on the configured address until SIGINT or SIGTERM (a ConfigurationError when the address cannot be had)."""
    from emulator.core import tls

    with contextlib.ExitStack() as cleanup:
        context, ca_file = None, None
        if settings.tls_cert is not None and settings.tls_key is not None:
            context = tls.server_context(settings.tls_cert, settings.tls_key)
        elif settings.tls:
            folder = tls.certificate_directory(settings.tls_dir, settings.data_dir)
            if folder is None:  # for this run only: removed when it ends
                folder = Path(cleanup.enter_context(tls.temporary_directory()))
            try:
                made = tls.make_certificates(folder)
            except OSError as exc:
                raise ConfigurationError(f"cannot write the TLS certificate to {folder}: {exc.strerror or exc}; "
                                         f"choose a folder this user can write with {named('tls_dir')}") from None
            context, ca_file = tls.server_context(made.cert, made.key), made.ca
        return await _serve(app, settings, context, ca_file)


async def _serve(app: web.Application, settings: Settings, context: ssl.SSLContext | None,
                 ca_file: Path | None) -> int:
    """Serve until SIGINT or SIGTERM, over TLS with ``context``; the ready line names ``ca_file`` when one was made."""
    from emulator.web.hosts import is_loopback

    def ready(port: int) -> None:
        announce(ready_line(settings, "https" if context is not None else "http", port, ca_file))
        if not is_loopback(settings.host) and settings.admin_token is None:
            LOG.warning("the admin API (/_emulator) is open to anyone who can reach %s, and its signing oracle is "
                        "off; set --admin-token to protect the one and turn on the other", settings.host)

    return await serve_until_signal(app, settings, ready, ssl_context=context, shutdown_timeout=REQUESTS_GRACE)


def ready_line(settings: Settings, scheme: str, port: int, ca_file: Path | None = None) -> str:
    """The one line that says the emulator is ready: where it listens, where a person opens it, and the CA to trust
    when --tls made the certificate."""
    listening, inspector, demo = ready_urls(settings, scheme, port)
    trust = f", trust the CA {ca_file}" if ca_file is not None else ""
    message = (f"ingopay-emulator {__version__} ready on {listening} "
               f"(inspector {inspector}, iFrame demo {demo}{trust})")
    from emulator.core import logs

    fields = {"url": listening, "inspector": inspector, "demo": demo}
    if ca_file is not None:
        fields["ca"] = str(ca_file)
    return logs.ready_line(message, settings.log_format, **fields)


def ready_urls(settings: Settings, scheme: str, port: int) -> tuple[str, str, str]:
    """Where the emulator listens, and its inspector and demo pages where a browser reaches them."""
    listening = listening_url(scheme, settings.host, port)
    if settings.public_url:
        browse = settings.public_url.rstrip("/")
    elif settings.host in ("0.0.0.0", "::", ""):
        browse = f"{scheme}://localhost:{port}"  # a wildcard address is where it listens, not where to browse
    else:
        browse = listening
    return listening, f"{browse}/_emulator/ui", f"{browse}/plugin/demo"


def tune_garbage_collector() -> None:
    """Stored records are plain data without cycles, yet each full collection walks all of them: move what
    start-up made out of the collector's sight and collect the young generation less often."""
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


COMMAND = Command(
    "serve", "run the emulator (the default command)", add_arguments, run, usage="ingopay-emulator [serve] [OPTIONS]",
    description="Run the emulator until SIGINT or SIGTERM. Every option has an environment variable; flags win over "
                "variables.", reads_settings=True)
