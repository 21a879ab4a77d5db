"""Admin API for money-safety findings: what each participant's client did that would lose money against Ingo."""

from __future__ import annotations

from aiohttp import web

from emulator.admin.schemas import FindingList
from emulator.findings.kinds import KINDS
from emulator.web.declared import query
from emulator.web.replies import json_response
from emulator.web.runtime import RUNTIME


async def listing(request: web.Request) -> web.Response:
    """Findings newest first; filters: participant_id, code."""
    wanted = query(request)
    code = wanted["code"]
    if code is not None and code not in KINDS:
        return json_response({"message": f"code must be one of {', '.join(KINDS)}"}, status=400)
    found = request.app[RUNTIME].services.findings.listing(participant_id=wanted["participant_id"], code=code)
    answer: FindingList = {"count": len(found), "findings": [f.as_json() for f in found]}
    return json_response(answer)
