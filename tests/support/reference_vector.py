"""The signing reference vector of docs/contract.md section 3.2, literally: a secret, a body and a date, and the
digest, signing string and signature Kong's hmac-sha512 computes from them (openssl agrees: tests/auth/)."""

from __future__ import annotations

REF_SECRET = "example-secret"
REF_BODY = b'{"participant_id":12345,"account_type":"CA"}'
REF_DATE = "Fri, 17 Jan 2020 19:59:29 GMT"
REF_TIMESTAMP = 1579291169  # REF_DATE as seconds since the epoch
REF_DIGEST = "nK/1bOBHyWdUWINc1IZysPGFT1UjuUBPT1veK4uUfAcKPGXyZYvFV2eoOMmfWZ6n0pFkovu6NeVL7NKAq7DTew=="
REF_SIGNING_STRING = (
    "POST /gateway/verify HTTP/1.1\n"
    "x-date: Fri, 17 Jan 2020 19:59:29 GMT\n"
    "content-type: application/json\n"
    "content-sha512: nK/1bOBHyWdUWINc1IZysPGFT1UjuUBPT1veK4uUfAcKPGXyZYvFV2eoOMmfWZ6n0pFkovu6NeVL7NKAq7DTew==\n"
    "content-length: 44"
)
REF_SIGNATURE = "83vG3QgfvjMatKMJPvLGUprKoOKefFYX/qHAUd1TZtJTYyw50vrvpcdTefYFPmdcTD32gBd1c5L8xb7n51mD2Q=="
