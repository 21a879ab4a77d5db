"""iFrame sessions: creation, idempotency keys, authorized URLs and their 30-second life."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from emulator.core.answer import Answer
from emulator.core.clock import Clock
from emulator.core.errors import IngoError, InvalidParameter
from emulator.core.ids import IdFactory
from emulator.core.provenance import ingo
from emulator.core.validation import validate
from emulator.scenarios.facts import Facts, Pending
from emulator.sessions import schemas
from emulator.sessions.answer_shapes import SessionData
from emulator.store import Record, Store
from emulator.webhooks.events import GATEWAY_SESSION_ID

URL_LIFETIME = 30
IDEMPOTENCY_WINDOW = 2 * 60 * 60
#: Seconds (emulator clock) a mounted iFrame page counts as open: an unfinished session mounted longer ago may be let go
#: from a capped memory (see :func:`in_progress`).
OPEN_PAGE = 60 * 60
TICKS_AT_EPOCH = 621_355_968_000_000_000  # .NET ticks (100 ns since 0001-01-01) at 1970-01-01
DEFAULT_HOST_URI = "http://localhost"
#: Session states (reference 2.8). Expired only concerns the URL: re-issuing it makes the session Active again.
ACTIVE, EXPIRED, COMPLETED, CANCELED, TERMINATED = "Active", "Expired", "Completed", "Canceled", "Terminated"
FINAL_STATES = frozenset({COMPLETED, CANCELED, TERMINATED})
TRANSITIONS = {ACTIVE: frozenset({EXPIRED, COMPLETED, CANCELED, TERMINATED}), EXPIRED: frozenset({ACTIVE}),
               COMPLETED: frozenset(), CANCELED: frozenset(), TERMINATED: frozenset()}


class IdempotencyKeyMismatch(IngoError, code=13723, diagnosis_code="idempotency_key_mismatch",
                             source=ingo("https://developers.ingopayments.com/docs/iframe/session/session-management")):
    """The Idempotency-Key was used within 2 hours with other parameters (13723)."""


class SessionNotFound(Exception):
    """No session has this identifier, or the URL's MAC is wrong."""


class InvalidTransition(Exception):
    """A session cannot move from its state to the one asked for (a final state never changes)."""


@dataclass(frozen=True)
class Issued:
    """A created or re-issued session and its fresh authorized URL."""

    status: int
    session: Record
    path: str
    expires_at: float


def in_progress(session: Record, now: float) -> bool:
    """Whether an iFrame session may still be carried on, so is never let go from a capped memory: not in a final
    state, and its authorized URL still live (issued less than 30 s ago) or its page mounted less than an hour ago."""
    if session.get("status") in FINAL_STATES:
        return False
    if now <= _moment(session.get("url_issued_at")) + URL_LIFETIME:
        return True
    return bool(session.get("mounted")) and now <= _moment(session.get("mounted_at")) + OPEN_PAGE


def _moment(value: Any) -> float:
    """A time a record holds, or 0 when it holds none (or not a number)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def dotnet_ticks(timestamp: float) -> int:
    return TICKS_AT_EPOCH + int(round(timestamp * 10_000_000))


def iso_utc(timestamp: float) -> str:
    """``2019-12-10T20:14:19.763941Z``: ISO 8601 in UTC with 6 fractional digits, as Ingo's example prints it."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond:06d}Z"


