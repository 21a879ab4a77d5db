"""HMAC authentication (Kong's hmac-auth as Ingo uses it): signing, verification and diagnosis."""

from emulator.auth.diagnosis import AuthenticationFailed, Diagnosis
from emulator.auth.signing import (
    DEFAULT_SIGNED_HEADERS,
    authorization_header,
    body_digest,
    compute_signature,
    encode_signature,
    http_date,
    request_line,
    signing_string,
)
from emulator.auth.verify import AuthPolicy, SignedRequest, authenticate

__all__ = [
    "AuthPolicy", "AuthenticationFailed", "DEFAULT_SIGNED_HEADERS", "Diagnosis", "SignedRequest",
    "authenticate", "authorization_header", "body_digest", "compute_signature", "encode_signature",
    "http_date", "request_line", "signing_string",
]
