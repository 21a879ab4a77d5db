"""Routes of Session Management (signed). The page an authorized_url opens is in emulator/plugin/urls.py."""

from emulator.web.envelopes import Dialect
from emulator.web.state import RouteSpec
from emulator.sessions import responses

ROUTES = [
    ("POST", "/api/v1/sessions/point-in-time/plugin", responses.create,
     RouteSpec(signed=True, dialect=Dialect.SESSION, endpoint="session")),
]
