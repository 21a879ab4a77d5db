"""The proxy's HTTP side: forward each request to the upstream byte for byte and return its answer unchanged (with
the checks made without the secret logged, Ingo's 5 per second held, Kong's errors when the upstream fails), record
it, let the local twin answer it too; and relay the upstream's webhooks to a local receiver."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from emulator.auth.verify import AuthPolicy
from emulator.core.bounded_reads import header_limits, read_at_most, unreadable
from emulator.core.logs import ACCESS
from emulator.core.masking import scrub_card_numbers
from emulator.proxy import checks
from emulator.proxy.drift import Difference, Entry, Report, compare
from emulator.proxy.exchange import UPSTREAM_MAX_BYTES, Answered, Exchange, Headers, Sent, UpstreamFailure, forwardable
from emulator.proxy.recording import Recorder, exchange_document, masked_document, webhook_document
from emulator.proxy.twin import Twin
from emulator.web.ratelimit import RateLimiter
from emulator.web.replies import json_response

LOG = logging.getLogger("ingopay_emulator")
#: Where the relay receives the upstream's webhooks (register this proxy's public URL plus this path with Ingo).
WEBHOOK_PATH = "/_proxy/webhooks"
#: Headers aiohttp's client would add on its own: the proxy sends only what the client sent.
NO_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


@dataclass
class Proxy:
    """What the proxy needs while it runs."""

    upstream: URL
    policy: AuthPolicy
    limiter: RateLimiter
    timeout: float
    now: Callable[[], float]
    max_bytes: int = UPSTREAM_MAX_BYTES  # the longest answer body taken from the upstream (--upstream-max-bytes)
    ssl_context: ssl.SSLContext | None = None
    recorder: Recorder | None = None
    report: Report | None = None
    twin: Twin | None = None
    twin_url: URL | None = None
    relay_url: URL | None = None
    session: aiohttp.ClientSession | None = None
    in_flight: int = 0  # requests sent to the upstream and not yet answered
    diagnosis: bool = True  # its own 429 explains itself (--no-diagnosis: Kong's bare body)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_sequence(self) -> int:
        return self.recorder.next_sequence() if self.recorder is not None else next(self._counter)


PROXY = web.AppKey("proxy", Proxy)


def joined(base: URL, target: str) -> URL:
    """``target`` (a path with its query, as the client sent it) under ``base``, encoded as sent."""
    return URL(str(base).rstrip("/") + target, encoded=True)


def relay_target(relay_url: URL, query: str) -> URL:
    """Where a webhook goes: exactly the relay URL (its path and query), with the query the upstream posted to
    /_proxy/webhooks appended."""
    if not query:
        return relay_url
    return URL(f"{relay_url.with_query(None)}?{'&'.join(filter(None, (relay_url.raw_query_string, query)))}",
               encoded=True)


async def send(proxy: Proxy, url: URL, sent: Sent) -> Answered | UpstreamFailure:
    """Send ``sent`` to ``url`` (headers but the hop-by-hop ones, raw body); the answer as it came, or what kept it
    from coming. No more than ``proxy.max_bytes`` of a body is read: a longer answer is a failure, its connection
    closed."""
    assert proxy.session is not None
    base = url
    try:
        async with proxy.session.request(
                sent.method, url, data=sent.body or None, headers=list(forwardable(sent.headers)),
                skip_auto_headers=NO_AUTO_HEADERS, allow_redirects=False, ssl=proxy.ssl_context or True,
                timeout=aiohttp.ClientTimeout(total=proxy.timeout)) as answer:
            body, complete = await read_at_most(answer, proxy.max_bytes)
            if not complete:
                answer.close()  # the rest is never read: the connection goes, not back to the pool
                return UpstreamFailure("too_large", f"{base.host}:{base.port} answered with a body longer than "
                                                    f"{proxy.max_bytes} bytes (--upstream-max-bytes); not read further")
            headers: Headers = tuple(answer.headers.items())
            return Answered(answer.status, headers, body)
    except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
        return UpstreamFailure("tls", f"TLS failure with {base.host}: {exc}")
    except TimeoutError:
        return UpstreamFailure("timeout", f"{base.host}:{base.port} gave no answer within {proxy.timeout:g} s")
    except aiohttp.ClientConnectorError as exc:
        return UpstreamFailure("refused", f"cannot connect to {base.host}:{base.port}: {exc.strerror or exc}")
    except aiohttp.ClientResponseError as exc:
        return UpstreamFailure("invalid", f"{base.host}:{base.port} gave an answer the proxy cannot read: "
                                          f"{unreadable(exc)}")
    except aiohttp.ClientError as exc:
        return UpstreamFailure("invalid", f"{base.host}:{base.port} gave no valid HTTP answer: "
                                          f"{type(exc).__name__}")


def respond(answered: Answered) -> web.Response:
    """The upstream's answer as the client gets it: status, headers but the hop-by-hop ones, body unchanged."""
    return web.Response(status=answered.status, body=answered.body,
                        headers=CIMultiDict(forwardable(answered.headers)))


