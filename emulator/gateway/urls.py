"""Routes of the gateway (payapi host): all signed."""

from emulator.web.envelopes import Dialect
from emulator.gateway import responses
from emulator.web.state import RouteSpec


def _spec(dialect: Dialect, endpoint: str) -> RouteSpec:
    return RouteSpec(signed=True, dialect=dialect, endpoint=endpoint)


ROUTES = [
    ("POST", "/gateway/verify", responses.verify, _spec(Dialect.V11, "verify")),
    ("POST", "/gateway/process", responses.process, _spec(Dialect.V11, "process")),
    ("POST", "/gateway/v12/debit/process", responses.debit, _spec(Dialect.V12, "debit")),
    ("POST", "/gateway/v1/biller/search", responses.biller_search, _spec(Dialect.V11, "biller_search")),
    ("POST", "/risk/risksession/v2", responses.risk_session, _spec(Dialect.V12, "risk_session")),
    ("POST", "/risk/riskscore/v2", responses.risk_score, _spec(Dialect.V12, "risk_score")),
]
