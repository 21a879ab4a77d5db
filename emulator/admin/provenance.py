"""Admin API for where a participant's traffic comes from: the emulator's choices (and Kong's behaviours) its
answers and webhook deliveries rested on, read from the journal and the deliveries when asked. The derivation
(``emulator.web.provenance``) is imported on the first call that needs it: a cost only readers pay, never the start
of an emulator nor a request."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from aiohttp import web

from emulator.admin.schemas import Provenance
from emulator.web.declared import query
from emulator.web.replies import json_response
from emulator.web.routes import ROUTE_TABLE
from emulator.web.runtime import RUNTIME
from emulator.webhooks.delivery import KIND as DELIVERY

if TYPE_CHECKING:
    from emulator.web.provenance import RouteIndex

#: The route index of each app this process serves (an app's route table never changes once built).
_INDEXES: dict[int, tuple[object, RouteIndex]] = {}
_KEPT_INDEXES = 8


def route_index(app: web.Application) -> RouteIndex:
    """The app's routes, indexed once for finding a journal entry's route."""
    from emulator.web.provenance import RouteIndex

    routes = app[ROUTE_TABLE]
    known = _INDEXES.get(id(routes))
    if known is not None and known[0] is routes:
        return known[1]
    index = RouteIndex(routes)
    if len(_INDEXES) >= _KEPT_INDEXES:
        _INDEXES.pop(next(iter(_INDEXES)))
    _INDEXES[id(routes)] = (routes, index)
    return index


async def listing(request: web.Request) -> web.Response:
    """The emulator's choices a participant's traffic rested on (all participants' without participant_id)."""
    from emulator.web.provenance import DELIVERIES_READ, tally

    runtime = request.app[RUNTIME]
    participant = query(request)["participant_id"]
    journal = runtime.journal
    entries = journal.entries(participant_id=participant)
    deliveries = [record for _, _, record in itertools.islice(runtime.store.records(DELIVERY, participant),
                                                              DELIVERIES_READ)]
    relied = tally(entries, deliveries, route_index(request.app))
    answer: Provenance = {"participant_id": participant,
                          "journal": {"entries": len(entries), "size": journal.size, "evicted": journal.evicted},
                          "deliveries_read": len(deliveries), "count": len(relied), "relied_on": relied}
    return json_response(answer)
