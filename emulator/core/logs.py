"""Logging: one line per request, as text or JSON, never carrying payment data or secrets."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

ACCESS = logging.getLogger("ingopay_emulator.access")
LOG = logging.getLogger("ingopay_emulator")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields given with ``extra={"fields": {...}}`` are merged in."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {"time": round(record.created, 3), "level": record.levelname.lower(),
                                    "logger": record.name, "message": record.getMessage()}
        document.update(getattr(record, "fields", {}))
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def configure(log_format: str = "text", *, quiet: bool = False) -> None:
    """Send every log of the process to stderr in the chosen format: the emulator's (INFO and up), and aiohttp's,
    asyncio's and Python's warnings (WARNING and up), so that with ``json`` each line is one JSON object."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    ours = logging.getLogger("ingopay_emulator")
    ours.handlers[:] = []
    ours.setLevel(logging.INFO)
    ours.propagate = True
    logging.captureWarnings(True)
    ACCESS.disabled = quiet


def ready_line(message: str, log_format: str, **fields: str) -> str:
    """The ready line as the chosen format writes it (stdout): the text itself, or one JSON object."""
    if log_format != "json":
        return message
    document = {"time": round(time.time(), 3), "level": "info", "logger": "ingopay_emulator", "message": message,
                **fields}
    return json.dumps(document)


#: Docker's HEALTHCHECK and orchestrators probe this path every few seconds.
HEALTH_PATH = "/_emulator/health"


def access_level(method: str, path: str, http_status: int) -> int:
    """INFO, except DEBUG for a health probe that succeeded: probes would otherwise drown the requests that matter."""
    if path == HEALTH_PATH and method in ("GET", "HEAD") and http_status < 400:
        return logging.DEBUG
    return logging.INFO


def access_line(method: str, path: str, http_status: int, ingo_status: int | None, latency_ms: float,
                diagnosis: str | None, participant_id: int | None) -> None:
    """Log one request: method, path, HTTP status, Ingo status, latency, diagnosis code."""
    level = access_level(method, path, http_status)
    if ACCESS.disabled or not ACCESS.isEnabledFor(level):
        return
    fields = {"method": method, "path": path, "http_status": http_status, "ingo_status": ingo_status,
              "latency_ms": round(latency_ms, 2), "diagnosis": diagnosis, "participant_id": participant_id}
    ACCESS.log(level, "%s %s %s ingo=%s %.1fms diagnosis=%s", method, path, http_status,
               "-" if ingo_status is None else ingo_status, latency_ms, diagnosis or "-",
               extra={"fields": fields})
