"""Tenants do not wait for each other's receivers: each endpoint has its own few delivery slots
(--webhook-endpoint-concurrency) in front of the shared ones (--webhook-concurrency), so a receiver that never
answers holds only its own and slows only its own endpoint's deliveries.

Two tenants minted through the admin API, each with its receiver on 127.0.0.1: one a raw socket that never answers,
the other a real aiohttp receiver. More deliveries pile up for the hung one than there are shared slots; the other
tenant's webhook is still delivered, waited for with the admin wait API within a bound far below the hung
receiver's timeout (10 s).
"""

from __future__ import annotations

from tests.support.hostile_peers import RawPeer, hang
from tests.support.webhook_receiver import Receiver, admin, emit, start_emulator, start_receiver

RETURNED = "gateway.transaction.recipient.payment.status.returned"
#: Seconds the other tenant's wait may take: half the hung receiver's timeout. A correctness bound (before, that
#: webhook waited behind the hung receiver's attempts, 10 s each), not a latency target.
WAIT = 5.0


async def test_a_hung_receiver_does_not_delay_another_tenants_webhook(aiohttp_client, aiohttp_server, clock):
    hung = await RawPeer(hang).start()
    receiver = Receiver()
    try:
        emu = await start_emulator(aiohttp_client, clock, webhook_timeout=10.0)
        settings = emu.runtime.settings
        slow = await admin(emu, "POST", "/_emulator/credentials", {"webhook_url": hung.url}, status=201)
        other = await admin(emu, "POST", "/_emulator/credentials",
                            {"webhook_url": await start_receiver(aiohttp_server, receiver)}, status=201)
        piled_up = settings.webhook_concurrency + 8
        for _ in range(piled_up):  # more than all the shared slots
            await emit(emu, RETURNED, participant_id=slow["participant_id"])
        await hung.until(lambda: hung.open >= settings.webhook_endpoint_concurrency,
                         "the hung receiver holding its endpoint's slots")

        await emit(emu, RETURNED, participant_id=other["participant_id"])
        seen = await admin(emu, "POST", "/_emulator/webhooks/wait", {
            "match": {"participant_id": other["participant_id"], "status": "delivered"}, "timeout": WAIT})

        assert seen["matched"] == 1 and len(receiver.received) == 1
        # The hung receiver got no more than its endpoint's slots, and its deliveries wait their turn.
        assert hung.most_open == settings.webhook_endpoint_concurrency < settings.webhook_concurrency
        listed = await admin(emu, "GET", "/_emulator/webhooks")
        waiting = [d for d in listed["deliveries"] if d["participant_id"] == slow["participant_id"]]
        assert len(waiting) == piled_up and all(d["attempts"] == [] for d in waiting)
    finally:
        await hung.stop()
