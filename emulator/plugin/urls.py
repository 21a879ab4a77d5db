"""Routes of the iFrame plugin: opened by browsers, never signed (the session URL's MAC guards the page)."""

from emulator.plugin import responses
from emulator.web.state import RouteSpec

#: The session page and the calls it makes (journaled: they are the iFrame's traffic).
PAGE = RouteSpec(signed=False, journaled=True, endpoint="plugin")
#: The SDK, the page's assets, the demo page, and the demo's emulator-only session helper.
ASSET = RouteSpec(signed=False, journaled=False)

ROUTES = [
    ("GET", "/plugin/session/{session_id}", responses.page, PAGE),
    ("POST", "/plugin/session/{session_id}/mount", responses.mount, PAGE),
    ("POST", "/plugin/session/{session_id}/submit", responses.submit, PAGE),
    ("POST", "/plugin/session/{session_id}/cancel", responses.cancel, PAGE),
    ("POST", "/plugin/session/{session_id}/acknowledge", responses.acknowledge, PAGE),
    ("GET", "/plugin/session/{session_id}/billers", responses.billers, PAGE),
    ("GET", f"/plugin/sdk/{responses.SDK_NAME}", responses.sdk, ASSET),
    ("GET", "/plugin/static/{name}", responses.static, ASSET),
    ("GET", "/plugin/demo", responses.demo, ASSET),
    ("POST", "/_emulator/plugin/demo-session", responses.demo_session, ASSET),
]
