"""Routes of Session Management (signed) and of the session page (opened by a browser)."""

from emulator.envelope import Dialect
from emulator.runtime import RouteSpec
from emulator.sessions import responses

ROUTES = [
    ("POST", "/api/v1/sessions/point-in-time/plugin", responses.create,
     RouteSpec(signed=True, dialect=Dialect.SESSION, endpoint="session")),
]
PAGE_ROUTES = [
    ("GET", "/plugin/session/{session_id}", responses.page),
]
