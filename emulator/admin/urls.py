"""Routes of the admin API."""

from emulator.admin import responses

ROUTES = [
    ("GET", "/_emulator/health", responses.health),
    ("GET", "/_emulator/requests", responses.requests),
]