async def forward(request: web.Request) -> web.StreamResponse:
    """Any request: checked, held to the rate limit, forwarded, recorded, compared."""
    proxy = request.app[PROXY]
    started = time.perf_counter()
    sent = Sent(request.method, request.raw_path, tuple(request.headers.items()), await request.read())
    found = checks.problems(sent, proxy.policy, proxy.now())
    for problem in found:
        LOG.warning("proxy: %s %s: %s: %s (forwarded all the same: the upstream decides)", sent.method, sent.path,
                    problem.code, problem.detail)
    if proxy.limiter.enabled:
        admission = proxy.limiter.acquire(checks.username(sent) or f"address {request.remote}")
        if not admission.allowed:
            ACCESS.info("proxy: %s %s -> 429 from the proxy (over %s a second)", sent.method, sent.path,
                     proxy.limiter.limit)
            return json_response(admission.refusal(diagnosis=proxy.diagnosis), status=429,
                                 headers=admission.headers())
    exchange = Exchange(proxy.next_sequence(), sent, checks=[{"code": p.code, "detail": p.detail} for p in found])
    proxy.in_flight += 1
    try:
        outcome = await send(proxy, joined(proxy.upstream, sent.target), sent)
    finally:
        proxy.in_flight -= 1
    if isinstance(outcome, UpstreamFailure):
        exchange.failure = outcome
        LOG.warning("proxy: %s %s: %s; answering %s as Kong would", sent.method, sent.path, outcome.detail,
                    outcome.status)
        answered = outcome.answer()
    else:
        exchange.answered = answered = outcome
    document = answered.document()
    ingo_status = document.get("status") if isinstance(document, dict) else None
    ACCESS.info("proxy: %s %s -> upstream %s ingo=%s %.1fms", sent.method, sent.path, answered.status,
             ingo_status if isinstance(ingo_status, int) else "-", (time.perf_counter() - started) * 1000)
    await _keep(proxy, exchange, answered)
    return respond(answered)


def _problem(exc: Exception) -> str:
    """A failure in one line, without the request's content (a full disk, or a bug of the proxy's own)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return scrub_card_numbers(f"{type(exc).__name__}: {exc}".splitlines()[0][:200])


async def _keep(proxy: Proxy, exchange: Exchange, answered: Answered) -> None:
    """Record and compare an exchange the upstream has answered. Whatever fails here (a full disk, a header the
    recording cannot hold, a bug) is logged in one line and noted in the report, never the client's problem: the
    upstream has handled the request (a payment may have been made), so the client gets its answer unchanged."""
    sent = exchange.sent
    unrecorded = None
    if proxy.recorder is not None:
        try:
            proxy.recorder.write(exchange_document(exchange), f"{sent.method}-{sent.path}")
        except Exception as exc:  # noqa: BLE001 - the client's answer comes first
            unrecorded = _problem(exc)
            LOG.error("proxy: cannot record %s %s: %s (the client got the upstream's answer)", sent.method,
                      sent.path, unrecorded)
    if proxy.report is None:
        return
    try:
        entry = await _compared(proxy, exchange)
    except Exception as exc:  # noqa: BLE001
        problem = _problem(exc)
        LOG.error("proxy: cannot compare %s %s: %s (the client got the upstream's answer)", sent.method, sent.path,
                  problem)
        entry = Entry(exchange.sequence, sent.method, sent.path, answered.status, None,
                      note=f"not compared: {problem}")
    if unrecorded is not None:
        entry = replace(entry, note="; ".join(filter(None, (entry.note, f"not recorded: {unrecorded}"))))
    try:
        proxy.report.add(entry)
    except Exception as exc:  # noqa: BLE001
        LOG.error("proxy: cannot write the drift report entry of %s %s: %s", sent.method, sent.path, _problem(exc))


async def _compared(proxy: Proxy, exchange: Exchange) -> Entry:
    """The report's entry for one exchange: the twin's answer to the same request, compared with the upstream's."""
    sent = exchange.sent
    if exchange.failure is not None:
        failure = exchange.failure
        return Entry(exchange.sequence, sent.method, sent.path, failure.status, None,
                     (Difference("upstream_error", "", f"{failure.kind}: {failure.detail}", None),),
                     note=f"the upstream failed ({failure.kind}); the client got Kong's {failure.status}")
    upstream = exchange.answered
    assert upstream is not None and proxy.twin is not None and proxy.twin_url is not None
    local = await send(proxy, joined(proxy.twin_url, sent.target), proxy.twin.request(sent))
    if isinstance(local, UpstreamFailure):
        return Entry(exchange.sequence, sent.method, sent.path, upstream.status, None,
                     note=f"the local emulator did not answer: {local.detail}")
    up_document, local_document = upstream.document(), local.document()
    proxy.twin.learn(up_document, local_document)
    if upstream.status == 401 and local.status != 401:
        return Entry(exchange.sequence, sent.method, sent.path, upstream.status, local.status,
                     note="the upstream refused the signature; the proxy cannot check a signature without the "
                          "secret, so this answer is not compared")
    # compared masked: a value the report shows is never more than the recording keeps
    differences = compare(upstream.status, masked_document(up_document), local.status, masked_document(local_document),
                          upstream_is_json=up_document is not None or not upstream.body,
                          emulator_is_json=local_document is not None or not local.body)
    return Entry(exchange.sequence, sent.method, sent.path, upstream.status, local.status, tuple(differences))


