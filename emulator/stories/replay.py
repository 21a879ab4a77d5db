"""Sending a journaled request again: its body rebuilt (masked values filled in by the person), and a curl command
that signs it afresh at run time with the ``sign`` command."""

from __future__ import annotations

import copy
import json
import shlex
import uuid
from collections.abc import Mapping
from typing import Any

from emulator.auth.kong_signing import HASHES
from emulator.core.journal import Entry
from emulator.core.masking import ACCOUNT_KEYS, REMOVED, SECRET_KEYS
from emulator.stories.signing_story import signing_of

#: What ``participant_unique_id1`` a replay sends: the same one (an idempotent replay) or a new one.
SAME, NEW = "same", "new"


class ReplayRefused(ValueError):
    """The request cannot be sent again as asked; the message says what to change."""


def masked_paths(document: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the values the journal masked (account numbers) or removed (CVV and other secrets)."""
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            path = f"{prefix}{key}"
            lowered = str(key).lower()
            if lowered in SECRET_KEYS and value == REMOVED:
                found.append(path)
            elif lowered in ACCOUNT_KEYS and isinstance(value, str) and value.startswith("*"):
                found.append(path)
            else:
                found.extend(masked_paths(value, path + "."))
    elif isinstance(document, list):
        for index, item in enumerate(document):
            found.extend(masked_paths(item, f"{prefix}{index}."))
    return found


def _put(document: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        document = document[int(part)] if isinstance(document, list) else document[part]
    if isinstance(document, list):
        document[int(last)] = value
    else:
        document[last] = value


def replay_body(entry: Entry, *, participant_unique_id1: str = SAME, fill: Mapping[str, Any] | None = None,
                now: float | None = None) -> bytes:
    """The body to send again: the journaled one, masked values replaced from ``fill`` (dotted path to value),
    ``participant_unique_id1`` the same, new (a fresh UUID) or the one given, and the body's ``timestamp`` (Ingo
    checks it against the clock skew) ``now`` when given."""
    body = copy.deepcopy(entry.request_body)
    if body is None:
        return b""
    if not isinstance(body, dict):
        raise ReplayRefused("the request's body was not a JSON object, so it cannot be rebuilt; send it with curl")
    fill = dict(fill or {})
    masked = masked_paths(body)
    unknown = sorted(set(fill) - set(masked))
    if unknown:
        raise ReplayRefused(f"fill names {', '.join(unknown)}, which the journal did not mask; only masked values "
                            f"can be filled ({', '.join(masked) or 'none here'})")
    missing = [path for path in masked if path not in fill]
    if missing:
        raise ReplayRefused(f"{', '.join(missing)} {'was' if len(missing) == 1 else 'were'} masked in the journal "
                            "(it never keeps full card or account numbers, CVVs or secrets): give the values in "
                            'fill, e.g. {"fill": {"' + missing[0] + '": "…"}}')
    for path, value in fill.items():
        _put(body, path, value)
    if now is not None and _has_timestamp(body):
        body["timestamp"] = int(now)
    if participant_unique_id1 != SAME:
        if "participant_unique_id1" not in body:
            raise ReplayRefused("this request has no participant_unique_id1 to change")
        body["participant_unique_id1"] = renewed(str(body["participant_unique_id1"])) \
            if participant_unique_id1 == NEW else participant_unique_id1
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


#: Ingo's longest participant_unique_id1.
PUID1_LENGTH = 254


def renewed(puid1: str) -> str:
    """A new participant_unique_id1 that keeps the old one as its prefix (a rule matching a prefix still does)."""
    suffix = f"-r{uuid.uuid4().hex[:8]}"
    return puid1[:PUID1_LENGTH - len(suffix)] + suffix


#: Request headers of the emulator's own that steer an answer: a replay and a curl command send them again.
CARRIED_HEADERS = ("X-Emulator-Scenario",)


def carried_headers(entry: Entry) -> dict[str, str]:
    """The emulator-control headers the request sent, by name as sent."""
    wanted = {name.lower() for name in CARRIED_HEADERS}
    return {name: value for name, value in entry.request_headers if name.lower() in wanted}


def _has_timestamp(body: Any) -> bool:
    stamp = body.get("timestamp") if isinstance(body, dict) else None
    return isinstance(stamp, int) and not isinstance(stamp, bool)


#: Stands for the body's timestamp while the body is quoted for the shell (no request body holds this text).
_NOW = "\x00now\x00"


def _quoted_body(body: Any) -> str:
    """The body as one shell word; its ``timestamp``, when it has one, the time the command runs."""
    if isinstance(body, str):
        return shlex.quote(body)
    if not _has_timestamp(body):
        return shlex.quote(json.dumps(body, separators=(",", ":")))
    text = json.dumps({**body, "timestamp": _NOW}, separators=(",", ":"))
    return '"$(date +%s)"'.join(shlex.quote(part) for part in text.split(json.dumps(_NOW)))


def curl_command(entry: Entry, base_url: str, *, default_secret: str | None) -> str:
    """A shell command that signs the request afresh when it runs (``ingopay-emulator sign --curl``) and sends it.

    ``default_secret`` is the documented default secret when the request's credential still uses it (then the
    command works as it is); otherwise the command asks for ``$INGOPAY_SECRET``.
    """
    story = signing_of(entry)
    username = entry.username or (story["username"] if story else "test")
    lines = ["# Signs afresh each time it runs (a signature is good for 300 s): needs ingopay-emulator on the PATH."]
    if default_secret is not None:
        secret = '"${INGOPAY_SECRET:-' + default_secret + '}"'
    else:
        secret = '"${INGOPAY_SECRET:?set INGOPAY_SECRET to the secret of ' + username + '}"'
    masked = masked_paths(entry.request_body)
    if masked:
        lines.append(f"# {', '.join(masked)} masked in the journal: put the real values back in the body first.")
    # flag=value: a secret or a username may start with "-", which a separate argument would make a flag
    parts = ["ingopay-emulator", "sign", "--curl", "-X", entry.method, "--username=" + shlex.quote(username),
             "--secret=" + secret]
    for name, value in carried_headers(entry).items():
        parts += ["--header", shlex.quote(f"{name}: {value}")]
    if story is not None:
        if story["algorithm"] in HASHES:
            parts += ["--algorithm", story["algorithm"]]
        parts += ["--headers", shlex.quote(" ".join(story["signed_headers"]))]
    if entry.request_body is not None:
        parts += ["-d", _quoted_body(entry.request_body)]
    parts.append(shlex.quote(base_url.rstrip("/") + (entry.target or entry.path)))
    # signed first, sent only if signing worked (a missing $INGOPAY_SECRET stops it with the shell's message)
    lines.append('command=$(' + " ".join(parts) + ') && eval "$command"')
    return "\n".join(lines)
