"""The probe deliveries of a rehearsal: once an endpoint has acknowledged a real delivery, it gets the same delivery
again (a duplicate, which it must acknowledge) and a copy under a new metadata.id whose X-Ingo-Signature is wrong
(which it must refuse). Sent only to the rehearsed participant's endpoints, marked ``probe``, never an event."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable

from emulator.store import Record
from emulator.webhooks.delivery import DUPLICATE, FORGED_SIGNATURE, Deliveries
from emulator.webhooks.events import ID_PREFIX

#: The probes an endpoint gets, in the order they are sent.
KINDS = (DUPLICATE, FORGED_SIGNATURE)
#: Probes of one kind sent to one endpoint in one rehearsal, at most (another goes only while none got an answer).
TRIES = 3


def forged(body: str) -> tuple[str, str]:
    """(a new metadata.id, the delivery's body under it): the envelope otherwise as it was."""
    event_id = ID_PREFIX + str(uuid.uuid4())
    envelope = json.loads(body)
    envelope["metadata"]["id"] = event_id
    return event_id, json.dumps(envelope, separators=(",", ":"))


def wanted(acknowledged: Record, sent: Iterable[Record]) -> list[str]:
    """The probe kinds the endpoint of ``acknowledged`` (a real delivery it answered 2xx) should get now, given the
    probes ``sent`` so far in the rehearsal: a kind none of whose probes got an answer or is still pending, tried
    fewer than TRIES times."""
    endpoint = acknowledged.get("endpoint_id")
    kinds = []
    for kind in KINDS:
        mine = [r for r in sent if r.get("probe") == kind and r.get("endpoint_id") == endpoint]
        settled = any(a.get("http_status") is not None or str(a.get("error") or "").startswith("no complete response")
                      for r in mine for a in r.get("attempts") or [])
        pending = any(r.get("status") in ("pending", "delivering") for r in mine)
        if not settled and not pending and len(mine) < TRIES:
            kinds.append(kind)
    return kinds


def send(deliveries: Deliveries, acknowledged: Record, kind: str) -> Record | None:
    """Send one probe of ``kind`` after the acknowledged delivery (None when its endpoint is gone)."""
    body = str(acknowledged.get("body") or "")
    if kind == DUPLICATE:
        return deliveries.probe(acknowledged, kind, body, str(acknowledged.get("event_id")))
    try:
        event_id, copy = forged(body)
    except (ValueError, KeyError, TypeError):
        return None  # not Ingo's envelope (an event a rule wrote by hand): no forged copy of it
    return deliveries.probe(acknowledged, kind, copy, event_id)
