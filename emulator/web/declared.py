"""Admin calls checked against their route's declaration before the handler runs: each query parameter by name
and type (``Doc.query``), the JSON body by its model (``Doc.body``); an unknown name is a 400 that names it and the
closest known one, so a misspelt or camelCase scope never turns into an action on everyone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from aiohttp import web
from pydantic import BaseModel, ValidationError

from emulator.core.validation import closest, explain, keys_at, shown_name, unknown_name
from emulator.web.body import json_object, parse_json, read_body
from emulator.web.replies import JSON_CONTENT_TYPE, json_response
from emulator.web.routes import DECLARED, Query, Route

Model = TypeVar("Model", bound=BaseModel)

#: The query parameters of the call, each as its declared type (None when absent).
QUERY = web.RequestKey("declared_query", dict[str, Any])
#: The call's body, validated as the route's declared model.
BODY = web.RequestKey("declared_body", BaseModel)
#: The longest query value repeated in a message.
SHOWN_VALUE = 40


class Refused(Exception):
    """The call is not what its route declares; the message names the name or value and the fix."""


def declaration(request: web.Request) -> Route | None:
    """The declaration of the route the request matched (None for no route: the router answers 404 or 405)."""
    return request.app[DECLARED].get(request.match_info.route)


async def refusal(request: web.Request) -> web.Response | None:
    """A 400 naming what the call sends that its route does not declare, or None (the values are then kept for
    :func:`query` and :func:`body`)."""
    route = declaration(request)
    if route is None:
        return None
    try:
        request[QUERY] = _query(request, route)
        await _body(request, route)
    except Refused as refused:
        return json_response({"message": str(refused)}, status=400)
    return None


def query(request: web.Request) -> Mapping[str, Any]:
    """The call's declared query parameters, as their types (None when absent)."""
    return request.get(QUERY) or {}


def body(request: web.Request, model: type[Model]) -> Model:
    """The call's body as ``model``, as the admin guard validated it against the route's declaration."""
    found = request.get(BODY)
    if not isinstance(found, model):
        raise TypeError(f"{request.method} {request.path} does not declare a {model.__name__} body")
    return found


def _where(route: Route) -> str:
    return f"{route.method} {route.path}"


def _query(request: web.Request, route: Route) -> dict[str, Any]:
    declared = {q.name: q for q in route.doc.query}
    values: dict[str, Any] = dict.fromkeys(declared)
    for name in request.query:
        if name not in declared:
            raise Refused(_unknown_parameter(name, route))
        given = request.query.getall(name)
        if len(given) > 1:
            raise Refused(f"the query parameter {name} is given {len(given)} times; give it once")
        values[name] = _typed(declared[name], given[0])
    return values


def _unknown_parameter(name: str, route: Route) -> str:
    known = [q.name for q in route.doc.query]
    where = f"a query parameter of {_where(route)}"
    if known:
        return unknown_name(shown_name(name), known, where)
    model = route.doc.body if _checks_body(route) else None
    in_body = closest(name, keys_at(model, ())) if model is not None else None
    hint = f"; did you mean {in_body} in the JSON body?" if in_body else ""
    return f"{shown_name(name)} is not {where}, which takes none{hint}"


def _typed(declared: Query, raw: str) -> Any:
    """A query value as its declared type; Refused naming the parameter when it is not one."""
    kind = declared.type
    shown = repr(raw[:SHOWN_VALUE])
    if kind is int:
        try:
            number = int(raw)
        except ValueError:
            raise Refused(f"the query parameter {declared.name} must be an integer, not {shown}") from None
        if declared.minimum is not None and number < declared.minimum:
            raise Refused(f"the query parameter {declared.name} must be {declared.minimum} or more, not {shown}")
        return number
    if get_origin(kind) is Literal:
        choices = get_args(kind)
        if raw not in choices:
            raise Refused(f"the query parameter {declared.name} must be one of {', '.join(map(str, choices))}, "
                          f"not {shown}")
    return raw


def _checks_body(route: Route) -> bool:
    """Whether the guard checks the route's body: a JSON body the handler does not read itself."""
    doc = route.doc
    return not doc.own_reader and doc.body_media_type == JSON_CONTENT_TYPE


async def _body(request: web.Request, route: Route) -> None:
    if not _checks_body(route):
        return
    model = route.doc.body
    if model is None:
        await _no_body(request, route)
        return
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{_where(route)}: an admin body is declared as a pydantic model (emulator.core.validation."
                        f"Body), not {model!r}")
    document = await json_object(request, optional=not route.doc.body_required)
    try:
        request[BODY] = model.model_validate(document)
    except ValidationError as exc:
        raise Refused(explain(exc, model=model)) from None


async def _no_body(request: web.Request, route: Route) -> None:
    """A route that takes no body takes an empty one, or ``{}``."""
    if not request.body_exists:
        return
    document = parse_json(await read_body(request), empty={})
    if document == {}:
        return
    sent = f" (it has {shown_name(next(iter(document)))})" if isinstance(document, dict) and document else ""
    raise Refused(f"{_where(route)} takes no body{sent}; send none, or {{}}")
