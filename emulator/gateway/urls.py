"""Routes of the gateway (payapi host): all signed. Each answer is on the page of its request (the request model's
``source``), but for the older search's, which is the emulator's choice."""

from emulator.core.provenance import choice
from emulator.gateway import answer_shapes, responses, schemas
from emulator.web.envelopes import Dialect
from emulator.web.routes import signed_route

V11, V12 = Dialect.V11, Dialect.V12

ROUTES = (
    signed_route("/gateway/verify", responses.verify, endpoint="verify", dialect=V11, tag="Gateway",
                 body=schemas.VERIFY_REQUEST, answer=answer_shapes.VerifyData, source=schemas.VerifyCard.source),
    signed_route("/gateway/process", responses.process, endpoint="process", dialect=V11, tag="Gateway",
                 body=schemas.Process, answer=answer_shapes.PaymentData, answered_by=(100, 101)),
    signed_route("/gateway/v12/debit/process", responses.debit, endpoint="debit", dialect=V12, tag="Gateway",
                 section="transaction", body=schemas.Debit, answer=answer_shapes.DebitData, answered_by=(100, 101)),
    signed_route("/gateway/v1/biller/search", responses.biller_search, endpoint="biller_search", dialect=V11,
                 tag="Gateway", body=schemas.BillerSearch, answer=answer_shapes.BillerSearchData),
    signed_route("/gateway/search", responses.payee_search, endpoint="search", dialect=V11, tag="Gateway",
                 body=schemas.PayeeSearch, answer=answer_shapes.PayeeSearchData, source=choice("payee-search-answer")),
    signed_route("/risk/risksession/v2", responses.risk_session, endpoint="risk_session", dialect=V12, tag="Risk",
                 section="session", body=schemas.RiskSession, answer=answer_shapes.RiskSessionData),
    signed_route("/risk/riskscore/v2", responses.risk_score, endpoint="risk_score", dialect=V12, tag="Risk",
                 section="transaction", body=schemas.RiskScore, answer=answer_shapes.RiskScoreData),
)