class SessionService:
    """Creates sessions for a participant and checks the URLs it hands out."""

    def __init__(self, store: Store, clock: Clock, *, seed: int | None) -> None:
        self.store = store
        self.clock = clock
        self.ids = IdFactory(None if seed is None else seed + 1)
        self._key = self._url_key()

    def _url_key(self) -> bytes:
        record = self.store.get("meta", 0, "session_url_key")
        if record is None:
            record = {"key": secrets.token_hex(32)}
            self.store.put("meta", 0, "session_url_key", record)
        return bytes.fromhex(record["key"])

    def create(self, participant_id: int, body: dict[str, Any], idempotency_key: str | None,
               base_url: str) -> Pending[Answer[SessionData]]:
        """Create a session, or re-issue the one an Idempotency-Key names (101), or refuse (13723); its authorized
        URL starts with ``base_url`` (where the client reaches the emulator)."""
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 250:
            raise InvalidParameter("the Idempotency-Key header must be 1 to 250 characters", field="Idempotency-Key")
        request = validate(schemas.CreateSession, body)
        recipient = request.recipient_information

        async def create() -> Answer[SessionData]:
            issued = self._start(participant_id, request, idempotency_key)
            session = issued.session
            data: SessionData = {
                "session_identifier": session["id"], "authorized_url": base_url + issued.path,
                "authorized_url_expiration_utc": iso_utc(issued.expires_at),
                "participant_unique_id1": session["participant_unique_id1"],
                "participant_unique_id2": session["participant_unique_id2"]}
            return Answer(issued.status, data, "Success" if issued.status == 100 else "Success - Idempotent")

        return Pending(Facts("session", participant_id, participant_unique_id1=request.participant_unique_id1,
                             recipient={"first_name": recipient.first_name, "last_name": recipient.last_name,
                                        "business_name": recipient.business_name}, request=body),
                       create, {"participant_unique_id1": request.participant_unique_id1,
                                "participant_unique_id2": request.participant_unique_id2 or "",
                                "session_id": GATEWAY_SESSION_ID})

    def _start(self, participant_id: int, request: schemas.CreateSession, idempotency_key: str | None) -> Issued:
        """A new session, or the one the Idempotency-Key names re-issued (101); IdempotencyKeyMismatch otherwise."""
        now = self.clock.now(participant_id)
        fingerprint = hashlib.sha256(json.dumps(request.model_dump(), sort_keys=True).encode()).hexdigest()
        if idempotency_key is not None:
            previous = self.store.get("session_key", participant_id, idempotency_key)
            if previous is not None and previous["expires"] > now:
                if previous["fingerprint"] != fingerprint:
                    raise IdempotencyKeyMismatch(
                        "this Idempotency-Key was used in the last 2 hours with different parameters")
                session = self.store.get("session", participant_id, previous["session_id"])
                if session is not None:
                    return self._issue(101, participant_id, session)
        session_id = self.ids.uuid4()
        session = {
            "id": session_id, "participant_id": participant_id, "status": "Active", "created": now,
            "participant_unique_id1": request.participant_unique_id1,
            "participant_unique_id2": request.participant_unique_id2 or "",
            "recipient_information": request.recipient_information.model_dump(exclude_none=True),
            "host_uri": request.host_uri or DEFAULT_HOST_URI,
            "language_locale_code": request.language_locale_code or "en-US",
            "tracer_token": f"{participant_id}_{self.ids.uuid4()}", "mounted": False,
            "idempotency_key": idempotency_key, "attempts": 0,
        }
        if idempotency_key is not None:
            self.store.put("session_key", participant_id, idempotency_key,
                           {"session_id": session_id, "fingerprint": fingerprint, "expires": now + IDEMPOTENCY_WINDOW})
        return self._issue(100, participant_id, session)

    def _issue(self, status: int, participant_id: int, session: Record) -> Issued:
        now = self.clock.now(participant_id)
        ticks = dotnet_ticks(now)
        previous = session.get("url_ticks")
        if isinstance(previous, int) and ticks <= previous:
            ticks = previous + 1  # a re-issued URL is always a new one, even when the clock has not moved
        # A re-issued URL must be mounted again (within 30 s); an Expired session is Active again.
        session = dict(session, url_issued_at=now, url_ticks=ticks, mounted=False,
                       status=ACTIVE if session.get("status") == EXPIRED else session.get("status", ACTIVE))
        self.store.put("session", participant_id, session["id"], session)
        path = f"/plugin/session/{session['id']}?t={ticks}&h={quote(self.mac(session['id'], ticks), safe='')}"
        return Issued(status, session, path, now + URL_LIFETIME)

    def mac(self, session_id: str, ticks: int | str) -> str:
        digest = hmac.new(self._key, f"{session_id}:{ticks}".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def open(self, session_id: str, ticks: str, mac: str) -> tuple[int, Record]:
        """The session an authorized URL points at, if its MAC is right; raises SessionNotFound."""
        found = self.store.find("session", session_id)
        if found is None or not hmac.compare_digest(self.mac(session_id, ticks).encode(), mac.encode()):
            raise SessionNotFound(session_id)
        return found

    def url_expired(self, session: Record, ticks: str) -> bool:
        """A URL lives 30 s from issue unless its session was mounted; only the newest URL counts."""
        if str(session.get("url_ticks")) != ticks:
            return True
        return not session.get("mounted") and \
            self.clock.now(session.get("participant_id")) > session["url_issued_at"] + URL_LIFETIME

    def transition(self, session: Record, state: str, **changes: Any) -> Record:
        """Move ``session`` to ``state`` (and record ``changes``), stored; raises InvalidTransition."""
        current = session.get("status", ACTIVE)
        if state != current and state not in TRANSITIONS[current]:
            raise InvalidTransition(f"session {session['id']} is {current} and cannot become {state}")
        updated = dict(session, status=state, **changes)
        self.store.put("session", session["participant_id"], session["id"], updated)
        return updated
