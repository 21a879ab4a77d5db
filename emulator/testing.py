"""Running the emulator inside a test process: a server thread, a webhook receiver, a signed client.

Used by the pytest plugin (:mod:`emulator.pytest_plugin`); usable from any test framework.
"""

from __future__ import annotations

import asyncio
import http.client
import http.server
import json
import secrets
import select
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from emulator.app import build_runtime, create_app
from emulator.auth.client import encode_body, sign
from emulator.core.credentials import Credential
from emulator.settings import Settings
from emulator.web.runtime import Runtime
from emulator.web.serving import bound_port, serve
from emulator.webhooks.signature import SIGNATURE_HEADER, verify_signature

T = TypeVar("T")


@dataclass
class Response:
    """What a signed call returned."""

    status: int
    headers: dict[str, str]
    body: Any

    def __getitem__(self, key: str) -> Any:
        return self.body[key]


@dataclass
class ReceivedWebhook:
    """One delivery the built-in receiver got: the parsed envelope, raw body, headers, signature check."""

    envelope: dict[str, Any]
    body: bytes
    headers: dict[str, str]
    signature_valid: bool

    @property
    def topic(self) -> str:
        return str(self.envelope["metadata"]["topic"])

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = self.envelope["data"]["event"]
        return event


class SignedClient:
    """A small synchronous client that signs every request the way Ingo documents, over one keep-alive connection
    (opened again when the emulator has closed it while idle; closed by :meth:`close` or when the client goes)."""

    def __init__(self, base_url: str, credential: Credential, clock_now: Any = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.credential = credential
        self._now = clock_now
        self._target = urllib.parse.urlsplit(self.base_url)
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def post(self, path: str, body: Any, *, headers: dict[str, str] | None = None) -> Response:
        raw = encode_body(body)
        signed = sign("POST", path, raw, username=self.credential.username, secret=self.credential.secret,
                      now=self._now() if self._now else None)
        signed.update(headers or {})
        with self._lock:
            connection = self._open()
            try:
                connection.request("POST", self._target.path + path, body=raw, headers=signed)
                answer = connection.getresponse()
                status, head, text = answer.status, dict(answer.headers), answer.read()
            except BaseException:
                self.close()  # half an exchange: the connection cannot carry another request
                raise
            if answer.will_close:
                self.close()
        try:
            document: Any = json.loads(text)
        except ValueError:
            document = text.decode("utf-8", "replace")
        return Response(status, head, document)

    def _open(self) -> http.client.HTTPConnection:
        """The connection to send on: the one kept, unless the emulator closed it while it was idle."""
        connection = self._connection
        if connection is not None and (connection.sock is None
                                       or select.select([connection.sock], [], [], 0)[0]):
            self.close()  # readable while idle: the emulator closed it (its keep-alive timeout)
            connection = None
        if connection is None:
            host, port = self._target.hostname or "127.0.0.1", self._target.port
            connection = http.client.HTTPSConnection(host, port, timeout=30) if self._target.scheme == "https" \
                else http.client.HTTPConnection(host, port, timeout=30)
            self._connection = connection
        return connection

    def close(self) -> None:
        """Close the kept connection (the next request opens another)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def __del__(self) -> None:
        if getattr(self, "_connection", None) is not None:
            self.close()

    def base(self, **fields: Any) -> dict[str, Any]:
        """participant_id, timestamp and version (11) for a v11 body, plus ``fields``."""
        now = int(self._now()) if self._now else int(time.time())
        return {"participant_id": self.credential.participant_id, "timestamp": now, "version": 11, **fields}


class WaitNotMet(AssertionError):
    """A wait the emulator could not meet in time: its message, and the near misses one per line."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        lines = [str(answer.get("message", "the wait was not met"))]
        for miss in answer.get("near_misses", []):
            item = miss.get("request") or miss.get("delivery") or {}
            what = item.get("path") or item.get("topic") or item.get("id")
            differences = "; ".join(f"{d['key']}: expected {d['expected']!r}, got {d['actual']!r}"
                                    for d in miss.get("differences", []))
            lines.append(f"  near miss {item.get('id')} ({what}): {differences}")
        super().__init__("\n".join(lines))


class AdminClient:
    """The emulator's admin API (/_emulator) over HTTP: the same calls work on an emulator in this process, in a
    container or shared by parallel test workers."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
             timeout: float = 330) -> tuple[int, Any]:
        """One admin call: (HTTP status, parsed JSON answer)."""
        data = body.encode() if isinstance(body, str) else None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, text = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text.decode("utf-8", "replace")

    def _expect(self, status: int, answer: Any, *wanted: int) -> Any:
        if status not in wanted:
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise AssertionError(f"the emulator answered {status}: {message}")
        return answer

    def wait_for_request(self, match: dict[str, Any] | None = None, *, count: int | dict[str, int] | None = None,
                         timeout: float = 10.0, since: int = 0) -> list[dict[str, Any]]:
        """The journal entries that match, as soon as there are ``count`` (N: exactly N; by default at least one);
        WaitNotMet with near misses if not."""
        body = {"match": match or {}, "timeout": timeout, "since": since, **({} if count is None else {"count": count})}
        status, answer = self.call("POST", "/_emulator/requests/wait", body, timeout=timeout + 30)
        if status == 409:
            raise WaitNotMet(answer)
        return list(self._expect(status, answer, 200)["requests"])

    def wait_for_webhook(self, match: dict[str, Any] | None = None, *, count: int | dict[str, int] | None = None,
                         timeout: float = 10.0) -> list[dict[str, Any]]:
        """The webhook deliveries that match, as soon as there are ``count`` (N: exactly N; by default at least
        one); WaitNotMet with near misses if not."""
        body = {"match": match or {}, "timeout": timeout, **({} if count is None else {"count": count})}
        status, answer = self.call("POST", "/_emulator/webhooks/wait", body, timeout=timeout + 30)
        if status == 409:
            raise WaitNotMet(answer)
        return list(self._expect(status, answer, 200)["deliveries"])

    def findings(self, participant_id: int | None = None) -> list[dict[str, Any]]:
        """Money-safety findings, newest first (of one participant when given)."""
        query = "" if participant_id is None else f"?participant_id={participant_id}"
        return list(self._expect(*self.call("GET", "/_emulator/findings" + query), 200)["findings"])

    def provenance(self, participant_id: int | None = None) -> list[dict[str, Any]]:
        """The emulator's choices (and Kong's behaviours) the traffic rested on, most relied on first, each with its
        source (id, reason, setting), count and example request and delivery ids (GET /_emulator/provenance)."""
        query = "" if participant_id is None else f"?participant_id={participant_id}"
        return list(self._expect(*self.call("GET", "/_emulator/provenance" + query), 200)["relied_on"])

    def mint_tenant(self, **fields: Any) -> dict[str, Any]:
        """A new tenant: username, secret, participant_id (see POST /_emulator/credentials)."""
        return dict(self._expect(*self.call("POST", "/_emulator/credentials", fields), 201))

    def remove_tenant(self, username: str) -> None:
        self._expect(*self.call("DELETE", f"/_emulator/credentials/{urllib.parse.quote(username, safe='')}"), 200, 404)

    def upload_scenarios(self, document: str, *, name: str = "test") -> list[str]:
        """Add the scenarios of a YAML document; their names."""
        status, answer = self.call("POST", f"/_emulator/scenarios?name={urllib.parse.quote(name)}", document,
                                   content_type="application/yaml")
        return list(self._expect(status, answer, 201)["added"])

    def delete_scenario(self, scenario: str) -> None:
        """Delete a scenario added at run time (one already gone is fine)."""
        self._expect(*self.call("DELETE", f"/_emulator/scenarios/{urllib.parse.quote(scenario, safe='')}"), 200, 404)

    def activate(self, scenario: str, participant_id: int | None = None) -> None:
        body = {} if participant_id is None else {"participant_id": participant_id}
        self._expect(*self.call("POST", f"/_emulator/scenarios/{urllib.parse.quote(scenario)}/activate", body), 200)

    def deactivate(self, scenario: str, participant_id: int | None = None) -> None:
        body = {} if participant_id is None else {"participant_id": participant_id}
        self._expect(*self.call("POST", f"/_emulator/scenarios/{urllib.parse.quote(scenario)}/deactivate", body),
                     200, 404)

    def advance(self, seconds: float, participant_id: int | None = None) -> int:
        """Move the emulator clock (or ``participant_id``'s own clock) forward, firing what falls due on it; how many
        jobs fired."""
        body: dict[str, Any] = {"advance": seconds, **({} if participant_id is None else
                                                      {"participant_id": participant_id})}
        return int(self._expect(*self.call("POST", "/_emulator/clock", body), 200)["fired"])

    def clock(self, participant_id: int | None = None) -> dict[str, Any]:
        """The emulator clock (or the clock ``participant_id``'s business time is read from) and its pending jobs."""
        query = "" if participant_id is None else f"?participant_id={participant_id}"
        return dict(self._expect(*self.call("GET", "/_emulator/clock" + query), 200))

    def reset(self, participant_id: int | None = None) -> None:
        body = {} if participant_id is None else {"participant_id": participant_id}
        self._expect(*self.call("POST", "/_emulator/reset", body), 200)

    def start_readiness(self, participant_id: int) -> dict[str, Any]:
        """Start (again) the readiness rehearsal of a participant (docs/readiness.md); its first report."""
        return dict(self._expect(*self.call("POST", "/_emulator/readiness", {"participant_id": participant_id}), 201))

    def readiness(self, participant_id: int) -> dict[str, Any]:
        """The participant's readiness report (JSON), judged now."""
        return dict(self._expect(*self.call("GET", f"/_emulator/readiness?participant_id={participant_id}"), 200))

    def readiness_report(self, participant_id: int, format: str = "md") -> str:  # noqa: A002 (the API's name)
        """The evidence pack as text: md, html or json."""
        status, answer = self.call("GET", f"/_emulator/readiness/report?participant_id={participant_id}"
                                          f"&format={urllib.parse.quote(format)}")
        self._expect(status, answer, 200)
        return answer if isinstance(answer, str) else json.dumps(answer, indent=2)


@dataclass
class Tenant:
    """A credential with a participant of its own on a (perhaps shared) emulator: its client signs with the real
    clock, its waits and findings see only its participant, and ``advance`` moves its own business clock."""

    url: str
    username: str
    secret: str
    participant_id: int
    admin: AdminClient
    webhook_endpoint: str | None = None

    @property
    def credential(self) -> Credential:
        return Credential(self.username, self.secret, self.participant_id)

    def client(self) -> SignedClient:
        return SignedClient(self.url, self.credential)

    def wait_for_request(self, match: dict[str, Any] | None = None, **options: Any) -> list[dict[str, Any]]:
        return self.admin.wait_for_request({**(match or {}), "participant_id": self.participant_id}, **options)

    def wait_for_webhook(self, match: dict[str, Any] | None = None, **options: Any) -> list[dict[str, Any]]:
        return self.admin.wait_for_webhook({**(match or {}), "participant_id": self.participant_id}, **options)

    def findings(self) -> list[dict[str, Any]]:
        return self.admin.findings(self.participant_id)

    def provenance(self) -> list[dict[str, Any]]:
        """The emulator's choices this tenant's traffic rested on (see :meth:`AdminClient.provenance`)."""
        return self.admin.provenance(self.participant_id)

    def advance(self, seconds: float) -> int:
        """Move this tenant's own clock forward (made from the emulator clock the first time), firing its jobs that
        fall due; other tenants' time does not move. How many jobs fired."""
        return self.admin.advance(seconds, self.participant_id)

    def clock(self) -> dict[str, Any]:
        """This tenant's clock and its pending jobs (``GET /_emulator/clock?participant_id=N``)."""
        return self.admin.clock(self.participant_id)

    @classmethod
    def mint(cls, admin: AdminClient, **fields: Any) -> Tenant:
        minted = admin.mint_tenant(**fields)
        return cls(admin.url, minted["username"], minted["secret"], minted["participant_id"], admin,
                   minted.get("webhook_endpoint"))

    def remove(self) -> None:
        self.admin.remove_tenant(self.username)


class AdminCalls:
    """What a test asks of any emulator, through its admin API: waits, findings, tenants, the clock."""

    #: The tenant the running test uses (the pytest plugin's ``ingopay_tenant`` sets it): ``advance`` moves its
    #: clock, not everyone's.
    tenant_in_use: Tenant | None = None

    @property
    def admin(self) -> AdminClient:
        raise NotImplementedError

    def wait_for_request(self, match: dict[str, Any] | None = None, **options: Any) -> list[dict[str, Any]]:
        """Journal entries that match, as soon as there are enough (see :meth:`AdminClient.wait_for_request`)."""
        return self.admin.wait_for_request(match, **options)

    def wait_for_webhook(self, match: dict[str, Any] | None = None, **options: Any) -> list[dict[str, Any]]:
        """Webhook deliveries that match, as soon as there are enough (see :meth:`AdminClient.wait_for_webhook`)."""
        return self.admin.wait_for_webhook(match, **options)

    def findings(self, participant_id: int | None = None) -> list[dict[str, Any]]:
        return self.admin.findings(participant_id)

    def provenance(self, participant_id: int | None = None) -> list[dict[str, Any]]:
        """The emulator's choices the traffic rested on (see :meth:`AdminClient.provenance`)."""
        return self.admin.provenance(participant_id)

    def tenant(self, **fields: Any) -> Tenant:
        """Mint a tenant: a credential with a participant of its own."""
        return Tenant.mint(self.admin, **fields)

    def _clock_owner(self, participant_id: int | None) -> int | None:
        """Whose clock an advance moves: the participant given, else the tenant in use, else (None) everyone's."""
        if participant_id is None and self.tenant_in_use is not None:
            return self.tenant_in_use.participant_id
        return participant_id


class WebhookReceiver:
    """A receiver on 127.0.0.1 and a free port that acknowledges every webhook at once (200) and keeps the bodies:
    what a tenant of a shared emulator gets its events at. Once it knows ``secrets`` (the webhook secrets of the
    tenants it serves), it verifies X-Ingo-Signature as Ingo asks and refuses (401) a delivery none of them signed."""

    def __init__(self, host: str = "127.0.0.1", *, name: str | None = None) -> None:
        """Listen on ``host`` (all addresses with 0.0.0.0); ``name`` is how the emulator reaches it (a container
        reaches the machine it runs on as host.docker.internal, say), ``host`` by default."""
        self.received: list[bytes] = []
        self.secrets: set[str] = set()
        received, secrets = self.received, self.secrets

        class Acknowledge(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                signature = self.headers.get(SIGNATURE_HEADER, "")
                if secrets and not any(verify_signature(body, signature, secret, tolerance=0)
                                       for secret in list(secrets)):
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                received.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
                pass

        self._server = http.server.ThreadingHTTPServer((host, 0), Acknowledge)
        self._thread = threading.Thread(target=self._server.serve_forever, name="ingopay-receiver", daemon=True)
        self._thread.start()
        self.url = f"http://{name or host}:{self._server.server_address[1]}/webhooks"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class RemoteEmulator(AdminCalls):
    """An emulator this process did not start (a container, one shared by parallel workers): reached over HTTP.
    Its tenants get their webhooks at a receiver of this process, made for the first one."""

    url: str
    admin_token: str | None = None
    #: How the emulator reaches this process's receiver: None for 127.0.0.1 (an emulator on this machine); a name
    #: such as host.docker.internal makes the receiver listen on every address.
    receiver_host: str | None = None
    receiver: WebhookReceiver | None = None

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.url, self.admin_token)

    def tenant(self, **fields: Any) -> Tenant:
        """Mint a tenant whose webhooks reach this process's receiver (unless ``webhook_url`` says otherwise)."""
        if "webhook_url" not in fields:
            if self.receiver is None:
                self.receiver = (WebhookReceiver() if self.receiver_host is None
                                 else WebhookReceiver("0.0.0.0", name=self.receiver_host))
            fields["webhook_url"] = self.receiver.url
            # a secret of this process's choosing, so that the receiver can verify what the tenant is sent
            fields.setdefault("webhook_secret", secrets.token_urlsafe(24))
            self.receiver.secrets.add(fields["webhook_secret"])
        return Tenant.mint(self.admin, **fields)

    def stop(self) -> None:
        """Stop the receiver (the emulator itself is not this process's to stop)."""
        if self.receiver is not None:
            self.receiver.stop()
            self.receiver = None

    def advance(self, seconds: float, participant_id: int | None = None) -> int:
        """Move a clock forward, firing what falls due on it: ``participant_id``'s own, else that of the tenant the
        test uses (:attr:`tenant_in_use`), else the emulator clock. How many jobs fired."""
        return self.admin.advance(seconds, self._clock_owner(participant_id))

    def wait_until_ready(self, timeout: float = 30.0) -> RemoteEmulator:
        """Return once /_emulator/health answers 200; an AssertionError naming the URL if it does not in time."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url.rstrip("/") + "/_emulator/health", timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"no emulator answered at {self.url} within {timeout:g} s")
            time.sleep(0.1)


@dataclass
class EmulatorServer(AdminCalls):
    """An emulator serving on 127.0.0.1 and a free port from a background thread, plus a webhook receiver.

    Give ``runtime`` to serve parts built beforehand (a pinned clock, own credentials); its settings are then the
    runtime's, and the receiver is not among its webhook endpoints.
    """

    settings: Settings = field(default_factory=Settings)
    runtime: Runtime | None = None
    url: str = ""
    receiver_url: str = ""
    received: list[ReceivedWebhook] = field(default_factory=list)
    receiver_status: int = 200

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ingopay-emulator", daemon=True)
        self._runners: list[web.AppRunner] = []
        self._lock = threading.Lock()

    def start(self) -> EmulatorServer:
        self._thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        receiver = web.Application()
        receiver.router.add_post("/webhooks", self._receive)
        self.receiver_url = await self._serve(receiver) + "/webhooks"
        if self.runtime is None:
            self.settings = self.settings.replace(host="127.0.0.1", port=0, quiet=True,
                                                  webhook_url=(*self.settings.webhook_url, self.receiver_url))
            self.runtime = build_runtime(self.settings)
        else:
            self.settings = self.runtime.settings
        self.url = await self._serve(create_app(runtime=self.runtime))

    async def _serve(self, app: web.Application) -> str:
        runner = await serve(app, host="127.0.0.1", port=0, header_timeout=self.settings.header_timeout,
                             max_body_size=self.settings.max_body_size, shutdown_timeout=2.0)
        self._runners.append(runner)
        return f"http://127.0.0.1:{bound_port(runner)}"

    @property
    def port(self) -> int:
        """The emulator's port."""
        return int(self.url.rsplit(":", 1)[1])

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        valid = verify_signature(body, request.headers.get(SIGNATURE_HEADER, ""), self.settings.webhook_secret,
                                 tolerance=0)
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = {}
        with self._lock:
            self.received.append(ReceivedWebhook(envelope, body, dict(request.headers), valid))
        # a receiver that verifies X-Ingo-Signature, as Ingo asks: a forged delivery (a readiness probe) is refused
        return web.Response(status=self.receiver_status if valid else 401, text="ok" if valid else "bad signature")

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=120)

    # -- what tests use -----------------------------------------------------------------------------------

    @property
    def credential(self) -> Credential:
        assert self.runtime is not None
        return next(iter(self.runtime.credentials.values()))

    def client(self, username: str | None = None) -> SignedClient:
        assert self.runtime is not None
        credential = self.runtime.credentials[username] if username else self.credential
        return SignedClient(self.url, credential, self.runtime.signature_now)

    def now(self, participant_id: int | None = None) -> float:
        """The emulator clock's time (or ``participant_id``'s business time)."""
        assert self.runtime is not None
        return self.runtime.clock.now(participant_id)

    @property
    def admin(self) -> AdminClient:
        """The admin API of this emulator, over HTTP."""
        return AdminClient(self.url, self.settings.admin_token)

    def advance(self, seconds: float, participant_id: int | None = None) -> int:
        """Move a clock forward, firing (and delivering) everything that falls due on it: ``participant_id``'s own,
        else that of the tenant the test uses (:attr:`tenant_in_use`), else the emulator clock."""
        assert self.runtime is not None
        return self.call(self.runtime.services.scheduler.advance(seconds, self._clock_owner(participant_id)))

    def freeze(self) -> None:
        assert self.runtime is not None
        self.runtime.clock.freeze()

    def settle(self) -> None:
        """Wait until deliveries under way have finished."""
        assert self.runtime is not None
        self.call(self.runtime.services.scheduler.run_due())

    def webhooks(self, topic: str | None = None) -> list[ReceivedWebhook]:
        """Webhooks the built-in receiver got so far (after letting deliveries under way finish)."""
        self.settle()
        with self._lock:
            return [w for w in self.received if topic is None or w.topic == topic]

    def reset(self) -> None:
        """Forget all state, requests, events, deliveries and received webhooks; clock back to real time."""
        runtime = self.runtime
        assert runtime is not None

        async def _reset() -> None:
            await runtime.services.scheduler.settle()
            runtime.reset()

        self.call(_reset())
        with self._lock:
            self.received.clear()
        self.receiver_status = 200

    def stop(self) -> None:
        """Stop serving, end connections still open (a test may hold some on purpose), stop the thread."""
        async def _stop() -> None:
            for runner in reversed(self._runners):
                await runner.cleanup()
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        if self._thread.is_alive():
            try:
                self.call(_stop())
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=10)
                if not self._thread.is_alive():
                    self._loop.close()
