"""Admin calls as a camelCase client sends them (Jackson's default naming), over raw HTTP: every admin route refuses
a query parameter or body key it does not declare, and a null scope, with a 400 that names it and the closest known
name; nothing changes for anyone. The routes are taken from the declarations, so a new route is covered too."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.app import ROUTES
from emulator.settings import Settings
from emulator.testing import EmulatorServer
from emulator.web.middlewares import OPEN_ADMIN_PATHS, OPEN_ADMIN_PREFIXES
from emulator.web.routes import Route
from tests.support.outside import Client, admin, call

SCENARIO = """
version: 1
scenarios:
  - name: broke
    active: false
    rules:
      - {name: no-funds, match: {endpoint: process}, respond: {status: 851}}
"""

#: Every admin route a caller sends input to (health and the inspector's files take none).
CHECKED = [r for r in ROUTES if r.path.startswith("/_emulator/") and r.path not in OPEN_ADMIN_PATHS
           and not r.path.startswith(OPEN_ADMIN_PREFIXES)]
#: The routes whose JSON body the admin guard checks (not the YAML upload, not a snapshot read by its handler).
JSON_BODIES = [r for r in CHECKED if r.method in ("POST", "DELETE") and not r.doc.own_reader
               and r.doc.body_media_type == "application/json"]


def _id(route: Route) -> str:
    return f"{route.method} {route.path}"


def concrete(path: str) -> str:
    """A route's path with its placeholders filled in (the refusal comes before any lookup)."""
    return re.sub(r"\{[^}]+\}", lambda found: {"{name}": "broke", "{username}": "nobody"}.get(found.group(), "1"),
                  path)


def content_type(route: Route) -> str:
    return route.doc.body_media_type if route.doc.body is not None else "application/json"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    running = EmulatorServer(Settings(rate_limit=0)).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def tenants(server: EmulatorServer) -> list[Client]:
    """Two tenants with state of their own, a scenario active for the first, and the clock frozen."""
    clients = [Client.minted(server.url), Client.minted(server.url)]
    for client in clients:
        client.token()
    status, _, answer = call(server.url, "POST", "/_emulator/scenarios?name=test.yaml", SCENARIO.encode(),
                             headers={"Content-Type": "application/yaml"})
    assert status == 201, answer
    assert admin(server.url, "POST", "/_emulator/scenarios/broke/activate",
                 {"participant_id": clients[0].participant_id})[0] == 200
    assert admin(server.url, "POST", "/_emulator/clock", {"freeze": True})[0] == 200
    return clients


def observed(url: str, tenants: list[Client]) -> dict[str, Any]:
    """What a user can see of everyone: each tenant's state and journal, scenarios, clock, endpoints, rate limits,
    events and deliveries."""
    seen: dict[str, Any] = {}
    for client in tenants:
        pid = client.participant_id
        seen[f"state {pid}"] = admin(url, "GET", f"/_emulator/state?participant_id={pid}")[1]
        seen[f"journal {pid}"] = [e["id"] for e in admin(url, "GET", f"/_emulator/requests?participant_id={pid}")[1]
                                  ["requests"]]
    seen["scenarios"] = [(s["name"], s["active"], s["active_for"])
                         for s in admin(url, "GET", "/_emulator/scenarios")[1]["scenarios"]]
    clock = admin(url, "GET", "/_emulator/clock")[1]
    seen["clock"] = (clock["now"], clock["frozen"], clock["pending_count"])
    seen["endpoints"] = admin(url, "GET", "/_emulator/webhooks/endpoints")[1]
    seen["ratelimit"] = admin(url, "GET", "/_emulator/ratelimit")[1]["credentials"]
    seen["events"] = admin(url, "GET", "/_emulator/events")[1]["count"]
    seen["deliveries"] = admin(url, "GET", "/_emulator/webhooks")[1]["count"]
    seen["credentials"] = admin(url, "GET", "/_emulator/credentials")[1]
    return seen


