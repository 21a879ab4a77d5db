"""Routes of the admin API."""

from emulator.admin import clock, control, events, responses, scenarios, state, ui, webhooks

ROUTES = [
    ("GET", "/_emulator/health", responses.health),
    ("GET", "/_emulator/requests", responses.requests),
    ("POST", "/_emulator/reset", control.reset),
    ("GET", "/_emulator/ratelimit", control.ratelimit),
    ("POST", "/_emulator/ratelimit", control.steer_ratelimit),
    ("POST", "/_emulator/sign", control.sign),
    ("GET", "/_emulator/clock", clock.show),
    ("POST", "/_emulator/clock", clock.change),
    ("GET", "/_emulator/scenarios", scenarios.listing),
    ("POST", "/_emulator/scenarios", scenarios.upload),
    ("POST", "/_emulator/scenarios/reload", scenarios.reload),
    ("POST", "/_emulator/scenarios/{name}/activate", scenarios.activate),
    ("POST", "/_emulator/scenarios/{name}/deactivate", scenarios.deactivate),
    ("GET", "/_emulator/triggers", scenarios.trigger_list),
    ("GET", "/_emulator/events", events.listing),
    ("POST", "/_emulator/events", webhooks.emit),
    ("GET", "/_emulator/webhooks", webhooks.listing),
    ("GET", "/_emulator/webhooks/endpoints", webhooks.endpoints),
    ("POST", "/_emulator/webhooks/endpoints", webhooks.add_endpoint),
    ("DELETE", "/_emulator/webhooks/endpoints/{id}", webhooks.remove_endpoint),
    ("GET", "/_emulator/webhooks/{id}", webhooks.detail),
    ("POST", "/_emulator/webhooks/{id}/redeliver", webhooks.redeliver),
    ("GET", "/_emulator/state", state.show),
    ("GET", "/_emulator/ui", ui.index),
    ("GET", "/_emulator/ui/{name:.*}", ui.asset),
]
