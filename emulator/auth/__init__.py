"""HMAC authentication (Kong's hmac-auth as Ingo uses it): ``kong_signing`` (the signing string and signature, light
enough for the ``sign`` and ``healthcheck`` commands to import), ``verify`` (checking a request), ``diagnosis`` (why
a signature was refused) and ``client`` (the headers that sign a request)."""
