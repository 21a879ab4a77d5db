"""Routes of the gateway (payapi host): all signed. Each answer is on the page of its request (the request model's
``source``), but for the older search's, which is the emulator's choice."""

from emulator.core.provenance import choice
from emulator.gateway import answer_shapes, responses, schemas
from emulator.web.envelopes import Dialect
from emulator.web.routes import Doc, Route, RouteSpec

ROUTES = (
    Route("POST", "/gateway/verify", responses.verify,
          RouteSpec(signed=True, dialect=Dialect.V11, endpoint="verify"),
          Doc(body=schemas.VERIFY_REQUEST, answer=answer_shapes.VerifyData, tag="Gateway",
              source=schemas.VerifyCard.source)),
    Route("POST", "/gateway/process", responses.process,
          RouteSpec(signed=True, dialect=Dialect.V11, endpoint="process"),
          Doc(body=schemas.Process, answer=answer_shapes.PaymentData, answered_by=(100, 101), tag="Gateway",
              source=schemas.Process.source)),
    Route("POST", "/gateway/v12/debit/process", responses.debit,
          RouteSpec(signed=True, dialect=Dialect.V12, endpoint="debit", section="transaction"),
          Doc(body=schemas.Debit, answer=answer_shapes.DebitData, answered_by=(100, 101), tag="Gateway",
              source=schemas.Debit.source)),
    Route("POST", "/gateway/v1/biller/search", responses.biller_search,
          RouteSpec(signed=True, dialect=Dialect.V11, endpoint="biller_search"),
          Doc(body=schemas.BillerSearch, answer=answer_shapes.BillerSearchData, tag="Gateway",
              source=schemas.BillerSearch.source)),
    Route("POST", "/gateway/search", responses.payee_search,
          RouteSpec(signed=True, dialect=Dialect.V11, endpoint="search"),
          Doc(body=schemas.PayeeSearch, answer=answer_shapes.PayeeSearchData, tag="Gateway",
              source=choice("payee-search-answer"))),
    Route("POST", "/risk/risksession/v2", responses.risk_session,
          RouteSpec(signed=True, dialect=Dialect.V12, endpoint="risk_session", section="session"),
          Doc(body=schemas.RiskSession, answer=answer_shapes.RiskSessionData, tag="Risk",
              source=schemas.RiskSession.source)),
    Route("POST", "/risk/riskscore/v2", responses.risk_score,
          RouteSpec(signed=True, dialect=Dialect.V12, endpoint="risk_score", section="transaction"),
          Doc(body=schemas.RiskScore, answer=answer_shapes.RiskScoreData, tag="Risk",
              source=schemas.RiskScore.source)),
)
