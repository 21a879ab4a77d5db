"""--seed makes a run repeatable, and never makes a restarted durable emulator reuse a token id."""

from emulator.core.clock import Clock
from tests.support.app import NOW, runtime_for, serve
from tests.support.bodies import CARD, v11

OTHER_CARD = dict(CARD, account="5555555555554444", participant_unique_id1="customer-2")


async def emulator_on(aiohttp_client, **settings):
    clock = Clock(start=NOW, frozen=True)
    clock.set(NOW)
    return await serve(aiohttp_client, runtime_for(clock, seed=7, **settings))


async def token_for(emulator, card):
    _, answer, _ = await emulator.post("/gateway/verify", v11(**card))
    return answer["data"]["customer_account_token"]


async def test_the_same_seed_gives_the_same_tokens(aiohttp_client):
    first = await emulator_on(aiohttp_client)
    second = await emulator_on(aiohttp_client)
    assert await token_for(first, CARD) == await token_for(second, CARD)


async def test_a_restart_on_the_same_data_dir_draws_new_ids(aiohttp_client, tmp_path):
    first = await emulator_on(aiohttp_client, data_dir=tmp_path)
    card_token = await token_for(first, CARD)
    await first.client.close()
    second = await emulator_on(aiohttp_client, data_dir=tmp_path)
    other_token = await token_for(second, OTHER_CARD)
    assert other_token != card_token
    _, again, _ = await second.post("/gateway/verify", v11(account_type="CA", participant_unique_id1="customer-1",
                                                            customer_account_token=card_token))
    assert again["status"] == 100 and again["data"]["last_4"] == "1111"
