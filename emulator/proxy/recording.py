"""Recordings: one JSON file per exchange (or relayed webhook), masked: card and account numbers to the last four,
CVV and secrets dropped, the signature redacted, tokens kept."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_plus

from emulator.auth.header import MalformedAuthorization, parse_authorization
from emulator.core.configuration import ConfigurationError
from emulator.core.masking import (
    ACCOUNT_KEYS,
    REDACTED,
    REMOVED,
    SECRET_KEYS,
    last_four,
    mask,
    mask_text,
    redacted_signatures,
    scrub_card_numbers,
)
from emulator.proxy.exchange import Answered, Exchange, Headers, content_codings, decoded, parse_json

#: The format of a recorded file; a reader refuses any other.
FORMAT = 1
#: Headers kept with their value removed: they hold a secret or a session.
UNKEPT = frozenset({"cookie", "set-cookie", "x-emulator-admin-token"})
#: Headers that carry a digest of the body: redacted when masking changed the body, since the digest of a body
#: whose only unknown is a card number would give the number away to a brute-force search.
DIGESTS = frozenset({"content-sha512", "digest"})
_NAME = re.compile(r"^(\d{4,})-.*\.json$")


class RecordingError(ConfigurationError, ValueError):
    """A recording cannot be written or read; the message names the file and the problem."""


#: Fields holding a message in words, where an account number may be quoted: every run of eight digits or more
#: in them is masked to its last four (not only a card number passing Luhn).
MESSAGE_FIELDS = frozenset({"client_message", "message", "recipient_message"})


def _masked_strings(document: Any, key: str | None = None) -> Any:
    if isinstance(document, dict):
        return {k: _masked_strings(v, k if isinstance(k, str) else None) for k, v in document.items()}
    if isinstance(document, list):
        return [_masked_strings(item, key) for item in document]
    if isinstance(document, str):
        text = redacted_signatures(document)
        return mask_text(text) if key is not None and key.lower() in MESSAGE_FIELDS else text
    return document


def masked_document(document: Any) -> Any:
    """A JSON document from a system the emulator does not control, as a recording or report keeps it:
    :func:`~emulator.core.masking.mask` (card numbers in every text value too), an account number quoted in a
    message masked too, and any ``signature="..."`` in a text value redacted."""
    return _masked_strings(mask(document))


def _secret_name(name: str) -> bool:
    """Whether a header or query parameter's name says it holds a secret (``X-Api-Secret``, ``cvv``, ``pin``)."""
    lowered = name.lower()
    return lowered in SECRET_KEYS or any(part in SECRET_KEYS for part in re.split(r"[-_.\s]+", lowered))


def masked_target(target: str) -> str:
    """A request target as kept: card numbers scrubbed, a query parameter named as a secret removed and one named
    as an account number masked to its last four (as the same keys of a body)."""
    path, mark, query = target.partition("?")
    if not mark:
        return scrub_card_numbers(target)
    kept = []
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        plain = unquote_plus(name).lower()
        if equals and _secret_name(plain):
            value = quote(REMOVED)
        elif equals and plain in ACCOUNT_KEYS:
            value = quote(last_four(unquote_plus(value)))
        kept.append(name + equals + value)
    return scrub_card_numbers(path + "?" + "&".join(kept))


def masked_authorization(value: str) -> str:
    """The Authorization header with its grammar and parameters kept and the signature redacted."""
    try:
        parsed = parse_authorization(value)
    except MalformedAuthorization:
        return REMOVED
    return (f'hmac username="{parsed.username}", algorithm="{parsed.algorithm}", '
            f'headers="{" ".join(parsed.headers)}", signature="{REDACTED}"')


def masked_body(body: bytes) -> tuple[dict[str, Any], bool]:
    """The body as kept (``{"json": ...}``, ``{"text": ...}``, ``{"base64": ...}`` when it is not UTF-8 text, or
    ``{}`` when empty), and whether masking changed it."""
    if not body:
        return {}, False
    document = parse_json(body)
    if document is not None:
        masked = masked_document(document)
        return {"json": masked}, masked != document
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}, False
    scrubbed = scrub_card_numbers(text)
    return {"text": scrubbed}, scrubbed != text


def kept_body(headers: Headers, body: bytes) -> tuple[dict[str, Any], bool]:
    """:func:`masked_body` of the body decompressed as its Content-Encoding says, the coding named
    (``content_encoding``); a body that cannot be decompressed is kept as sent, in base64, with ``"decoded": false``."""
    codings = content_codings(headers)
    if not codings or not body:
        return masked_body(body)
    content = decoded(headers, body)
    if content is None:
        return {"base64": base64.b64encode(body).decode("ascii"), "content_encoding": ", ".join(codings),
                "decoded": False}, False
    kept, changed = masked_body(content)
    return {**kept, "content_encoding": ", ".join(codings)}, changed


