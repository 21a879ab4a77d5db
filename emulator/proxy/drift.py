"""The drift report: every difference between the upstream's answer and the emulator's to the same request, in HTTP
status, envelope shape, field names, types, statuses, messages and other values, except the values that are expected
to differ between two systems (:data:`VOLATILE`)."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from emulator.core.configuration import ConfigurationError
from emulator.core.masking import mask

#: Fields whose values are expected to differ between the upstream and the emulator (ids, tokens, times, dates):
#: their presence and type are compared, never their value. The one list of them (the docs show it).
VOLATILE = frozenset({
    "customer_account_token", "token", "transaction_id", "session_id", "tracer_token", "check_number",
    "risk_session_id", "risk_session_token", "risk_assessment_token",
    "request_id", "id", "notification_id", "authorized_url", "authorized_url_expiration_utc",
    "time", "duration", "timestamp", "request_timestamp", "estimated_posting_date", "posting_date", "created_at",
    "expires_at",
})
#: Fields only the emulator sends (its explanation of a refusal): not compared at all, so an upstream that is itself
#: an emulator with --diagnosis on reports no drift for them.
EMULATOR_ONLY = frozenset({"diagnosis"})
#: Fields that hold Ingo's (or Kong's) message: a difference is a ``message`` difference.
MESSAGES = frozenset({"client_message", "message", "recipient_message"})
#: Kinds of difference, as the report names them.
KINDS = ("http_status", "status", "message", "missing", "extra", "type", "value", "length", "body",
         "upstream_error")
REPORT_FORMAT = 1


@dataclass(frozen=True)
class Difference:
    """One difference: its kind, where (a JSON path such as ``data.issuers[0].payee_name``), the two sides."""

    kind: str
    field: str
    upstream: Any
    emulator: Any


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def compare(upstream_status: int, upstream: Any, emulator_status: int, emulator: Any,
            *, upstream_is_json: bool = True, emulator_is_json: bool = True) -> list[Difference]:
    """The differences between two answers (their HTTP statuses and parsed JSON bodies)."""
    found = []
    if upstream_status != emulator_status:
        found.append(Difference("http_status", "", upstream_status, emulator_status))
    if upstream_is_json != emulator_is_json:
        found.append(Difference("body", "", "JSON" if upstream_is_json else "not JSON",
                                "JSON" if emulator_is_json else "not JSON"))
        return found
    if upstream_is_json:
        _walk("", upstream, emulator, found)
    return found


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(path: str, upstream: Any, emulator: Any, found: list[Difference]) -> None:
    kind_up, kind_em = json_type(upstream), json_type(emulator)
    if kind_up != kind_em:
        found.append(Difference("type", path, kind_up, kind_em))
        return
    if kind_up == "object":
        upstream = {k: v for k, v in upstream.items() if k not in EMULATOR_ONLY}
        emulator = {k: v for k, v in emulator.items() if k not in EMULATOR_ONLY}
        for key in upstream:
            if key not in emulator:
                found.append(Difference("missing", _join(path, key), json_type(upstream[key]), None))
        for key in emulator:
            if key not in upstream:
                found.append(Difference("extra", _join(path, key), None, json_type(emulator[key])))
        for key in upstream:
            if key in emulator:
                _walk(_join(path, key), upstream[key], emulator[key], found)
        return
    if kind_up == "array":
        if len(upstream) != len(emulator):
            found.append(Difference("length", path, len(upstream), len(emulator)))
        for index, (left, right) in enumerate(zip(upstream, emulator, strict=False)):
            _walk(f"{path}[{index}]", left, right, found)
        return
    key = path.rsplit(".", 1)[-1].split("[", 1)[0]
    if key in VOLATILE or upstream == emulator:
        return
    kind = "message" if key in MESSAGES else "status" if key == "status" else "value"
    found.append(Difference(kind, path, upstream, emulator))


@dataclass(frozen=True)
class Entry:
    """One compared exchange of the report."""

    sequence: int
    method: str
    path: str
    upstream_status: int | None
    emulator_status: int | None
    differences: tuple[Difference, ...] = ()
    note: str | None = None


class ReportError(ConfigurationError, ValueError):
    """A report cannot be written or read; the message names the file and the problem."""


class Report:
    """The drift report of one proxy run (JSON and Markdown). :meth:`add` only notes an entry; :meth:`flush`
    writes the files when something was added (the proxy does every second, off its event loop, and at
    shutdown), so a run of thousands of requests does not rewrite the whole report after each one."""

    def __init__(self, path: Path, upstream: str) -> None:
        self.path = Path(path)
        self.upstream = upstream
        self.entries: list[dict[str, Any]] = []  # each entry as the report shows it, made once
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._written = 0  # how many entries the files hold
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._write()
        except OSError as exc:
            raise ReportError(f"cannot write the drift report {self.path}: {exc.strerror or exc}") from None

    @property
    def markdown_path(self) -> Path:
        return self.path.with_suffix(".md")

    def add(self, entry: Entry) -> None:
        shown = {**asdict(entry), "differences": [mask(asdict(d)) for d in entry.differences]}
        with self._lock:
            self.entries.append(shown)

    @property
    def pending(self) -> bool:
        """Whether entries were added since the files were last written."""
        return len(self.entries) != self._written

    def flush(self) -> None:
        """Write the files if entries were added since the last time (thread-safe; OSError when it cannot)."""
        with self._writing:  # one writer at a time; add() is never held up by a write
            if self.pending:
                self._write()

    def document(self) -> dict[str, Any]:
        with self._lock:
            entries = list(self.entries)
        return {"format": REPORT_FORMAT, "upstream": self.upstream, "exchanges": len(entries),
                "ignored_fields": sorted(VOLATILE), "entries": entries}

    def _write(self) -> None:
        document = self.document()
        for path, text in ((self.path, json.dumps(document, indent=2, ensure_ascii=False) + "\n"),
                           (self.markdown_path, markdown(document))):
            temporary = path.with_suffix(path.suffix + ".tmp")
            try:
                temporary.write_bytes(text.encode("utf-8", "backslashreplace"))
                os.replace(temporary, path)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        self._written = document["exchanges"]


def read_report(path: Path) -> dict[str, Any]:
    """A report written by ``proxy --compare``; ReportError naming the problem otherwise."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReportError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != REPORT_FORMAT:
        raise ReportError(f"{path}: not a drift report of format {REPORT_FORMAT} (the JSON file proxy --compare "
                          "wrote)")
    try:
        _ReportModel.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
        raise ReportError(f"{path}: not a drift report as proxy --compare writes it: {where or 'the file'}: "
                          f"{error['msg']}") from None
    return document


