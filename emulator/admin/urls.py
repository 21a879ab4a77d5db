"""Routes of the admin API (/_emulator): unsigned, never journaled; what each takes and answers, for the
OpenAPI document."""

from typing import Literal

from emulator.admin import (
    clock,
    control,
    events,
    findings,
    live,
    provenance,
    readiness,
    responses,
    scenarios,
    schemas,
    snapshot,
    state,
    stories,
    tenants,
    ui,
    waits,
    webhooks,
)
from emulator.core.logs import HEALTH_PATH
from emulator.readiness.report import ReadinessJson, RehearsalList
from emulator.snapshots.format import Archive
from emulator.tenants.models import TenantJson
from emulator.web.routes import Doc, Query, Route
from emulator.webhooks.endpoints import EndpointSpec
from emulator.webhooks.events import EventRecord

#: The participant scope, one name across the admin API (query parameters and bodies alike).
PARTICIPANT = Query("participant_id", int, "only this participant's")
LIMIT = Query("limit", int, "at most this many", minimum=0)

ROUTES = (
    Route("GET", HEALTH_PATH, responses.health,
          doc=Doc("Ready once scenarios are loaded (open even with --admin-token)", answer=schemas.Health,
                  responses={200: "Ready", 503: "Still starting"})),
    Route("GET", "/_emulator/requests", responses.requests,
          doc=Doc("The request journal (masked), newest first", answer=schemas.RequestList, errors=(400,),
                  query=(Query("path", str, "path prefix"), Query("status", int, "HTTP status"), PARTICIPANT,
                         LIMIT))),
    Route("GET", "/_emulator/requests/{id}", stories.detail,
          doc=Doc("One request's whole story: as journaled (headers as received, signature redacted), the signing "
                  "string the server builds, a 401's side-by-side, a curl command that signs afresh, and its "
                  "timeline (webhooks, attempts, follow-ups, findings)", answer=schemas.RequestStory,
                  errors=(404,))),
    Route("POST", "/_emulator/requests/{id}/replay", stories.replay,
          doc=Doc("Send a journaled request again, signed afresh, with the same or a new participant_unique_id1 "
                  "(masked values filled in by the caller)", body=schemas.ReplayRequest, answer=schemas.Replayed,
                  errors=(400, 404), refusals={502: "The emulator could not reach itself"})),
    Route("GET", "/_emulator/provenance", provenance.listing,
          doc=Doc("Where a participant's traffic comes from: the emulator's choices (and Kong's behaviours) its "
                  "answers and webhook deliveries rested on, most relied on first, each with its reason, its anchor "
                  "in docs/contract.md, how many answers and deliveries rested on it, and a few of their request and "
                  "delivery ids; read from the journal (the newest --journal-size requests) and the deliveries "
                  "kept", answer=schemas.Provenance, errors=(400,), query=(PARTICIPANT,))),
    Route("GET", "/_emulator/outcomes", responses.outcome_families,
          doc=Doc("The outcome families (approved, declined, auth refused, …) requests, webhook deliveries and "
                  "findings are shown in", answer=schemas.OutcomeList)),
    Route("GET", "/_emulator/stream", live.stream,
          doc=Doc("Server-sent events: a 'change' event naming what changed (requests, events, webhooks, admin) "
                  "as soon as it does", media_type="text/event-stream",
                  responses={200: "A stream of change events"},
                  refusals={503: "Too many live views open"})),
    Route("POST", "/_emulator/requests/wait", waits.wait_for_requests,
          doc=Doc("Wait until the journal holds the requests a test expects (200), or say how those seen differ "
                  "(409)", body=schemas.RequestWait, answer=schemas.RequestsSeen, errors=(400,),
                  responses={409: "Not met in time, or more matched than at_most: near misses"},
                  refusals={503: "Too many waits open (10,000 of a kind): try again once some have ended"})),
    Route("GET", "/_emulator/waits", waits.open_waits,
          doc=Doc("The waits still waiting (request and webhook waits), longest-waiting first: what each matches, "
                  "for how long; a wait ends when its client goes away", answer=schemas.WaitList, errors=(400,),
                  query=(PARTICIPANT, LIMIT))),
    Route("GET", "/_emulator/findings", findings.listing,
          doc=Doc("Money-safety findings: what a client did that would lose money against Ingo, newest first",
                  answer=schemas.FindingList, errors=(400,),
                  query=(PARTICIPANT, Query("code", str, "finding code")))),
    Route("POST", "/_emulator/credentials", tenants.mint,
          doc=Doc("Mint a tenant: a credential with a participant of its own (the secret is shown only here)",
                  body=tenants.TenantSpec, answer=TenantJson, status=201, errors=(400,),
                  refusals={409: "The participant already has a credential"})),
    Route("GET", "/_emulator/credentials", tenants.listing,
          doc=Doc("Every credential accepted, configured or minted (never a secret)", answer=schemas.CredentialList)),
    Route("DELETE", "/_emulator/credentials/{username}", tenants.remove,
          doc=Doc("Remove a minted tenant and its participant's state", answer=schemas.TenantRemoved,
                  errors=(404,), refusals={409: "A configured credential, not a tenant"})),
    Route("POST", "/_emulator/reset", control.reset,
          doc=Doc('Reset everything, or one participant ({"participant_id": N})', body=schemas.ParticipantBody,
                  answer=schemas.Reset, errors=(400,))),
    Route("GET", "/_emulator/ratelimit", control.ratelimit, doc=Doc(answer=schemas.RateLimits)),
    Route("POST", "/_emulator/ratelimit", control.steer_ratelimit,
          doc=Doc("Make a credential's next N requests get 429, or reset windows", body=schemas.RateLimitChange,
                  answer=schemas.RateLimits, errors=(400,))),
    Route("POST", "/_emulator/sign", control.sign,
          doc=Doc("The signing oracle: the signing string and signature the server expects",
                  body=schemas.SignRequest, body_required=True, answer=schemas.Signature, errors=(400, 403))),
    Route("GET", "/_emulator/snapshot", snapshot.take,
          doc=Doc("A repro capsule: the whole emulator as one JSON archive (state, clock, scenarios with their "
                  "counts, journal, events, findings); no secret, card and account numbers masked",
                  answer=Archive)),
    Route("POST", "/_emulator/snapshot", snapshot.bring_back,
          doc=Doc("Restore a snapshot: pending jobs cancelled, everything replaced, what was pending scheduled "
                  "again (up to --snapshot-max-bytes; a refused archive changes nothing)", body=Archive,
                  body_required=True, own_reader=True, answer=schemas.SnapshotRestored, errors=(400, 413))),
    Route("GET", "/_emulator/clock", clock.show,
          doc=Doc("The emulator clock and the jobs waiting on it, or one participant's clock and jobs",
                  answer=schemas.ClockState, errors=(400,), query=(PARTICIPANT,))),
    Route("POST", "/_emulator/clock", clock.change,
          doc=Doc("Set, freeze or advance the emulator clock, or one participant's own (firing what falls due on "
                  "it)", body=schemas.ClockChange, body_required=True, answer=schemas.ClockChanged, errors=(400,),
                  refusals={409: "As many participants as the emulator keeps have a clock of their own"})),
    Route("GET", "/_emulator/scenarios", scenarios.listing,
          doc=Doc("Loaded scenarios and their rules", answer=schemas.ScenarioList)),
    Route("POST", "/_emulator/scenarios", scenarios.upload,
          doc=Doc("Add scenarios from a YAML document", body=str, body_required=True,
                  body_media_type="application/yaml", answer=schemas.Added, status=201, errors=(400,),
                  query=(Query("name", str, "source name shown in problems"),))),
    Route("DELETE", "/_emulator/scenarios/{name}", scenarios.remove,
          doc=Doc("Delete a scenario added at run time (uploaded or restored); one the scenario files or the "
                  "bundled set define is refused (409: every reset and reload loads it again)",
                  answer=schemas.Deleted, errors=(404, 409))),
    Route("POST", "/_emulator/scenarios/reload", scenarios.reload,
          doc=Doc("Re-read the configured scenario files", answer=schemas.Reloaded, errors=(400,))),
    Route("POST", "/_emulator/scenarios/{name}/activate", scenarios.activate,
          doc=Doc("Activate a named scenario (for everyone or one participant)", body=schemas.ParticipantBody,
                  answer=schemas.Activated, errors=(400, 404))),
    Route("POST", "/_emulator/scenarios/{name}/deactivate", scenarios.deactivate,
          doc=Doc("Deactivate a named scenario", body=schemas.ParticipantBody, answer=schemas.Deactivated,
                  errors=(400, 404))),
    Route("GET", "/_emulator/triggers", scenarios.trigger_list,
          doc=Doc("The magic values and triggers of the loaded scenarios", answer=schemas.TriggerList,
                  query=(Query("scenario", str, "only this scenario"),))),
    Route("GET", "/_emulator/events", events.listing,
          doc=Doc("Webhook events emitted, newest first", answer=schemas.EventList,
                  query=(Query("topic", str, "topic"), PARTICIPANT))),
    Route("POST", "/_emulator/events", webhooks.emit,
          doc=Doc("Emit a webhook event now", body=schemas.EventToEmit, body_required=True,
                  answer=EventRecord, status=201, errors=(400,))),
    Route("GET", "/_emulator/webhooks", webhooks.listing,
          doc=Doc("Webhook deliveries with their attempts, newest first", answer=schemas.DeliveryList, errors=(400,),
                  query=(Query("topic", str, "topic"),
                         Query("status", Literal["pending", "delivering", "succeeded", "failed", "delivered"],
                               "delivery status (delivered: read as succeeded, with a hint)"),
                         PARTICIPANT, Query("event_id", str, "event id")))),
    Route("POST", "/_emulator/webhooks/wait", waits.wait_for_deliveries,
          doc=Doc("Wait until the webhook deliveries a test expects exist (200), or say how those seen differ (409)",
                  body=schemas.DeliveryWait, answer=schemas.DeliveriesSeen, errors=(400,),
                  responses={409: "Not met in time, or more matched than at_most: near misses"},
                  refusals={503: "Too many waits open (10,000 of a kind): try again once some have ended"})),
    Route("GET", "/_emulator/webhooks/endpoints", webhooks.endpoints,
          doc=Doc("Webhook endpoints", answer=schemas.EndpointList)),
    Route("POST", "/_emulator/webhooks/endpoints", webhooks.add_endpoint,
          doc=Doc("Add a webhook endpoint", body=EndpointSpec, body_required=True, status=201,
                  errors=(400,))),
    Route("DELETE", "/_emulator/webhooks/endpoints/{id}", webhooks.remove_endpoint,
          doc=Doc("Remove a webhook endpoint", answer=schemas.Removed, errors=(404,))),
    Route("GET", "/_emulator/webhooks/{id}", webhooks.detail,
          doc=Doc("One delivery with its attempts", errors=(404,))),
    Route("POST", "/_emulator/webhooks/{id}/redeliver", webhooks.redeliver,
          doc=Doc("Send a delivery again now", errors=(404,))),
    Route("GET", "/_emulator/state", state.show,
          doc=Doc("What the emulator holds (tokens, sessions, recent transactions), read only", answer=schemas.State,
                  errors=(400,),
                  query=(PARTICIPANT, Query("limit", int, "at most this many of each kind", minimum=0)))),
    Route("POST", "/_emulator/readiness", readiness.start,
          doc=Doc("Start (or start again) a readiness rehearsal for a participant: from now on its traffic and "
                  "webhook acknowledgements are judged against the plan (docs/readiness.md)",
                  body=readiness.ReadinessStart, body_required=True, answer=ReadinessJson, status=201,
                  errors=(400, 404))),
    Route("GET", "/_emulator/readiness", readiness.show,
          doc=Doc("A participant's rehearsal, judged now: each scenario passed, failed or not run, with its "
                  "evidence, the outcome coverage, findings and probes", answer=ReadinessJson, errors=(400, 404),
                  query=(Query("participant_id", int, "the participant rehearsed", required=True),))),
    Route("GET", "/_emulator/readiness/rehearsals", readiness.listing,
          doc=Doc("The rehearsals under way, with their counts", answer=RehearsalList)),
    Route("GET", "/_emulator/readiness/report", readiness.evidence_pack,
          doc=Doc("The evidence pack: the rehearsal's report as one document (Markdown by default, HTML or JSON) to "
                  "attach to a certification request", answer=str, media_type="text/markdown",
                  alternatives={"text/html": str, "application/json": ReadinessJson}, errors=(400, 404),
                  query=(Query("participant_id", int, "the participant rehearsed", required=True),
                         Query("format", Literal["md", "html", "json"], "md (the default), html or json")))),
    Route("GET", "/_emulator/ui", ui.index),
    Route("GET", "/_emulator/ui/{name:.*}", ui.asset),
)