@pytest.fixture
def unchanged(server: EmulatorServer, tenants: list[Client]) -> Iterator[None]:
    """The test's refused calls change nothing anyone can see."""
    before = observed(server.url, tenants)
    yield
    assert observed(server.url, tenants) == before


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("route", CHECKED, ids=_id)
def test_a_camel_case_query_parameter_is_refused_on_every_admin_route(server: EmulatorServer, tenants: list[Client],
                                                                       route: Route) -> None:
    target = f"{concrete(route.path)}?participantId={tenants[0].participant_id}"
    status, _, answer = call(server.url, route.method, target, b"{}" if route.method != "GET" else None,
                             headers={"Content-Type": content_type(route)})
    assert status == 400, answer
    message = answer["message"]
    assert message.startswith(f"participantId is not a query parameter of {route.method} {route.path}"), message
    declared = [q.name for q in route.doc.query]
    if "participant_id" in declared:
        assert "did you mean participant_id?" in message, message
        assert f"(known: {', '.join(declared)})" in message
    elif not declared:
        assert "which takes none" in message, message


PARTICIPANT_FILTERS = [r for r in CHECKED if "participant_id" in [q.name for q in r.doc.query]]


def test_every_listing_scoped_by_participant_names_it_participant_id() -> None:
    assert {r.path for r in PARTICIPANT_FILTERS} == {"/_emulator/requests", "/_emulator/findings",
                                                    "/_emulator/events", "/_emulator/webhooks", "/_emulator/state",
                                                        "/_emulator/waits", "/_emulator/provenance",
                                                        "/_emulator/readiness", "/_emulator/readiness/report",
                                                        "/_emulator/clock"}
    assert not [r for r in ROUTES for q in r.doc.query if q.name == "participant"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("route", PARTICIPANT_FILTERS, ids=_id)
@pytest.mark.parametrize("query", ["participant={pid}", "participantId={pid}", "participantID={pid}",
                                   "participant_id=", "participant_id=null", "participant_id={pid}&participant_id=1"])
def test_a_listing_never_answers_everyone_for_a_scope_it_cannot_read(server: EmulatorServer, tenants: list[Client],
                                                                     route: Route, query: str) -> None:
    status, answer = admin(server.url, "GET", f"{route.path}?{query.format(pid=tenants[0].participant_id)}")
    assert status == 400, answer
    assert "participant_id" in answer["message"], answer


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("route", JSON_BODIES, ids=_id)
def test_a_camel_case_body_key_is_refused_on_every_admin_route(server: EmulatorServer, tenants: list[Client],
                                                               route: Route) -> None:
    body = json.dumps({"participantId": tenants[0].participant_id}).encode()
    status, _, answer = call(server.url, route.method, concrete(route.path), body)
    assert status == 400, answer
    message = answer["message"]
    model = route.doc.body
    if model is None:
        assert message == f"{route.method} {route.path} takes no body (it has participantId); send none, or {{}}"
    else:
        assert message.startswith("participantId is not a key this call knows"), message
        if "participant_id" in model.model_fields:
            assert "did you mean participant_id?" in message, message


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("method", "path", "body", "named"), [
    ("POST", "/_emulator/reset", {"participant": "{pid}"}, "participant is not a key this call knows; did you mean "
                                                           "participant_id?"),
    ("POST", "/_emulator/reset", {"participantId": "{pid}"}, "participantId is not a key this call knows; did you "
                                                             "mean participant_id?"),
    ("POST", "/_emulator/reset", {"participant_id": None}, "participant_id is null; leave the key out"),
    ("POST", "/_emulator/reset", {"participant_id": "{pid}s"}, "participant_id: must be an integer"),
    ("POST", "/_emulator/reset?participant_id={pid}", None, "which takes none; did you mean participant_id in the "
                                                            "JSON body?"),
    ("POST", "/_emulator/scenarios/broke/activate", {"participantId": "{pid}"}, "did you mean participant_id?"),
    ("POST", "/_emulator/scenarios/broke/deactivate", {"participantId": "{pid}"}, "did you mean participant_id?"),
    ("POST", "/_emulator/scenarios/broke/activate", {"participant_id": None}, "participant_id is null"),
    ("POST", "/_emulator/scenarios/broke/deactivate", {"participant_id": None}, "participant_id is null"),
    ("POST", "/_emulator/clock", {"advanceSeconds": 60}, "advanceSeconds is not a key this call knows"),
    ("POST", "/_emulator/clock", {"advance": 60, "participantId": "{pid}"}, "participantId is not a key"),
    ("POST", "/_emulator/clock", {"freeze": None}, "freeze is null"),
    ("POST", "/_emulator/ratelimit", {"userName": "test", "refuseNext": 3}, "did you mean username?"),
    ("POST", "/_emulator/ratelimit", {"username": "test", "refuseNext": 3}, "did you mean refuse_next?"),
    ("POST", "/_emulator/requests/wait", {"match": {"participantId": "{pid}"}, "timeout": 0},
     "match.participantId is not a key this call knows; did you mean match.participant_id?"),
    ("POST", "/_emulator/requests/wait", {"match": {"participant_id": None}, "timeout": 0}, "participant_id is null"),
    ("POST", "/_emulator/webhooks/wait", {"match": {"participantId": "{pid}"}, "timeout": 0},
     "did you mean match.participant_id?"),
    ("POST", "/_emulator/webhooks/wait", {"match": {"eventId": "x"}, "timeout": 0}, "did you mean match.event_id?"),
    ("POST", "/_emulator/webhooks/wait", {"match": {"participant_id": None}, "timeout": 0}, "participant_id is null"),
    ("POST", "/_emulator/webhooks/endpoints", {"url": "http://127.0.0.1:9/hook", "participantId": "{pid}"},
     "did you mean participant_id?"),
    ("POST", "/_emulator/webhooks/endpoints", {"url": "http://127.0.0.1:9/hook", "participant_id": None},
     "participant_id is null"),
    ("POST", "/_emulator/events", {"topic": "gateway.check.paid", "participantId": "{pid}"},
     "did you mean participant_id?"),
    ("POST", "/_emulator/credentials", {"participantId": 4343}, "did you mean participant_id?"),
    ("POST", "/_emulator/credentials", {"webhookUrl": "http://127.0.0.1:9/hook"}, "did you mean webhook_url?"),
    ("POST", "/_emulator/credentials", {"participant_id": None}, "participant_id is null"),
    ("POST", "/_emulator/sign", {"path": "/gateway/verify", "httpVersion": "1.1"}, "did you mean http_version?"),
    ("POST", "/_emulator/requests/1/replay", {"participantUniqueId1": "new"},
     "did you mean participant_unique_id1?"),
    ("GET", "/_emulator/findings?participant_id={pid}&Code=x", None, "Code is not a query parameter of GET "
                                                                     "/_emulator/findings; did you mean code?"),
    ("GET", "/_emulator/requests?limit=ten", None, "the query parameter limit must be an integer, not 'ten'"),
    ("GET", "/_emulator/triggers?scenarioName=broke", None, "did you mean scenario?"),
])
def test_what_a_jackson_client_sends_gets_a_clear_400_and_changes_nothing(
        server: EmulatorServer, tenants: list[Client], method: str, path: str, body: Any, named: str) -> None:
    pid = tenants[0].participant_id

    def filled(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: filled(v) for k, v in value.items()}
        if value == "{pid}":
            return pid
        return value.format(pid=pid) if isinstance(value, str) else value

    status, answer = admin(server.url, method, path.format(pid=pid), filled(body) if body is not None else None)
    assert status == 400, answer
    assert named in answer["message"], answer


