"""The Postman collection's admin folders: a story that creates what it reads and deletes what it created, and the
requests that change what others use (resets), sent only on their own.

Each request names its route as the OpenAPI document does; :func:`folders` refuses a route the document does not
have, so a renamed route fails the generator, not a user's run. Ids the story creates are kept in collection
variables by each request's test script and sent by the later ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.openapi.document import JSON

YAML = "application/yaml"
#: Makes a Postman script event: (listen, lines) -> the event (``postman.event``).
Event = Callable[[str, list[str]], dict[str, Any]]
STORY_FOLDER = "Admin (unsigned)"
STORY_DESCRIPTION = (
    "The emulator's admin API, sent unsigned, as a story: it mints a tenant, gives it a webhook endpoint and a "
    "scenario, emits an event and follows its deliveries, moves the tenant's own clock, reads the journal the "
    "Gateway folder left, then deletes the scenario, the endpoint and the tenant (and with it everything its "
    "participant had). Run it after the Gateway folder. With --admin-token, add the header Authorization: Bearer "
    "<token>.")
ON_ITS_OWN_FOLDER = "Send on its own"
ON_ITS_OWN_DESCRIPTION = (
    "Requests that change what other requests, tests or people may be using: resets, and a readiness rehearsal "
    "of the default participant (starting one starts it afresh). The collection's script skips them in a run that "
    "sends anything else; send one on its own, or run this folder alone "
    f"(newman run ... --folder \"{ON_ITS_OWN_FOLDER}\").")
#: The scenario the story uploads: a decline for one participant_unique_id1 prefix, activated for the tenant only.
SCENARIO = """version: 1
scenarios:
  - name: postman-decline
    description: Decline with 851 the payments whose participant_unique_id1 starts with postman-decline-
    rules:
      - name: insufficient-funds
        match: {endpoint: process, participant_unique_id1: {prefix: "postman-decline-"}}
        respond: {status: 851}
"""
#: Variables the story keeps between requests (set by a test script), with what sets them.
KEPT = {
    "webhookUrl": ("http://127.0.0.1:9000/ingo", "the receiver the tenant's webhook endpoints deliver to"),
    "tenantUsername": ("", "set by 'Mint a tenant'"),
    "tenantParticipantId": ("", "set by 'Mint a tenant'"),
    "endpointId": ("", "set by 'Add a webhook endpoint for the tenant'"),
    "scenarioName": ("", "set by 'Upload a scenario'"),
    "eventId": ("", "set by 'Emit a webhook event for the tenant'"),
    "deliveryId": ("", "set by 'Wait for the event's deliveries'"),
    "requestId": ("", "set by 'The journal'"),
}


@dataclass(frozen=True)
class Step:
    """One admin request: what it sends, the status and facts its answer must show, what it keeps for later."""

    name: str
    method: str
    #: The route as the OpenAPI document names it; its {parameters} are filled from ``path_values``.
    route: str
    path_values: dict[str, str] = field(default_factory=dict)
    query: str = ""
    body: str | None = None
    media_type: str = JSON
    status: int = 200
    #: JavaScript assertions on ``answer`` (the parsed JSON answer).
    checks: tuple[str, ...] = ()
    #: Collection variables to set from the answer: variable -> JavaScript expression on ``answer``.
    keeps: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The path Postman sends, with ``{{variables}}`` in place of the route's parameters."""
        return re.sub(r"\{([^}]+)\}", lambda m: "{{" + self.path_values[m.group(1)] + "}}", self.route)


def _body(value: dict[str, Any]) -> str:
    """A JSON body, indented; ``"{{name}}"`` stays quoted, ``"{{#name}}"`` becomes the bare (numeric) variable."""
    return re.sub(r'"\{\{#(\w+)\}\}"', r"{{\1}}", json.dumps(value, indent=2))


TENANT = "{{#tenantParticipantId}}"
DEFAULT_PARTICIPANT = "{{#participantId}}"
EVENT_TOPIC = "gateway.transaction.recipient.payment.status.success"

