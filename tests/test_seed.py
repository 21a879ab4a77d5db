"""--seed makes a run repeatable, and never makes a restarted durable emulator reuse a token id."""

from emulator.app import build_runtime, create_app
from emulator.clock import Clock
from emulator.settings import Settings
from tests.conftest import CARD, CREDENTIALS, NOW, Signed, v11

OTHER_CARD = dict(CARD, account="5555555555554444", participant_unique_id1="customer-2")


async def emulator_on(aiohttp_client, **settings):
    runtime = build_runtime(Settings(rate_limit=0, quiet=True, seed=7, **settings), clock=Clock(start=NOW, frozen=True),
                            credentials=dict(CREDENTIALS))
    return Signed(await aiohttp_client(create_app(runtime=runtime)), runtime)


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
