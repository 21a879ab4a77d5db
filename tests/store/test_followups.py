"""Follow-up events a rule schedules survive a restart when state is on disk."""

from emulator.core.clock import Clock
from tests.support.app import NOW, runtime_for, serve
from tests.support.bodies import CARD, v11

RETURNED = "gateway.transaction.recipient.payment.status.returned"


async def emulator_on(aiohttp_client, data_dir, clock):
    return await serve(aiohttp_client, runtime_for(clock, data_dir=data_dir))


async def events(emulator, topic):
    response = await emulator.client.get(f"/_emulator/events?topic={topic}")
    return (await response.json())["events"]


async def test_a_return_due_in_two_days_is_delivered_by_the_next_run(aiohttp_client, tmp_path):
    clock = Clock(start=NOW, frozen=True)
    first = await emulator_on(aiohttp_client, tmp_path, clock)
    _, verified, _ = await first.post("/gateway/verify", v11(**CARD))
    token = verified["data"]["customer_account_token"]
    _, paid, _ = await first.post("/gateway/process", v11(account_type="CA", amount=20.14, source_of_funds=4,
                                                          customer_account_token=token,
                                                          participant_unique_id1="returns-later"))
    assert paid["status"] == 100
    await first.client.close()  # the app shuts down with the return still two days away

    second = await emulator_on(aiohttp_client, tmp_path, clock)
    response = await second.client.post("/_emulator/clock", json={"advance": 86400})
    assert await events(second, RETURNED) == []
    response = await second.client.post("/_emulator/clock", json={"advance": 86400})
    assert response.status == 200
    [returned] = await events(second, RETURNED)
    assert returned["envelope"]["data"]["event"]["status"] == "1114"
    assert returned["envelope"]["data"]["ancillary"]["participant_unique_id1"] == "returns-later"
    assert returned["envelope"]["data"]["event"]["transaction_id"] == str(paid["data"]["transaction_id"])


async def test_a_reset_participant_loses_its_scheduled_events(emulator, card_token):
    await emulator.post("/gateway/process", v11(account_type="CA", amount=20.14, source_of_funds=4,
                                                customer_account_token=card_token, participant_unique_id1="p-1"))
    await emulator.client.post("/_emulator/reset", json={"participant_id": 12345})
    await emulator.client.post("/_emulator/clock", json={"advance": 3 * 86400})
    assert await events(emulator, RETURNED) == []
