"""The response envelopes Ingo uses: v11 (gateway), v12 (debit and risk) and the session API's, as typed models."""

from __future__ import annotations

import enum
from typing import Annotated, Any, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from emulator.core.errors import Diagnosis

Seconds = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{4}$", description="seconds the request took")]


class Dialect(enum.Enum):
    """Which envelope an endpoint answers in."""

    V11 = "v11"          # {"status": 100, "client_message": "...", "data": {...}, "time": "0.0123"}
    V12 = "v12"          # {"request": {...}, "response": {"status": "100", "message": "...", "duration": "..."}, ...}
    SESSION = "session"  # like v11, but "time" is a number


class V11Envelope(TypedDict):
    """The gateway's v11 envelope. Business refusals answer HTTP 200 with their Ingo status here (or a mapped
    4xx/5xx with --error-http-status mapped)."""

    status: Annotated[int, Field(description="Ingo's status: 100 success, others in the catalogue")]
    client_message: str
    data: dict[str, Any]
    time: Seconds
    diagnosis: NotRequired[Diagnosis]
    recipient_message: NotRequired[Annotated[str, Field(description="PayPal/Venmo verify only")]]


class SessionEnvelope(TypedDict):
    """Session Management's envelope: like v11, but time is a number."""

    status: Annotated[int, Field(description="Ingo's status: 100 success, others in the catalogue")]
    client_message: str
    data: dict[str, Any]
    time: float
    diagnosis: NotRequired[Diagnosis]


class V12Response(TypedDict):
    status: Annotated[str, Field(pattern=r"^[0-9]+$")]
    message: str
    duration: Seconds


class V12Envelope(TypedDict):
    """The v12 envelope of debit and risk: strings everywhere; the answer travels in its own section
    (``transaction``, ``session``)."""

    request: Annotated[dict[str, Any], Field(description="the request's `request` object, echoed")]
    response: V12Response
    diagnosis: NotRequired[Diagnosis]


Envelope = V11Envelope | SessionEnvelope | V12Envelope
#: Each dialect's envelope model.
MODELS: dict[Dialect, type] = {Dialect.V11: V11Envelope, Dialect.V12: V12Envelope, Dialect.SESSION: SessionEnvelope}


def render(dialect: Dialect, status: int, message: str, elapsed: float, *, data: dict[str, Any] | None = None,
           echo: dict[str, Any] | None = None, section: str | None = None) -> dict[str, Any]:
    """One outcome in ``dialect``'s envelope; a v12 answer carries ``data`` in ``section`` (none for refusals)."""
    if dialect is Dialect.V12:
        v12: dict[str, Any] = {"request": echo or {},
                               "response": {"status": str(status), "message": message, "duration": f"{elapsed:.4f}"}}
        if section is not None:
            v12[section] = data or {}
        return v12
    if dialect is Dialect.SESSION:
        return {"status": status, "client_message": message, "data": data or {}, "time": round(elapsed, 4)}
    return {"status": status, "client_message": message, "data": data or {}, "time": f"{elapsed:.4f}"}
