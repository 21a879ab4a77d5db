"""What a snapshot archive is: its name and version, its layout as documented (``GET /openapi.json``: ``Archive``),
and the refusals a restore answers with."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emulator.core.clock import ClockSection
from emulator.core.configuration import ConfigurationError
from emulator.findings.models import FindingJson
from emulator.scenarios.engine import EngineState
from emulator.store.state import StoreSection
from emulator.tenants.models import TenantJson
from emulator.webhooks.events import KeptEvent

#: What an archive says it is, and the layout this code writes and reads. Bump VERSION with every change to the
#: layout (a key added anywhere, records included), and read the older one (or refuse it with a sentence that says
#: what to do). Version 2 added ``clock.participants`` (each participant's own clock); a version 1 archive has none
#: (every participant followed the emulator clock) and is read as it was.
FORMAT = "ingopay-emulator-snapshot"
VERSION = 2
#: The oldest version this code reads, and how a message names the versions it reads.
OLDEST = 1
READS = f"{OLDEST} to {VERSION}"
#: The keys of an archive that describe it; every other key is a section of a stateful part.
HEADER = ("format", "version", "emulator_version", "taken_at", "seed")


class SnapshotRefused(Exception):
    """An archive this emulator cannot restore; the message names the section and what is wrong (answered 400)."""


class SnapshotTooLarge(Exception):
    """A restore's body is larger than the emulator takes (answered 413); the message names the setting."""


class SnapshotFileError(ConfigurationError):
    """``--restore FILE`` cannot be restored: the CLI prints the message (the flag, the file, the problem), exits 2."""


class Archive(BaseModel):
    """A snapshot archive, version 2 (version 1 is read too): what GET /_emulator/snapshot answers and POST
    /_emulator/snapshot takes. Each section after the header belongs to one stateful part of the emulator
    (``emulator.core.stateful``)."""

    model_config = ConfigDict(defer_build=True)  # the OpenAPI document's, built when it is asked for: a faster start

    format: Literal["ingopay-emulator-snapshot"]
    version: int
    emulator_version: str
    taken_at: Annotated[str, Field(description="when the snapshot was taken, in real time (ISO 8601, UTC)")]
    seed: Annotated[int | None, Field(description="--seed of the emulator the snapshot was taken from")]
    clock: ClockSection
    store: StoreSection
    scenarios: EngineState
    journal: Annotated[list[dict[str, Any]], Field(description="the request journal, oldest first (masked)")]
    events: Annotated[list[KeptEvent], Field(description="the webhook events emitted, oldest first")]
    findings: list[FindingJson]
    tenants: Annotated[list[TenantJson], Field(description="minted tenants, without their secrets (re-mint them)")]
    webhook_endpoints: Annotated[list[dict[str, Any]], Field(description="webhook endpoints, without secrets")]