def test_a_refused_reset_leaves_every_tenant_and_the_right_one_resets_only_its_own(
        server: EmulatorServer, tenants: list[Client]) -> None:
    fresh, other = Client.minted(server.url), tenants[1]
    fresh.token()
    for body in ({"participant": fresh.participant_id}, {"participantId": fresh.participant_id},
                 {"participant_id": None}):
        assert admin(server.url, "POST", "/_emulator/reset", body)[0] == 400
    for client in (fresh, other):
        state = admin(server.url, "GET", f"/_emulator/state?participant_id={client.participant_id}")[1]
        assert len(state["tokens"]) == 1, state
    assert admin(server.url, "POST", "/_emulator/reset", {"participant_id": fresh.participant_id}) == (
        200, {"reset": "participant", "participant_id": fresh.participant_id})
    assert admin(server.url, "GET", f"/_emulator/state?participant_id={fresh.participant_id}")[1]["tokens"] == []
    assert len(admin(server.url, "GET", f"/_emulator/state?participant_id={other.participant_id}")[1]["tokens"]) == 1


def test_a_refused_activation_scripts_nobody(server: EmulatorServer, tenants: list[Client]) -> None:
    other = tenants[1]
    assert admin(server.url, "POST", "/_emulator/scenarios/broke/activate",
                 {"participantId": other.participant_id})[0] == 400
    token = other.token()
    status, _, answer = other.push(token, 5.0, "after-refused-activation")
    assert status == 200 and answer["status"] == 100, answer


