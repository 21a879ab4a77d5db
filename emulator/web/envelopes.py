"""The response envelopes Ingo uses: v11 (gateway), v12 (debit and risk) and the session API's."""

from __future__ import annotations

import enum
from typing import Any


class Dialect(enum.Enum):
    """Which envelope an endpoint answers in."""

    V11 = "v11"          # {"status": 100, "client_message": "...", "data": {...}, "time": "0.0123"}
    V12 = "v12"          # {"request": {...}, "response": {"status": "100", "message": "...", "duration": "..."}, ...}
    SESSION = "session"  # like v11, but "time" is a number


def v11(status: int, message: str, data: dict[str, Any], elapsed: float) -> dict[str, Any]:
    return {"status": status, "client_message": message, "data": data, "time": f"{elapsed:.4f}"}


def session(status: int, message: str, data: dict[str, Any], elapsed: float) -> dict[str, Any]:
    return {"status": status, "client_message": message, "data": data, "time": round(elapsed, 4)}


def v12(status: int, message: str, request: dict[str, Any], elapsed: float, **sections: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request": request,
        "response": {"status": str(status), "message": message, "duration": f"{elapsed:.4f}"},
    }
    body.update(sections)
    return body


def render(dialect: Dialect, status: int, message: str, elapsed: float, *,
           data: dict[str, Any] | None = None, request: dict[str, Any] | None = None,
           sections: dict[str, Any] | None = None) -> dict[str, Any]:
    """Render one outcome in ``dialect``'s envelope."""
    if dialect is Dialect.V12:
        return v12(status, message, request or {}, elapsed, **(sections or {}))
    if dialect is Dialect.SESSION:
        return session(status, message, data or {}, elapsed)
    return v11(status, message, data or {}, elapsed)
