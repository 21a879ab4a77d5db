"""Topic globs are bounded: an endpoint or a wait listing more than the limit is refused, naming the field."""

from __future__ import annotations

from typing import Any

from emulator.core.limits import MAX_TOPICS


async def test_an_endpoint_with_too_many_topic_globs_is_refused(emulator: Any) -> None:
    body = {"url": "http://127.0.0.1:9/hooks", "topics": [f"gateway.{n}.*" for n in range(MAX_TOPICS + 1)]}
    response = await emulator.client.post("/_emulator/webhooks/endpoints", json=body)
    answer = await response.json()
    assert response.status == 400, answer
    assert "topics" in str(answer) and str(MAX_TOPICS) in str(answer), answer
    listed = await (await emulator.client.get("/_emulator/webhooks/endpoints")).json()
    assert "127.0.0.1:9" not in str(listed)


async def test_an_endpoint_at_the_limit_is_accepted(emulator: Any) -> None:
    body = {"url": "http://127.0.0.1:9/hooks", "topics": [f"gateway.{n}.*" for n in range(MAX_TOPICS)]}
    response = await emulator.client.post("/_emulator/webhooks/endpoints", json=body)
    assert response.status in (200, 201), await response.text()


async def test_a_wait_with_too_many_topic_globs_is_refused(emulator: Any) -> None:
    body = {"match": {"topic": [f"gateway.{n}.*" for n in range(MAX_TOPICS + 1)]}, "timeout": 1}
    response = await emulator.client.post("/_emulator/webhooks/wait", json=body)
    answer = await response.json()
    assert response.status == 400, answer
    assert "topic" in str(answer) and str(MAX_TOPICS) in str(answer), answer
