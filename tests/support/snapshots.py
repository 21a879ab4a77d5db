"""The emulator as the snapshot tests reach it: over HTTP as a user's client does (signed API calls with real time,
admin calls, the archive), served on 127.0.0.1 and a free port; and the environment of the processes they start."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from emulator.app import create_app
from emulator.client import encode_body, sign
from emulator.core.clock import Clock
from emulator.core.credentials import DEFAULT_SECRET
from tests.support.app import runtime_for
from tests.support.bodies import SESSION
from tests.support.iframe import SESSION_PATH

#: Variables of this test process must not leak into the emulators it starts.
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("INGOPAY_EMULATOR_")}
#: A rate no test reaches: the findings watch flags a client over it, which a quick test could otherwise be.
FAST = 1000


@dataclass(frozen=True)
class Emulator:
    """An emulator reached over HTTP as a user's client reaches it: signed API calls, admin calls."""

    session: aiohttp.ClientSession
    url: str
    username: str = "test"
    secret: str = DEFAULT_SECRET
    participant_id: int = 12345
    admin_token: str | None = None

    def acting_as(self, tenant: dict[str, Any]) -> Emulator:
        return replace(self, username=tenant["username"], secret=tenant["secret"],
                       participant_id=tenant["participant_id"])

    async def call(self, path: str, **fields: Any) -> dict[str, Any]:
        """A signed v11 request, dated and signed with real time as a client's own clock is."""
        body = {"participant_id": self.participant_id, "timestamp": int(time.time()), "version": 11, **fields}
        return await self.signed(path, body)

    async def signed(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        raw = encode_body(body)
        signed = {**sign("POST", path, raw, username=self.username, secret=self.secret), **(headers or {})}
        async with self.session.post(self.url + path, data=raw, headers=signed) as response:
            document = await response.json()
            assert response.status == 200, document
            return document

    async def session_for(self, key: str) -> dict[str, Any]:
        """An iFrame session (re-issued, with a new URL, when the Idempotency-Key was used before)."""
        return await self.signed(SESSION_PATH, SESSION, {"Idempotency-Key": key})

    async def page(self, authorized_url: str) -> int:
        async with self.session.get(authorized_url) as response:
            return response.status

    async def admin(self, method: str, path: str, body: Any = None, *, status: int = 200, data: bytes | None = None,
                    content_type: str = "application/json") -> Any:
        raw = data if data is not None else json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": content_type}
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        async with self.session.request(method, self.url + path, data=raw, headers=headers) as response:
            document = await response.json()
            assert response.status == status, document
            return document

    async def snapshot(self) -> bytes:
        headers = {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
        async with self.session.get(self.url + "/_emulator/snapshot", headers=headers) as response:
            assert response.status == 200 and response.content_type == "application/json"
            return await response.read()

    async def push(self, amount: float, puid1: str, token: str) -> dict[str, Any]:
        return await self.call("/gateway/process", account_type="CA", amount=amount, customer_account_token=token,
                               source_of_funds=4, participant_unique_id1=puid1)

    async def wait_for_delivery(self, topic: str) -> None:
        """The wait endpoint answers 200 once one delivery of ``topic`` arrived, 409 after the timeout."""
        await self.admin("POST", "/_emulator/webhooks/wait",
                         {"match": {"topic": topic, "status": "delivered"}, "count": 1, "timeout": 15})


async def start(aiohttp_server: Any, session: aiohttp.ClientSession, clock: Clock, **settings: Any) -> Emulator:
    """The real app on 127.0.0.1 and a free port; clients sign with real time, whatever its clock shows."""
    runtime = runtime_for(clock, real_time=True, **{"rate_limit": FAST, **settings})
    server = await aiohttp_server(create_app(runtime=runtime), host="127.0.0.1")
    return Emulator(session, str(server.make_url("")).rstrip("/"), admin_token=settings.get("admin_token"))