async def relay(request: web.Request) -> web.StreamResponse:
    """A webhook from the upstream: recorded with its real signature header, forwarded to the local receiver, whose
    answer goes back to the upstream (502 when the receiver cannot be reached, so the upstream retries)."""
    proxy = request.app[PROXY]
    headers = tuple(request.headers.items())
    body = await request.read()
    relayed: Answered | None = None
    problem: str | None = None
    if proxy.relay_url is None:
        problem = "no --webhook-relay receiver is set"
        answer = json_response({"message": problem}, status=404)
    else:
        url = relay_target(proxy.relay_url, request.rel_url.raw_query_string)
        outcome = await send(proxy, url, Sent("POST", url.raw_path_qs, headers, body))
        if isinstance(outcome, UpstreamFailure):
            problem = outcome.detail
            LOG.warning("proxy: webhook relay: %s", problem)
            answer = json_response({"message": f"the local receiver did not take the webhook: {problem}"},
                                   status=502)
        else:
            relayed = outcome
            answer = respond(outcome)
    if proxy.recorder is not None:
        try:
            proxy.recorder.write(webhook_document(proxy.next_sequence(), request.path, headers, body, relayed,
                                                  problem), "webhook")
        except Exception as exc:  # noqa: BLE001 - the upstream still gets the receiver's answer
            LOG.error("proxy: cannot record a relayed webhook: %s", _problem(exc))
    ACCESS.info("proxy: webhook %s -> receiver %s", request.path, answer.status)
    return answer


def create_proxy_app(proxy: Proxy, *, max_body_size: int) -> web.Application:
    """The proxy's application: the webhook relay, then every other path and method forwarded."""
    app = web.Application(client_max_size=max_body_size)
    app[PROXY] = proxy
    app.router.add_post(WEBHOOK_PATH, relay)
    app.router.add_route("*", "/{tail:.*}", forward)
    app.cleanup_ctx.append(_client_session)
    app.cleanup_ctx.append(_report_writer)
    return app


#: Seconds between two writes of the drift report while entries come in (and once more at shutdown).
REPORT_INTERVAL = 1.0


async def _report_writer(app: web.Application) -> AsyncIterator[None]:
    """Write the drift report every :data:`REPORT_INTERVAL` seconds when it changed, off the event loop, and
    once more when the proxy stops (SIGINT, SIGTERM), so that it is complete then."""
    report = app[PROXY].report
    if report is None:
        yield
        return

    async def periodically() -> None:
        while True:
            await asyncio.sleep(REPORT_INTERVAL)
            if report.pending:
                try:
                    await asyncio.to_thread(report.flush)
                except OSError as exc:
                    LOG.error("proxy: cannot write the drift report %s: %s", report.path, exc.strerror or exc)

    task = asyncio.create_task(periodically())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    try:
        await asyncio.to_thread(report.flush)
    except OSError as exc:
        LOG.error("proxy: cannot write the drift report %s: %s", report.path, exc.strerror or exc)


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    proxy = app[PROXY]
    proxy.session = aiohttp.ClientSession(auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
                                          **header_limits())
    yield
    await proxy.session.close()