def test_a_listing_filter_by_participant_id_answers_only_that_tenant(server: EmulatorServer,
                                                                      tenants: list[Client]) -> None:
    first, second = tenants
    listed = admin(server.url, "GET", f"/_emulator/requests?participant_id={first.participant_id}")[1]["requests"]
    assert listed and {e["participant_id"] for e in listed} == {first.participant_id}
    quoted = urllib.parse.quote(str(second.participant_id))
    state = admin(server.url, "GET", f"/_emulator/state?participant_id={quoted}")[1]
    assert {t["participant_id"] for t in state["tokens"]} == {second.participant_id}


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("match", "reason"), [
    ({"amount": {"min": 5, "max": 1}}, "match.amount: min 5 is more than max 1: no amount can match"),
    ({"amount": {"exact": 7, "max": 5}}, "match.amount: exact 7 is outside min and max"),
    ({"amount": {"exact": 5.25, "cents": [99]}}, "match.amount: exact 5.25 does not have the cents [99]"),
    ({"headers": {"Cookie": "session=1"}}, "match.headers.Cookie: the journal never keeps this header's value"),
    ({"headers": {"X-Emulator-Admin-Token": {"prefix": "t"}}}, "match.headers.X-Emulator-Admin-Token: the journal "
                                                               "never keeps"),
    ({"headers": {"Authorization": 'hmac username="test", algorithm="hmac-sha512", signature="abc"'}},
     "match.headers.Authorization: the journal keeps this header with its credential redacted, so exact never "
     "matches"),
    ({"body": {"cvv": "123"}}, "match.body.cvv: the journal keeps this value masked (as '[removed]')"),
    ({"body": {"account": "4111111111111111"}}, "match.body.account: the journal keeps this value masked "
                                                "(as '************1111')"),
    ({"recipient": {"first_name": {"exact": "Ada", "prefix": "Jo"}}},
     "match.recipient.first_name: exact does not start with prefix"),
])
def test_a_wait_that_can_only_time_out_is_refused_at_once(server: EmulatorServer, match: dict[str, Any],
                                                          reason: str) -> None:
    status, answer = admin(server.url, "POST", "/_emulator/requests/wait", {"match": match, "timeout": 30})
    assert status == 400, answer
    assert answer["message"].startswith(reason), answer
    assert "4111111111111111" not in answer["message"] and "123" not in answer["message"]


def test_a_wait_on_what_the_journal_keeps_still_matches(server: EmulatorServer, tenants: list[Client]) -> None:
    base = {"participant_id": tenants[0].participant_id, "endpoint": "verify"}
    for extra in ({"headers": {"Authorization": {"prefix": 'hmac username="'}}},
                  {"body": {"account": "************1111"}}):
        status, answer = admin(server.url, "POST", "/_emulator/requests/wait",
                               {"match": {**base, **extra}, "count": {"at_least": 1}, "timeout": 5})
        assert status == 200 and answer["matched"] >= 1, answer


@pytest.mark.parametrize("path", ["/_emulator/requests", "/_emulator/state", "/_emulator/waits"])
def test_a_negative_limit_is_refused_naming_the_parameter(server, path: str) -> None:
    status, answer = admin(server.url, "GET", f"{path}?limit=-1")
    assert (status, answer["message"]) == (400, "the query parameter limit must be 0 or more, not '-1'")
