"""Routes of the iFrame plugin: opened by browsers, never signed (the session URL's MAC guards the page)."""

from emulator.core.provenance import OWN, choice
from emulator.plugin import responses
from emulator.web.routes import Doc, Query, Route, RouteSpec

#: The session page and the calls it makes (journaled: they are the iFrame's traffic).
PAGE = RouteSpec(signed=False, journaled=True, endpoint="plugin")
#: The SDK, the page's assets, the demo page, and the demo's emulator-only session helper.
ASSET = RouteSpec(signed=False, journaled=False)
#: Described, not specified: the page's own calls are the browser's, not a client's.
TAG = "iFrame plugin"
#: The page and its calls stand in for Ingo's hosted iFrame; the SDK's URL and create() are not published.
PAGE_SOURCE = choice("iframe-page")
SDK_SOURCE = choice("iframe-sdk")

ROUTES = (
    Route("GET", "/plugin/session/{session_id}", responses.page, PAGE,
          Doc("The page an authorized_url opens (in the session's iFrame)", answer=str, media_type="text/html",
              responses={200: "The session page", 404: "No such session, or the URL was altered",
                         410: "The URL expired (not opened within 30 s, or a newer one was issued)"},
              query=(Query("t", str, "the URL's issue time in .NET ticks", required=True),
                     Query("h", str, "the URL's MAC", required=True)), tag=TAG, source=PAGE_SOURCE)),
    Route("POST", "/plugin/session/{session_id}/mount", responses.mount, PAGE, Doc(tag=TAG, source=PAGE_SOURCE)),
    Route("POST", "/plugin/session/{session_id}/submit", responses.submit, PAGE, Doc(tag=TAG, source=PAGE_SOURCE)),
    Route("POST", "/plugin/session/{session_id}/cancel", responses.cancel, PAGE, Doc(tag=TAG, source=PAGE_SOURCE)),
    Route("POST", "/plugin/session/{session_id}/acknowledge", responses.acknowledge, PAGE,
          Doc(tag=TAG, source=PAGE_SOURCE)),
    Route("GET", "/plugin/session/{session_id}/billers", responses.billers, PAGE, Doc(tag=TAG, source=PAGE_SOURCE)),
    Route("GET", f"/plugin/sdk/{responses.SDK_NAME}", responses.sdk, ASSET, Doc(tag=TAG, source=SDK_SOURCE)),
    Route("GET", "/plugin/static/{name}", responses.static, ASSET, Doc(tag=TAG, source=PAGE_SOURCE)),
    Route("GET", "/plugin/demo", responses.demo, ASSET, Doc(tag=TAG, source=OWN)),
    Route("POST", "/_emulator/plugin/demo-session", responses.demo_session, ASSET,
          Doc(body=responses.DemoSession, tag=TAG)),
)
