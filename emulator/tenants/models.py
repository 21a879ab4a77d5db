"""Minting and removing tenants: a username, a secret and a participant of their own, and perhaps a webhook
endpoint that only gets that participant's events. Kept in memory only: a secret is shown once, when minted."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any, NotRequired

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from emulator.core.clock import ClockOutOfRange, checked
from emulator.core.credentials import Credential
from emulator.core.stateful import ARCHIVED, Refused, Stateful, each
from emulator.webhooks.delivery import Deliveries
from emulator.webhooks.endpoints import Endpoint

#: Participant ids of minted tenants are drawn from here upward (5 digits, as Ingo's are), skipping taken ones.
FIRST_PARTICIPANT = 90_000
LAST_PARTICIPANT = 99_999
#: Tenants at most at once (each holds a credential; a runaway suite stops here with a clear refusal).
MOST_TENANTS = 10_000


class TenantError(ValueError):
    """A tenant cannot be minted as asked; the message says why."""

    def __init__(self, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.conflict = conflict  # the ask is well formed but clashes with what exists (answered 409)


class TenantJson(TypedDict):
    """A tenant as the admin API lists it (never its secret)."""

    username: str
    participant_id: int
    webhook_endpoint: str | None
    created: float
    secret: NotRequired[str]  # only in the answer that mints it


@dataclass(frozen=True)
class Tenant:
    """A minted credential, the participant it acts for, and its webhook endpoint if it has one."""

    credential: Credential
    endpoint: Endpoint | None
    created: float

    def as_json(self, *, with_secret: bool = False) -> TenantJson:
        shown: TenantJson = {"username": self.credential.username, "participant_id": self.credential.participant_id,
                             "webhook_endpoint": self.endpoint.id if self.endpoint else None, "created": self.created}
        if with_secret:
            shown["secret"] = self.credential.secret
        return shown


class _KeptTenant(TypedDict):
    """A tenant as an archive must hold it: never a secret."""

    __pydantic_config__ = ARCHIVED  # type: ignore[misc]

    username: str
    participant_id: int
    webhook_endpoint: str | None
    created: float


KEPT_TENANT = TypeAdapter(_KeptTenant)


def checked_tenants(section: Any) -> list[TenantJson]:
    """The tenants of an archive (without secrets); Refused naming the first problem."""
    tenants: list[TenantJson] = []
    for index, item in enumerate(each(KEPT_TENANT, section)):
        if not 1 <= item["participant_id"] <= LAST_PARTICIPANT:
            raise Refused((index, "participant_id"), f"must be a participant id (1 to {LAST_PARTICIPANT})")
        try:
            checked(item["created"])
        except ClockOutOfRange as exc:
            raise Refused((index, "created"), f": {exc}") from None
        tenants.append({"username": item["username"], "participant_id": item["participant_id"],
                        "webhook_endpoint": item["webhook_endpoint"], "created": item["created"]})
    return tenants


class Tenants(Stateful[list[TenantJson]]):
    """The tenants minted so far, entered into the emulator's credentials (which signed requests are checked
    against) and its webhook endpoints.

    Their state (stateful part ``tenants``): a reset keeps them (their credentials stay usable); a snapshot keeps
    them without their secrets; a restore removes every tenant (the snapshot's point knows none of this run's) and
    keeps minted ids off the participants that hold restored state (``holders``, and the snapshot's tenants)."""

    section = "tenants"

    def __init__(self, credentials: MutableMapping[str, Credential], deliveries: Deliveries, *,
                 webhook_secret: str, holders: Callable[[], Iterable[int]] = tuple) -> None:
        self.credentials = credentials
        self.deliveries = deliveries
        self.webhook_secret = webhook_secret
        self.holders = holders
        self._tenants: dict[str, Tenant] = {}
        #: Participants a minted id never lands on unless asked for: those ever minted (their state is reset, but a
        #: wait or a late delivery may still name them) and those a snapshot brought back with their state.
        self._used: set[int] = set()
        self._reserved: set[int] = set()

    def reserve(self, participants: Iterable[int]) -> None:
        """Keep minted ids off participants that hold state (a restored snapshot's)."""
        self._reserved.update(participants)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._tenants.values()))

    def __len__(self) -> int:
        return len(self._tenants)

    def get(self, username: str) -> Tenant | None:
        return self._tenants.get(username)

    def mint(self, *, now: float, participant_id: int | None = None, webhook_url: str | None = None,
             webhook_secret: str | None = None, topics: tuple[str, ...] = ()) -> Tenant:
        """A new tenant, usable at once; a TenantError when the participant is taken or none is left."""
        if len(self._tenants) >= MOST_TENANTS:
            raise TenantError(f"{MOST_TENANTS} tenants exist: delete some (DELETE /_emulator/credentials/<username>)",
                              conflict=True)
        taken = {c.participant_id for c in self.credentials.values()}
        if participant_id is None:
            unavailable = taken | self._reserved
            free = [p for p in range(FIRST_PARTICIPANT, LAST_PARTICIPANT + 1) if p not in unavailable]
            # never minted before, else one whose tenant was deleted (and its state with it)
            participant_id = next((p for p in free if p not in self._used), free[0] if free else None)
            if participant_id is None:
                raise TenantError("no participant id is left to mint: give one (participant_id)", conflict=True)
        elif participant_id in taken:
            raise TenantError(f"participant_id {participant_id} already has a credential; a tenant has a participant "
                              "of its own (leave participant_id out to be given a free one)", conflict=True)
        username = f"tenant-{participant_id}-{secrets.token_hex(4)}"
        credential = Credential(username, secrets.token_urlsafe(32), participant_id)
        endpoint = None
        if webhook_url is not None:
            endpoint = self.deliveries.add_endpoint(Endpoint(webhook_url, webhook_secret or self.webhook_secret,
                                                             topics, participant_id, source="tenant"))
        tenant = Tenant(credential, endpoint, now)
        self.credentials[username] = credential
        self._tenants[username] = tenant
        self._used.add(participant_id)
        return tenant

    def remove(self, username: str) -> Tenant | None:
        """Take a tenant's credential and endpoint away (its state is the caller's to reset)."""
        tenant = self._tenants.pop(username, None)
        if tenant is None:
            return None
        self.credentials.pop(username, None)
        if tenant.endpoint is not None:
            self.deliveries.remove_endpoint(tenant.endpoint.id)
        return tenant

    def clear(self) -> list[Tenant]:
        """Remove every tenant; those removed."""
        return [t for t in (self.remove(username) for username in list(self._tenants)) if t is not None]

    def export(self) -> list[TenantJson]:
        """The tenants without their secrets (for a snapshot: a restored emulator mints new ones)."""
        return [t.as_json() for t in self._tenants.values()]

    def reset(self, participant_id: int | None = None) -> None:
        """Tenants outlive a reset: their state goes, their credentials stay."""

    def check(self, section: Any) -> list[TenantJson]:
        return checked_tenants(section)

    def load(self, checked: list[TenantJson]) -> None:
        self.clear()
        self.reserve({*self.holders(), *(t["participant_id"] for t in checked)})
