"""Signing requests the way Ingo documents it, for tests, scripts and the ``sign`` command (the public face of
:mod:`emulator.auth.client`)::

    from emulator.client import encode_body, sign
"""

from emulator.auth.client import curl_command, encode_body, request_target, sign

__all__ = ["curl_command", "encode_body", "request_target", "sign"]
