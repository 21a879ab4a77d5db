"""Ingo business errors: each a class carrying its status code, raised by the domain, rendered in one place."""

from __future__ import annotations

from typing import Any, ClassVar, NotRequired

from typing_extensions import TypedDict

from emulator.core.catalogue import status
from emulator.core.provenance import GATEWAY_CODES, Source, choice

#: HTTP status per family when business errors are "mapped" (--error-http-status mapped).
MAPPED_HTTP_STATUS = {
    "success": 200, "soft_verification": 200, "request": 400, "velocity": 422, "routing": 422,
    "card_token": 422, "issuer_decline": 422, "system": 503, "general": 500, "session": 409, "webhook": 200,
}


class Diagnosis(TypedDict):
    """The emulator's explanation of a refusal (not sent by Ingo; --no-diagnosis leaves it out)."""

    code: str
    detail: str
    field: NotRequired[str]


#: Each refusal class by its diagnosis code (filled as the classes are defined): what the journal's diagnosis code
#: says of the rule that refused, and where that rule comes from.
REFUSALS: dict[str, type[IngoError]] = {}


class IngoError(Exception):
    """A refusal that Ingo reports with a status code in the response body.

    ``detail`` is the emulator's explanation (shown unless --no-diagnosis); ``field`` names the
    request field at fault, when there is one. A subclass with its own ``diagnosis_code`` says where its rule comes
    from in ``source`` (``ingo(page)`` or ``choice(id)``, ``emulator.core.provenance``).
    """

    code: int = 900
    diagnosis_code: str = "business_error"
    source: ClassVar[Source | None] = None

    def __init_subclass__(cls, *, code: int | None = None, diagnosis_code: str | None = None,
                          source: Source | None = None, **kwargs: Any) -> None:
        """A refusal is declared in its class line (``class CardExpired(IngoError, code=751,
        diagnosis_code="card_expired", source=choice("status-751"))``); one with a diagnosis code joins REFUSALS."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if source is not None:
            cls.source = source
        if diagnosis_code is not None:
            cls.diagnosis_code = diagnosis_code
            REFUSALS[diagnosis_code] = cls

    def __init__(self, detail: str | None = None, *, code: int | None = None, message: str | None = None,
                 field: str | None = None, data: dict[str, Any] | None = None) -> None:
        if code is not None:
            self.code = code
        self.message = message if message is not None else status(self.code).message
        self.detail = detail or self.message
        self.field = field
        self.data = data
        super().__init__(self.detail)

    @property
    def family(self) -> str:
        try:
            return status(self.code).family
        except KeyError:
            return "general"

    def http_status(self, mode: str) -> int:
        """The HTTP status to answer with: 200 always, or mapped by the code's family."""
        return 200 if mode == "200" else MAPPED_HTTP_STATUS.get(self.family, 400)

    def diagnosis(self) -> Diagnosis:
        found: Diagnosis = {"code": self.diagnosis_code, "detail": self.detail}
        if self.field:
            found["field"] = self.field
        return found


class MissingParameter(IngoError, code=400, diagnosis_code="missing_parameter", source=GATEWAY_CODES):
    """A required parameter is missing or null (Ingo 400)."""


class InvalidParameter(IngoError, code=401, diagnosis_code="invalid_parameter", source=GATEWAY_CODES):
    """A parameter has the wrong type, length, format or value (Ingo 401)."""


class TimestampTooDistant(IngoError, code=402, diagnosis_code="timestamp_too_distant",
                          source=choice("body-timestamp-skew")):
    """The body ``timestamp`` is outside the allowed skew (Ingo 402)."""


class MalformedBody(IngoError, code=401, diagnosis_code="malformed_body", source=choice("malformed-body")):
    """The body is not a JSON object (rendered as Ingo 401, HTTP 400)."""

    def http_status(self, mode: str) -> int:
        return 400
