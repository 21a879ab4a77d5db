"""Delivering events to endpoints: signed, retried on a schedule of the participant's clock, every attempt kept."""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import os
import ssl
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp

from emulator import __version__
from emulator.core.bounded_reads import header_limits, read_at_most, unreadable
from emulator.core.clock import Clock
from emulator.core.masking import mask_urls, masked_url
from emulator.core.outcomes import delivery_family
from emulator.core.scheduler import Scheduler
from emulator.core.stateful import Stateful
from emulator.store import Record, Store
from emulator.webhooks.endpoints import Endpoint, KeptEndpoint, checked_endpoints
from emulator.webhooks.events import Event
from emulator.webhooks.lanes import Lanes
from emulator.webhooks.signature import SIGNATURE_HEADER, signature_header

LOG = logging.getLogger("ingopay_emulator.webhooks")
KIND = "webhook_delivery"
#: Bytes of a receiver's answer read and kept (as text) with the attempt: reading stops there and the connection is
#: closed, whatever the receiver goes on sending.
RESPONSE_KEPT = 1024
#: Seconds attempts under way get to finish when the emulator stops; those cut short stay pending, and the next start
#: on the same --data-dir sends them again.
STOP_GRACE = 0.5
#: Probe deliveries (a readiness rehearsal's tests of a receiver, docs/readiness.md), marked ``probe`` with their kind:
#: one attempt each, never retried, never counted as an event. A duplicate repeats an acknowledged delivery as it
#: was; a forged one carries a new metadata.id and an X-Ingo-Signature made with a key that is not the endpoint's.
DUPLICATE = "duplicate"
FORGED_SIGNATURE = "forged_signature"


