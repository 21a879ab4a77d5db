"""The application factory: wiring only. Settings in, a running emulator's parts out.

Each domain class gets the few typed values it needs; what a setting means to a feature (a known HMAC algorithm, an
RVDM field) is checked here, with a message that names the setting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.admin import urls as admin_urls
from emulator.auth.kong_signing import HASHES
from emulator.auth.verify import AuthPolicy
from emulator.core.clock import Clock, signature_clock
from emulator.core.credentials import Credential, load_credentials
from emulator.core.journal import Entry, Journal
from emulator.core.limits import DEFAULT_LIMITS, INGO_REQUESTS_PER_SECOND, Limits
from emulator.core.scheduler import Scheduler
from emulator.core.stateful import Stateful
from emulator.core.tls import client_context
from emulator.findings.models import Findings
from emulator.findings.watch import Watcher
from emulator.gateway import urls as gateway_urls
from emulator.gateway.models import Gateway
from emulator.openapi import urls as openapi_urls
from emulator.plugin import rvdm
from emulator.plugin import urls as plugin_urls
from emulator.plugin.models import Plugin
from emulator.readiness.plan import load_plan
from emulator.readiness.rehearsal import Rehearsals
from emulator.scenarios.catalog import Sources
from emulator.scenarios.engine import Engine
from emulator.sessions import urls as session_urls
from emulator.sessions.models import SessionService
from emulator.sessions.models import in_progress as session_in_progress
from emulator.settings import Settings, SettingsError, named
from emulator.snapshots.records import KINDS
from emulator.snapshots.restoring import restore_file
from emulator.store import Cap, MemoryStore, Record, Store
from emulator.store.state import StoreState
from emulator.tenants.models import MOST_TENANTS, Tenants
from emulator.waits import deliveries as delivery_matching
from emulator.waits import requests as request_matching
from emulator.waits.waiting import Waits
from emulator.web.hosts import HostPolicy
from emulator.web.middlewares import observe
from emulator.web.ratelimit import RateLimiter, RateWindows
from emulator.web.routes import DECLARED, ROUTE_SPECS, ROUTE_TABLE, Route, RouteSpec
from emulator.web.runtime import RUNTIME, Runtime, Services
from emulator.webhooks.delivery import KIND as DELIVERY
from emulator.webhooks.delivery import Deliveries
from emulator.webhooks.delivery import in_progress as delivery_in_progress
from emulator.webhooks.endpoints import from_settings as endpoints_from_settings
from emulator.webhooks.events import Outbox
from emulator.webhooks.followups import FollowUps

#: Every route the app serves, in the order the router matches them.
ROUTES: tuple[Route, ...] = (*gateway_urls.ROUTES, *session_urls.ROUTES, *plugin_urls.ROUTES, *admin_urls.ROUTES,
                             *openapi_urls.ROUTES)


def build_runtime(settings: Settings, *, clock: Clock | None = None, store: Store | None = None,
                  credentials: dict[str, Credential] | None = None,
                  wall: Callable[[], float] | None = None) -> Runtime:
    """Assemble the emulator's parts from settings (tests may pass their own clock, store, credentials or real
    time); a SettingsError (or another ConfigurationError) names what cannot be used."""
    clock = clock or Clock()
    policy = auth_policy(settings)
    rvdm_rules = plugin_rules(settings)
    if store is None:
        store = durable_store(settings.data_dir) if settings.data_dir is not None else memory_store(settings, clock)
    seed = seed_for_this_run(store, settings.seed)
    signature_now = signature_clock(settings.signature_clock, clock, wall or time.time)
    scheduler = Scheduler(clock)
    outbox = Outbox(clock, seed=seed, size=settings.events_kept)
    deliveries = Deliveries(store, clock, scheduler,
                            endpoints_from_settings(settings.webhook_url, settings.webhooks_config,
                                                    settings.webhook_secret),
                            timeout=settings.webhook_timeout, schedule=settings.webhook_retry_schedule,
                            concurrency=settings.webhook_concurrency,
                            endpoint_concurrency=settings.webhook_endpoint_concurrency,
                            ssl_context=client_context(settings.webhook_ca_bundle), signature_now=signature_now)
    journal = Journal(settings.journal_size)
    # a delivery's change comes after every request answered before it: those are journaled (and told to the
    # findings watch and the rehearsals) first; an event's observers are told in the drain, in its place
    outbox.listeners.append(deliveries.on_event)
    gateway = Gateway(store, clock, seed=seed, clock_skew=settings.clock_skew,
                      body_timestamp_check=settings.body_timestamp_check, process_delay=settings.process_delay,
                      emit=outbox.emit, signature_now=signature_now,
                      biller_limits="flag" if settings.biller_limits == "flag" else "omit")
    sessions = SessionService(store, clock, seed=seed)
    sources = scenario_sources(settings)
    credentials = credentials if credentials is not None else load_credentials(settings.credentials)
    clock.most_own = MOST_TENANTS + len(credentials)  # a clock of its own for every participant that can sign
    findings = Findings()
    watcher = Watcher(findings, clock, requests_per_second=settings.rate_limit or INGO_REQUESTS_PER_SECOND)
    request_waits: Waits[Entry] = Waits("requests", lambda entry: entry.id, request_matching.scopes)
    delivery_waits: Waits[Record] = Waits("webhooks", lambda record: record["id"], delivery_matching.scopes)
    journal.listeners += [watcher.on_entry, request_waits.notify]  # findings first: a wait shows them
    deliveries.listeners += [lambda record: journal.settle(), watcher.on_delivery, delivery_waits.notify]
    outbox.listeners.append(lambda event: journal.later(watcher.on_emitted, event))
    outbox.recallers.append(watcher.on_emitted)  # after a restore, the watch follows the restored events (OFAC)
    stored = StoreState(store, KINDS)
    plan_limits = sources.limits if settings.readiness_plan else DEFAULT_LIMITS  # the bundled plan is ours
    readiness = Rehearsals(load_plan(settings.readiness_plan, plan_limits), clock, deliveries)
    journal.listeners.append(readiness.on_entry)
    deliveries.listeners.append(readiness.on_delivery)
    outbox.listeners.append(lambda event: journal.later(readiness.on_emitted, event))
    findings.listeners.append(readiness.on_finding)
    services = Services(
        gateway=gateway, sessions=sessions,
        plugin=Plugin(sessions, gateway, store, clock, rules=rvdm_rules, max_attempts=settings.plugin_max_attempts,
                      emit=outbox.emit, signature_now=signature_now),
        engine=Engine(sources.load(), seed=seed, sources=sources),
        scheduler=scheduler, outbox=outbox, deliveries=deliveries,
        followups=FollowUps(store, clock, scheduler, outbox),
        findings=findings, watcher=watcher,
        tenants=Tenants(credentials, deliveries, webhook_secret=settings.webhook_secret,
                        holders=lambda: {*stored.restored, *journal.participants()}),
        request_waits=request_waits, delivery_waits=delivery_waits, readiness=readiness,
    )
    runtime = Runtime(
        settings=settings, clock=clock, store=store,
        credentials=credentials, rate_limiter=RateLimiter(settings.rate_limit), journal=journal,
        auth_policy=policy,
        host_policy=HostPolicy.from_settings(settings.host, settings.public_url, settings.allowed_hosts),
        services=services, signature_now=signature_now,
    )
    # Every part that holds state, once, in the order a restore loads them: the store first (the one load that can
    # fail); the findings watch before the events (it forgets, then the outbox tells it of the restored events); the
    # tenants after the store and the journal (they keep minted ids off the participants those hold).
    parts: list[Stateful[Any]] = [stored, clock, services.engine, journal, findings, watcher, outbox,
                                  scheduler, RateWindows(lambda: runtime.rate_limiter, credentials), services.tenants,
                                  deliveries]
    for part in parts:
        runtime.parts.add(part)
    changes = runtime.changes
    journal.listeners.append(lambda entry: changes.notify("requests"))
    outbox.listeners.append(lambda event: journal.later(changes.notify, "events"))
    deliveries.listeners.append(lambda record: changes.notify("webhooks"))
    if settings.restore is not None:
        # before the app starts: its start-up schedules what the archive left pending
        restore_file(settings.restore, runtime.parts, endpoints=deliveries.endpoints, seed=settings.seed,
                     flag=named("restore"), most=settings.snapshot_max_bytes, most_flag=named("snapshot_max_bytes"))
    return runtime


def memory_store(settings: Settings, clock: Clock) -> MemoryStore:
    """The store of an emulator without --data-dir, with a cap per participant on each kind of record that grows with
    traffic; beyond a cap the oldest go first, never one of a flow in progress (docs/contract.md, "What the emulator
    keeps in memory"). Follow-up events are not capped: each is due later, and leaves when it fires."""
    def token_kept(participant: int, account: Record) -> bool:
        """The account a token stands for goes with its token (verifying it again then issues a new one)."""
        return store.holds("token", participant, str(account.get("token")))

    store = MemoryStore(limits={
        "token": Cap(settings.memory_tokens, by_use=True),
        "token_fingerprint": Cap(settings.memory_tokens, keep=token_kept),
        "risk_session": settings.memory_tokens, "risk_assessment": settings.memory_tokens,
        "transaction": settings.memory_transactions,
        "session": Cap(settings.memory_sessions,
                       keep=lambda participant, session: session_in_progress(session, clock.now(participant))),
        "session_key": settings.memory_sessions,
        DELIVERY: Cap(settings.memory_deliveries, keep=lambda _, delivery: delivery_in_progress(delivery)),
    })
    return store


def scenario_sources(settings: Settings) -> Sources:
    """The scenario files the settings name (and the bundled ones unless turned off), under their YAML limits."""
    return Sources(settings.scenarios, settings.default_scenarios,
                   Limits(max_bytes=settings.scenario_max_bytes, max_nodes=settings.scenario_max_nodes,
                          max_aliases=settings.scenario_max_aliases, max_depth=settings.scenario_max_depth))


def auth_policy(settings: Settings) -> AuthPolicy:
    """The gateway's signature rules from the settings; a SettingsError for an algorithm Kong does not know."""
    unknown = set(settings.algorithms) - set(HASHES)
    if unknown:
        raise SettingsError(f"{named('algorithms')}: unknown HMAC algorithm(s) {', '.join(sorted(unknown))}; "
                            f"expected some of {', '.join(HASHES)}")
    return AuthPolicy(clock_skew=settings.clock_skew, algorithms=frozenset(settings.algorithms),
                      enforce_headers=settings.enforce_headers, enforce_body_headers=settings.enforce_body_headers,
                      date_format="rfc1123" if settings.x_date_format == "rfc1123" else "kong")


def plugin_rules(settings: Settings) -> dict[str, str]:
    """Each RVDM field's mode from --plugin-rvdm over the defaults; a SettingsError naming what is wrong."""
    try:
        return rvdm.parse_rules(settings.plugin_rvdm)
    except ValueError as exc:
        raise SettingsError(f"{named('plugin_rvdm')}={settings.plugin_rvdm!r} is not valid: {exc}") from None


def durable_store(data_dir: Path) -> Store:
    """The SQLite store in ``data_dir`` (imported here: only a durable emulator pays for sqlite3)."""
    from emulator.store.sqlite import SqliteStore

    return SqliteStore(data_dir)


def seed_for_this_run(store: Store, seed: int | None) -> int | None:
    """--seed as given on a fresh store; varied on each later start of a durable one, so ids drawn after a
    restart never repeat (and overwrite) ids the store already holds."""
    if seed is None:
        return None
    runs = (store.get("meta", 0, "runs") or {"count": 0})["count"] + 1
    store.put("meta", 0, "runs", {"count": runs})
    return seed if runs == 1 else seed * 1_000_003 + runs


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> web.Application:
    """An aiohttp application serving the emulated IngoPay API and the emulator's admin API."""
    runtime = runtime or build_runtime(settings or Settings())
    app = web.Application(middlewares=[observe],
                          client_max_size=runtime.settings.max_body_size)
    app[RUNTIME] = runtime
    specs: dict[web.AbstractResource, RouteSpec] = {}
    declared: dict[web.AbstractRoute, Route] = {}
    for route in ROUTES:
        added = app.router.add_route(route.method, route.path, route.handler)
        assert added.resource is not None  # a route added by path always has its resource
        specs[added.resource] = route.spec
        declared[added] = route
    app[ROUTE_SPECS] = specs
    app[ROUTE_TABLE] = ROUTES
    app[DECLARED] = declared
    app.cleanup_ctx.append(_run_scheduler)
    app.on_startup.append(_mark_ready)
    app.on_cleanup.append(_close_store)
    app.on_shutdown.append(_end_live_streams)
    app.on_shutdown.append(_stop_scheduled_work)
    return app


async def _end_live_streams(app: web.Application) -> None:
    """Open event streams end at once, so that stopping never waits on a browser tab."""
    app[RUNTIME].changes.close()


async def _stop_scheduled_work(app: web.Application) -> None:
    """Fire no more scheduled jobs and cut webhook attempts under way short (within a moment), before the requests
    under way get their own moment: stopping waits on no receiver, and a clock advance under way returns. What is
    cut short or not yet due stays in the store for the next start on the same --data-dir."""
    services = app[RUNTIME].services
    services.scheduler.close()
    await services.deliveries.stop()


async def _run_scheduler(app: web.Application) -> AsyncIterator[None]:
    """Fire scheduled jobs (follow-up events, webhook attempts) as the emulator clock reaches them;
    on shutdown (after :func:`_stop_scheduled_work`) report what is left."""
    services = app[RUNTIME].services
    await services.deliveries.start()
    services.followups.resume()
    task = asyncio.create_task(services.scheduler.run_forever())
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    await services.deliveries.stop()
    left = services.followups.pending()
    if left:
        logging.getLogger("ingopay_emulator").warning(
            "%d scheduled webhook events are not due yet (kept for the next run when --data-dir is set)", left)


async def _mark_ready(app: web.Application) -> None:
    app[RUNTIME].ready = True


async def _close_store(app: web.Application) -> None:
    app[RUNTIME].store.close()
