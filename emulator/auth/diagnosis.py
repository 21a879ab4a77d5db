"""Why a signed request was refused: Kong's message for the client, and a stable code and sentence for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from emulator.core.provenance import AUTHENTICATION, HMAC_AUTH, Source, choice, kong

#: Kong hmac-auth's messages, word for word.
UNAUTHORIZED = "Unauthorized"
DATE_REQUIRED = ("HMAC signature cannot be verified, a valid date or x-date header is required for "
                 "HMAC Authentication")
CANNOT_VERIFY = "HMAC signature cannot be verified"
DOES_NOT_MATCH = "HMAC signature does not match"

#: Every diagnosis code, with the Kong message a client receives alongside it.
CODES: dict[str, str] = {
    "missing_authorization": UNAUTHORIZED,
    "date_missing": DATE_REQUIRED,
    "date_unparseable": DATE_REQUIRED,
    "date_out_of_window": DATE_REQUIRED,
    "malformed_authorization": CANNOT_VERIFY,
    "duplicate_header": CANNOT_VERIFY,
    "required_header_not_signed": CANNOT_VERIFY,
    "algorithm_not_allowed": CANNOT_VERIFY,
    "unknown_username": CANNOT_VERIFY,
    "signature_not_base64": DOES_NOT_MATCH,
    "signature_base64_of_hex": DOES_NOT_MATCH,
    "signature_hex": DOES_NOT_MATCH,
    "signature_mismatch": DOES_NOT_MATCH,
    "body_digest_missing": DOES_NOT_MATCH,
    "body_digest_mismatch": DOES_NOT_MATCH,
    "content_length_mismatch": DOES_NOT_MATCH,
}

#: Where each refusal comes from: Kong's hmac-auth plugin (its order, rule and message), Ingo's authentication page
#: where it says so itself, or the emulator's choice. A new code in CODES needs its source here.
SOURCES: dict[str, Source] = {
    "missing_authorization": HMAC_AUTH,
    "date_missing": HMAC_AUTH,
    "date_unparseable": choice("x-date-format"),
    "date_out_of_window": kong(HMAC_AUTH.ref, "the 300 s window is on Ingo's authentication page too"),
    "malformed_authorization": HMAC_AUTH,
    "duplicate_header": choice("duplicate-header"),
    "required_header_not_signed": choice("signed-headers"),
    "algorithm_not_allowed": choice("legacy-algorithm"),
    "unknown_username": HMAC_AUTH,
    "signature_not_base64": HMAC_AUTH,
    "signature_base64_of_hex": AUTHENTICATION,
    "signature_hex": AUTHENTICATION,
    "signature_mismatch": HMAC_AUTH,
    "body_digest_missing": choice("body-digest"),
    "body_digest_mismatch": choice("body-digest"),
    "content_length_mismatch": choice("body-digest"),
}


class Explained(TypedDict):
    """Why the signature was refused (not sent by Kong; --no-diagnosis leaves it out). Some codes add facts such as
    signing_string, server_time or offset_seconds."""

    code: str
    detail: str


class Unauthorized(TypedDict):
    """The answer to a refused signature (HTTP 401): Kong's message, the request's id, the emulator's diagnosis."""

    message: Annotated[str, Field(json_schema_extra={"enum": list(dict.fromkeys(CODES.values()))})]
    request_id: str
    diagnosis: NotRequired[Explained]


@dataclass(frozen=True)
class Diagnosis:
    """A refusal's cause: a code from :data:`CODES`, a sentence, and facts that help (never a secret)."""

    code: str
    detail: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return CODES[self.code]

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, **self.facts}


class AuthenticationFailed(Exception):
    """Raised by :func:`emulator.auth.verify.authenticate`; rendered as a 401."""

    def __init__(self, code: str, detail: str, **facts: Any) -> None:
        super().__init__(detail)
        self.diagnosis = Diagnosis(code, detail, facts)

    @property
    def message(self) -> str:
        return self.diagnosis.message
