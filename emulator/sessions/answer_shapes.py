"""What Session Management answers: the ``data`` of a created (or re-issued) session, as a typed model."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict


class SessionData(TypedDict):
    """The session and its authorized URL, which lives 30 seconds unless the page mounts it."""

    session_identifier: str
    authorized_url: Annotated[str, Field(json_schema_extra={"format": "uri"})]
    authorized_url_expiration_utc: Annotated[str, Field(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$")]
    participant_unique_id1: str
    participant_unique_id2: str