STORY = (
    Step("Health", "GET", "/_emulator/health", checks=("pm.expect(answer.status).to.equal('ok');",)),
    Step("Mint a tenant (its own credential, participant and webhook endpoint)", "POST", "/_emulator/credentials",
         body=_body({"webhook_url": "{{webhookUrl}}", "webhook_secret": "whsec-postman-tenant",
                     "topics": ["gateway.*"]}),
         status=201, checks=("pm.expect(answer.secret).to.be.a('string');",),
         keeps={"tenantUsername": "answer.username", "tenantParticipantId": "answer.participant_id"}),
    Step("Credentials (the tenant is there; never a secret)", "GET", "/_emulator/credentials",
         checks=("const tenant = answer.credentials.find((c) => c.username === "
                 "pm.collectionVariables.get('tenantUsername'));",
                 "pm.expect(tenant, 'the tenant just minted').to.be.an('object');",
                 "pm.expect(tenant).to.not.have.property('secret');")),
    Step("Add a webhook endpoint for the tenant", "POST", "/_emulator/webhooks/endpoints",
         body=_body({"url": "{{webhookUrl}}/payments", "participant_id": TENANT,
                     "topics": ["gateway.transaction.recipient.payment.status.*"]}),
         status=201, keeps={"endpointId": "answer.id"}),
    Step("Webhook endpoints", "GET", "/_emulator/webhooks/endpoints",
         checks=("pm.expect(answer.endpoints.map((e) => e.id)).to.include("
                 "pm.collectionVariables.get('endpointId'));",)),
    Step("Upload a scenario", "POST", "/_emulator/scenarios", query="name=postman.yaml", body=SCENARIO,
         media_type=YAML, status=201, checks=("pm.expect(answer.added).to.have.lengthOf(1);",),
         keeps={"scenarioName": "answer.added[0]"}),
    Step("Activate the scenario for the tenant only", "POST", "/_emulator/scenarios/{name}/activate",
         {"name": "scenarioName"}, body=_body({"participant_id": TENANT})),
    Step("Scenarios (active for the tenant)", "GET", "/_emulator/scenarios",
         checks=("const scenario = answer.scenarios.find((s) => s.name === "
                 "pm.collectionVariables.get('scenarioName'));",
                 "pm.expect(scenario.active_for).to.include(Number(pm.collectionVariables.get("
                 "'tenantParticipantId')));")),
    Step("The scenario's rules as triggers", "GET", "/_emulator/triggers", query="scenario={{scenarioName}}"),
    Step("Deactivate the scenario for the tenant", "POST", "/_emulator/scenarios/{name}/deactivate",
         {"name": "scenarioName"}, body=_body({"participant_id": TENANT})),
    Step("Emit a webhook event for the tenant", "POST", "/_emulator/events",
         body=_body({"topic": EVENT_TOPIC, "participant_id": TENANT,
                     "event": {"status": "1125", "client_message": "Success"}}),
         status=201, keeps={"eventId": "answer.id"}),
    Step("Wait for the event's deliveries (one to each of the tenant's endpoints)", "POST", "/_emulator/webhooks/wait",
         body=_body({"match": {"event_id": "{{eventId}}"}, "count": 2, "timeout": 5}),
         keeps={"deliveryId": "answer.deliveries[0].id"}),
    Step("One delivery with its attempts", "GET", "/_emulator/webhooks/{id}", {"id": "deliveryId"},
         checks=("pm.expect(answer.event_id).to.equal(pm.collectionVariables.get('eventId'));",)),
    Step("Send the delivery again now", "POST", "/_emulator/webhooks/{id}/redeliver", {"id": "deliveryId"}),
    Step("The tenant's deliveries", "GET", "/_emulator/webhooks", query="participant_id={{tenantParticipantId}}",
         checks=("pm.expect(answer.count).to.equal(2);",)),
    Step("The tenant's events", "GET", "/_emulator/events", query="participant_id={{tenantParticipantId}}",
         checks=("pm.expect(answer.events.map((e) => e.id)).to.include(pm.collectionVariables.get('eventId'));",)),
    Step("Move the tenant's own clock an hour (nobody else's)", "POST", "/_emulator/clock",
         body=_body({"participant_id": TENANT, "advance": 3600}),
         checks=("pm.expect(answer.own_clock).to.equal(true);",)),
    Step("The tenant's clock", "GET", "/_emulator/clock", query="participant_id={{tenantParticipantId}}",
         checks=("pm.expect(answer.own_clock).to.equal(true);",)),
    Step("Make the tenant's next request get 429", "POST", "/_emulator/ratelimit",
         body=_body({"username": "{{tenantUsername}}", "refuse_next": 1}),
         checks=("pm.expect(answer.credentials[pm.collectionVariables.get('tenantUsername')].forced_refusals)"
                 ".to.equal(1);",)),
    Step("Clear the tenant's rate-limit window", "POST", "/_emulator/ratelimit",
         body=_body({"username": "{{tenantUsername}}", "reset": True}),
         checks=("pm.expect(answer.credentials[pm.collectionVariables.get('tenantUsername')].forced_refusals)"
                 ".to.equal(0);",)),
    Step("The journal (the Gateway folder's requests)", "GET", "/_emulator/requests",
         query="participant_id={{participantId}}&limit=5",
         checks=("pm.expect(answer.requests, 'run the Gateway folder first').to.not.be.empty;",),
         keeps={"requestId": "answer.requests[0].id"}),
    Step("One request's story", "GET", "/_emulator/requests/{id}", {"id": "requestId"}),
    Step("Wait for the Gateway folder's verifies", "POST", "/_emulator/requests/wait",
         body=_body({"match": {"participant_id": DEFAULT_PARTICIPANT, "endpoint": "verify", "http_status": 200},
                     "count": {"at_least": 1}, "timeout": 5})),
    Step("Waits still open", "GET", "/_emulator/waits"),
    Step("Findings of the default participant's traffic", "GET", "/_emulator/findings",
         query="participant_id={{participantId}}"),
    Step("Where the default participant's answers come from", "GET", "/_emulator/provenance",
         query="participant_id={{participantId}}"),
    Step("Outcome families", "GET", "/_emulator/outcomes"),
    Step("What the emulator holds for the default participant", "GET", "/_emulator/state",
         query="participant_id={{participantId}}&limit=5"),
    Step("Rate-limit windows", "GET", "/_emulator/ratelimit"),
    Step("The signing oracle", "POST", "/_emulator/sign",
         body=_body({"method": "POST", "path": "/gateway/verify",
                     "headers": {"X-Date": "Fri, 17 Jan 2020 19:59:29 GMT", "Content-Type": "application/json"},
                     "body": '{"participant_id": 12345}'}),
         checks=("pm.expect(answer.signature).to.be.a('string');",)),
    Step("Readiness rehearsals under way", "GET", "/_emulator/readiness/rehearsals"),
    Step("A snapshot (a repro capsule of the whole emulator)", "GET", "/_emulator/snapshot"),
    Step("Delete the scenario", "DELETE", "/_emulator/scenarios/{name}", {"name": "scenarioName"}),
    Step("Remove the webhook endpoint", "DELETE", "/_emulator/webhooks/endpoints/{id}", {"id": "endpointId"}),
    Step("Remove the tenant and its participant's state", "DELETE", "/_emulator/credentials/{username}",
         {"username": "tenantUsername"}),
    Step("Credentials (the tenant is gone)", "GET", "/_emulator/credentials",
         checks=("pm.expect(answer.credentials.map((c) => c.username)).to.not.include("
                 "pm.collectionVariables.get('tenantUsername'));",)),
)

