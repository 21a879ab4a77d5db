"""The iFrame plugin without a browser: a session created as a partner's server creates one, and the calls its page
makes on the authorized_url (load, mount, submit)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from multidict import CIMultiDictProxy

from tests.support.app import Signed

SESSION_PATH = "/api/v1/sessions/point-in-time/plugin"
#: The partner's page that hosts the iFrame (its origin; nothing listens there).
HOST = "http://127.0.0.1:9999"
#: A session's recipient_information.
RECIPIENT = {"first_name": "Jane", "last_name": "Doe", "address_line1": "1 Main St", "city": "Atlanta",
             "state": "GA", "zip_code": "30301", "email_address": "jane.doe@example.com"}
#: The recipient's name and address as the page's forms take them.
ADDRESS = {"first_name": "Jane", "last_name": "Doe", "address_line1": "1 Main St", "city": "Atlanta",
           "state": "GA", "zip_code": "30301"}
#: A card form that tokenizes.
GOOD_CARD = {"card_number": "4111 1111 1111 1111", "expiration": "12/29", "cvv": "123", **ADDRESS}


class Url:
    """One authorized_url, and the page's calls on it."""

    def __init__(self, emulator: Signed, url: str) -> None:
        self.emulator = emulator
        parts = urlsplit(url)
        self.path, self.query = parts.path, parts.query
        self.session_id = parts.path.rsplit("/", 1)[1]

    async def get(self) -> tuple[int, str, CIMultiDictProxy[str]]:
        response = await self.emulator.client.get(f"{self.path}?{self.query}")
        return response.status, await response.text(), response.headers

    async def call(self, action: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        response = await self.emulator.client.post(f"{self.path}/{action}?{self.query}", json=body or {})
        return response.status, await response.json()

    async def mount(self, destination: str = "debit", origin: str = HOST) -> tuple[int, Any]:
        return await self.call("mount", {"origin": origin, "funding_destination": destination})

    async def submit(self, form: dict[str, Any]) -> tuple[int, Any]:
        return await self.call("submit", form)

    def session(self) -> Any:
        """The session as the store keeps it."""
        found = self.emulator.runtime.store.find("session", self.session_id)
        assert found is not None, self.session_id
        return found[1]


async def create(emulator: Signed, *, key: str | None = None, host_uri: str | None = HOST,
                 **recipient: Any) -> Url:
    """A new iFrame session (with ``recipient`` changing its recipient_information), by its authorized_url."""
    body: dict[str, Any] = {"participant_unique_id1": "plugin-1", "recipient_information": {**RECIPIENT, **recipient}}
    if host_uri is not None:
        body["host_uri"] = host_uri
    headers = {"Idempotency-Key": key} if key else None
    status, document, _ = await emulator.post(SESSION_PATH, body, extra_headers=headers)
    assert status == 200 and document["status"] in (100, 101), document
    return Url(emulator, document["data"]["authorized_url"])
