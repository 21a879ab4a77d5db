"""POST /api/v1/sessions/point-in-time/plugin and the authorized_url it hands out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

from tests.support.app import NOW
from tests.support.bodies import SESSION

PATH = "/api/v1/sessions/point-in-time/plugin"
INCORRECT = "Transaction Failure- Contact Ingo Payments Client Services at 877-739-2926"
MISSING = "Transaction Failure - Contact Ingo Payments Client Services at 877-739-2926"


async def create(emulator, body=None, key: str | None = None):
    headers = {"Idempotency-Key": key} if key is not None else None
    status, document, _ = await emulator.post(PATH, SESSION if body is None else body, extra_headers=headers)
    assert status == 200, document
    return document


async def open_url(emulator, url: str):
    parts = urlsplit(url)
    response = await emulator.client.get(f"{parts.path}?{parts.query}")
    return response.status, await response.text(), response.content_type


def dotnet_ticks(timestamp: int) -> int:
    """100-nanosecond intervals since 0001-01-01 UTC, as .NET counts them."""
    since = datetime.fromtimestamp(timestamp, tz=UTC) - datetime(1, 1, 1, tzinfo=UTC)
    return since // timedelta(microseconds=1) * 10


async def test_create_session(emulator):
    body = await create(emulator, {**SESSION, "participant_unique_id2": "second"})
    assert body["status"] == 100
    assert body["client_message"] == "Success"
    assert isinstance(body["time"], (int, float)) and not isinstance(body["time"], bool)
    data = body["data"]
    session_id = data["session_identifier"]
    assert uuid.UUID(session_id).version == 4 and str(uuid.UUID(session_id)) == session_id
    url = urlsplit(data["authorized_url"])
    server = emulator.client.server
    assert url.scheme == "http"
    assert url.netloc == f"{server.host}:{server.port}"
    assert url.path == f"/plugin/session/{session_id}"
    query = parse_qs(url.query)
    assert set(query) == {"t", "h"}
    assert query["t"] == [str(dotnet_ticks(NOW))]
    assert query["h"][0]
    assert data["authorized_url_expiration_utc"] == "2026-11-16T15:00:30.000000Z"
    assert data["participant_unique_id1"] == "session-request-1"
    assert data["participant_unique_id2"] == "second"


async def test_participant_unique_id2_defaults_to_empty(emulator):
    body = await create(emulator)
    assert body["data"]["participant_unique_id2"] == ""


async def test_the_authorized_url_opens_a_page_for_30_seconds(emulator):
    body = await create(emulator)
    url = body["data"]["authorized_url"]
    status, text, content_type = await open_url(emulator, url)
    assert status == 200 and content_type == "text/html"
    assert body["data"]["session_identifier"] in text
    emulator.clock.advance(30)
    assert (await open_url(emulator, url))[0] == 200
    emulator.clock.advance(1)
    status, text, content_type = await open_url(emulator, url)
    assert status == 410
    assert content_type == "text/html"


async def test_a_tampered_url_is_not_found(emulator):
    url = urlsplit((await create(emulator))["data"]["authorized_url"])
    query = parse_qs(url.query)
    t, h = query["t"][0], query["h"][0]
    forged_h = quote(("A" if h[0] != "A" else "B") + h[1:], safe="")
    for target in (f"{url.path}?t={t}&h={forged_h}",
                   f"{url.path}?t={int(t) + 1}&h={quote(h, safe='')}",
                   f"/plugin/session/{uuid.uuid4()}?t={t}&h={quote(h, safe='')}",
                   url.path):
        response = await emulator.client.get(target)
        assert response.status == 404, target


async def test_same_idempotency_key_and_body_reissues_the_session_with_a_new_url(emulator):
    key = str(uuid.uuid4())
    first = await create(emulator, key=key)
    again = await create(emulator, key=key)
    assert again["status"] == 101
    assert again["client_message"] == "Success - Idempotent"
    assert again["data"]["session_identifier"] == first["data"]["session_identifier"]
    assert again["data"]["authorized_url"] != first["data"]["authorized_url"]
    # Only the newest URL opens the session.
    assert (await open_url(emulator, again["data"]["authorized_url"]))[0] == 200
    assert (await open_url(emulator, first["data"]["authorized_url"]))[0] == 410


async def test_reissue_after_the_url_expired_gives_a_working_url(emulator):
    key = str(uuid.uuid4())
    first = await create(emulator, key=key)
    emulator.clock.advance(60)
    assert (await open_url(emulator, first["data"]["authorized_url"]))[0] == 410
    again = await create(emulator, key=key)
    assert again["status"] == 101
    assert again["data"]["authorized_url_expiration_utc"] == "2026-11-16T15:01:30.000000Z"
    assert (await open_url(emulator, again["data"]["authorized_url"]))[0] == 200


async def test_same_key_with_other_parameters_is_13723(emulator):
    key = str(uuid.uuid4())
    await create(emulator, key=key)
    body = await create(emulator, {**SESSION, "participant_unique_id1": "session-request-2"}, key=key)
    assert body["status"] == 13723
    assert body["client_message"] == "Idempotency key mismatch"


async def test_keys_are_kept_two_hours(emulator):
    key = str(uuid.uuid4())
    first = await create(emulator, key=key)
    emulator.clock.advance(7199)
    assert (await create(emulator, key=key))["status"] == 101
    emulator.clock.advance(2)  # 7201 s after the key was first used
    later = await create(emulator, key=key)
    assert later["status"] == 100
    assert later["data"]["session_identifier"] != first["data"]["session_identifier"]


async def test_without_a_key_every_request_is_a_new_session(emulator):
    first = await create(emulator)
    second = await create(emulator)
    assert second["status"] == 100
    assert second["data"]["session_identifier"] != first["data"]["session_identifier"]


async def test_session_validation(emulator):
    body = await create(emulator, {**SESSION, "participant_unique_id1": "p" * 101})
    assert body["status"] == 401
    assert body["client_message"] == INCORRECT
    assert body["diagnosis"]["field"] == "participant_unique_id1"
    assert (await create(emulator, {**SESSION, "participant_unique_id1": "p" * 100}))["status"] == 100
    body = await create(emulator, {k: v for k, v in SESSION.items() if k != "recipient_information"})
    assert body["status"] == 400
    assert body["client_message"] == MISSING
    assert body["diagnosis"]["field"] == "recipient_information"
    body = await create(emulator, {k: v for k, v in SESSION.items() if k != "participant_unique_id1"})
    assert body["status"] == 400
    assert (await create(emulator, {**SESSION, "language_locale_code": "en-XX"}))["status"] == 401
    assert (await create(emulator, {**SESSION, "host_uri": "https://shop.example.com"}))["status"] == 100
    assert (await create(emulator, {**SESSION, "host_uri": "ftp://shop.example.com"}))["status"] == 401
    assert (await create(emulator, {**SESSION, "participant_unique_id2": "q" * 101}))["status"] == 401
    assert (await create(emulator, key="k" * 251))["status"] == 401
    assert (await create(emulator, key="k" * 250))["status"] == 100


async def test_session_body_that_is_not_json_is_http_400(emulator):
    status, body, _ = await emulator.post(PATH, "{not json")
    assert status == 400
    assert "JSON" in body["diagnosis"]["detail"]
