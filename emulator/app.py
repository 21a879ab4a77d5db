"""The application factory: wiring only."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator, Callable

from aiohttp import web

from emulator.openapi import urls as openapi_route
from emulator.admin import urls as admin_urls
from emulator.auth import AuthPolicy
from emulator.core.clock import Clock
from emulator.core.credentials import Credential, load_credentials
from emulator.gateway import urls as gateway_urls
from emulator.gateway.models import Gateway
from emulator.web.hosts import HostPolicy
from emulator.core.journal import Journal
from emulator.web.middlewares import admin_guard, observe, signed_api
from emulator.plugin import urls as plugin_urls
from emulator.web.ratelimit import RateLimiter
from emulator.web.state import ROUTES, RUNTIME, RouteSpec, Runtime
from emulator.scenarios.catalog import load_configured
from emulator.scenarios.engine import Engine
from emulator.scenarios.followups import FollowUps
from emulator.core.scheduler import Scheduler
from emulator.sessions import urls as session_urls
from emulator.sessions.models import SessionService
from emulator.settings import Settings
from emulator.store import MemoryStore, Store
from emulator.store.sqlite import SqliteStore
from emulator.core.tls import client_context
from emulator.webhooks.delivery import Deliveries
from emulator.webhooks.endpoints import from_settings as endpoints_from_settings
from emulator.webhooks.events import Outbox


def build_runtime(settings: Settings, *, clock: Clock | None = None, store: Store | None = None,
                  credentials: dict[str, Credential] | None = None,
                  wall: Callable[[], float] | None = None) -> Runtime:
    """Assemble the emulator's parts from settings (tests may pass their own clock, store, credentials or real
    time)."""
    clock = clock or Clock()
    if store is None:
        store = (SqliteStore(settings.data_dir) if settings.data_dir is not None
                 else MemoryStore(limits={"transaction": settings.memory_transactions}))
    settings_for_services = settings.replace(seed=seed_for_this_run(store, settings.seed))
    policy = AuthPolicy(clock_skew=settings.clock_skew, algorithms=frozenset(settings.algorithms),
                        enforce_headers=settings.enforce_headers,
                        enforce_body_headers=settings.enforce_body_headers)
    runtime = Runtime(
        settings=settings, clock=clock, store=store,
        credentials=credentials if credentials is not None else load_credentials(settings.credentials),
        rate_limiter=RateLimiter(settings.rate_limit), journal=Journal(settings.journal_size),
        auth_policy=policy,
        host_policy=HostPolicy.from_settings(settings.host, settings.public_url, settings.allowed_hosts),
        wall=wall or time.time,
    )
    scheduler = Scheduler(clock)
    outbox = Outbox(clock, seed=settings_for_services.seed)
    webhooks = Deliveries(store, clock, scheduler,
                          endpoints_from_settings(settings.webhook_url, settings.webhooks_config,
                                                  settings.webhook_secret),
                          timeout=settings.webhook_timeout, schedule=settings.webhook_retry_schedule,
                          concurrency=settings.webhook_concurrency,
                          ssl_context=client_context(settings.webhook_ca_bundle),
                          signature_now=runtime.signature_now)
    outbox.listeners.append(webhooks.on_event)
    runtime.services.update(
        gateway=Gateway(store, clock, settings_for_services, emit=outbox.emit,
                        signature_now=runtime.signature_now),
        sessions=SessionService(store, clock, settings_for_services),
        scenarios=Engine(load_configured(settings), seed=settings_for_services.seed),
        scheduler=scheduler, outbox=outbox, webhooks=webhooks,
        followups=FollowUps(store, clock, scheduler, outbox),
    )
    return runtime


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
    app = web.Application(
        middlewares=[observe, admin_guard, signed_api],
        client_max_size=runtime.settings.max_body_size,
    )
    app[RUNTIME] = runtime
    specs: dict[web.AbstractResource, RouteSpec] = {}
    for method, path, handler, spec in [*gateway_urls.ROUTES, *session_urls.ROUTES, *plugin_urls.ROUTES]:
        specs[app.router.add_route(method, path, handler).resource] = spec
    admin = RouteSpec(signed=False, journaled=False)
    for method, path, handler in [*admin_urls.ROUTES, *openapi_route.ROUTES]:
        specs[app.router.add_route(method, path, handler).resource] = admin
    app[ROUTES] = specs
    app.cleanup_ctx.append(_run_scheduler)
    app.on_startup.append(_mark_ready)
    app.on_cleanup.append(_close_store)
    return app


async def _run_scheduler(app: web.Application) -> AsyncIterator[None]:
    """Fire scheduled jobs (follow-up events, webhook attempts) as the emulator clock reaches them;
    on shutdown let attempts under way finish briefly and report what is left."""
    services = app[RUNTIME].services
    await services["webhooks"].start()
    services["followups"].resume()
    task = asyncio.create_task(services["scheduler"].run_forever())
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    await services["webhooks"].stop()
    left = services["followups"].pending()
    if left:
        logging.getLogger("ingopay_emulator").warning(
            "%d scheduled webhook events are not due yet (kept for the next run when --data-dir is set)", left)


async def _mark_ready(app: web.Application) -> None:
    app[RUNTIME].ready = True


async def _close_store(app: web.Application) -> None:
    app[RUNTIME].store.close()
