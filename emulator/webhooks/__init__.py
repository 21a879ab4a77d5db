"""Webhooks: Ingo's event envelope, topics, signatures and delivery.

Receivers verify deliveries with :func:`verify_signature`::

    from emulator.webhooks import verify_signature
    ok = verify_signature(raw_body, request.headers["X-Ingo-Signature"], secret)
"""

from emulator.webhooks.signature import SIGNATURE_HEADER, signature_header, verify_signature

__all__ = ["SIGNATURE_HEADER", "signature_header", "verify_signature"]
