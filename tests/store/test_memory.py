"""Memory in memory mode is bounded: with small caps, what a user sees once they are exceeded.

The oldest finished records go (a forgotten token answers as one never issued, a forgotten delivery or session is
not found), flows still in progress are kept and complete (a pending webhook delivery, a scheduled follow-up event,
an iFrame session whose page is open), and ``GET /_emulator/state`` says how much was let go.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from emulator.gateway.directory import luhn_ok
from tests.support.app import Signed
from tests.support.bodies import CARD, v11
from tests.support.iframe import GOOD_CARD, Url, create
from tests.support.webhook_receiver import Receiver, admin, advance, deliveries, emit, start_emulator, start_receiver

RETURNED = "gateway.transaction.recipient.payment.status.returned"
#: The bundled magic amount whose push is returned two days later (a follow-up event on the emulator clock).
RETURNED_LATER = 20.14
#: Ingo status of a customer_account_token the participant was never issued.
UNKNOWN_TOKEN = 760


def card(n: int) -> dict[str, Any]:
    """A verify body for the n-th card number of this file (each passes the Luhn check and is no magic value)."""
    body = f"41111200000{n:04d}"
    number = next(body + digit for digit in "0123456789" if luhn_ok(body + digit))
    return {**CARD, "account": number, "participant_unique_id1": f"customer-{n}"}


async def verify(emu: Signed, n: int) -> str:
    status, body, _ = await emu.post("/gateway/verify", v11(**card(n)))
    assert status == 200 and body["status"] == 100, body
    return str(body["data"]["customer_account_token"])


async def pay(emu: Signed, token: str, puid1: str, amount: float = 10.0) -> dict[str, Any]:
    status, body, _ = await emu.post("/gateway/process", v11(account_type="CA", amount=amount, source_of_funds=4,
                                                              customer_account_token=token,
                                                              participant_unique_id1=puid1))
    assert status == 200, body
    return body


async def memory(emu: Signed) -> dict[str, Any]:
    """The memory section of GET /_emulator/state."""
    state = await admin(emu, "GET", "/_emulator/state?limit=0")
    return state["memory"]


async def test_a_forgotten_token_answers_as_never_issued_while_a_token_in_use_stays(make_emulator):
    emu = await make_emulator(memory_tokens=2)
    first, second = await verify(emu, 1), await verify(emu, 2)
    assert (await pay(emu, first, "pay-1"))["status"] == 100  # the first token is now the one used last
    third = await verify(emu, 3)  # over the cap: the least recently used token (the second) goes

    refused = await pay(emu, second, "pay-2")
    assert refused["status"] == UNKNOWN_TOKEN and second in str(refused["diagnosis"]), refused
    assert (await pay(emu, first, "pay-3"))["status"] == 100
    assert (await pay(emu, third, "pay-4"))["status"] == 100
    # the account goes with its token: verifying it again issues a new token, which works
    again = await verify(emu, 2)
    assert again != second and (await pay(emu, again, "pay-5"))["status"] == 100
    used = await memory(emu)
    assert used["store"] == "memory"
    assert used["records"]["token"] == {"cap": 2, "kept": 2, "evicted": 2}


async def test_the_oldest_payments_are_forgotten_beyond_the_cap(make_emulator):
    emu = await make_emulator(memory_transactions=2)
    token = await verify(emu, 1)
    first = await pay(emu, token, "pay-1")
    for puid1 in ("pay-2", "pay-3"):
        assert (await pay(emu, token, puid1))["status"] == 100
    assert (await pay(emu, token, "pay-3"))["status"] == 101  # still remembered: answered as a replay
    again = await pay(emu, token, "pay-1")  # forgotten: paid as new
    assert again["status"] == 100 and again["data"]["transaction_id"] != first["data"]["transaction_id"]
    assert (await memory(emu))["records"]["transaction"]["evicted"] >= 1


def failing_while(closed: list[bool]):
    """A responder that answers 503 while ``closed[0]`` holds, then 200."""
    async def respond(number: int, request: web.Request) -> web.StreamResponse:
        return web.Response(status=503 if closed[0] else 200, text="down" if closed[0] else "ok")
    return respond


async def test_a_pending_delivery_is_kept_and_completes_while_finished_ones_are_let_go(aiohttp_client, aiohttp_server,
                                                                                      clock):
    closed = [True]
    slow, fine = Receiver(failing_while(closed)), Receiver()
    slow_url, fine_url = await start_receiver(aiohttp_server, slow), await start_receiver(aiohttp_server, fine)
    emu = await start_emulator(aiohttp_client, clock, memory_deliveries=1)
    await admin(emu, "POST", "/_emulator/webhooks/endpoints", {"url": slow_url, "topics": [RETURNED]}, status=201)
    await admin(emu, "POST", "/_emulator/webhooks/endpoints", {"url": fine_url, "topics": ["*.check.*"]}, status=201)

    waiting = await emit(emu, RETURNED)
    await advance(emu, 0)  # its first attempt fails: the delivery waits for its retry, 30 s on
    [pending] = await deliveries(emu, status="pending")
    assert pending["event_id"] == waiting["id"]
    checks = [await emit(emu, "gateway.transaction.recipient.payment.status.check.paid") for _ in range(3)]
    await advance(emu, 0)
    assert len(fine.received) == 3

    kept = await deliveries(emu)
    assert pending["id"] in {d["id"] for d in kept}  # over the cap, but under way: kept
    [finished] = [d for d in kept if d["status"] == "succeeded"]  # the one written last: the others are gone
    assert finished["event_id"] in {check["id"] for check in checks}
    assert (await memory(emu))["records"]["webhook_delivery"] == {"cap": 1, "kept": 2, "evicted": 2}

    closed[0] = False
    await advance(emu, 30)  # the retry falls due and is delivered
    assert slow.received[-1].event_id == waiting["id"] and len(slow.received) == 2
    done = await admin(emu, "GET", f"/_emulator/webhooks/{pending['id']}")
    assert done["status"] == "succeeded"


async def test_a_forgotten_delivery_is_not_found(aiohttp_client, aiohttp_server, clock):
    receiver = Receiver()
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),),
                               memory_deliveries=1)
    await emit(emu, RETURNED)
    await advance(emu, 0)
    [first] = await deliveries(emu)
    await emit(emu, RETURNED)
    await advance(emu, 0)
    [second] = await deliveries(emu)
    assert second["id"] != first["id"] and len(receiver.received) == 2
    response = await emu.client.get(f"/_emulator/webhooks/{first['id']}")
    assert response.status == 404
    missing = await admin(emu, "POST", f"/_emulator/webhooks/{first['id']}/redeliver", status=404)
    assert first["id"] in missing["message"]


async def test_a_scheduled_follow_up_is_kept_and_delivered_whatever_the_caps(aiohttp_client, aiohttp_server, clock):
    receiver = Receiver()
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),),
                               memory_tokens=1, memory_transactions=1, memory_deliveries=1, events_kept=1)
    token = await verify(emu, 1)
    paid = await pay(emu, token, "returned-later", RETURNED_LATER)  # its return is due two days on
    for n in range(2, 5):  # more tokens, payments and events than the caps hold
        await pay(emu, await verify(emu, n), f"pay-{n}")
        await emit(emu, "gateway.transaction.recipient.payment.status.check.paid")
    await advance(emu, 0)
    assert (await memory(emu))["events"]["evicted"] >= 2

    await advance(emu, 2 * 86400)
    returned = [r for r in receiver.received if r.json["metadata"]["topic"] == RETURNED]
    assert len(returned) == 1
    assert returned[0].json["data"]["event"]["transaction_id"] == str(paid["data"]["transaction_id"])


async def test_the_events_list_keeps_the_newest_and_counts_the_rest(aiohttp_client, clock):
    emu = await start_emulator(aiohttp_client, clock, events_kept=2)
    emitted = [await emit(emu, RETURNED) for _ in range(3)]
    listed = await admin(emu, "GET", "/_emulator/events")
    assert [e["id"] for e in listed["events"]] == [emitted[2]["id"], emitted[1]["id"]]
    assert (await memory(emu))["events"] == {"cap": 2, "kept": 2, "evicted": 1}


async def session(emu: Signed, n: int) -> Url:
    return await create(emu, participant_unique_id1=f"session-{n}")


async def test_sessions_in_progress_are_kept_and_finished_or_abandoned_ones_let_go(make_emulator):
    emu = await make_emulator(memory_sessions=2)
    open_page, abandoned, finished = await session(emu, 1), await session(emu, 2), await session(emu, 3)
    assert (await open_page.mount("debit"))[0] == 200
    assert (await finished.mount("debit"))[0] == 200
    assert (await finished.submit(GOOD_CARD))[1]["outcome"] == "token_success"
    emu.clock.advance(31)  # the unmounted URL has expired: that session is abandoned
    fresh = [await session(emu, n) for n in (4, 5)]  # over the cap

    assert (await abandoned.get())[0] == 404
    assert (await finished.get())[0] == 404
    assert (await fresh[1].get())[0] == 200
    # the page still open completes
    status, body = await open_page.submit(GOOD_CARD)
    assert status == 200 and body["outcome"] == "token_success", body
    used = (await memory(emu))["records"]["session"]
    assert used["cap"] == 2 and used["evicted"] >= 2


async def test_live_sessions_are_never_let_go_even_beyond_the_cap(make_emulator):
    emu = await make_emulator(memory_sessions=1)
    urls = [await session(emu, n) for n in range(3)]  # every URL still live
    for url in urls:
        status, _, _ = await url.get()
        assert status == 200
    assert (await memory(emu))["records"]["session"] == {"cap": 1, "kept": 3, "evicted": 0}


async def test_with_a_data_dir_nothing_is_capped(aiohttp_client, clock, tmp_path):
    emu = await start_emulator(aiohttp_client, clock, data_dir=tmp_path, memory_tokens=1)
    first = await verify(emu, 1)
    await verify(emu, 2)
    assert (await pay(emu, first, "pay-1"))["status"] == 100
    used = await memory(emu)
    assert used["store"] == "sqlite" and used["records"] == {}
