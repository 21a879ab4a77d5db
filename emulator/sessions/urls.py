"""Routes of Session Management (signed). The page an authorized_url opens is in emulator/plugin/urls.py."""

from emulator.sessions import answer_shapes, responses, schemas
from emulator.web.envelopes import Dialect
from emulator.web.routes import Doc, Route, RouteSpec

ROUTES = (
    Route("POST", "/api/v1/sessions/point-in-time/plugin", responses.create,
          RouteSpec(signed=True, dialect=Dialect.SESSION, endpoint="session"),
          Doc(body=schemas.CreateSession, answer=answer_shapes.SessionData, answered_by=(100, 101),
              tag="Session Management",
              source=schemas.CreateSession.source)),
)