class Deliveries(Stateful[list[KeptEndpoint]]):
    """Every delivery of every event to every endpoint, with its attempts; persists through the store.

    Its state (stateful part ``webhook_endpoints``): the deliveries are records of the store; the endpoints are this
    emulator's own, which a reset keeps and a restore leaves as they are (the snapshot's list says which it lacks)."""

    section = "webhook_endpoints"

    def __init__(self, store: Store, clock: Clock, scheduler: Scheduler, endpoints: Iterable[Endpoint], *,
                 timeout: float, schedule: Iterable[float], concurrency: int, endpoint_concurrency: int,
                 ssl_context: ssl.SSLContext | None = None, signature_now: Callable[[], float] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.signature_now = signature_now or clock.now  # what X-Ingo-Signature's t is: the receiver's time
        self.scheduler = scheduler
        self.endpoints: dict[str, Endpoint] = {e.id: e for e in endpoints}
        self.timeout = timeout
        self.schedule = tuple(schedule)
        self.concurrency = concurrency
        self.ssl_context = ssl_context
        #: Attempts under way: ``concurrency`` at once, at most ``endpoint_concurrency`` of them to one endpoint.
        self.lanes = Lanes(concurrency, endpoint_concurrency)
        self._session: aiohttp.ClientSession | None = None
        self._running = False
        self._stopped = False
        #: Told of each delivery when it is made and after each of its attempts (waits, findings).
        self.listeners: list[Callable[[Record], Any]] = []

    def _changed(self, record: Record) -> None:
        for listener in self.listeners:
            listener(record)

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    # -- endpoints --------------------------------------------------------------------------------------

    def add_endpoint(self, endpoint: Endpoint) -> Endpoint:
        self.endpoints[endpoint.id] = endpoint
        return endpoint

    def remove_endpoint(self, endpoint_id: str) -> bool:
        return self.endpoints.pop(endpoint_id, None) is not None

    def reset(self, participant_id: int | None = None) -> None:
        """Endpoints outlive a reset (the deliveries are the store's)."""

    def export(self) -> list[dict[str, Any]]:
        return [endpoint.as_json() for endpoint in self.endpoints.values()]

    def check(self, section: Any) -> list[KeptEndpoint]:
        return checked_endpoints(section)

    def load(self, checked: list[KeptEndpoint]) -> None:
        """This emulator's endpoints stay: a restore reports those of the snapshot it lacks."""

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True
        self.resume()

    def _client(self) -> aiohttp.ClientSession:
        """The HTTP client, made for the first delivery (an emulator without receivers never needs one)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.concurrency, ssl=self.ssl_context if self.ssl_context else True)
            self._session = aiohttp.ClientSession(connector=connector, **header_limits(),
                                                  headers={"User-Agent": f"ingopay-emulator/{__version__}"})
        return self._session

    def resume(self) -> int:
        """Schedule every delivery a previous run left pending (durable stores keep them); one whose attempt was
        cut short (still ``delivering``) is due at once, whatever time the previous run's clock had reached."""
        count = 0
        for _, key, record in self.store.records(KIND):
            if record["status"] in ("pending", "delivering"):
                cut_short = record["status"] == "delivering"
                record["status"] = "pending"
                now = self.clock.now(record["participant_id"])
                due = now if cut_short else max(now, record.get("next_attempt_at") or 0)
                record["next_attempt_at"] = due
                self.store.put(KIND, record["participant_id"], key, record)
                self.scheduler.at(due, self._job(record["participant_id"], key, due), f"webhook {key} (resumed)",
                                  owner=record["participant_id"])
                count += 1
        if count:
            LOG.info("resuming %d webhook deliveries left pending by the previous run", count)
        return count

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let attempts under way finish (up to ``grace`` s) and cut the rest short, then report what is still
        pending. An attempt cut short is not counted: its delivery stays ``delivering`` in the store, which the
        next start (:meth:`resume`) sends again. Stopping twice does nothing more."""
        if self._stopped:
            return
        self._stopped = True
        try:
            async with asyncio.timeout(grace):
                await self.scheduler.settle()
        except TimeoutError:
            await self.scheduler.shutdown()
        self._running = False
        if self._session is not None:
            await self._session.close()
            self._session = None
        pending = [r for _, _, r in self.store.records(KIND) if r["status"] in ("pending", "delivering")]
        if pending:
            LOG.warning("%d webhook deliveries not completed at shutdown (kept for the next run when --data-dir is "
                        "set): %s", len(pending), ", ".join(r["id"] for r in pending[:20]))

    # -- creating deliveries ------------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """The outbox's listener: one delivery per endpoint that wants the event, first attempt now."""
        body = event.body  # the event's own text: kept once in memory, whatever the endpoints
        for endpoint in list(self.endpoints.values()):
            if endpoint.wants(event):
                record = self._new(event, endpoint, body)
                self.scheduler.at(record["next_attempt_at"],
                                  self._job(event.participant_id, record["id"], record["next_attempt_at"]),
                                  f"webhook {record['id']} attempt 1", owner=event.participant_id)

    def _new(self, event: Event, endpoint: Endpoint, body: str) -> Record:
        # Sortable by creation (a store sequence: the clock may be frozen or set back), unique across restarts.
        delivery_id = f"whd_{self.store.next_id(KIND):012d}_{uuid.uuid4().hex[:8]}"
        now = self.clock.now(event.participant_id)
        record = {"id": delivery_id, "event_id": event.id, "topic": event.topic, "participant_id": event.participant_id,
                  "endpoint_id": endpoint.id, "url": masked_url(endpoint.url), "body": body, "status": "pending",
                  "attempts": [], "created": now, "next_attempt_at": now}
        self.store.put(KIND, event.participant_id, delivery_id, record)
        self._changed(record)
        return record

    def probe(self, of: Record, kind: str, body: str, event_id: str) -> Record | None:
        """A probe delivery of ``body`` to the endpoint ``of`` went to, attempted once now (None when that endpoint is
        gone)."""
        if self.endpoints.get(of["endpoint_id"]) is None:
            return None
        delivery_id = f"whd_{self.store.next_id(KIND):012d}_{uuid.uuid4().hex[:8]}"
        participant_id = of["participant_id"]
        record = {"id": delivery_id, "event_id": event_id, "topic": of["topic"], "participant_id": participant_id,
                  "endpoint_id": of["endpoint_id"], "url": of["url"], "body": body, "status": "pending",
                  "attempts": [], "created": self.clock.now(), "next_attempt_at": self.clock.now(), "probe": kind,
                  "probe_of": of["id"]}
        self.store.put(KIND, participant_id, delivery_id, record)
        self._changed(record)
        self.scheduler.at(record["next_attempt_at"], self._job(participant_id, delivery_id, record["next_attempt_at"]),
                          f"webhook {delivery_id} ({kind} probe)", owner=participant_id)
        return record

    def _job(self, participant_id: int, delivery_id: str, due: float):  # type: ignore[no-untyped-def]
        return lambda: self.attempt(participant_id, delivery_id, scheduled_for=due)

    # -- attempts -----------------------------------------------------------------------------------------

    async def attempt(self, participant_id: int, delivery_id: str, *,
                      scheduled_for: float | None = None) -> Record | None:
        """One attempt: sign afresh, POST, record; schedule the next attempt or mark the delivery failed.

        A scheduled attempt only runs if it is still the one the delivery waits for (a manual
        redelivery in between has rescheduled it).
        """
        record = self.store.get(KIND, participant_id, delivery_id)
        if record is None:
            return None
        if scheduled_for is not None and (record["status"] != "pending"
                                          or record.get("next_attempt_at") != scheduled_for):
            return record
        endpoint = self.endpoints.get(record["endpoint_id"])
        record["status"] = "delivering"
        self.store.put(KIND, participant_id, delivery_id, record)
        async with self.lanes.slot(record["endpoint_id"]):  # cut short by stop(): it stays "delivering"
            attempt = await self._post(record, endpoint)
        record = self.store.get(KIND, participant_id, delivery_id) or record
        record["attempts"].append(attempt)
        if attempt["ok"]:
            record["status"], record["next_attempt_at"] = "succeeded", None
        elif record.get("probe"):
            record["status"], record["next_attempt_at"] = "failed", None  # a probe is never retried
        elif endpoint is None or len(record["attempts"]) >= self.max_attempts:
            record["status"], record["next_attempt_at"] = "failed", None
            LOG.warning("webhook %s to %s failed after %d attempts: %s", delivery_id, record["url"],
                        len(record["attempts"]), attempt["error"] or attempt["http_status"])
        else:
            wait = self.schedule[len(record["attempts"]) - 1]
            record["status"], record["next_attempt_at"] = "pending", self.clock.now(participant_id) + wait
            self.scheduler.at(record["next_attempt_at"],
                              self._job(participant_id, delivery_id, record["next_attempt_at"]),
                              f"webhook {delivery_id} attempt {len(record['attempts']) + 1}", owner=participant_id)
        self.store.put(KIND, participant_id, delivery_id, record)
        self._changed(record)
        return record

    async def _post(self, record: Record, endpoint: Endpoint | None) -> dict[str, Any]:
        number = len(record["attempts"]) + 1
        sent_at = self.clock.now(record.get("participant_id"))
        attempt: dict[str, Any] = {"attempt": number, "time": sent_at, "wall_time": time.time(),
                                   "http_status": None, "latency_ms": None,
                                   "error": None, "response_body": None, "ok": False}
        if endpoint is None:
            attempt["error"] = "the endpoint was removed"
            return attempt
        if not self._running:
            attempt["error"] = "the emulator is not running"
            return attempt
        body = record["body"].encode("utf-8")
        secret = os.urandom(32).hex() if record.get("probe") == FORGED_SIGNATURE else endpoint.secret
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: signature_header(secret, int(self.signature_now()), body),
                   "X-Ingo-Event-Id": record["event_id"], "X-Ingo-Topic": record["topic"],
                   "X-Ingo-Delivery-Attempt": str(number)}
        started = time.perf_counter()
        try:
            # A redirect is an answer other than 2xx (retried), never followed: aiohttp would turn a 302 into
            # a GET without the body, and count the 200 of whatever page it lands on as a delivery.
            async with self._client().post(endpoint.url, data=body, headers=headers, allow_redirects=False,
                                          timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                attempt["http_status"] = response.status
                kept, complete = await read_at_most(response, RESPONSE_KEPT)
                if not complete:
                    response.close()  # the rest is never read: the connection goes, not back to the pool
                attempt["response_body"] = as_text(kept, response.charset)
                attempt["ok"] = 200 <= response.status < 300
                if not attempt["ok"]:
                    attempt["error"] = f"HTTP {response.status}"
        except TimeoutError:
            attempt["error"] = f"no complete response within {self.timeout:g} s"
        except aiohttp.ClientResponseError as exc:
            attempt["error"] = f"the receiver's answer cannot be read: {unreadable(exc)}"
        except aiohttp.ClientConnectorCertificateError as exc:
            reason = getattr(exc.certificate_error, "verify_message", None) or exc.certificate_error
            attempt["error"] = (f"the receiver's TLS certificate is not trusted ({reason}); "
                                "trust its CA with --webhook-ca-bundle")
        except aiohttp.ClientConnectorError as exc:
            attempt["error"] = f"cannot connect: {_reason(exc.os_error) or exc}"
        except aiohttp.ServerDisconnectedError:
            attempt["error"] = "the receiver closed the connection without a response"
        except aiohttp.ClientError as exc:
            attempt["error"] = mask_urls(f"{type(exc).__name__}: {exc}")
        except OSError as exc:
            attempt["error"] = mask_urls(f"{type(exc).__name__}: {exc}")
        attempt["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return attempt

    async def redeliver(self, delivery_id: str) -> Record | None:
        """Send a delivery again now, whatever its status (a manual replay; the schedule is not reset)."""
        found = self.store.find(KIND, delivery_id)
        if found is None:
            return None
        participant_id, record = found
        if record["status"] in ("succeeded", "failed"):
            record["status"] = "pending"
            self.store.put(KIND, participant_id, delivery_id, record)
        return await self.attempt(participant_id, delivery_id)

    def get(self, delivery_id: str) -> Record | None:
        found = self.store.find(KIND, delivery_id)
        return found[1] if found else None

    def listing(self, *, topic: str | None = None, status: str | None = None, participant_id: int | None = None,
                event_id: str | None = None) -> list[Record]:
        found = [r for _, _, r in self.store.records(KIND, participant_id)
                 if (topic is None or r["topic"] == topic) and (status is None or r["status"] == status)
                 and (event_id is None or r["event_id"] == event_id)]
        found.sort(key=lambda r: r["id"], reverse=True)
        return found


def as_text(kept: bytes, charset: str | None) -> str:
    """The kept start of an answer as text, in the charset it declares (UTF-8 otherwise); a character cut in two
    by the limit is left out, undecodable bytes are replaced."""
    encoding = charset or "utf-8"
    try:
        b"".decode(encoding)  # a text encoding Python knows (not base64, not a name made up)
    except LookupError:
        encoding = "utf-8"
    return str(codecs.getincrementaldecoder(encoding)(errors="replace").decode(kept, final=False))


def in_progress(record: Record) -> bool:
    """Whether a delivery is still under way (pending or being attempted): never let go from a capped memory."""
    return record.get("status") in ("pending", "delivering")


def _reason(error: OSError | None) -> str | None:
    """Why a connection failed, e.g. 'Connection refused' (not asyncio's 'Connect call failed (host, port)')."""
    if error is None:
        return None
    if isinstance(error.errno, int) and error.errno > 0:  # a resolver error's errno is negative: keep its text
        return os.strerror(error.errno)
    return error.strerror or str(error)


def public(record: Record) -> dict[str, Any]:
    """A delivery as the admin API shows it (the payload parsed back into JSON; the URL masked, as it is kept)."""
    shown = {k: v for k, v in record.items() if k != "body"}
    if isinstance(shown.get("url"), str):
        shown["url"] = masked_url(shown["url"])  # a record an older version kept
    shown["outcome"] = delivery_family(str(record.get("status")))
    try:
        shown["payload"] = json.loads(record["body"])
    except (ValueError, KeyError):
        shown["payload"] = None
    return shown