class _DifferenceModel(BaseModel):
    model_config = ConfigDict(strict=True)
    kind: Literal[KINDS]  # type: ignore[valid-type]
    field: str = ""
    upstream: Any = None
    emulator: Any = None


class _EntryModel(BaseModel):
    model_config = ConfigDict(strict=True)
    sequence: int
    method: str
    path: str
    upstream_status: int | None = None
    emulator_status: int | None = None
    differences: list[_DifferenceModel]
    note: str | None = None


class _ReportModel(BaseModel):
    """What :func:`read_report` accepts: the shape :class:`Report` writes (extra keys allowed)."""

    model_config = ConfigDict(strict=True)
    format: int
    upstream: str
    exchanges: int
    ignored_fields: list[str] = []
    entries: list[_EntryModel]


def differences(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every difference of a report, each with its exchange's sequence, method and path."""
    return [{"sequence": entry.get("sequence"), "method": entry.get("method"), "request_path": entry.get("path"), **d}
            for entry in document["entries"] for d in entry["differences"]]


def _cell(value: Any) -> str:
    return "" if value is None else f"`{json.dumps(value, ensure_ascii=False)}`".replace("|", "\\|")


def markdown(document: dict[str, Any]) -> str:
    """The report for people: a summary by kind, then each difference."""
    found = differences(document)
    lines = ["# Drift report", "", f"Upstream: {document.get('upstream')}; {document.get('exchanges')} exchanges "
             f"compared; {len(found)} differences.", "",
             "Ignored values (compared by presence and type only): " + ", ".join(
                 f"`{name}`" for name in document.get("ignored_fields", [])) + ".", ""]
    if found:
        counts = Counter(d["kind"] for d in found)
        lines += ["| kind | count |", "|---|---|",
                  *(f"| {kind} | {counts[kind]} |" for kind in KINDS if kind in counts), "",
                  "| # | request | kind | field | upstream | emulator |", "|---|---|---|---|---|---|"]
        for d in found:
            lines.append(f"| {d['sequence']} | {d['method']} {d['request_path']} | {d['kind']} | "
                         f"{_cell(d.get('field')) or ''} | {_cell(d.get('upstream'))} | {_cell(d.get('emulator'))} |")
    else:
        lines.append("No differences.")
    notes = [e for e in document["entries"] if e.get("note")]
    if notes:
        lines += ["", "## Notes", "", *(f"- {e['sequence']} {e['method']} {e['path']}: {e['note']}" for e in notes)]
    return "\n".join(lines) + "\n"


def summary(document: dict[str, Any], *, limit: int = 20) -> str:
    """A few lines for the terminal: counts by kind and endpoint, then the first differences."""
    found = differences(document)
    lines = [f"{document.get('exchanges', 0)} exchanges compared with {document.get('upstream')}: "
             f"{len(found)} difference{'s' if len(found) != 1 else ''}"]
    if found:
        counts = Counter(d["kind"] for d in found)
        lines.append("by kind: " + ", ".join(f"{kind} {counts[kind]}" for kind in KINDS if kind in counts))
        by_path = Counter(f"{d['method']} {d['request_path']}" for d in found)
        lines.append("by request: " + ", ".join(f"{path} {count}" for path, count in by_path.most_common()))
        for d in found[:limit]:
            lines.append(f"  #{d['sequence']} {d['method']} {d['request_path']}: {describe(d)}")
        if len(found) > limit:
            lines.append(f"  ... and {len(found) - limit} more (see the Markdown report)")
    return "\n".join(lines)


#: The words for a difference of each kind that is not a changed value.
TOLD = {"missing": "{where} ({upstream}) is in the upstream's answer, not in the emulator's",
        "extra": "{where} ({emulator}) is in the emulator's answer, not in the upstream's",
        "upstream_error": "the upstream failed: {upstream}"}


def describe(d: dict[str, Any]) -> str:
    """One difference in words."""
    where = d.get("field") or "answer"
    kind = d["kind"]
    if kind in TOLD:
        return TOLD[kind].format(where=where, upstream=d.get("upstream"), emulator=d.get("emulator"))
    return f"{kind} of {where}: upstream {json.dumps(d['upstream'])}, emulator {json.dumps(d['emulator'])}"