def kept_text(text: str) -> str:
    """``text`` as a recording can keep it: unchanged when it is UTF-8; otherwise (aiohttp decodes a header's bytes
    as UTF-8 with surrogate escapes) its bytes as latin-1, one character each, losslessly (HTTP's obs-text)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("latin-1")
    return text


def masked_headers(headers: Headers, *, body_changed: bool, keep_signature: bool = False) -> list[list[str]]:
    """Headers in order as ``[name, value]`` pairs, their secrets redacted (the Authorization grammar kept)."""
    kept = []
    for name, value in ((kept_text(name), kept_text(value)) for name, value in headers):
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization"):
            value = masked_authorization(value) if value.lower().lstrip().startswith("hmac") else REMOVED
        elif lowered in UNKEPT or _secret_name(lowered):
            value = REMOVED
        elif lowered in DIGESTS and body_changed:
            value = REDACTED
        elif not keep_signature or lowered != "x-ingo-signature":
            value = scrub_card_numbers(value)
        kept.append([name, value])
    return kept


def _answer(answered: Answered) -> dict[str, Any]:
    body, changed = kept_body(answered.headers, answered.body)
    return {"status": answered.status, "headers": masked_headers(answered.headers, body_changed=changed),
            "body": body}


def exchange_document(exchange: Exchange) -> dict[str, Any]:
    """What a recording keeps of an exchange."""
    sent = exchange.sent
    body, changed = kept_body(sent.headers, sent.body)
    document: dict[str, Any] = {
        "format": FORMAT, "kind": "exchange", "sequence": exchange.sequence,
        "request": {"method": sent.method, "target": masked_target(kept_text(sent.target)),
                    "headers": masked_headers(sent.headers, body_changed=changed), "body": body},
        "checks": exchange.checks,
    }
    if exchange.answered is not None:
        document["answer"] = _answer(exchange.answered)
    if exchange.failure is not None:
        document["upstream_error"] = {"kind": exchange.failure.kind, "detail": exchange.failure.detail,
                                      "status": exchange.failure.status, "message": exchange.failure.message}
    return document


def webhook_document(sequence: int, path: str, headers: Headers, body: bytes,
                     relayed: Answered | None, problem: str | None) -> dict[str, Any]:
    """What a recording keeps of a webhook the upstream sent: its headers with the real signature, the body."""
    kept, changed = kept_body(headers, body)
    document: dict[str, Any] = {
        "format": FORMAT, "kind": "webhook", "sequence": sequence, "path": kept_text(path),
        "headers": masked_headers(headers, body_changed=changed, keep_signature=True), "body": kept,
        "body_masked": changed,
    }
    if relayed is not None:
        document["receiver"] = _answer(relayed)
    if problem is not None:
        document["receiver_error"] = problem
    return document


class Recorder:
    """Writes each document to ``DIR/NNNN-<what>.json``, numbered in the order they came (thread-safe)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe = self.directory / ".ingopay-write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise RecordingError(f"cannot record into {self.directory}: {exc.strerror or exc}") from None
        existing = [int(m.group(1)) for p in self.directory.iterdir() if (m := _NAME.match(p.name))]
        self._next = max(existing, default=0) + 1
        self._lock = threading.Lock()

    def next_sequence(self) -> int:
        with self._lock:
            number = self._next
            self._next += 1
            return number

    def write(self, document: dict[str, Any], label: str) -> Path:
        """Write ``document`` atomically (a reader never sees half a file, and no temporary file is left behind)."""
        name = f"{document['sequence']:04d}-{re.sub(r'[^A-Za-z0-9]+', '-', label).strip('-')[:60]}.json"
        path = self.directory / name
        temporary = path.with_suffix(".tmp")
        try:
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            temporary.write_bytes(text.encode("utf-8", "backslashreplace"))
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return path


@dataclass(frozen=True)
class Recorded:
    """One recorded file, read back."""

    path: Path
    document: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.document.get("kind"))


def read_recording(directory: Path) -> list[Recorded]:
    """Every recorded file of ``directory`` in sequence order; RecordingError naming a damaged file."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RecordingError(f"{directory}: no such folder (give the folder proxy --record wrote)")
    found = []
    for path in sorted(p for p in directory.iterdir() if _NAME.match(p.name)):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise RecordingError(f"{path}: not a readable JSON file ({exc})") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise RecordingError(f"{path}: not a recording file of format {FORMAT}")
        problem = _exchange_problem(document) if document.get("kind") == "exchange" else None
        if problem is not None:
            raise RecordingError(f"{path}: {problem}")
        found.append(Recorded(path, document))
    if not found:
        raise RecordingError(f"{directory}: holds no recorded exchanges (files named NNNN-....json)")
    return found


def _exchange_problem(document: dict[str, Any]) -> str | None:
    """What is wrong with a recorded exchange, in a few words; None when nothing is."""
    request = document.get("request")
    if not isinstance(request, dict) or not isinstance(request.get("method"), str) \
            or not isinstance(request.get("target"), str):
        return "a recorded exchange needs request.method and request.target (text)"
    for where, part in (("request", request), ("answer", document.get("answer"))):
        if part is None:
            continue
        if not isinstance(part, dict):
            return f"{where} is not an object"
        if where == "answer" and (not isinstance(part.get("status"), int) or isinstance(part.get("status"), bool)):
            return "answer.status is not an HTTP status (a number)"
        if not isinstance(part.get("body", {}), dict):
            return f"{where}.body is not an object ({{\"json\": ...}}, {{\"text\": ...}} or {{\"base64\": ...}})"
        headers = part.get("headers", [])
        if not isinstance(headers, list) or not all(isinstance(pair, list) and len(pair) == 2
                                                    and all(isinstance(x, str) for x in pair) for pair in headers):
            return f"{where}.headers is not a list of [name, value] pairs"
    if not isinstance(document.get("upstream_error", {}), dict):
        return "upstream_error is not an object"
    return None
