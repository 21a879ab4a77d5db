"""Wiring the proxy: settings and the proxy's own options in, a proxy application (and, for ``--compare``, the local
twin emulator it asks) out."""

from __future__ import annotations

import math
import re
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from yarl import URL

from emulator.app import auth_policy, build_runtime, create_app
from emulator.core import http_url
from emulator.core.configuration import ConfigurationError
from emulator.core.tls import client_context
from emulator.proxy.drift import Report
from emulator.proxy.exchange import UPSTREAM_MAX_BYTES
from emulator.proxy.recording import Recorder
from emulator.proxy.server import PROXY, Proxy, create_proxy_app
from emulator.proxy.twin import Twin
from emulator.settings import Settings
from emulator.web.ratelimit import RateLimiter
from emulator.web.serving import bound_port, serve


@dataclass(frozen=True)
class ProxyOptions:
    """The proxy command's own options (the listening address, rate limit and skew are the emulator's settings)."""

    upstream: str
    record: Path | None = None
    compare: bool = False
    report: Path = Path("drift-report.json")
    webhook_relay: str | None = None
    upstream_timeout: float = 60.0
    upstream_cafile: Path | None = None
    upstream_max_bytes: int = UPSTREAM_MAX_BYTES


class ProxyError(ConfigurationError, ValueError):
    """The proxy cannot start with these options; the message names the option."""


_USERINFO = re.compile(r"//[^/?#]*@")


def base_url(text: str, option: str, *, query: bool = False) -> URL:
    """An http(s) URL with a host and no fragment (nor query, unless ``query``); ProxyError naming ``option``
    otherwise."""
    shown = _USERINFO.sub("//", text)  # a password is never printed, not even in a refusal
    try:
        url = URL(text)
    except ValueError:
        raise ProxyError(f"{option} {shown!r} is not a URL") from None
    if url.raw_user or url.raw_password or "@" in (url.raw_authority or ""):
        raise ProxyError(f"{option} {shown!r} must not carry a user name or password: clients sign each request "
                         "with their own credential (and the URL would be printed)")
    text = shown
    wrong = http_url.problem(text)
    if wrong is not None:
        raise ProxyError(f"{option} {text!r} {wrong}")
    if url.fragment or (url.query_string and not query):
        raise ProxyError(f"{option} {text!r} must not have a {'fragment' if query else 'query or fragment'}")
    return url


def twin_settings(settings: Settings) -> Settings:
    """The local twin's settings: the user's (scenarios, seed, algorithms...), on loopback and a free port, without
    the emulator's explanations (Ingo's bare bodies, so they compare), rate limiting (the proxy holds it) or webhooks
    (the upstream sends the real ones)."""
    return settings.replace(host="127.0.0.1", port=0, quiet=True, diagnosis=False, rate_limit=0, webhook_url=(),
                            webhooks_config=None)


async def start_twin(settings: Settings) -> tuple[web.AppRunner, URL, Twin]:
    """Serve a local emulator for ``--compare``; its runner, URL and the twin that re-signs for it."""
    runtime = build_runtime(twin_settings(settings))
    runner = await serve(create_app(runtime=runtime), host="127.0.0.1", port=0,
                         header_timeout=settings.header_timeout, max_body_size=settings.max_body_size)
    return runner, URL(f"http://127.0.0.1:{bound_port(runner)}"), Twin(runtime.credentials)


def attach_twin(app: web.Application, twin: Twin, url: URL) -> None:
    """Let the local emulator at ``url`` answer each request too (``--compare``), before the proxy serves."""
    proxy = app[PROXY]
    proxy.twin, proxy.twin_url = twin, url


def build_proxy(settings: Settings, options: ProxyOptions) -> web.Application:
    """The proxy application; ProxyError (or another ConfigurationError) naming what cannot be used."""
    upstream = base_url(options.upstream, "--upstream")
    relay = base_url(options.webhook_relay, "--webhook-relay", query=True) if options.webhook_relay else None
    if not math.isfinite(options.upstream_timeout) or options.upstream_timeout <= 0:
        raise ProxyError(f"--upstream-timeout {options.upstream_timeout:g}: must be a number of seconds greater "
                         "than 0 (and finite)")
    if options.upstream_max_bytes < 1024:
        raise ProxyError(f"--upstream-max-bytes {options.upstream_max_bytes}: must be at least 1024 bytes")
    context = None
    if options.upstream_cafile is not None:
        try:
            context = client_context(options.upstream_cafile)
        except (OSError, ssl.SSLError) as exc:
            raise ProxyError(f"--upstream-cafile {options.upstream_cafile}: not a readable PEM CA file "
                             f"({getattr(exc, 'strerror', None) or exc})") from None
    recorder = Recorder(options.record) if options.record is not None else None
    report = Report(options.report, str(upstream)) if options.compare else None
    proxy = Proxy(upstream=upstream, policy=auth_policy(settings), limiter=RateLimiter(settings.rate_limit),
                  timeout=options.upstream_timeout, now=time.time, max_bytes=options.upstream_max_bytes,
                  ssl_context=context, recorder=recorder, report=report, relay_url=relay, diagnosis=settings.diagnosis)
    return create_proxy_app(proxy, max_body_size=settings.max_body_size)
