"""Routes of Session Management (signed). The page an authorized_url opens is in emulator/plugin/urls.py."""

from emulator.sessions import answer_shapes, responses, schemas
from emulator.web.envelopes import Dialect
from emulator.web.routes import signed_route

ROUTES = (
    signed_route("/api/v1/sessions/point-in-time/plugin", responses.create, endpoint="session",
                 dialect=Dialect.SESSION, body=schemas.CreateSession, answer=answer_shapes.SessionData,
                 answered_by=(100, 101), tag="Session Management"),
)
