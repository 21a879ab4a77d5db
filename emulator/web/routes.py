"""Route declarations: what each route is (method, path, handler, how the middlewares treat it) and what it takes
and answers, from which the app registers it and the OpenAPI document describes it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from emulator.core.provenance import OWN, Source
from emulator.web.envelopes import Dialect

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RouteSpec:
    """How the middlewares treat a route: signed or open, and the envelope its answers and errors use."""

    signed: bool
    dialect: Dialect | None = None
    journaled: bool = True
    endpoint: str | None = None  # the name scenarios and the catalogue use: verify, process, debit, ...
    section: str = "data"  # v12 only: the section that carries the answer ("transaction", "session")


#: The admin API and the document: unsigned, and kept out of the journal (it records the API under test).
ADMIN = RouteSpec(signed=False, journaled=False)


@dataclass(frozen=True)
class Query:
    """A query parameter: its name, type (``int``, ``str`` or a ``Literal``) and meaning; an ``int`` may have a
    ``minimum``."""

    name: str
    type: Any
    description: str
    required: bool = False
    minimum: int | None = None


@dataclass(frozen=True)
class Doc:
    """What a route takes and answers, for the OpenAPI document (the summary defaults to the handler's docstring).

    ``body`` and ``answer`` are types (pydantic models, TypedDicts, ``str``); ``body`` may also name a schema the
    document composes itself (the verify request, one branch per account type). An admin route's JSON ``body``
    model and ``query`` are also what the admin guard checks each call against (``emulator.web.declared``), unless
    ``own_reader``: the handler reads and checks the body itself (a snapshot may exceed --max-body-size). The
    answer comes with ``status`` and with each status of ``responses`` (status: description); ``errors`` are
    statuses answered with a message, and ``refusals`` those with a message and a description of their own.
    For signed routes, ``answered_by`` lists the Ingo statuses whose answers carry ``answer``.
    ``source`` says where the answer's shape comes from: ``ingo(<the page>)`` or ``choice(<id>)``
    (``emulator.core.provenance``); a route under /_emulator is the emulator's own and needs none.
    """

    summary: str | None = None
    body: Any = None
    body_required: bool = False
    body_media_type: str = "application/json"
    own_reader: bool = False
    answer: Any = None
    media_type: str = "application/json"
    #: Other media types the answer may come in (as a query parameter asks), each with its type.
    alternatives: Mapping[str, Any] = field(default_factory=dict)
    status: int = 200
    responses: Mapping[int, str] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    refusals: Mapping[int, str] = field(default_factory=dict)
    query: tuple[Query, ...] = ()
    answered_by: tuple[int, ...] = (100,)
    tag: str = "Admin"
    source: Source | None = None


@dataclass(frozen=True)
class Route:
    """One route of the app."""

    method: str
    path: str
    handler: Handler
    spec: RouteSpec = ADMIN
    doc: Doc = field(default_factory=Doc)

    @property
    def source(self) -> Source | None:
        """Where the route's answer comes from: its declared source, or the emulator's own under /_emulator."""
        if self.doc.source is not None:
            return self.doc.source
        return OWN if self.path.startswith(OWN_PREFIX) else None


def signed_route(path: str, handler: Handler, *, endpoint: str, dialect: Dialect, body: Any, answer: Any, tag: str,
                 section: str = "data", answered_by: tuple[int, ...] = (100,), source: Source | None = None) -> Route:
    """A signed POST of Ingo's API: the name scenarios know it by, its envelope (and v12 section), what it takes and
    answers; where the answer comes from is the request model's ``source`` unless given."""
    return Route("POST", path, handler, RouteSpec(signed=True, dialect=dialect, endpoint=endpoint, section=section),
                 Doc(body=body, answer=answer, answered_by=answered_by, tag=tag,
                     source=source if source is not None else body.source))


#: Routes under this prefix are the emulator's own (the admin API, the inspector).
OWN_PREFIX = "/_emulator/"


#: Each route's spec, by the resource the router matched.
ROUTE_SPECS = web.AppKey("route_specs", dict[web.AbstractResource, RouteSpec])
#: The route declarations the app was built from, for the OpenAPI document.
ROUTE_TABLE = web.AppKey("route_table", tuple[Route, ...])
#: Each route's declaration, by the route the router matched (its method and path).
DECLARED = web.AppKey("declared_routes", dict[web.AbstractRoute, Route])