ON_ITS_OWN = (
    Step("Reset the default participant", "POST", "/_emulator/reset",
         body=_body({"participant_id": DEFAULT_PARTICIPANT}),
         checks=("pm.expect(answer.reset).to.equal('participant');",)),
    Step("Reset everything", "POST", "/_emulator/reset", body="{}",
         checks=("pm.expect(answer.reset).to.equal('everything');",)),
    Step("Reload the scenario files", "POST", "/_emulator/scenarios/reload"),
    Step("Start a readiness rehearsal for the default participant", "POST", "/_emulator/readiness",
         body=_body({"participant_id": DEFAULT_PARTICIPANT}), status=201),
    Step("The rehearsal, judged now", "GET", "/_emulator/readiness", query="participant_id={{participantId}}"),
    Step("The rehearsal's evidence pack (Markdown)", "GET", "/_emulator/readiness/report",
         query="participant_id={{participantId}}&format=md"),
)


def _test(step: Step) -> list[str]:
    """The test script of a step: its status, its checks, the variables it keeps."""
    reads = bool(step.checks or step.keeps)
    return [
        f"pm.test({json.dumps(f'HTTP {step.status}')}, function () {{",
        f"    pm.response.to.have.status({step.status});",
        *(["    const answer = pm.response.json();"] if reads else []),
        *(f"    {line}" for line in step.checks),
        *(f"    pm.collectionVariables.set({json.dumps(variable)}, {expression});"
          for variable, expression in step.keeps.items()),
        "});",
    ]


def item(step: Step, description: str, event: Event) -> dict[str, Any]:
    """A step as a Postman request item (``event`` makes a Postman script event, as postman.event does)."""
    path = step.path
    raw = "{{baseUrl}}" + path + (f"?{step.query}" if step.query else "")
    url: dict[str, Any] = {"raw": raw, "host": ["{{baseUrl}}"], "path": path.strip("/").split("/")}
    if step.query:
        url["query"] = [{"key": key, "value": value}
                        for key, value in (pair.split("=", 1) for pair in step.query.split("&"))]
    request: dict[str, Any] = {"method": step.method, "description": description, "header": [], "url": url}
    if step.body is not None or step.method == "POST":
        # the admin API refuses a state change in a content type a web page could send without a preflight
        request["header"] = [{"key": "Content-Type", "value": step.media_type}]
        request["body"] = {"mode": "raw", "raw": step.body or "",
                           "options": {"raw": {"language": "json" if step.media_type == JSON else "text"}}}
    return {"name": step.name, "event": [event("test", _test(step))], "request": request, "response": []}


def folders(document: dict[str, Any], event: Event) -> list[dict[str, Any]]:
    """The story folder and the send-on-its-own folder, each request checked against the document's routes."""
    routes = {(method.upper(), path): operation for path, methods in document["paths"].items()
              for method, operation in methods.items()}
    made = []
    for name, description, steps in ((STORY_FOLDER, STORY_DESCRIPTION, STORY),
                                     (ON_ITS_OWN_FOLDER, ON_ITS_OWN_DESCRIPTION, ON_ITS_OWN)):
        items = []
        for step in steps:
            operation = routes.get((step.method, step.route))
            if operation is None:
                raise KeyError(f"the Postman step {step.name!r} calls {step.method} {step.route}, which the "
                               "OpenAPI document does not have: update emulator/openapi/postman_admin.py")
            items.append(item(step, operation.get("description", operation.get("summary", "")), event))
        made.append({"name": name, "description": description, "item": items})
    return made
